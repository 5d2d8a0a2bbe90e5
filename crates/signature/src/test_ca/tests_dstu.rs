//! The test CA with DSTU 4145 keys: a chain shaped like the real one (root on M431, CA on M257,
//! signer on M431, explicit parameters), CAdES over a GOST 34.311 hash through the crate's whole
//! check, persistence of DSTU keys, and mixed chains (DSTU above ECDSA and the reverse).

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::ca::{TestCa, TestIdentitySpec};
use super::key::KeyKind;
use super::signer::{CadesOptions, TestSigner};
use crate::dstu4145::DstuCurve;
use crate::error::VerifyError;
use crate::identity::Rnokpp;
use crate::parsed_cert::ParsedCert;
use crate::{TrustList, oids, verify_auth_signature};

const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);
const M257: KeyKind = KeyKind::Dstu4145(DstuCurve::M257);
const M431: KeyKind = KeyKind::Dstu4145(DstuCurve::M431);
const DSTU_NAME: &str = "DSTU 4145-2002 with GOST 34.311-95";

fn person() -> TestIdentitySpec {
    TestIdentitySpec {
        full_name: "Шевченко Тарас Григорович".into(),
        surname: "Шевченко".into(),
        given_name: "Тарас Григорович".into(),
        rnokpp: Rnokpp::parse("3652504575").unwrap(),
        edrpou: None,
        organization: None,
        title: None,
    }
}

fn trust_of(ca: &TestCa) -> TrustList {
    TrustList::from_pem(ca.cert_pem().unwrap().as_bytes())
        .unwrap()
        .0
}

fn signer_under(ca: &TestCa, kind: KeyKind) -> TestSigner {
    ca.issue_with(
        &person(),
        NOW - Duration::days(1),
        NOW + Duration::days(365),
        kind,
    )
    .unwrap()
}

fn gost_hash(s: &str) -> Vec<u8> {
    crate::gost34311::digest(s.as_bytes()).to_vec()
}

/// Root (M431) → CA (M257) → signer (M431), as the central root, the Diia CA and Diia's keys.
fn diia_like_chain() -> (TestCa, TestCa, TestSigner) {
    let root = TestCa::generate_with("Тестовий ЦЗО", NOW - Duration::days(60), M431).unwrap();
    let ca = root
        .issue_sub_ca_with("Тестовий КНЕДП Дія", NOW - Duration::days(30), M257)
        .unwrap();
    let signer = signer_under(&ca, M431);
    (root, ca, signer)
}

fn spki_der(cert: &x509_cert::Certificate) -> Vec<u8> {
    der::Encode::to_der(cert.tbs_certificate().subject_public_key_info()).unwrap()
}

#[test]
fn a_dstu_chain_signs_cades_that_verifies_through_the_whole_check() {
    let (root, ca, signer) = diia_like_chain();
    assert_eq!(signer.key_kind(), M431);
    assert_eq!(ca.key_kind(), M257);
    let trust = trust_of(&root);
    let h = gost_hash("login request");
    let p7s = signer
        .sign_hash_cades(&h, NOW - Duration::seconds(5))
        .unwrap();
    let v = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap();
    assert_eq!(v.signature_algorithm, DSTU_NAME);
    assert_eq!(v.identity.full_name, "Шевченко Тарас Григорович");
    assert_eq!(v.identity.issuer_cn.as_deref(), Some("Тестовий КНЕДП Дія"));

    // What the CMS says: GOST 34.311 digest, DSTU signature, ESSCertIDv2 naming GOST 34.311.
    let parsed = crate::signed_data::parse_cms(&p7s).unwrap();
    assert_eq!(parsed.signer_info.digest_alg.oid, oids::GOST34311);
    assert_eq!(
        parsed.signer_info.signature_algorithm.oid,
        oids::DSTU4145_LE
    );
    assert_eq!(parsed.signer_info.signature.as_bytes().len(), 2 * 54);
    let gost_oid = der::Encode::to_der(&oids::GOST34311).unwrap();
    let attrs = parsed.signed_attrs_raw.unwrap();
    assert!(attrs.windows(gost_oid.len()).any(|w| w == gost_oid));
    let cert_hash = crate::gost34311::digest(signer.cert_der());
    assert!(attrs.windows(32).any(|w| w == cert_hash));

    // Another hash, or one flipped bit of the signature, fails.
    assert_eq!(
        verify_auth_signature(&p7s, &gost_hash("other"), &trust, NOW).unwrap_err(),
        VerifyError::HashMismatch
    );
    let mut bad = p7s.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    let e = verify_auth_signature(&bad, &h, &trust, NOW).unwrap_err();
    assert!(matches!(e, VerifyError::BadSignature(_)), "{e}");
    // A DSTU root of the same name but another key is not trusted.
    let other = TestCa::generate_with("Тестовий ЦЗО", NOW - Duration::days(60), M431).unwrap();
    let e = verify_auth_signature(&p7s, &h, &trust_of(&other), NOW).unwrap_err();
    assert!(matches!(e, VerifyError::UntrustedChain(_)), "{e}");
}

