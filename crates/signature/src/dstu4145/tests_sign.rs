//! Signing and encoding: jkurwa's M257 known answer (key d, nonce E, hash → r, s), sign → verify
//! on every standard curve, key encoders round-tripping through the parser, and the explicit
//! M257 / M431 parameters byte-identical to those of the real Diia chain.

use super::encode::ParamsForm;
use super::field::{Fe, limbs_from_hex};
use super::named::DstuCurve;
use super::params::ByteOrder;
use super::sign::SigningKey;
use super::verify::{PublicKey, SignatureError};
use crate::parsed_cert::ParsedCert;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dstu/");

/// A deterministic RNG for tests (xorshift; not cryptographic, marked so only to fit the bound).
struct TestRng(u64);

impl rand_core::TryRng for TestRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for b in dst {
            *b = self.try_next_u64()? as u8;
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for TestRng {}

fn rng() -> TestRng {
    TestRng(0x9E37_79B9_7F4A_7C15)
}

fn be_bytes_to_le(h: &str) -> Vec<u8> {
    let mut v: Vec<u8> = (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect();
    v.reverse();
    v
}

/// jkurwa test/test.js "Sign": `help_sign(hashValue, randE)` with privD on DSTU_PB_257 gives
/// exactly r = 491f…0fb2, s = ccc6…24ab, and `priv.pub()` is the (pubX, pubY) of the test.
#[test]
fn jkurwa_m257_known_answer() {
    let d = "2A45EAFE4CD469F811737780C57253360FBCC58E134C9A1FDCD10B0E4529A143";
    let key = SigningKey::from_scalar_le(DstuCurve::M257, &be_bytes_to_le(d)).unwrap();
    let c = DstuCurve::M257.curve().unwrap();
    let pub_x = Fe(limbs_from_hex(
        "00AFF3EE09CB429284985849E20DE5742E194AA631490F62BA88702505629A6589",
    )
    .unwrap());
    let q = c
        .decompress(
            &c.compress(&super::curve::Point {
                x: pub_x,
                y: Fe(limbs_from_hex(
                    "01B345BC134F27DA251EDFAE97B3F306B4E8B8CB9CF86D8651E4FB301EF8E1239C",
                )
                .unwrap()),
            }),
        )
        .unwrap();
    assert_eq!(
        key.public_key().key_bits(),
        super::encode::key_bits(c, &q, ByteOrder::Little)
    );

    // hashValue is the big-endian hex of the integer h; the digest octets are its LE form.
    let digest = be_bytes_to_le("6845214B63288A832A772E1FE6CB6C7D3528569E29A8B3584370FDC65F474242");
    let e =
        limbs_from_hex("7A32849E569C8888F25DE6F69A839D75057383F473ACF559ABD3C5D683294CEB").unwrap();
    let sig = key.sign_digest_with_nonce(&digest, &e).unwrap();
    let mut want =
        be_bytes_to_le("491fa1ef75eaef75e1f20cf3918993ab37e06005ea8e204bc009a1fa61bb0fb2");
    let mut s = be_bytes_to_le("0ccc6816453a903a1b641df999011177df420d21a72236d798532aef42e224ab");
    want.append(&mut s);
    assert_eq!(sig, want);
    // The same bytes in jkurwa's "short" serialisation: 04 40 ‖ r ‖ s.
    let short = "b20fbb61faa109c04b208eea0560e037ab938991f30cf2e175efea75efa11f49ab24e242ef2a5398d\
                 73622a7210d42df77110199f91d641b3a903a451668cc0c";
    let short: Vec<u8> = (0..short.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&short[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(sig, short);
    assert_eq!(key.public_key().verify_digest(&digest, &sig), Ok(()));
}

/// Sign → verify on all ten curves (both byte orders); one flipped bit anywhere in r or s, or
/// a different message, fails; two signatures of the same message differ (fresh nonces).
#[test]
fn sign_then_verify_on_every_curve() {
    let mut rng = rng();
    for id in DstuCurve::ALL {
        let key = SigningKey::generate(id, &mut rng).unwrap();
        let pk = key.public_key();
        assert_eq!(pk.curve_name(), id.name());
        let msg = format!("повідомлення для {}", id.name());
        let sig = key.sign(msg.as_bytes(), &mut rng);
        assert_eq!(
            sig.len(),
            2 * DstuCurve::curve(id).unwrap().order_bits().div_ceil(8)
        );
        assert_eq!(pk.verify(msg.as_bytes(), &sig), Ok(()), "{}", id.name());
        assert_ne!(key.sign(msg.as_bytes(), &mut rng), sig);
        assert_eq!(
            pk.verify(b"another message", &sig),
            Err(SignatureError::Mismatch),
            "{}",
            id.name()
        );
        for i in [0, 7, sig.len() / 2 - 1, sig.len() / 2, sig.len() - 1] {
            for bit in [0, 5] {
                let mut bad = sig.clone();
                bad[i] ^= 1 << bit;
                assert!(
                    pk.verify(msg.as_bytes(), &bad).is_err(),
                    "{} octet {i}",
                    id.name()
                );
            }
        }
        // Big-endian OID: the whole octet string reversed, under the reversed key encoding.
        let digest = crate::gost34311::digest(msg.as_bytes());
        let be_sig = key.sign_digest_ordered(&digest, ByteOrder::Big, &mut rng);
        let be_key = PublicKey::from_spki_parts(
            &super::encode::params_der(id.curve().unwrap(), ParamsForm::Explicit, ByteOrder::Big),
            &super::encode::key_bits(
                id.curve().unwrap(),
                &super::params::parse_public_point(
                    id.curve().unwrap(),
                    &pk.key_bits(),
                    ByteOrder::Little,
                )
                .unwrap(),
                ByteOrder::Big,
            ),
            ByteOrder::Big,
        )
        .unwrap();
        assert_eq!(
            be_key.verify_digest(&digest, &be_sig),
            Ok(()),
            "{}",
            id.name()
        );
    }
}

/// Keys out of range are refused; a stored scalar gives the same key back.
#[test]
fn scalar_round_trip_and_range() {
    let mut rng = rng();
    let key = SigningKey::generate(DstuCurve::M431, &mut rng).unwrap();
    let again = SigningKey::from_scalar_le(DstuCurve::M431, &key.scalar_le()).unwrap();
    assert_eq!(again.public_key().key_bits(), key.public_key().key_bits());
    assert_eq!(key.scalar_le().len(), 54);
    assert!(SigningKey::from_scalar_le(DstuCurve::M257, &[0u8; 32]).is_err());
    let n = DstuCurve::M257.curve().unwrap().n;
    let n_le: Vec<u8> = (0..33).map(|i| (n[i / 8] >> (8 * (i % 8))) as u8).collect();
    assert!(SigningKey::from_scalar_le(DstuCurve::M257, &n_le).is_err());
    assert!(SigningKey::from_scalar_le(DstuCurve::M257, &[0xff; 57]).is_err());
}

/// Named and explicit SPKIs parse back to the same curve and point, in both byte orders.
#[test]
fn spki_round_trips_through_the_parser() {
    let mut rng = rng();
    for id in DstuCurve::ALL {
        let pk = SigningKey::generate(id, &mut rng).unwrap().public_key();
        for form in [ParamsForm::Named, ParamsForm::Explicit] {
            let der = pk.to_spki_der(form);
            let back = PublicKey::from_spki_der(&der).unwrap();
            assert_eq!(back.curve_name(), id.name());
            assert_eq!(back.key_bits(), pk.key_bits());
            assert_eq!(back.to_spki_der(form), der);
            // The der crate reads it as an ordinary SubjectPublicKeyInfo.
            let spki = <spki::SubjectPublicKeyInfoOwned as der::Decode>::from_der(&der).unwrap();
            assert_eq!(spki.algorithm.oid, crate::oids::DSTU4145_LE);
        }
    }
}

fn spki_of_cert(path: &str) -> Vec<u8> {
    let der = std::fs::read(format!("{DATA}{path}")).unwrap();
    let c = ParsedCert::parse(&der).unwrap();
    der::Encode::to_der(c.cert.tbs_certificate().subject_public_key_info()).unwrap()
}

/// The explicit parameters of the central root (M431) and the Diia CA (M257) are exactly what
/// the encoder writes for those curves; with the certificate's own point, the whole SPKI is.
#[test]
fn explicit_parameters_match_the_real_diia_chain() {
    for (path, id) in [
        (
            "uapki/certs/CAO-05E19E2CD92EA2990100000001000000C1000000.cer",
            DstuCurve::M431,
        ),
        (
            "uapki/certs/diia-CA-05E19E2CD92EA2990100000001000000E1000000.cer",
            DstuCurve::M257,
        ),
    ] {
        let real = spki_of_cert(path);
        let pk = PublicKey::from_spki_der(&real).unwrap();
        assert_eq!(pk.curve_name(), id.name());
        assert_eq!(pk.to_spki_der(ParamsForm::Explicit), real, "{path}");
        // A fresh key's parameters equal the certificate's byte for byte.
        let mine = SigningKey::generate(id, &mut rng()).unwrap().public_key();
        assert_eq!(
            mine.params_der(ParamsForm::Explicit),
            pk.params_der(ParamsForm::Explicit)
        );
    }
}

/// The constant-time ladder computes the same points as the verifier's, on every curve, for
/// random scalars and the edges 1, 2 and n − 1.
#[test]
fn secret_ladder_matches_the_public_one() {
    use rand_core::Rng;
    let mut rng = rng();
    for id in DstuCurve::ALL {
        let c = id.curve().unwrap();
        let mut n_minus_1 = c.n;
        n_minus_1[0] -= 1; // n is odd
        let mut scalars = vec![[1, 0, 0, 0, 0, 0, 0], [2, 0, 0, 0, 0, 0, 0], n_minus_1];
        for _ in 0..3 {
            let mut k = [0u64; 7];
            for w in k.iter_mut().take(c.order_bits().div_ceil(64)) {
                *w = rng.next_u64();
            }
            super::verify::truncate(&mut k, c.order_bits() - 1);
            scalars.push(k);
        }
        for k in scalars {
            assert_eq!(c.mul_secret(&k, &c.g), c.mul(&k, &c.g), "{}", id.name());
        }
    }
}
