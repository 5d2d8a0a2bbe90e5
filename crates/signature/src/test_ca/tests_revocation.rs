//! The test CA's revocation services: certificates naming them, OCSP answers and CRLs accepted
//! by the crate's own checks (what the gateway runs) for an ECDSA and a DSTU CA, and by OpenSSL
//! for the ECDSA one.

use std::path::PathBuf;
use std::process::Command;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::ca::{TestCa, TestIdentitySpec};
use super::crl_out::RevokedCert;
use super::key::KeyKind;
use super::ocsp_responder::OcspOptions;
use super::publication::Publication;
use super::signer::TestSigner;
use crate::crl::{CrlKind, CrlNumber, check_crl};
use crate::dstu4145::DstuCurve;
use crate::identity::Rnokpp;
use crate::ocsp::{CertStatus, OcspError, OcspQuery};
use crate::revocation_sources::revocation_sources;

const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);
const REVOKED_AT: OffsetDateTime = datetime!(2026-11-20 08:30 UTC);
const SKEW: Duration = Duration::minutes(5);
/// (CA key, people's keys): ECDSA throughout, and the Diia shape (M257 CA, M431 people).
const KINDS: [(KeyKind, KeyKind); 2] = [
    (KeyKind::EcdsaP256, KeyKind::EcdsaP256),
    (
        KeyKind::Dstu4145(DstuCurve::M257),
        KeyKind::Dstu4145(DstuCurve::M431),
    ),
];

fn spec(rnokpp: &str) -> TestIdentitySpec {
    TestIdentitySpec {
        full_name: "Шевченко Тарас Григорович".into(),
        surname: "Шевченко".into(),
        given_name: "Тарас Григорович".into(),
        rnokpp: Rnokpp::parse(rnokpp).unwrap(),
        edrpou: None,
        organization: None,
        title: None,
    }
}

/// A CA publishing its services, a leaf to revoke and one that stays good.
fn pki(
    ca_kind: KeyKind,
    leaf_kind: KeyKind,
    now: OffsetDateTime,
) -> (TestCa, TestSigner, TestSigner) {
    let mut ca = TestCa::generate_with("Тестовий КНЕДП", now, ca_kind).unwrap();
    ca.set_publication(Publication {
        ocsp_url: Some("http://ca.test/ocsp".into()),
        crl_url: Some("http://ca.test/full.crl".into()),
        delta_crl_url: Some("http://ca.test/delta.crl".into()),
    });
    let issue = |rnokpp| {
        ca.issue_with(
            &spec(rnokpp),
            now - Duration::days(1),
            now + Duration::days(30),
            leaf_kind,
        )
        .unwrap()
    };
    let (revoked, good) = (issue("3652504575"), issue("3012345670"));
    (ca, revoked, good)
}

fn serial(signer: &TestSigner) -> Vec<u8> {
    signer
        .certificate()
        .tbs_certificate()
        .serial_number()
        .as_bytes()
        .to_vec()
}

/// `revoked` is revoked for key compromise; everything else is good.
fn status_of(revoked: &TestSigner) -> impl Fn(&[u8]) -> CertStatus {
    let serial = serial(revoked);
    move |s| {
        if s == serial.as_slice() {
            CertStatus::Revoked {
                at: REVOKED_AT,
                reason: Some(1),
            }
        } else {
            CertStatus::Good
        }
    }
}

#[test]
fn issued_certificates_name_the_ocsp_responder_and_the_crls_only_when_asked() {
    let (ca, leaf, _) = pki(KeyKind::EcdsaP256, KeyKind::EcdsaP256, NOW);
    let s = revocation_sources(leaf.cert_der()).unwrap();
    assert_eq!(s.ocsp, ["http://ca.test/ocsp"]);
    assert_eq!(s.crl, ["http://ca.test/full.crl"]);
    assert_eq!(s.delta_crl, ["http://ca.test/delta.crl"]);
    let plain = TestCa::generate("Тестовий КНЕДП", NOW).unwrap();
    assert_eq!(plain.publication(), &Publication::default());
    let leaf = plain
        .issue(&spec("3652504575"), NOW, NOW + Duration::days(1))
        .unwrap();
    assert_eq!(
        revocation_sources(leaf.cert_der()).unwrap(),
        Default::default()
    );
    // The CA's own certificate names nothing.
    assert_eq!(
        revocation_sources(ca.cert_der()).unwrap(),
        Default::default()
    );
}

