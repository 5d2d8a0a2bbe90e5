//! The emulator's OCSP responders and CRLs seen as the gateway sees them: a person's certificate
//! names them, revoking through `/emulator/revoke` shows at once in both, and each responder
//! fault fails `OcspQuery::check` the way the gateway would report it.

use std::path::PathBuf;
use std::time::Instant;

use base64::Engine;
use serde_json::{Value, json};
use time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

use kepgate_signature::crl::{CheckedCrl, CrlKind, check_crl};
use kepgate_signature::ocsp::{CertStatus, OcspAnswer, OcspError, OcspQuery};
use kepgate_signature::revocation_sources::revocation_sources;

use super::identities::{self, KeyFamily, Keys, TestIdentity};
use super::revocation::serial_of;
use super::state::random_hex;
use super::{Emulator, EmulatorSettings};
use crate::clock;

const SKEW: Duration = Duration::minutes(5);
const PERSON: TestIdentity = TestIdentity::Person;
const DIRECTOR: TestIdentity = TestIdentity::Director;

/// An emulator on a state directory whose keys the test loaded too (the same ones: the emulator
/// reuses what is stored for its base URL).
struct Running {
    base: Url,
    dir: PathBuf,
    keys: Keys,
    http: reqwest::Client,
    _stop: oneshot::Sender<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn start() -> Running {
    let dir = std::env::temp_dir().join(format!("kepgate-emu-rev-{}", random_hex(8).unwrap()));
    start_in(dir).await
}

async fn start_in(dir: PathBuf) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = Url::parse(&format!("http://{addr}/")).unwrap();
    let keys = identities::load_or_create(Some(&dir), &base, clock::now()).unwrap();
    let callback = Url::parse("http://127.0.0.1:9/callback").unwrap();
    let mut settings = EmulatorSettings::new(addr, base.clone(), callback);
    settings.state_dir = Some(dir.clone());
    let emulator = Emulator::build_on(settings, listener).await.unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(emulator.run(async move {
        let _ = stopped.await;
    }));
    Running {
        base,
        dir,
        keys,
        http: reqwest::Client::new(),
        _stop: stop,
    }
}

impl Running {
    fn cert(&self, who: TestIdentity, family: KeyFamily) -> &[u8] {
        self.keys.signer(who, family).cert_der()
    }

    async fn post_json(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(self.base.join(path).unwrap())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }

    async fn fault(&self, fault: &str) {
        self.post_json(
            "emulator/ocsp-fault",
            json!({"fault": fault, "slowMs": 300}),
        )
        .await;
    }

    /// Asks the responder the certificate names, as the gateway does: HTTP status and checked
    /// answer.
    async fn ocsp(
        &self,
        who: TestIdentity,
        family: KeyFamily,
    ) -> (u16, Result<OcspAnswer, OcspError>) {
        let cert = self.cert(who, family);
        let url = revocation_sources(cert).unwrap().ocsp.remove(0);
        assert_eq!(url, format!("{}ocsp/{}", self.base, family.key()));
        let query = OcspQuery::new(cert, self.keys.ca(family).cert_der(), &random_nonce()).unwrap();
        let r = self
            .http
            .post(url)
            .header("content-type", "application/ocsp-request")
            .body(query.to_der().to_vec())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.bytes().await.unwrap();
        (status, query.check(&body, clock::now(), SKEW))
    }

    async fn status(&self, who: TestIdentity, family: KeyFamily) -> CertStatus {
        let (code, answer) = self.ocsp(who, family).await;
        assert_eq!(code, 200);
        answer.unwrap().status
    }

    async fn crl(&self, family: KeyFamily) -> CheckedCrl {
        let url = revocation_sources(self.cert(PERSON, family))
            .unwrap()
            .crl
            .remove(0);
        assert_eq!(url, format!("{}crl/{}.crl", self.base, family.key()));
        let r = self.http.get(url).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "application/pkix-crl");
        let der = r.bytes().await.unwrap();
        check_crl(
            &der,
            self.keys.ca(family).cert_der(),
            CrlKind::Complete,
            clock::now(),
            SKEW,
        )
        .unwrap()
    }
}

fn random_nonce() -> Vec<u8> {
    random_hex(16).unwrap().into_bytes()
}

fn number(crl: &CheckedCrl) -> u128 {
    crl.number
        .as_be_bytes()
        .iter()
        .map(|b| u128::from(*b))
        .reduce(|n, b| n << 8 | b)
        .unwrap()
}

