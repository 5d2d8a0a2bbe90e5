//! Answers made by an independent implementation: OpenSSL's `ocsp` responder over an
//! `index.txt`, with a CA, a delegated responder and certificates made by `openssl` itself.

use std::path::{Path, PathBuf};
use std::process::Command;

use time::{Duration, OffsetDateTime};

use super::{CertStatus, OcspError, OcspQuery};

struct Pki {
    dir: PathBuf,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    /// A P-256 CA, a leaf, a responder with id-kp-OCSPSigning, one without it, and an
    /// unrelated CA.
    fn new() -> Pki {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("kepgate-ocsp-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pki = Pki { dir };
        let d = &pki.dir;
        std::fs::write(
            d.join("ext.cnf"),
            "[req]\ndistinguished_name=dn\n[dn]\n\
             [ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier=hash\n\
             [leaf]\nkeyUsage=critical,digitalSignature\nauthorityKeyIdentifier=keyid\n\
             [responder]\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\n\
             authorityKeyIdentifier=keyid\n",
        )
        .unwrap();
        for ca in ["ca", "other"] {
            openssl(
                d,
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-nodes",
                    "-keyout",
                    &format!("{ca}.key"),
                    "-out",
                    &format!("{ca}.pem"),
                    "-subj",
                    &format!("/CN=Test {ca} CA"),
                    "-days",
                    "30",
                    "-config",
                    "ext.cnf",
                    "-extensions",
                    "ca",
                ],
            );
        }
        for (name, ext, serial) in [
            ("leaf", "leaf", "1001"),
            ("other_leaf", "leaf", "1002"),
            ("responder", "responder", "2001"),
            ("plain", "leaf", "2002"),
        ] {
            openssl(
                d,
                &[
                    "req",
                    "-new",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-nodes",
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.csr"),
                    "-subj",
                    &format!("/CN=Test {name}"),
                    "-config",
                    "ext.cnf",
                ],
            );
            openssl(
                d,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &format!("{name}.csr"),
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-set_serial",
                    &format!("0x{serial}"),
                    "-days",
                    "10",
                    "-out",
                    &format!("{name}.pem"),
                    "-extfile",
                    "ext.cnf",
                    "-extensions",
                    ext,
                ],
            );
        }
        pki.index(&[]);
        pki
    }

    /// index.txt with leaf valid, or revoked for key compromise when `revoked` names it.
    fn index(&self, revoked: &[&str]) {
        let mut text = String::new();
        for (serial, cn) in [("1001", "leaf"), ("1002", "other_leaf")] {
            if revoked.contains(&cn) {
                text += &format!(
                    "R\t301231000000Z\t260101000000Z,keyCompromise\t{serial}\tunknown\t/CN=Test {cn}\n"
                );
            } else {
                text += &format!("V\t301231000000Z\t\t{serial}\tunknown\t/CN=Test {cn}\n");
            }
        }
        std::fs::write(self.dir.join("index.txt"), text).unwrap();
    }

    fn der(&self, name: &str) -> Vec<u8> {
        let pem = std::fs::read(self.dir.join(format!("{name}.pem"))).unwrap();
        der::pem::decode_vec(&pem).unwrap().1
    }

    fn query(&self, leaf: &str, nonce: &[u8]) -> OcspQuery {
        OcspQuery::new(&self.der(leaf), &self.der("ca"), nonce).unwrap()
    }

    /// OpenSSL's responder answering `query`, signed by `signer` (its key and certificate).
    fn answer(&self, query: &OcspQuery, signer: &str, extra: &[&str]) -> Vec<u8> {
        std::fs::write(self.dir.join("req.der"), query.to_der()).unwrap();
        let (key, cert) = (format!("{signer}.key"), format!("{signer}.pem"));
        let mut args = vec![
            "ocsp",
            "-index",
            "index.txt",
            "-CA",
            "ca.pem",
            "-rsigner",
            &cert,
            "-rkey",
            &key,
            "-reqin",
            "req.der",
            "-respout",
            "resp.der",
            "-ndays",
            "1",
        ];
        args.extend_from_slice(extra);
        openssl(&self.dir, &args);
        std::fs::read(self.dir.join("resp.der")).unwrap()
    }
}

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
    let a = q.check(&pki.answer(&q, "ca", &[]), now(), SKEW).unwrap();
    assert_eq!(a.status, CertStatus::Good);
    let next = a.next_update.expect("-ndays sets nextUpdate");
    assert!(next > now() + Duration::hours(23) && next < now() + Duration::hours(25));

    pki.index(&["leaf"]);
    let a = q.check(&pki.answer(&q, "ca", &[]), now(), SKEW).unwrap();
    match a.status {
        CertStatus::Revoked { at, reason } => {
            assert_eq!(at.unix_timestamp(), 1_767_225_600); // 2026-01-01 00:00:00Z
            assert_eq!(reason, Some(1)); // keyCompromise
        }
        other => panic!("{other:?}"),
    }

    // A certificate the responder's index does not know.
    let q = OcspQuery::new(&pki.der("plain"), &pki.der("ca"), b"nonce-2").unwrap();
    let a = q.check(&pki.answer(&q, "ca", &[]), now(), SKEW).unwrap();
    assert_eq!(a.status, CertStatus::Unknown);
}

#[test]
fn a_delegated_responder_needs_ocsp_signing_from_the_same_ca() {
    let pki = Pki::new();
    let q = pki.query("leaf", b"nonce");
    // OpenSSL puts the responder's certificate into the answer.
    let a = q
        .check(&pki.answer(&q, "responder", &[]), now(), SKEW)
        .unwrap();
    assert_eq!(a.status, CertStatus::Good);

    let e = q
        .check(&pki.answer(&q, "plain", &[]), now(), SKEW)
        .unwrap_err();
    assert!(
        matches!(&e, OcspError::UnauthorizedResponder(m) if m.contains("OCSPSigning")),
        "{e}"
    );

    let e = q
        .check(&pki.answer(&q, "other", &[]), now(), SKEW)
        .unwrap_err();
    assert!(matches!(e, OcspError::UnauthorizedResponder(_)), "{e}");

    // Valid today, so not after its ten days.
    let later = now() + Duration::days(11);
    let e = q
        .check(&pki.answer(&q, "responder", &["-ndays", "30"]), later, SKEW)
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
    let answer = pki.answer(&first, "ca", &[]);
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
    let bare = pki.answer(&first, "ca", &["-resp_no_certs"]);
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