#[test]
fn ocsp_answers_pass_the_gateways_check_for_ecdsa_and_dstu() {
    for (ca_kind, leaf_kind) in KINDS {
        let (ca, revoked, good) = pki(ca_kind, leaf_kind, NOW);
        let next = Some(NOW + Duration::hours(1));
        let ask = |leaf: &TestSigner, nonce: &[u8]| {
            let q = OcspQuery::new(leaf.cert_der(), ca.cert_der(), nonce).unwrap();
            let answer = ca.ocsp_response(q.to_der(), status_of(&revoked), NOW, next);
            q.check(&answer, NOW, SKEW)
        };
        let a = ask(&good, b"nonce-good").unwrap();
        assert_eq!(a.status, CertStatus::Good, "{ca_kind:?}");
        assert_eq!(
            (a.this_update, a.produced_at, a.next_update),
            (NOW, NOW, next)
        );
        let a = ask(&revoked, &[7; 32]).unwrap();
        let want = CertStatus::Revoked {
            at: REVOKED_AT,
            reason: Some(1),
        };
        assert_eq!(a.status, want, "{ca_kind:?}");

        let q = OcspQuery::new(good.cert_der(), ca.cert_der(), b"n").unwrap();
        let unknown = ca.ocsp_response(q.to_der(), |_| CertStatus::Unknown, NOW, None);
        let a = q.check(&unknown, NOW, SKEW).unwrap();
        assert_eq!((a.status, a.next_update), (CertStatus::Unknown, None));
    }
}

#[test]
fn faulty_ocsp_answers_fail_the_check_as_the_gateway_would_see_them() {
    for (ca_kind, leaf_kind) in KINDS {
        let (ca, revoked, good) = pki(ca_kind, leaf_kind, NOW);
        let q = OcspQuery::new(good.cert_der(), ca.cert_der(), b"fresh").unwrap();
        let with = |o: OcspOptions<'_>| {
            let answer = ca.ocsp_response_with(q.to_der(), status_of(&revoked), &o);
            q.check(&answer, NOW, SKEW).unwrap_err()
        };
        let honest = OcspOptions::new(NOW, Some(NOW + Duration::hours(1)));
        let rogue = TestCa::generate_with("Сторонній OCSP-сервер", NOW, ca_kind).unwrap();
        let e = with(OcspOptions {
            signed_by: Some(&rogue),
            ..honest
        });
        assert!(matches!(e, OcspError::UnauthorizedResponder(_)), "{e}");
        // Named like the CA but with another key: the signature does not verify.
        let impostor = TestCa::generate_with("Тестовий КНЕДП", NOW, ca_kind).unwrap();
        let e = with(OcspOptions {
            signed_by: Some(&impostor),
            ..honest
        });
        assert!(matches!(e, OcspError::BadSignature(_)), "{e}");
        let e = with(OcspOptions {
            echo_nonce: false,
            ..honest
        });
        assert_eq!(e, OcspError::NonceMismatch);
        let e = with(OcspOptions::new(
            NOW - Duration::days(1),
            Some(NOW - Duration::hours(1)),
        ));
        assert!(matches!(e, OcspError::Stale { .. }), "{e}");
        // An answer to another query (its nonce) replayed.
        let other = OcspQuery::new(good.cert_der(), ca.cert_der(), b"old").unwrap();
        let old = ca.ocsp_response(other.to_der(), status_of(&revoked), NOW, None);
        assert_eq!(
            q.check(&old, NOW, SKEW).unwrap_err(),
            OcspError::NonceMismatch
        );
        for bad in [&b"garbage"[..], &q.to_der()[..q.to_der().len() - 1]] {
            let answer = ca.ocsp_response(bad, |_| CertStatus::Good, NOW, None);
            assert_eq!(
                q.check(&answer, NOW, SKEW).unwrap_err(),
                OcspError::NotSuccessful("malformedRequest")
            );
        }
    }
}

