//! The test CA's shape and persistence (P-256, the default).

use sha2::Digest;
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, KeyUsage, KeyUsages, SubjectDirectoryAttributes, SubjectKeyIdentifier,
};

use super::ca::{TestCa, TestIdentitySpec};
use crate::identity::{Edrpou, Rnokpp};
use crate::oids;
use crate::{TrustList, verify_auth_signature};
use time::macros::datetime;
use x509_cert::ext::pkix::BasicConstraints;

const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

fn spec() -> TestIdentitySpec {
    TestIdentitySpec {
        full_name: "Шевченко Тарас Григорович".into(),
        surname: "Шевченко".into(),
        given_name: "Тарас Григорович".into(),
        rnokpp: Rnokpp::parse("3652504575").unwrap(),
        edrpou: Some(Edrpou::parse("43395033").unwrap()),
        organization: Some("ДП «ДІЯ»".into()),
        title: Some("Директор".into()),
    }
}

#[test]
fn ca_is_shaped_like_a_ukrainian_qtsp() {
    let ca = TestCa::generate("Тестовий КНЕДП", NOW).unwrap();
    let tbs = ca.certificate().tbs_certificate();
    let subject = crate::names::name_to_string(tbs.subject());
    assert!(subject.contains("CN=Тестовий КНЕДП"), "{subject}");
    assert!(subject.contains("C=UA"));
    let edrpou = subject
        .split("organizationIdentifier=NTRUA-")
        .nth(1)
        .map(|s| &s[..8])
        .unwrap();
    Edrpou::parse(edrpou).unwrap();
    assert!(subject.contains(&format!("serialNumber=UA-{edrpou}-2026")));
    let (_, bc) = tbs.get_extension::<BasicConstraints>().unwrap().unwrap();
    assert!(bc.ca);
    let (crit, ku) = tbs.get_extension::<KeyUsage>().unwrap().unwrap();
    assert!(crit && ku.0.contains(KeyUsages::KeyCertSign) && ku.0.contains(KeyUsages::CRLSign));
    assert!(
        tbs.get_extension::<SubjectKeyIdentifier>()
            .unwrap()
            .is_some()
    );
    assert!(
        ca.cert_pem()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
}

#[test]
fn end_entity_is_shaped_like_a_qualified_certificate() {
    let ca = TestCa::generate("Тестовий КНЕДП", NOW).unwrap();
    let s = ca.issue(&spec(), NOW, NOW + Duration::days(365)).unwrap();
    let tbs = s.certificate().tbs_certificate();
    let (crit, ku) = tbs.get_extension::<KeyUsage>().unwrap().unwrap();
    assert!(crit);
    assert!(ku.0.contains(KeyUsages::DigitalSignature) && ku.0.contains(KeyUsages::NonRepudiation));
    let (_, bc) = tbs.get_extension::<BasicConstraints>().unwrap().unwrap();
    assert!(!bc.ca);
    let (_, aki) = tbs
        .get_extension::<AuthorityKeyIdentifier>()
        .unwrap()
        .unwrap();
    assert_eq!(aki.key_identifier.unwrap().as_bytes(), ca.ski.as_slice());
    let exts = tbs.extensions().unwrap();
    assert!(exts.iter().any(|e| e.extn_id == oids::EXT_QC_STATEMENTS));
    let (_, sda) = tbs
        .get_extension::<SubjectDirectoryAttributes>()
        .unwrap()
        .unwrap();
    let oids_present: Vec<_> = sda.0.iter().map(|a| a.oid).collect();
    assert_eq!(oids_present, vec![oids::UA_DRFO, oids::UA_EDRPOU]);
    let (id, warnings) = crate::identity_from_certificate(s.certificate()).unwrap();
    assert!(warnings.is_empty());
    assert_eq!(id.rnokpp.unwrap().as_str(), "3652504575");
    assert_eq!(id.edrpou.unwrap().as_str(), "43395033");
    assert_eq!(id.organization.as_deref(), Some("ДП «ДІЯ»"));
    assert_eq!(id.not_after, Some(NOW + Duration::days(365)));
}

#[test]
fn pem_bundle_round_trip_keeps_the_ca_usable() {
    let ca = TestCa::generate("Емулятор Дії", NOW).unwrap();
    let pem = ca.to_pem_bundle().unwrap();
    assert!(pem.contains("-----BEGIN PRIVATE KEY-----"));
    let restored = TestCa::from_pem_bundle(&pem).unwrap();
    assert_eq!(restored.cert_der(), ca.cert_der());
    // A signer issued by the restored CA verifies against the original certificate.
    let signer = restored
        .issue(&spec(), NOW, NOW + Duration::days(30))
        .unwrap();
    let trust = TrustList::from_pem(ca.cert_pem().unwrap().as_bytes())
        .unwrap()
        .0;
    let h = sha2::Sha256::digest(b"x").to_vec();
    let p7s = signer.sign_hash_cades(&h, NOW).unwrap();
    verify_auth_signature(&p7s, &h, &trust, NOW).unwrap();
    // Mismatched key and certificate are refused.
    let other = TestCa::generate("Інший", NOW)
        .unwrap()
        .to_pem_bundle()
        .unwrap();
    let key_part = &other[other.find("-----BEGIN PRIVATE KEY-----").unwrap()..];
    let mixed = format!("{}{key_part}", ca.cert_pem().unwrap());
    assert!(TestCa::from_pem_bundle(&mixed).is_err());
    assert!(TestCa::from_pem_bundle("nothing").is_err());
}
