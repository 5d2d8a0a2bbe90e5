//! Known-answer tests from third-party material (tests/data/dstu/, see its README): jkurwa's
//! M257 point and signature vectors, cryptonite's M257 and M367 verify vectors, and real
//! certificate and CMS signatures (jkurwa's self-signed M257 certificate and `message.p7`, the
//! UAPKI Diia test chain on M431 and M257 with explicit parameters). Every vector verifies and
//! a flipped bit in r, s, the hash or the key fails.

use super::comb::W_KEY_COMB;
use super::curve::{Curve, Point};
use super::field::{Fe, Limbs, limbs_from_hex};
use super::named::named_curve;
use super::params::ByteOrder;
use super::verify::{PublicKey, SignatureError, hash_to_field, split_signature, verify_prehashed};
use crate::parsed_cert::ParsedCert;

/// A repeatable stream of test scalars (xorshift64): the same inputs on every run.
pub(super) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dstu/");

fn m257() -> &'static Curve {
    named_curve(6).unwrap()
}

fn m367() -> &'static Curve {
    named_curve(8).unwrap()
}

fn be(h: &str) -> Limbs {
    limbs_from_hex(h).unwrap()
}

fn fe(h: &str) -> Fe {
    Fe(be(h))
}

fn bytes(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

fn flip(v: &Limbs, bit: usize) -> Limbs {
    let mut v = *v;
    v[bit / 64] ^= 1 << (bit % 64);
    v
}

/// Checks the vector verifies, and that one flipped bit in r, s, h or Q makes it fail; with the
/// wNAF multiplication and with Q's comb table (a key kept in the cache of parsed keys).
fn assert_verifies_and_tamper_fails(curve: &Curve, q: &Point, h: &Fe, r: &Limbs, s: &Limbs) {
    let comb = curve.comb_table(q, W_KEY_COMB).expect("comb table");
    for q_comb in [None, Some(&comb)] {
        let with = |why: &str| format!("{why} (comb: {})", q_comb.is_some());
        assert_eq!(
            verify_prehashed(curve, q, q_comb, h, r, s),
            Ok(()),
            "{}",
            with("good")
        );
        for bit in [0, 1, 77, 200] {
            assert!(
                verify_prehashed(curve, q, q_comb, h, &flip(r, bit), s).is_err(),
                "{}",
                with(&format!("r bit {bit}"))
            );
            assert!(
                verify_prehashed(curve, q, q_comb, h, r, &flip(s, bit)).is_err(),
                "{}",
                with(&format!("s bit {bit}"))
            );
            assert!(
                verify_prehashed(curve, q, q_comb, &Fe(flip(&h.0, bit)), r, s).is_err(),
                "{}",
                with(&format!("h bit {bit}"))
            );
        }
        // A key differing in one bit of its compressed form is another point (or none at all).
        for bit in [1, 5, 100] {
            let xc = Fe(flip(&curve.compress(q).0, bit));
            if let Some(other) = curve.decompress(&xc) {
                let other_comb = q_comb.and(curve.comb_table(&other, W_KEY_COMB));
                assert!(
                    verify_prehashed(curve, &other, other_comb.as_ref(), h, r, s).is_err(),
                    "{}",
                    with(&format!("key bit {bit}"))
                );
            }
        }
    }
}

/// jkurwa test/test.js "Point": 2Q, e·Q, decompression ("tax office" keys, "Broken") and
/// compression of the base point, on DSTU_PB_257.
#[test]
fn jkurwa_m257_point_vectors() {
    let c = m257();
    let q = Point {
        x: fe("00AFF3EE09CB429284985849E20DE5742E194AA631490F62BA88702505629A6589"),
        y: fe("01B345BC134F27DA251EDFAE97B3F306B4E8B8CB9CF86D8651E4FB301EF8E1239C"),
    };
    assert!(c.contains(&q));
    let q2 = c.add(Some(q), Some(q)).unwrap();
    assert_eq!(
        q2.x,
        fe("176dbde19773dfd335665597e8d6a0ab678721a5bb7030f25dc4c48b809ef3520")
    );
    assert_eq!(
        q2.y,
        fe("6e75301556ea5d571403086691030f024c026907c8e818b2eedd9184d12040ee")
    );
    let mut two = [0u64; 7];
    two[0] = 2;
    assert_eq!(c.mul(&two, &q), Some(q2));

    let e = be("7A32849E569C8888F25DE6F69A839D75057383F473ACF559ABD3C5D683294CEB");
    let eq = c.mul(&e, &q).unwrap();
    assert_eq!(
        eq.x,
        fe("f26df77ca4c807c6b94f5c577415a1fce603a85ae7678717e16cb9a78de32d15")
    );
    assert_eq!(
        eq.y,
        fe("1785fded2804bea15b02c4fd785fd3e98ab2435b8d78da44e195a9a088d3fc2d4")
    );

    let cases = [
        (
            "01A77131A7C14F9AA6EA8C760D39673D5F0330FAB1118D55B55B7AF0735975485F",
            "01A77131A7C14F9AA6EA8C760D39673D5F0330FAB1118D55B55B7AF0735975485F",
            "DC058ADA665D99084038B5F914FB9CF7214760A4865B49CAF7F4BE7379F3A395",
        ),
        (
            "2A29EF207D0E9B6C55CD260B306C7E007AC491CA1B10C62334A9E8DCD8D20FB6",
            "2A29EF207D0E9B6C55CD260B306C7E007AC491CA1B10C62334A9E8DCD8D20FB7",
            "010686D41FF744D4449FCCF6D8EEA03102E6812C93A9D60B978B702CF156D814EF",
        ),
        (
            "76cd4555ad63455529755e5c3f3066c3bcb957cc63d00e22c6dd1e9ed316b419",
            "76cd4555ad63455529755e5c3f3066c3bcb957cc63d00e22c6dd1e9ed316b418",
            "12b20103548f45dcbed5486022dfcb244b2d996e0d3d761abaf73ba16ea26e0d3",
        ),
    ];
    for (xc, x, y) in cases {
        let p = c.decompress(&fe(xc)).unwrap();
        assert_eq!(p, Point { x: fe(x), y: fe(y) });
        assert_eq!(c.compress(&p), fe(xc));
    }
    assert_eq!(c.decompress(&fe(cases[1].0)), Some(c.g));
    // A compressed value whose equation has no solution is refused, not mapped to a point.
    assert!((1..64u64).any(|i| c.decompress(&Fe([i, 0, 0, 0, 0, 0, 0])).is_none()));
}

/// jkurwa test/test.js "Sign": the M257 key, hash and (r, s) of `help_sign` with a fixed E, and
/// the "short" (octet string r‖s, little-endian halves) signature that `verify` accepts.
#[test]
fn jkurwa_m257_signature_vectors() {
    let c = m257();
    let q = Point {
        x: fe("00AFF3EE09CB429284985849E20DE5742E194AA631490F62BA88702505629A6589"),
        y: fe("01B345BC134F27DA251EDFAE97B3F306B4E8B8CB9CF86D8651E4FB301EF8E1239C"),
    };
    assert!(c.is_valid_key(&q));
    let h = fe("6845214B63288A832A772E1FE6CB6C7D3528569E29A8B3584370FDC65F474242");
    let r = be("491fa1ef75eaef75e1f20cf3918993ab37e06005ea8e204bc009a1fa61bb0fb2");
    let s = be("ccc6816453a903a1b641df999011177df420d21a72236d798532aef42e224ab");
    assert_verifies_and_tamper_fails(c, &q, &h, &r, &s);

    // sign_serialise: 04 40 ‖ r (LE) ‖ s (LE).
    let short = bytes(
        "0440b20fbb61faa109c04b208eea0560e037ab938991f30cf2e175efea75efa11f49ab24e242ef2a5398d\
         73622a7210d42df77110199f91d641b3a903a451668cc0c",
    );
    assert_eq!(split_signature(&short[2..], 256), Ok((r, s)));

    // "#verify": a signature with a random E over hashBuffer (the same 32 bytes); the buffer is
    // read as a little-endian integer, as DSTU 4145 reads a GOST 34.311 digest.
    let sig = bytes(
        "91d08086a623d7fc292418636f634e82e52f8f989d423dae6c64878699cc2f11d0332bfe45c237421a41c2e\
         b99e230f2629881c8e0c90be88610880e8c269d23",
    );
    let digest = bytes("6845214B63288A832A772E1FE6CB6C7D3528569E29A8B3584370FDC65F474242");
    let (r2, s2) = split_signature(&sig, c.order_bits()).unwrap();
    let h2 = hash_to_field(c, &digest);
    assert_verifies_and_tamper_fails(c, &q, &h2, &r2, &s2);
}

/// cryptonite utest_dstu4145.c `dstu4145_verify_test` (M257) and `dstu4145_verify_367_test`
/// (M367): uncompressed keys, hash and r, s as little-endian octets (`_be_hex_` ones reversed).
#[test]
fn cryptonite_verify_vectors() {
    // `ba_alloc_from_le_hex_string` keeps the octets in the order written.
    let le = |h: &str| super::field::limbs_decode_le(&bytes(h)).unwrap();
    let c = m257();
    let q = Point {
        x: Fe(le(
            "01799b65a6d2d1cecd08b044d599eecfab8412f599f52ca38ddb431bba38e66c00",
        )),
        y: Fe(le(
            "e54176a56aaf5e5bea7c7dbbacfbe6ad1c35bf9743cb534d839d62be68bc4c5a01",
        )),
    };
    assert!(c.is_valid_key(&q));
    let h = hash_to_field(
        c,
        &bytes("b591f4d5ea42d0005dedf238e8beccc2cb46a944419b6fdd66c57e66c751f683"),
    );
    let r = le("ace29a89ec34329abf529d109ca838c26b13cc0e14d8663071da94ab198e2e64");
    let s = le("39b9c25ab0187694ec170221e9135405894bf439c9cefea7f23e4e1a974eca1b");
    assert_verifies_and_tamper_fails(c, &q, &h, &r, &s);

    let c = m367();
    let q = Point {
        x: fe(
            "7629f54b547bb74fe086e8f4be65602660ffb61b057176cebec137cad9994e3d3d7decb560bf01\
               ebc47a8afee2af",
        ),
        y: fe(
            "24863fb306d78bdc760d15681d678a3e3f95edd5577ffa7eb25bc9d1d9319808ee65e7dc8410bb\
               32eb6407da53ed",
        ),
    };
    assert!(c.is_valid_key(&q));
    let h = fe("09c9c44277910c9aaee486883a2eb95b7180166ddf73532eeb76edaef52247ff");
    let r = be(
        "1f8d88f2894b5789fb09078283b619f8ddd1057551141abb24ada18257936e136b223f10afdce8cb\
                091a2f5f8bbe",
    );
    let s = be(
        "1cef3a08267d23bf64647a87dfb116756ff87d365149271d00fbb8947eb1f73fe9e75c63df18cf73\
                f985a313cf32",
    );
    assert_verifies_and_tamper_fails(c, &q, &h, &r, &s);
}

fn cert(path: &str) -> ParsedCert {
    let der = std::fs::read(format!("{DATA}{path}")).unwrap();
    ParsedCert::parse(&der).unwrap()
}

/// The DSTU key of a certificate.
fn key_of(c: &ParsedCert) -> PublicKey {
    let spki = c.cert.tbs_certificate().subject_public_key_info();
    assert_eq!(spki.algorithm.oid, crate::oids::DSTU4145_LE);
    let params = der::Encode::to_der(spki.algorithm.parameters.as_ref().unwrap()).unwrap();
    PublicKey::from_spki_parts(
        &params,
        spki.subject_public_key.raw_bytes(),
        ByteOrder::Little,
    )
    .unwrap()
}

/// r‖s of a certificate: the BIT STRING wraps a DER OCTET STRING.
fn cert_signature(c: &ParsedCert) -> Vec<u8> {
    let bits = c.cert.signature().as_bytes().unwrap();
    crate::tlv::single(bits).unwrap().value.to_vec()
}

fn assert_cert_signed_by(child: &ParsedCert, issuer: &PublicKey, degree: usize) {
    assert_eq!(issuer.field_degree(), degree);
    let sig = cert_signature(child);
    assert_eq!(issuer.verify(child.tbs_bytes(), &sig), Ok(()));
    let mut tbs = child.tbs_bytes().to_vec();
    tbs[40] ^= 0x01;
    assert_eq!(issuer.verify(&tbs, &sig), Err(SignatureError::Mismatch));
    for i in [0, sig.len() / 2, sig.len() - 1] {
        let mut bad = sig.clone();
        bad[i] ^= 0x01;
        assert!(issuer.verify(child.tbs_bytes(), &bad).is_err(), "octet {i}");
    }
}

/// The UAPKI Diia test chain: the central root (explicit M431 parameters) signs itself and the
/// Diia CA; the Diia CA (explicit M257 parameters) signs the test signers' certificates.
#[test]
fn uapki_diia_chain_certificate_signatures() {
    let root = cert("uapki/certs/CAO-05E19E2CD92EA2990100000001000000C1000000.cer");
    let ca = cert("uapki/certs/diia-CA-05E19E2CD92EA2990100000001000000E1000000.cer");
    let root_key = key_of(&root);
    let ca_key = key_of(&ca);
    // Explicit parameters, recognised as the standard curves they equal.
    assert_eq!(
        (root_key.curve_name(), ca_key.curve_name()),
        ("M431", "M257")
    );
    assert_cert_signed_by(&root, &root_key, 431);
    assert_cert_signed_by(&ca, &root_key, 431);
    for leaf in ["diia-test-sign-7775603.cer", "diia-test-kep-7775604.cer"] {
        let leaf = cert(&format!("uapki/certs/{leaf}"));
        assert_cert_signed_by(&leaf, &ca_key, 257);
        let _ = key_of(&leaf); // the leaf keys (M257 and M431) parse and validate too
    }
    // A key is not accepted by the wrong issuer.
    let leaf = cert("uapki/certs/diia-test-sign-7775603.cer");
    assert!(
        root_key
            .verify(leaf.tbs_bytes(), &cert_signature(&leaf))
            .is_err()
    );
}

/// jkurwa's self-signed certificate (named curve M257, OID …3.1.1.2.6).
#[test]
fn jkurwa_self_signed_certificate() {
    let c = cert("jkurwa/SELF_SIGNED1.cer");
    let key = key_of(&c);
    assert_cert_signed_by(&c, &key, 257);
}

/// Rough timing, not the benchmark issue 16 asks for: `cargo test -p kepgate-signature
/// --release dstu4145::tests::timing -- --ignored --nocapture`. One verification = GOST hash
/// of the TBS certificate plus the curve arithmetic.
#[test]
#[ignore = "timing, run by hand with optimisations"]
fn timing() {
    let root = cert("uapki/certs/CAO-05E19E2CD92EA2990100000001000000C1000000.cer");
    let ca = cert("uapki/certs/diia-CA-05E19E2CD92EA2990100000001000000E1000000.cer");
    let leaf = cert("uapki/certs/diia-test-sign-7775603.cer");
    let (root_key, ca_key) = (key_of(&root), key_of(&ca));
    for (name, key, child) in [("M257", &ca_key, &leaf), ("M431", &root_key, &ca)] {
        let sig = cert_signature(child);
        let rounds = 50;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            assert!(key.verify(child.tbs_bytes(), &sig).is_ok());
        }
        println!("{name}: {:?} per verification", start.elapsed() / rounds);
    }
}