#[test]
fn a_delegated_responders_answers_pass_the_check_only_for_its_own_ca() {
    for (ca_kind, leaf_kind) in KINDS {
        let (ca, revoked, _) = pki(ca_kind, leaf_kind, NOW);
        let responder = ca
            .issue_ocsp_responder("Тестовий OCSP-сервер", NOW, ca_kind)
            .unwrap();
        let options = OcspOptions {
            signed_by: Some(&responder),
            ..OcspOptions::new(NOW, Some(NOW + Duration::hours(1)))
        };
        let q = OcspQuery::new(revoked.cert_der(), ca.cert_der(), b"delegated").unwrap();
        let answer = ca.ocsp_response_with(q.to_der(), status_of(&revoked), &options);
        let a = q.check(&answer, NOW, SKEW).unwrap();
        assert!(
            matches!(a.status, CertStatus::Revoked { .. }),
            "{ca_kind:?}"
        );
        // Not after its validity, and not for another CA's certificates.
        let e = q
            .check(&answer, NOW + Duration::days(3651), SKEW)
            .unwrap_err();
        assert!(matches!(e, OcspError::UnauthorizedResponder(_)), "{e}");
        let (other_ca, _, other_good) = pki(ca_kind, leaf_kind, NOW);
        let q = OcspQuery::new(other_good.cert_der(), other_ca.cert_der(), b"n").unwrap();
        let answer = other_ca.ocsp_response_with(q.to_der(), |_| CertStatus::Good, &options);
        let e = q.check(&answer, NOW, SKEW).unwrap_err();
        assert!(matches!(e, OcspError::UnauthorizedResponder(_)), "{e}");
    }
}

#[test]
fn full_and_delta_crls_pass_the_gateways_check_for_ecdsa_and_dstu() {
    for (ca_kind, leaf_kind) in KINDS {
        let (ca, revoked, good) = pki(ca_kind, leaf_kind, NOW);
        let entry = RevokedCert {
            serial: serial(&revoked),
            at: REVOKED_AT,
            reason: Some(1),
        };
        let next = NOW + Duration::hours(1);
        let empty = ca.crl(&[], 1, NOW, next).unwrap();
        let crl = check_crl(&empty, ca.cert_der(), CrlKind::Complete, NOW, SKEW).unwrap();
        assert!(crl.revoked.is_empty());
        assert_eq!(crl.number, CrlNumber::from_be_bytes(&[1]).unwrap());

        let der = ca
            .crl(std::slice::from_ref(&entry), 300, NOW, next)
            .unwrap();
        let crl = check_crl(&der, ca.cert_der(), CrlKind::Complete, NOW, SKEW).unwrap();
        assert_eq!((crl.this_update, crl.next_update), (NOW, next));
        assert_eq!(crl.number, CrlNumber::from_be_bytes(&[0x01, 0x2c]).unwrap());
        assert_eq!(crl.delta_base, None);
        let listed = &crl.revoked[&entry.serial];
        assert_eq!(
            (listed.at, listed.reason),
            (REVOKED_AT, Some(1)),
            "{ca_kind:?}"
        );
        assert!(!crl.revoked.contains_key(&serial(&good)));

        let unreasoned = RevokedCert {
            reason: None,
            ..entry.clone()
        };
        let delta = ca.delta_crl(&[unreasoned], 301, 300, NOW, next).unwrap();
        let crl = check_crl(&delta, ca.cert_der(), CrlKind::Delta, NOW, SKEW).unwrap();
        assert_eq!(crl.delta_base, CrlNumber::from_be_bytes(&[0x01, 0x2c]));
        assert_eq!(crl.revoked[&entry.serial].reason, None);
        let other = TestCa::generate_with("Інший КНЕДП", NOW, ca_kind).unwrap();
        assert!(check_crl(&der, other.cert_der(), CrlKind::Complete, NOW, SKEW).is_err());
    }
}

