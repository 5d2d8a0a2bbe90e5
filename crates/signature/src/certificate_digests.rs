//! GOST 34.311 digests of certificates, remembered. A Diia signature's signingCertificateV2
//! attribute names the signer's certificate by its GOST 34.311 digest, and that hash (about 20×
//! slower than SHA-256) over the whole certificate was the largest cost of a DSTU login after the
//! signature itself (docs/benchmarks.md, round 7). The digest is a pure function of the bytes, so
//! it is remembered by their SHA-256; the attribute is still compared with it at every login.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

use crate::gost34311;
use crate::hash_alg::HashAlg;
use crate::memo::Memo;

/// 64 bytes an entry: at most ~0.5 MiB. When full, the map starts again empty.
const CAPACITY: usize = 4_096;

static GOST_DIGESTS: LazyLock<GostDigests> = LazyLock::new(GostDigests::default);

/// `alg`'s digest of the certificate `der`; GOST 34.311's remembered.
pub(crate) fn certificate_digest(alg: HashAlg, der: &[u8]) -> Vec<u8> {
    match alg {
        HashAlg::Gost34311 => GOST_DIGESTS.digest(der).to_vec(),
        other => other.digest(der),
    }
}

struct GostDigests {
    digests: Memo<[u8; gost34311::DIGEST_LEN]>,
}

impl Default for GostDigests {
    fn default() -> Self {
        Self {
            digests: Memo::new(CAPACITY),
        }
    }
}

impl GostDigests {
    fn digest(&self, der: &[u8]) -> [u8; gost34311::DIGEST_LEN] {
        let id: [u8; 32] = Sha256::digest(der).into();
        if let Some(known) = self.digests.get(&id) {
            return known;
        }
        let digest = gost34311::digest(der);
        self.digests.put(id, digest);
        digest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_digests_are_the_digests_of_those_bytes() {
        let memo = GostDigests::default();
        let (a, b) = (b"certificate one".as_slice(), b"certificate two".as_slice());
        for _ in 0..2 {
            assert_eq!(memo.digest(a), gost34311::digest(a));
            assert_eq!(memo.digest(b), gost34311::digest(b));
        }
        assert_ne!(memo.digest(a), memo.digest(b));
        assert_eq!(memo.digests.len(), 2);
        assert_eq!(
            certificate_digest(HashAlg::Sha256, a),
            HashAlg::Sha256.digest(a)
        );
        assert_eq!(
            certificate_digest(HashAlg::Gost34311, a),
            gost34311::digest(a).to_vec()
        );
    }
}