/// jkurwa `message.p7`: CMS SignedData over the bytes `123` with signed attributes, signer
/// `SELF_SIGNED1.cer`. The signature covers the DER SET OF the signed attributes; their
/// messageDigest is the GOST 34.311 digest of the content.
#[test]
fn jkurwa_cms_message_signature() {
    let p7 = std::fs::read(format!("{DATA}jkurwa/message.p7")).unwrap();
    let parsed = crate::signed_data::parse_cms(&p7).unwrap();
    let key = key_of(&cert("jkurwa/SELF_SIGNED1.cer"));
    let mut attrs = parsed.signed_attrs_raw.unwrap().to_vec();
    attrs[0] = 0x31; // [0] IMPLICIT → SET OF, as signed
    let sig = parsed.signer_info.signature.as_bytes().to_vec();
    assert_eq!(key.verify(&attrs, &sig), Ok(()));
    // The content digest is inside the signed attributes.
    let digest = crate::gost34311::digest(b"123");
    assert!(attrs.windows(32).any(|w| w == digest));
    let at = attrs.windows(32).position(|w| w == digest).unwrap();
    let mut tampered = attrs.clone();
    tampered[at] ^= 0x80;
    assert!(key.verify(&tampered, &sig).is_err());
    for i in [0, sig.len() / 2, sig.len() - 1] {
        let mut bad = sig.clone();
        bad[i] ^= 0x01;
        assert!(key.verify(&attrs, &bad).is_err(), "octet {i}");
    }
}

