//! Answers made by an independent implementation: OpenSSL's `ocsp` responder over an
//! `index.txt` (`crate::test_pki`).

use time::{Duration, OffsetDateTime};

use super::{CertStatus, OcspError, OcspQuery};
use crate::test_pki::Pki;

/// OpenSSL dates its answers by the real clock, so these checks must use it too.
#[allow(clippy::disallowed_methods)]
fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

const SKEW: Duration = Duration::minutes(5);

#[test]
fn a_good_revoked_and_unknown_status_from_the_ca_itself() {
    let pki = Pki::new();
    let q = pki.query("leaf", b"nonce-1");
    let a = q.check(&pki.answer(&q, "ca", ""), now(), SKEW).unwrap();
    assert_eq!(a.status, CertStatus::Good);
    let next = a.next_update.expect("-ndays sets nextUpdate");
    assert!(next > now() + Duration::hours(23) && next < now() + Duration::hours(25));

    pki.index(&["leaf"]);
    let a = q.check(&pki.answer(&q, "ca", ""), now(), SKEW).unwrap();
    match a.status {
        CertStatus::Revoked { at, reason } => {
            assert_eq!(at.unix_timestamp(), 1_767_225_600); // 2026-01-01 00:00:00Z
            assert_eq!(reason, Some(1)); // keyCompromise
        }
        other => panic!("{other:?}"),
    }

    // A certificate the responder's index does not know.
    let q = OcspQuery::new(&pki.der("plain"), &pki.der("ca"), b"nonce-2").unwrap();
    let a = q.check(&pki.answer(&q, "ca", ""), now(), SKEW).unwrap();
    assert_eq!(a.status, CertStatus::Unknown);
}

#[test]
fn a_delegated_responder_needs_ocsp_signing_from_the_same_ca() {
    let pki = Pki::new();
    let q = pki.query("leaf", b"nonce");
    // OpenSSL puts the responder's certificate into the answer.
    let a = q
        .check(&pki.answer(&q, "responder", ""), now(), SKEW)
        .unwrap();
    assert_eq!(a.status, CertStatus::Good);

    let e = q
        .check(&pki.answer(&q, "plain", ""), now(), SKEW)
        .unwrap_err();
    assert!(
        matches!(&e, OcspError::UnauthorizedResponder(m) if m.contains("OCSPSigning")),
        "{e}"
    );

    let e = q
        .check(&pki.answer(&q, "other", ""), now(), SKEW)
        .unwrap_err();
    assert!(matches!(e, OcspError::UnauthorizedResponder(_)), "{e}");

    // Valid today, so not after its ten days.
    let later = now() + Duration::days(11);
    let e = q
        .check(&pki.answer(&q, "responder", "-ndays 30"), later, SKEW)
        .unwrap_err();
    assert!(
        matches!(&e, OcspError::UnauthorizedResponder(m) if m.contains("expired")),
        "{e}"
    );
}

#[test]
fn replayed_stale_foreign_and_tampered_answers_are_refused() {
    let pki = Pki::new();
    let first = pki.query("leaf", b"first");
    let answer = pki.answer(&first, "ca", "");
    assert!(first.check(&answer, now(), SKEW).is_ok());

    // The same answer replayed to the next login, which sent another nonce.
    let second = pki.query("leaf", b"second");
    assert_eq!(
        second.check(&answer, now(), SKEW),
        Err(OcspError::NonceMismatch)
    );

    // Past nextUpdate (one day) by more than the skew; and before thisUpdate.
    let e = first
        .check(&answer, now() + Duration::hours(25), SKEW)
        .unwrap_err();
    assert!(matches!(e, OcspError::Stale { .. }), "{e}");
    let e = first
        .check(&answer, now() - Duration::hours(1), SKEW)
        .unwrap_err();
    assert!(matches!(e, OcspError::FromTheFuture { .. }), "{e}");

    // An answer about another certificate (same nonce, so only the CertID differs).
    let other = pki.query("other_leaf", b"first");
    assert_eq!(
        other.check(&answer, now(), SKEW),
        Err(OcspError::WrongCertificate)
    );

    // A flipped bit in the signed part or in the signature (the last bytes without the
    // certificates OpenSSL would otherwise append).
    let bare = pki.answer(&first, "ca", "-resp_no_certs");
    assert!(first.check(&bare, now(), SKEW).is_ok());
    for at in [bare.len() / 2, bare.len() - 3] {
        let mut bad = bare.clone();
        bad[at] ^= 0x01;
        assert!(first.check(&bad, now(), SKEW).is_err(), "flip at {at}");
    }
}

#[test]
fn refusals_and_garbage_are_clear_errors() {
    let pki = Pki::new();
    let q = pki.query("leaf", b"n");
    // OCSPResponse { responseStatus tryLater }
    assert_eq!(
        q.check(&[0x30, 0x03, 0x0a, 0x01, 0x03], now(), SKEW),
        Err(OcspError::NotSuccessful("tryLater"))
    );
    for garbage in [&b""[..], b"<html>502</html>", &[0x30, 0x80, 0x00, 0x00]] {
        let e = q.check(garbage, now(), SKEW).unwrap_err();
        assert!(matches!(e, OcspError::Malformed(_)), "{e}");
    }
    assert!(OcspQuery::new(&pki.der("leaf"), &pki.der("other"), b"n").is_err());
    assert!(OcspQuery::new(&pki.der("leaf"), &pki.der("ca"), &[0; 33]).is_err());
}

#[test]
fn diias_real_ocsp_certificate_is_a_delegated_responder_for_the_diia_ca() {
    use crate::parsed_cert::ParsedCert;
    let read = |name: &str| {
        let path = format!(
            "{}/tests/data/dstu/uapki/certs/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        ParsedCert::parse(&std::fs::read(path).unwrap()).unwrap()
    };
    let ca = read("diia-CA-05E19E2CD92EA2990100000001000000E1000000.cer");
    let responder = read("diia-ocsp-3ED5083160DBC59B0200000001000000202B0F00.cer");
    let signer = read("diia-test-sign-7775603.cer");
    // DSTU 4145 all the way: the CA's M257 signature on the responder's certificate verifies.
    let during = responder.not_before() + Duration::days(1);
    super::check::delegated_responder(&responder, &ca, during).unwrap();
    let e = super::check::delegated_responder(&signer, &ca, during).unwrap_err();
    assert!(e.contains("OCSPSigning"), "{e}");
    let e = super::check::delegated_responder(
        &responder,
        &ca,
        responder.not_after() + Duration::days(1),
    )
    .unwrap_err();
    assert!(e.contains("expired"), "{e}");
}