#[tokio::test]
async fn a_revoked_person_is_revoked_in_ocsp_and_the_crl_at_once() {
    let emu = start().await;
    let mut numbers = Vec::new();
    for family in KeyFamily::ALL {
        assert_eq!(emu.status(PERSON, family).await, CertStatus::Good);
        let crl = emu.crl(family).await;
        assert!(crl.revoked.is_empty());
        numbers.push(number(&crl));
    }
    let listed = emu
        .post_json(
            "emulator/revoke",
            json!({"identity": "person", "family": "both", "reason": "keyCompromise"}),
        )
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(listed[0]["reason"], "keyCompromise");
    for (family, before) in KeyFamily::ALL.into_iter().zip(numbers) {
        match emu.status(PERSON, family).await {
            CertStatus::Revoked { reason, at } => {
                assert_eq!(reason, Some(1), "{family:?}");
                assert!(at <= clock::now());
            }
            other => panic!("{family:?}: {other:?}"),
        }
        assert_eq!(emu.status(DIRECTOR, family).await, CertStatus::Good);
        let crl = emu.crl(family).await;
        assert!(
            number(&crl) > before,
            "{family:?}: a changed CRL has a new number"
        );
        let serial = serial_of(&emu.keys, PERSON, family);
        assert_eq!(crl.revoked[&serial].reason, Some(1));
        assert!(
            !crl.revoked
                .contains_key(&serial_of(&emu.keys, DIRECTOR, family))
        );
    }

    // GET of RFC 6960 A.1, the request in base64 in the path.
    let cert = emu.cert(PERSON, KeyFamily::Dstu);
    let query =
        OcspQuery::new(cert, emu.keys.ca(KeyFamily::Dstu).cert_der(), b"get-nonce").unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(query.to_der());
    let url = format!("{}ocsp/dstu/{}", emu.base, b64.replace('/', "%2F"));
    let body = emu
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let answer = query.check(&body, clock::now(), SKEW).unwrap();
    assert!(matches!(answer.status, CertStatus::Revoked { .. }));

    // Unrevoking the DSTU key only.
    emu.post_json(
        "emulator/unrevoke",
        json!({"identity": "person", "family": "dstu"}),
    )
    .await;
    assert_eq!(emu.status(PERSON, KeyFamily::Dstu).await, CertStatus::Good);
    assert!(emu.crl(KeyFamily::Dstu).await.revoked.is_empty());
    assert!(matches!(
        emu.status(PERSON, KeyFamily::Ecdsa).await,
        CertStatus::Revoked { .. }
    ));
    let left = emu.post_json("emulator/unrevoke", json!({})).await;
    assert_eq!(left, json!([]));
    assert_eq!(emu.status(PERSON, KeyFamily::Ecdsa).await, CertStatus::Good);
}

#[tokio::test]
async fn each_ocsp_fault_fails_the_check_as_the_gateway_would_see_it() {
    let emu = start().await;
    for family in KeyFamily::ALL {
        // An answer to replay later: from before the revocation.
        assert_eq!(emu.status(DIRECTOR, family).await, CertStatus::Good);
        emu.post_json("emulator/revoke", json!({"identity": "director"}))
            .await;

        emu.fault("down").await;
        let (code, answer) = emu.ocsp(DIRECTOR, family).await;
        assert_eq!(code, 503);
        assert!(matches!(answer, Err(OcspError::Malformed(_))));
        let expect = |fault: &'static str, code: &'static str| (fault, code);
        for (fault, code) in [
            expect("garbage", "ocsp_malformed"),
            expect("unauthorized-signer", "ocsp_unauthorized_responder"),
            expect("stale", "ocsp_stale"),
            expect("replay", "ocsp_nonce_mismatch"),
        ] {
            emu.fault(fault).await;
            let (status, answer) = emu.ocsp(DIRECTOR, family).await;
            assert_eq!(status, 200, "{fault}");
            assert_eq!(answer.unwrap_err().code(), code, "{family:?} {fault}");
        }
        emu.fault("unknown").await;
        assert_eq!(emu.status(DIRECTOR, family).await, CertStatus::Unknown);
        emu.fault("slow").await;
        let started = Instant::now();
        assert!(matches!(
            emu.status(DIRECTOR, family).await,
            CertStatus::Revoked { .. }
        ));
        assert!(started.elapsed() >= std::time::Duration::from_millis(300));
        emu.fault("none").await;
        emu.post_json("emulator/unrevoke", json!({})).await;
    }
    // A request that is not one gets malformedRequest.
    let r = emu
        .http
        .post(emu.base.join("ocsp/ecdsa").unwrap())
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        [0x30, 0x03, 0x0a, 0x01, 0x01]
    );
    let r = emu
        .http
        .get(emu.base.join("crl/rsa.crl").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn keys_naming_an_earlier_base_url_are_reissued() {
    let first = start().await;
    let dir = first.dir.clone();
    let before = first.cert(PERSON, KeyFamily::Dstu).to_vec();
    let ca_before = first.keys.ca(KeyFamily::Dstu).cert_der().to_vec();
    // Keep the directory: the second run starts on it (another port, so another base URL).
    let first = std::mem::ManuallyDrop::new(first);
    let second = start_in(dir).await;
    let after = second.cert(PERSON, KeyFamily::Dstu);
    assert_ne!(after, before.as_slice());
    assert_eq!(
        second.keys.ca(KeyFamily::Dstu).cert_der(),
        ca_before.as_slice()
    );
    let sources = revocation_sources(after).unwrap();
    assert_eq!(sources.ocsp, [format!("{}ocsp/dstu", second.base)]);
    assert_eq!(
        second.status(PERSON, KeyFamily::Dstu).await,
        CertStatus::Good
    );
    drop(std::mem::ManuallyDrop::into_inner(first));
}