/// Parameters the verifier must refuse: another S-box, a non-standard explicit curve, a point
/// not on the curve; and the big-endian OID's byte order (every octet string reversed, as
/// Bouncy Castle's DSTU4145 SignatureSpi/SignatureSpiLe pair defines it).
#[test]
fn parameter_and_key_checks() {
    use super::params::ParamsError;
    let root = cert("uapki/certs/CAO-05E19E2CD92EA2990100000001000000C1000000.cer");
    let spki = root.cert.tbs_certificate().subject_public_key_info();
    let params = der::Encode::to_der(spki.algorithm.parameters.as_ref().unwrap()).unwrap();
    let bits = spki.subject_public_key.raw_bytes().to_vec();
    let from = |p: &[u8], b: &[u8], o| PublicKey::from_spki_parts(p, b, o);
    assert!(from(&params, &bits, ByteOrder::Little).is_ok());

    let dke_at = params.len() - 64;
    let mut other_sbox = params.clone();
    other_sbox[dke_at] ^= 1;
    assert_eq!(
        from(&other_sbox, &bits, ByteOrder::Little).unwrap_err(),
        ParamsError::UnsupportedSbox
    );
    // b changed in its first octet (b is the first 54-octet OCTET STRING).
    let b_at = params.windows(2).position(|w| w == [0x04, 0x36]).unwrap() + 2;
    let mut other_b = params.clone();
    other_b[b_at] ^= 1;
    assert!(matches!(
        from(&other_b, &bits, ByteOrder::Little),
        Err(ParamsError::UnsupportedCurve(_))
    ));
    // Every compressed x whose lowest bits are flipped: refused or a different, valid key.
    for bit in 1..8 {
        let mut other_key = bits.clone();
        other_key[2] ^= 1 << bit;
        if let Ok(k) = from(&params, &other_key, ByteOrder::Little) {
            let sig = cert_signature(&root);
            assert!(k.verify(root.tbs_bytes(), &sig).is_err());
        }
    }
    assert!(from(&params, &bits[..bits.len() - 1], ByteOrder::Little).is_err());

    // Big-endian: reverse b, the base point, the key and the signature.
    let mut be_params = params.clone();
    for (at, len) in [(b_at, 54), (params.len() - 66 - 54, 54)] {
        be_params[at..at + len].reverse();
    }
    let mut be_bits = bits.clone();
    be_bits[2..].reverse();
    let key = from(&be_params, &be_bits, ByteOrder::Big).unwrap();
    let mut sig = cert_signature(&root);
    sig.reverse();
    assert_eq!(key.verify(root.tbs_bytes(), &sig), Ok(()));
}

