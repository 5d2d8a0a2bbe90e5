//! The seeds of the fuzz targets `ocsp_response` and `crl` (`fuzz/`, `kepgate::fuzzing`) and the
//! fixed material they are checked against (`fuzz/seeds/revocation/`), written only when asked:
//! `KEPGATE_WRITE_FUZZ_SEEDS=1 cargo test -p kepgate-signature --lib write_revocation_fuzz_seeds`.
//!
//! Three CAs, in the order an input's first byte selects them: the test CA with ECDSA P-256
//! (`ecdsa`), the test CA in the Diia shape, DSTU 4145 on M257 with people's keys on M431
//! (`dstu`), and an OpenSSL CA (`openssl`: answers of `openssl ocsp`, a CRL of `openssl ca
//! -gencrl`, one with an IssuingDistributionPoint). For each: the CA's certificate, the certificate the fixed OCSP query asks about
//! (`leaf`) and another one of that CA (`other`). Every seed passes the crate's own check at the
//! fixed time, so the fuzzer's mutations start past the signature.

use std::path::Path;

use time::{Duration, OffsetDateTime};

use crate::crl::{CrlKind, check_crl};
use crate::dstu4145::DstuCurve;
use crate::identity::Rnokpp;
use crate::ocsp::{CertStatus, OcspQuery};
use crate::test_ca::{KeyKind, OcspOptions, RevokedCert, TestCa, TestIdentitySpec};
use crate::test_pki::Pki;

/// The nonce of every fixed query (`nonce.txt`).
const NONCE: &[u8] = b"kepgate-fuzz-ocsp-nonce";
/// The gateway's default `trust.revocation_skew`.
const SKEW: Duration = Duration::minutes(5);

