//! DSTU 4145 public keys already parsed and validated. Turning a key's bytes into a curve point
//! (decompression, and the n·Q = O check that it has the right order) costs about as much as
//! verifying a signature with it (docs/benchmarks.md, section 7), and the same person's key
//! comes back at every login: the result, a pure function of the bytes, is remembered by their
//! hash, together with the key's comb table (dstu4145/comb.rs).
//!
//! Only the parsed key is remembered, never that a signature verified: every signature is still
//! checked with it, and everything about the certificate (validity, constraints, anchors,
//! revocation) is checked as before. A key that fails to parse is not remembered (it fails
//! again, at the same cost as before).

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

use crate::dstu4145::{ByteOrder, ParamsError, PublicKey};
use crate::memo::Memo;

/// About 7.5 KiB an entry with Q's comb table: at most ~7.5 MiB. When full, the map starts again empty (at most one
/// more parse per key), so memory stays bounded whatever keys are presented.
const CAPACITY: usize = 1_024;

/// The process's keys: a pure function of the bytes needs no owner (a trust list reload does
/// not change what a key's bytes mean).
pub(crate) static PARSED_KEYS: LazyLock<ParsedKeys> = LazyLock::new(ParsedKeys::default);

pub(crate) struct ParsedKeys {
    keys: Memo<PublicKey>,
}

impl Default for ParsedKeys {
    fn default() -> Self {
        Self {
            keys: Memo::new(CAPACITY),
        }
    }
}

impl ParsedKeys {
    /// `PublicKey::from_spki_parts(params_der, key_bits, order)`, remembered when it succeeds.
    pub(crate) fn get_or_parse(
        &self,
        params_der: &[u8],
        key_bits: &[u8],
        order: ByteOrder,
    ) -> Result<PublicKey, ParamsError> {
        let id = key(params_der, key_bits, order);
        if let Some(known) = self.keys.get(&id) {
            return Ok(known);
        }
        // Parsed outside the lock: two logins with new keys do not wait for each other. A kept
        // key gets its comb table, which makes each verification with it about twice as fast.
        let parsed = PublicKey::from_spki_parts(params_der, key_bits, order)?.prepared();
        self.keys.put(id, parsed.clone());
        Ok(parsed)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.keys.len()
    }
}

/// SHA-256 over everything the parse reads: the byte order (which the signature's OID gives),
/// the parameters' length and DER, then the key's bits; the length makes the split unambiguous.
fn key(params_der: &[u8], key_bits: &[u8], order: ByteOrder) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update([match order {
        ByteOrder::Little => 0u8,
        ByteOrder::Big => 1,
    }]);
    hash.update((params_der.len() as u64).to_be_bytes());
    hash.update(params_der);
    hash.update(key_bits);
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dstu4145::{DstuCurve, ParamsForm, SigningKey};
    use crate::gost34311;

    fn signing_key(seed: u8) -> SigningKey {
        SigningKey::from_scalar_le(DstuCurve::M257, &[seed; 31]).unwrap()
    }

    /// A signature over `data` with a fixed nonce (tests need no randomness).
    fn sign(key: &SigningKey, data: &[u8]) -> Vec<u8> {
        let nonce = [0x1234_5678_9abc_def1, 0, 0x0fed_cba9, 0, 0, 0, 0];
        key.sign_digest_with_nonce(&gost34311::digest(data), &nonce)
            .unwrap()
    }

    #[test]
    fn a_remembered_key_still_checks_every_signature() {
        let keys = ParsedKeys::default();
        let signer = signing_key(7);
        let public = signer.public_key();
        let params = public.params_der(ParamsForm::Named);
        let bits = public.key_bits();
        let sig = sign(&signer, b"login 1");

        let first = keys
            .get_or_parse(&params, &bits, ByteOrder::Little)
            .unwrap();
        first.verify(b"login 1", &sig).unwrap();
        assert_eq!(keys.len(), 1);
        let again = keys
            .get_or_parse(&params, &bits, ByteOrder::Little)
            .unwrap();
        assert_eq!(keys.len(), 1);
        // Remembered, it is the same key: the right signature verifies, any other does not.
        again.verify(b"login 1", &sig).unwrap();
        assert!(again.verify(b"login 2", &sig).is_err());
        let mut bad = sig.clone();
        bad[3] ^= 1;
        assert!(again.verify(b"login 1", &bad).is_err());
        // Another person's signature does not verify with the remembered key.
        let other_sig = sign(&signing_key(9), b"login 1");
        assert!(again.verify(b"login 1", &other_sig).is_err());
    }

    #[test]
    fn other_bytes_are_another_entry_and_a_bad_key_is_not_remembered() {
        let keys = ParsedKeys::default();
        let (a, b) = (signing_key(7), signing_key(9));
        let (pa, pb) = (a.public_key(), b.public_key());
        let params = pa.params_der(ParamsForm::Named);
        let ka = keys
            .get_or_parse(&params, &pa.key_bits(), ByteOrder::Little)
            .unwrap();
        let kb = keys
            .get_or_parse(&params, &pb.key_bits(), ByteOrder::Little)
            .unwrap();
        assert_eq!(keys.len(), 2);
        let sig = sign(&b, b"x");
        kb.verify(b"x", &sig).unwrap();
        assert!(ka.verify(b"x", &sig).is_err());
        // The same bytes in the other byte order are another entry, never the first key.
        if let Ok(swapped) = keys.get_or_parse(&params, &pa.key_bits(), ByteOrder::Big) {
            assert_eq!(keys.len(), 3);
            assert_ne!(swapped.key_bits(), ka.key_bits());
        }
        // A key that does not parse fails, and fails again: it is not remembered.
        let before = keys.len();
        let broken = (1..=255u8)
            .map(|flip| {
                let mut bits = pa.key_bits();
                let last = bits.len() - 1;
                bits[last] ^= flip;
                bits
            })
            .find(|bits| PublicKey::from_spki_parts(&params, bits, ByteOrder::Little).is_err())
            .expect("some change of the last byte makes an invalid key");
        for _ in 0..2 {
            assert!(
                keys.get_or_parse(&params, &broken, ByteOrder::Little)
                    .is_err()
            );
            assert_eq!(keys.len(), before);
        }
    }
}