// ---- Wired into the chain and CMS checks ----

/// The Diia test chain verifies through the crate's own path building: the test signing
/// certificate (M257, explicit parameters) to the Diia CA to the central root (M431, explicit).
#[test]
fn the_diia_test_chain_verifies_through_the_chain_check() {
    let root = std::fs::read(format!(
        "{DATA}uapki/certs/CAO-05E19E2CD92EA2990100000001000000C1000000.cer"
    ))
    .unwrap();
    let mut trust = crate::trust_list::TrustList::new();
    trust.add_der(&root).unwrap();
    let ca = cert("uapki/certs/diia-CA-05E19E2CD92EA2990100000001000000E1000000.cer");
    let signer = cert("uapki/certs/diia-test-sign-7775603.cer");
    // Inside the signer's validity (the test certificates have since expired).
    let at = signer
        .cert
        .tbs_certificate()
        .validity()
        .not_before
        .to_unix_duration();
    let at = time::OffsetDateTime::UNIX_EPOCH + at + time::Duration::days(1);
    assert_eq!(
        crate::chain::chain_to_trust_anchor(&signer, std::slice::from_ref(&ca), &trust, at)
            .map_err(|e| e.to_string()),
        Ok(vec![ca.der.clone(), root])
    );
    // Without the CA certificate there is no path.
    assert!(crate::chain::chain_to_trust_anchor(&signer, &[], &trust, at).is_err());
}