#[test]
fn write_revocation_fuzz_seeds_when_asked() {
    if std::env::var_os("KEPGATE_WRITE_FUZZ_SEEDS").is_none() {
        return;
    }
    write(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds"));
}

/// A directory emptied of an earlier run's files.
fn fresh(dir: &Path) -> &Path {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    dir
}

/// A seed: the byte selecting the CA, then the DER.
fn seed(dir: &Path, name: &str, ca: u8, der: &[u8]) {
    let mut framed = vec![ca];
    framed.extend_from_slice(der);
    std::fs::write(dir.join(name), framed).unwrap();
}

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

fn write(seeds: &Path) {
    // OpenSSL dates its answers and CRLs by the real clock, so everything is made now.
    #[allow(clippy::disallowed_methods)]
    let made = OffsetDateTime::now_utc();
    // Whole seconds, as the answers and CRLs carry their times.
    let made = made - Duration::nanoseconds(i64::from(made.nanosecond()));
    // A minute after: every seed is current at this fixed time, for good.
    let now = made + Duration::minutes(1);
    let fixed = seeds.join("revocation");
    let (ocsp, crl) = (seeds.join("ocsp_response"), seeds.join("crl"));
    for dir in [&fixed, &ocsp, &crl] {
        fresh(dir);
    }
    let file = |name: &str, data: &[u8]| std::fs::write(fixed.join(name), data).unwrap();
    file("now.txt", format!("{}\n", now.unix_timestamp()).as_bytes());
    file("nonce.txt", NONCE);
    let revoked_at = made - Duration::days(5);
    let revoked = CertStatus::Revoked {
        at: revoked_at,
        reason: Some(1),
    };

    let test_cas = [
        (0, "ecdsa", KeyKind::EcdsaP256, KeyKind::EcdsaP256),
        (
            1,
            "dstu",
            KeyKind::Dstu4145(DstuCurve::M257),
            KeyKind::Dstu4145(DstuCurve::M431),
        ),
    ];
    for (selector, kind, ca_kind, leaf_kind) in test_cas {
        let ca = TestCa::generate_with(&format!("Фаззінг КНЕДП {kind}"), made, ca_kind).unwrap();
        let issue = |rnokpp| {
            ca.issue_with(
                &spec(rnokpp),
                made - Duration::days(1),
                made + Duration::days(30),
                leaf_kind,
            )
            .unwrap()
        };
        let (leaf, other) = (issue("3652504575"), issue("3012345670"));
        file(&format!("{kind}-ca.der"), ca.cert_der());
        file(&format!("{kind}-leaf.der"), leaf.cert_der());
        file(&format!("{kind}-other.der"), other.cert_der());

        let q = OcspQuery::new(leaf.cert_der(), ca.cert_der(), NONCE).unwrap();
        let responder = ca
            .issue_ocsp_responder(&format!("Фаззінг OCSP {kind}"), made, ca_kind)
            .unwrap();
        let honest = OcspOptions::new(made, Some(made + Duration::days(1)));
        let delegated = OcspOptions {
            signed_by: Some(&responder),
            ..honest
        };
        for (name, status, options) in [
            ("good", CertStatus::Good, honest),
            ("revoked", revoked.clone(), honest),
            // Without nextUpdate, as a responder that promises nothing answers.
            ("unknown", CertStatus::Unknown, OcspOptions::new(made, None)),
            ("delegated", CertStatus::Good, delegated),
        ] {
            let answer = ca.ocsp_response_with(q.to_der(), |_| status.clone(), &options);
            assert_eq!(
                q.check(&answer, now, SKEW).unwrap().status,
                status,
                "{kind}"
            );
            seed(&ocsp, &format!("{kind}-{name}"), selector, &answer);
        }

        let listed = |signer: &crate::test_ca::TestSigner, reason| RevokedCert {
            serial: signer
                .certificate()
                .tbs_certificate()
                .serial_number()
                .as_bytes()
                .to_vec(),
            at: revoked_at,
            reason,
        };
        let next = made + Duration::days(1);
        for (name, der) in [
            ("full-empty", ca.crl(&[], 299, made, next)),
            ("full", ca.crl(&[listed(&leaf, Some(1))], 300, made, next)),
            (
                "delta",
                ca.delta_crl(&[listed(&other, None)], 301, 300, made, next),
            ),
        ] {
            let der = der.unwrap();
            let list_kind = match name {
                "delta" => CrlKind::Delta,
                _ => CrlKind::Complete,
            };
            check_crl(&der, ca.cert_der(), list_kind, now, SKEW).unwrap();
            seed(&crl, &format!("{kind}-{name}"), selector, &der);
        }
    }

    // OpenSSL's own CA, responder and CRL (crate::test_pki), as an independent encoder.
    let pki = Pki::new();
    for (name, cert) in [("ca", "ca"), ("leaf", "leaf"), ("other", "other_leaf")] {
        file(&format!("openssl-{name}.der"), &pki.der(cert));
    }
    let q = pki.query("leaf", NONCE);
    let mut answers = vec![
        ("good", pki.answer(&q, "ca", "")),
        ("delegated", pki.answer(&q, "responder", "")),
        // ResponderID byKey (the test CA always names itself byName).
        (
            "delegated-by-key",
            pki.answer(&q, "responder", "-resp_key_id"),
        ),
    ];
    pki.index(&["leaf"]);
    answers.push(("revoked", pki.answer(&q, "ca", "")));
    for (name, answer) in answers {
        q.check(&answer, now, SKEW).unwrap();
        seed(&ocsp, &format!("openssl-{name}"), 2, &answer);
    }
    // The second with an IssuingDistributionPoint, so that the fuzzer starts inside its parser.
    for (name, extensions) in [("openssl-full", "crl_ext"), ("openssl-full-idp", "crl_idp")] {
        let der = pki.crl_with(24, extensions);
        check_crl(&der, &pki.der("ca"), CrlKind::Complete, now, SKEW).unwrap();
        seed(&crl, name, 2, &der);
    }
}