/// A directory for OpenSSL's files, removed afterwards.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Scratch {
    fn new() -> Scratch {
        let mut rnd = [0u8; 8];
        getrandom::fill(&mut rnd).unwrap();
        let hex: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
        let dir = std::env::temp_dir().join(format!("kepgate-test-ca-{hex}"));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, name: &str, data: impl AsRef<[u8]>) {
        std::fs::write(self.0.join(name), data).unwrap();
    }

    /// `openssl args…` in the directory: its stdout and stderr together.
    fn openssl(&self, args: &str) -> String {
        let args: Vec<&str> = args.split_whitespace().collect();
        let out = Command::new("openssl")
            .args(&args)
            .current_dir(&self.0)
            .output()
            .expect("run openssl");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "openssl {args:?}: {text}");
        text
    }
}

/// OpenSSL checks dates against the real clock.
#[allow(clippy::disallowed_methods)]
fn real_now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

#[test]
fn openssl_accepts_the_ecdsa_cas_ocsp_answers_and_crl() {
    let now = real_now();
    let (ca, revoked, good) = pki(KeyKind::EcdsaP256, KeyKind::EcdsaP256, now);
    let dir = Scratch::new();
    dir.write("ca.pem", ca.cert_pem().unwrap());
    for (name, leaf) in [("revoked", &revoked), ("good", &good)] {
        let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, leaf.cert_der());
        dir.write(&format!("{name}.pem"), pem.unwrap());
    }
    for (leaf, digest, want) in [
        ("good", "-sha1", "good.pem: good"),
        ("revoked", "-sha256", "revoked.pem: revoked"),
    ] {
        // OpenSSL's own request (with its nonce), our answer, OpenSSL's verification.
        dir.openssl(&format!(
            "ocsp -issuer ca.pem {digest} -cert {leaf}.pem -reqout req.der"
        ));
        let request = std::fs::read(dir.0.join("req.der")).unwrap();
        let next = Some(now + Duration::hours(1));
        dir.write(
            "resp.der",
            ca.ocsp_response(&request, status_of(&revoked), now, next),
        );
        // Against the request: signature, signer and nonce.
        let out = dir.openssl("ocsp -reqin req.der -respin resp.der -VAfile ca.pem");
        assert!(out.contains("Response verify OK"), "{out}");
        // The status (OpenSSL builds its own request from -cert, hence no nonce to compare).
        let out = dir.openssl(&format!(
            "ocsp -respin resp.der -VAfile ca.pem -issuer ca.pem {digest} -cert {leaf}.pem \
             -no_nonce"
        ));
        assert!(
            out.contains("Response verify OK") && out.contains(want),
            "{out}"
        );
    }
    assert!(
        dir.openssl("ocsp -reqin req.der -respin resp.der -resp_text -noverify")
            .contains("Revocation Reason: keyCompromise")
    );

    let entry = RevokedCert {
        serial: serial(&revoked),
        at: REVOKED_AT,
        reason: Some(1),
    };
    dir.write(
        "crl.der",
        ca.crl(&[entry], 7, now, now + Duration::hours(1)).unwrap(),
    );
    let out = dir.openssl("crl -in crl.der -inform DER -CAfile ca.pem -noout -text");
    assert!(out.contains("verify OK"), "{out}");
    assert!(out.contains("Key Compromise"), "{out}");
    assert!(out.contains("X509v3 CRL Number:"), "{out}");
    let hex: String = serial(&revoked)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert!(out.contains(&hex), "{out}");
}