/// jkurwa's CMS over the bytes `123`, signed with a self-signed M257 key, through the whole
/// CAdES check: content, messageDigest by GOST 34.311 and the DSTU signature over the signed
/// attributes pass, so the check reaches the chain, which refuses a self-signed end-entity
/// certificate as an anchor (it is no CA). A changed signature byte, or another expected
/// content, fails earlier and says so.
#[test]
fn a_dstu_cms_signature_verifies_up_to_the_chain() {
    use crate::error::VerifyError;
    let p7 = std::fs::read(format!("{DATA}jkurwa/message.p7")).unwrap();
    let root = std::fs::read(format!("{DATA}jkurwa/SELF_SIGNED1.cer")).unwrap();
    let mut trust = crate::trust_list::TrustList::new();
    trust.add_der(&root).unwrap();
    // A day after the message's signingTime (2018-10-22).
    let at = time::macros::datetime!(2018-10-23 00:00 UTC);
    let verify = |p7: &[u8], content: &[u8]| {
        crate::verify::verify_auth_signature(p7, content, &trust, at).unwrap_err()
    };
    let e = verify(&p7, b"123");
    assert!(
        matches!(&e, VerifyError::WrongKeyUsage { reason, .. } if reason.contains("not a CA")),
        "{e}"
    );
    assert!(matches!(verify(&p7, b"124"), VerifyError::HashMismatch));
    let mut bad = p7.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    let e = verify(&bad, b"123");
    assert!(matches!(e, VerifyError::BadSignature(_)), "{e}");
}