/// The certificates carry what the real chain does: the DSTU OID without parameters as
/// signatureAlgorithm, r‖s in an OCTET STRING inside the BIT STRING, and explicit parameters
/// byte-identical to those of the central root (M431) and the Diia CA (M257).
#[test]
fn dstu_certificates_are_shaped_like_the_real_chain() {
    let (root, ca, signer) = diia_like_chain();
    for cert in [root.certificate(), ca.certificate(), signer.certificate()] {
        assert_eq!(cert.signature_algorithm().oid, oids::DSTU4145_LE);
        assert!(cert.signature_algorithm().parameters.is_none());
        let bits = cert.signature().as_bytes().unwrap();
        let inner = crate::tlv::single(bits).unwrap();
        assert_eq!(inner.tag, 0x04);
    }
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dstu/uapki/certs/");
    for (mine, real) in [
        (
            root.certificate(),
            "CAO-05E19E2CD92EA2990100000001000000C1000000.cer",
        ),
        (
            ca.certificate(),
            "diia-CA-05E19E2CD92EA2990100000001000000E1000000.cer",
        ),
    ] {
        let real = ParsedCert::parse(&std::fs::read(format!("{data}{real}")).unwrap()).unwrap();
        let params = |c: &x509_cert::Certificate| {
            der::Encode::to_der(
                c.tbs_certificate()
                    .subject_public_key_info()
                    .algorithm
                    .parameters
                    .as_ref()
                    .unwrap(),
            )
            .unwrap()
        };
        assert_eq!(params(mine), params(&real.cert));
        // The whole SPKI differs only in the point.
        assert_eq!(spki_der(mine).len(), spki_der(&real.cert).len());
    }
}

#[test]
fn attached_and_without_signing_time_verify_too() {
    let (root, _ca, signer) = diia_like_chain();
    let trust = trust_of(&root);
    let h = gost_hash("attached");
    for opts in [
        CadesOptions {
            attached: true,
            ..Default::default()
        },
        CadesOptions {
            include_signing_time: false,
            ..Default::default()
        },
    ] {
        let p7s = signer.sign_hash_cades_with(&h, NOW, &opts).unwrap();
        let v = verify_auth_signature(&p7s, &h, &trust, NOW).unwrap();
        assert_eq!(v.signature_algorithm, DSTU_NAME);
    }
    // A wrong signingCertificateV2 hash is caught.
    let opts = CadesOptions {
        signing_cert_hash_override: Some(vec![0; 32]),
        ..Default::default()
    };
    let p7s = signer.sign_hash_cades_with(&h, NOW, &opts).unwrap();
    assert_eq!(
        verify_auth_signature(&p7s, &h, &trust, NOW).unwrap_err(),
        VerifyError::SigningCertMismatch
    );
}

/// DSTU keys persist: a restored root keeps issuing verifiable signers, a restored signer
/// keeps signing, and a key from another bundle is refused.
#[test]
fn dstu_pem_bundles_round_trip() {
    let root = TestCa::generate_with("Емулятор Дії", NOW - Duration::days(1), M257).unwrap();
    let pem = root.to_pem_bundle().unwrap();
    assert!(
        pem.contains("-----BEGIN DSTU4145 PRIVATE KEY-----"),
        "{pem}"
    );
    let restored = TestCa::from_pem_bundle(&pem).unwrap();
    assert_eq!(restored.cert_der(), root.cert_der());
    assert_eq!(restored.key_kind(), M257);
    let signer = signer_under(&restored, M431);
    let restored_signer = TestSigner::from_pem_bundle(
        &signer.to_pem_bundle().unwrap(),
        vec![root.cert_der().to_vec()],
    )
    .unwrap();
    assert_eq!(restored_signer.key_kind(), M431);
    let h = gost_hash("x");
    let p7s = restored_signer.sign_hash_cades(&h, NOW).unwrap();
    verify_auth_signature(&p7s, &h, &trust_of(&root), NOW).unwrap();

    let other = TestCa::generate_with("Інший", NOW, M257)
        .unwrap()
        .to_pem_bundle()
        .unwrap();
    let key_part = &other[other.find("-----BEGIN DSTU4145").unwrap()..];
    let mixed = format!("{}{key_part}", root.cert_pem().unwrap());
    assert!(TestCa::from_pem_bundle(&mixed).is_err());
}

/// A DSTU root over an ECDSA signer and an ECDSA root over a DSTU signer: each certificate is
/// checked with its issuer's algorithm, the CMS with the signer's.
#[test]
fn mixed_chains_verify() {
    let h_sha = {
        use sha2::Digest;
        sha2::Sha256::digest(b"mixed").to_vec()
    };
    let dstu_root = TestCa::generate_with("ДСТУ корінь", NOW - Duration::days(2), M431).unwrap();
    let ecdsa_signer = signer_under(&dstu_root, KeyKind::EcdsaP256);
    assert_eq!(
        ecdsa_signer.certificate().signature_algorithm().oid,
        oids::DSTU4145_LE
    );
    let p7s = ecdsa_signer.sign_hash_cades(&h_sha, NOW).unwrap();
    let v = verify_auth_signature(&p7s, &h_sha, &trust_of(&dstu_root), NOW).unwrap();
    assert_eq!(v.signature_algorithm, "ECDSA P-256 with SHA-256");

    let ecdsa_root = TestCa::generate("ECDSA корінь", NOW - Duration::days(2)).unwrap();
    let dstu_ca = ecdsa_root
        .issue_sub_ca_with("ДСТУ КНЕДП", NOW - Duration::days(1), M257)
        .unwrap();
    let dstu_signer = signer_under(&dstu_ca, M257);
    let h = gost_hash("mixed");
    let p7s = dstu_signer.sign_hash_cades(&h, NOW).unwrap();
    let v = verify_auth_signature(&p7s, &h, &trust_of(&ecdsa_root), NOW).unwrap();
    assert_eq!(v.signature_algorithm, DSTU_NAME);
    // Through the chain check alone as well.
    let leaf = ParsedCert::parse(dstu_signer.cert_der()).unwrap();
    let inter = ParsedCert::parse(dstu_ca.cert_der()).unwrap();
    assert!(
        crate::chain::chain_to_trust_anchor(&leaf, &[inter], &trust_of(&ecdsa_root), NOW).is_ok()
    );
}