/// UAPKI's five CAdES tasks, made with Diia's test keys (signer on M431 under the Diia CA on
/// M257 under the central root): the four valid ones verify through the whole check, the one
/// with changed detached content fails on the hash.
#[test]
fn uapkis_cades_signatures_with_diias_test_keys_verify() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    let tasks: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{DATA}uapki/verify-dstu.json")).unwrap(),
    )
    .unwrap();
    let mut trust = crate::trust_list::TrustList::new();
    for anchor in [
        "uapki/certs/CAO-05E19E2CD92EA2990100000001000000C1000000.cer",
        "uapki/certs/diia-CA-05E19E2CD92EA2990100000001000000E1000000.cer",
    ] {
        trust
            .add_der(&std::fs::read(format!("{DATA}{anchor}")).unwrap())
            .unwrap();
    }
    // Inside the test signer's validity (2022-04-05 … 2024-04-05), after the signing times.
    let at = time::macros::datetime!(2023-12-01 00:00 UTC);
    let mut seen = 0;
    for task in tasks["tasks"].as_array().unwrap() {
        if task["method"] != "VERIFY" {
            continue;
        }
        seen += 1;
        let comment = task["comment"].as_str().unwrap();
        let signature = &task["parameters"]["signature"];
        let p7 = STANDARD
            .decode(signature["bytes"].as_str().unwrap())
            .unwrap();
        let content = match signature["content"].as_str() {
            // Detached: messageDigest is checked against what the caller expects, which in the
            // login is the hash itself; here the GOST 34.311 digest of the content.
            Some(detached) => {
                crate::gost34311::digest(&STANDARD.decode(detached).unwrap()).to_vec()
            }
            // Attached: the content is inside; the check compares it with what it is given.
            None => encapsulated_content(&p7),
        };
        let verified = crate::verify::verify_auth_signature(&p7, &content, &trust, at);
        if comment.contains("invalid content") {
            assert!(
                matches!(verified, Err(crate::error::VerifyError::HashMismatch)),
                "{comment}: {verified:?}"
            );
        } else {
            let verified = verified.unwrap_or_else(|e| panic!("{comment}: {e}"));
            assert_eq!(
                verified.signature_algorithm,
                "DSTU 4145-2002 with GOST 34.311-95"
            );
        }
    }
    assert_eq!(seen, 5);
}

/// The eContent OCTET STRING of an attached signature.
fn encapsulated_content(p7: &[u8]) -> Vec<u8> {
    let parsed = crate::signed_data::parse_cms(p7).unwrap();
    crate::signed_data::octets(parsed.encap.econtent.as_ref().unwrap()).unwrap()
}
