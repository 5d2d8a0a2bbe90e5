//! The fuzz targets' inputs in the normal suite (`fuzz/`, `scripts/fuzz.sh`): every committed
//! seed and every input a fuzzer ever crashed on (`fuzz/regressions/<target>/`) runs through the
//! same entry points as the fuzz targets (`kepgate::fuzzing`) and must end cleanly.
//!
//! `KEPGATE_WRITE_FUZZ_SEEDS=1 cargo test --test api write_fuzz_seeds` regenerates the seeds from
//! real callbacks of the Diia emulator (and the CA and time they verify under); the OCSP and CRL
//! seeds and their fixed CAs come from the signature crate's test CA and OpenSSL
//! (`KEPGATE_WRITE_FUZZ_SEEDS=1 cargo test -p kepgate-signature --lib write_revocation_fuzz_seeds`).

use std::path::{Path, PathBuf};

use kepgate::fuzzing::{self, OcspFixture};
use kepgate::login::pending::Outcome;
use kepgate::signature::TrustList;
use kepgate::signature::ocsp::CertStatus;
use time::{Duration, OffsetDateTime};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The trust list and time the fuzz targets use (the national bundle aside: seeds do not need it).
fn fixture() -> (TrustList, OffsetDateTime) {
    assert!(
        std::env::var_os("KEPGATE_WRITE_FUZZ_SEEDS").is_none(),
        "writing seeds: run only write_fuzz_seeds_when_asked"
    );
    let seeds = fuzz_dir().join("seeds");
    let pem = std::fs::read(seeds.join("trust-ca.pem")).unwrap();
    let (trust, _) = TrustList::from_pem(&pem).unwrap();
    let now: i64 = std::fs::read_to_string(seeds.join("now.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (trust, OffsetDateTime::from_unix_timestamp(now).unwrap())
}

/// What the revocation targets check against, as `fuzz/fuzz_targets/revocation_fixture.rs`
/// loads it: the fixed CAs in selection order, their OCSP questions, the time and the skew.
struct Revocation {
    issuers: Vec<Vec<u8>>,
    ocsp: Vec<OcspFixture>,
    now: OffsetDateTime,
    skew: Duration,
}

fn revocation() -> Revocation {
    let dir = fuzz_dir().join("seeds/revocation");
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let nonce = read("nonce.txt");
    let (mut issuers, mut ocsp) = (Vec::new(), Vec::new());
    for ca in ["ecdsa", "dstu", "openssl"] {
        let issuer = read(&format!("{ca}-ca.der"));
        let (leaf, other) = (
            read(&format!("{ca}-leaf.der")),
            read(&format!("{ca}-other.der")),
        );
        ocsp.push(OcspFixture::new(&leaf, &other, &issuer, &nonce).unwrap());
        issuers.push(issuer);
    }
    let now: i64 = String::from_utf8(read("now.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    Revocation {
        issuers,
        ocsp,
        now: OffsetDateTime::from_unix_timestamp(now).unwrap(),
        skew: Duration::minutes(5),
    }
}

impl Revocation {
    fn issuers(&self) -> Vec<&[u8]> {
        self.issuers.iter().map(Vec::as_slice).collect()
    }
}

fn inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    files
}

// Plain #[test]s: the entry points run their own runtime, which must not nest in a test's.

#[test]
fn fuzz_seeds_of_the_callback_decoder_are_decided_deep_in_the_signature_code() {
    let (trust, now) = fixture();
    let seeds = inputs(&fuzz_dir().join("seeds/callback_decoder"));
    assert!(seeds.len() >= 3, "seeds present");
    let mut confirmed = 0;
    for (name, bytes) in &seeds {
        match fuzzing::callback_decoder(bytes, &trust, now) {
            Some(Outcome::Confirmed(identity)) => {
                assert!(identity.rnokpp.is_some(), "{name}");
                confirmed += 1;
            }
            Some(Outcome::Rejected { .. }) => assert!(name.starts_with("declined"), "{name}"),
            other => panic!("{name}: the seed does not get through: {other:?}"),
        }
    }
    // Otherwise the fuzzer would start at the parser's door instead of in chain building.
    assert!(confirmed >= 2, "signed seeds verify under the fixed CA");
}

#[test]
fn fuzz_seeds_of_the_cms_layer_verify() {
    let (trust, now) = fixture();
    let seeds = inputs(&fuzz_dir().join("seeds/cms_verify"));
    assert!(seeds.len() >= 2, "seeds present");
    for (name, bytes) in &seeds {
        assert!(fuzzing::cms_verify(bytes, &trust, now), "{name} verifies");
        // One flipped byte of the hash: the same signature is refused.
        let mut other = bytes.clone();
        other[0] ^= 1;
        assert!(!fuzzing::cms_verify(&other, &trust, now), "{name}");
    }
}

#[test]
fn fuzz_seeds_of_the_dstu_target_verify() {
    let seeds = inputs(&fuzz_dir().join("seeds/dstu_key_signature"));
    assert!(seeds.len() >= 3, "seeds present");
    for (name, bytes) in &seeds {
        assert!(fuzzing::dstu_key_signature(bytes), "{name} verifies");
        // One flipped octet of the digest (the last part): the same signature is refused.
        let mut other = bytes.clone();
        *other.last_mut().unwrap() ^= 0x10;
        assert!(!fuzzing::dstu_key_signature(&other), "{name}");
    }
}

#[test]
fn fuzz_seeds_of_the_ocsp_target_pass_the_whole_check() {
    let r = revocation();
    let seeds = inputs(&fuzz_dir().join("seeds/ocsp_response"));
    assert!(seeds.len() >= 12, "seeds present");
    for (name, bytes) in &seeds {
        let answer = fuzzing::ocsp_response(bytes, &r.ocsp, r.now, r.skew)
            .unwrap_or_else(|e| panic!("{name}: the seed does not get through: {e}"));
        let want = name.rsplit('-').next().unwrap();
        let status = match answer.status {
            CertStatus::Good => "good",
            CertStatus::Revoked { .. } => "revoked",
            CertStatus::Unknown => "unknown",
        };
        assert!(
            want == status || (name.contains("delegated") && status == "good"),
            "{name}: {answer:?}"
        );
        // Read as an answer about another CA's certificate, the same bytes are refused.
        let mut other = bytes.clone();
        other[0] = other[0].wrapping_add(1);
        assert!(
            fuzzing::ocsp_response(&other, &r.ocsp, r.now, r.skew).is_err(),
            "{name}"
        );
    }
}

#[test]
fn fuzz_seeds_of_the_crl_target_pass_the_whole_check() {
    let r = revocation();
    let seeds = inputs(&fuzz_dir().join("seeds/crl"));
    assert!(seeds.len() >= 8, "seeds present");
    for (name, bytes) in &seeds {
        let crl = fuzzing::crl(bytes, &r.issuers(), r.now, r.skew)
            .unwrap_or_else(|e| panic!("{name}: the seed does not get through: {e}"));
        assert_eq!(crl.delta_base.is_some(), name.ends_with("delta"), "{name}");
        assert_eq!(crl.revoked.is_empty(), name.ends_with("empty"), "{name}");
        // One with an IssuingDistributionPoint, so that mutations start inside its parser.
        assert_eq!(
            !crl.scope.as_der().is_empty(),
            name.ends_with("idp"),
            "{name}"
        );
        // One flipped bit at the end of the signature: refused.
        let mut other = bytes.clone();
        *other.last_mut().unwrap() ^= 0x01;
        assert!(
            fuzzing::crl(&other, &r.issuers(), r.now, r.skew).is_err(),
            "{name}"
        );
    }
}

#[test]
fn inputs_that_crashed_a_fuzz_target_end_cleanly() {
    let (trust, now) = fixture();
    let dir = fuzz_dir().join("regressions");
    for (name, bytes) in inputs(&dir.join("callback_decoder")) {
        let outcome = fuzzing::callback_decoder(&bytes, &trust, now);
        assert!(
            !matches!(outcome, Some(Outcome::Confirmed(_))),
            "{name} confirms a login"
        );
    }
    for (name, bytes) in inputs(&dir.join("cms_verify")) {
        assert!(!fuzzing::cms_verify(&bytes, &trust, now), "{name} verifies");
    }
    for (_, bytes) in inputs(&dir.join("return_path")) {
        // The properties are asserted inside; a path that parses must be one of ours.
        let _ = fuzzing::return_path(&bytes);
    }
    for (name, bytes) in inputs(&fuzz_dir().join("seeds/return_path")) {
        assert!(fuzzing::return_path(&bytes).is_some(), "{name}");
    }
    for (_, bytes) in inputs(&dir.join("canonical_path")) {
        let _ = fuzzing::canonical_path(&bytes);
    }
    for (_, bytes) in inputs(&dir.join("oidc_authorize_request")) {
        let _ = fuzzing::oidc_authorize_request(&bytes);
    }
    // Three seeds are requests a client would send and are accepted; the rest are refused.
    let seeds = inputs(&fuzz_dir().join("seeds/oidc_authorize_request"));
    let parsed: Vec<Option<bool>> = seeds
        .iter()
        .map(|(_, bytes)| fuzzing::oidc_authorize_request(bytes))
        .collect();
    assert_eq!(
        parsed.iter().filter(|p| **p == Some(true)).count(),
        3,
        "{parsed:?}"
    );
    for (name, bytes) in inputs(&dir.join("dstu_key_signature")) {
        assert!(!fuzzing::dstu_key_signature(&bytes), "{name} verifies");
    }
    // The properties are asserted inside.
    let r = revocation();
    for (_, bytes) in inputs(&dir.join("ocsp_response")) {
        let _ = fuzzing::ocsp_response(&bytes, &r.ocsp, r.now, r.skew);
    }
    for (_, bytes) in inputs(&dir.join("crl")) {
        let _ = fuzzing::crl(&bytes, &r.issuers(), r.now, r.skew);
    }
    // The seeds are paths of the gate-bypass tests: each accepted one passes every property.
    let seeds = inputs(&fuzz_dir().join("seeds/canonical_path"));
    assert!(seeds.len() >= 20);
    for (_, bytes) in seeds {
        let _ = fuzzing::canonical_path(&bytes);
    }
}

#[tokio::test]
async fn write_fuzz_seeds_when_asked() {
    if std::env::var_os("KEPGATE_WRITE_FUZZ_SEEDS").is_none() {
        return;
    }
    seeds::write(&fuzz_dir().join("seeds")).await;
}

mod seeds {
    use std::path::Path;

    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::HeaderMap;
    use axum::routing::post;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use kepgate::provider::diia::DiiaProvider;
    use kepgate::provider::{HashAlgorithm, RequestHash};
    use kepgate_emulator::{Emulator, EmulatorSettings};
    use tokio::net::TcpListener;
    use tokio::sync::mpsc;

    use crate::diia_stack::diia_settings;

    type Captured = (String, String, Bytes);

    /// Stands in for kepgate's callback route: keeps the emulator's bytes as they came.
    async fn capture(
        State(tx): State<mpsc::UnboundedSender<Captured>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> &'static str {
        let h = |n: &str| headers[n].to_str().unwrap().to_owned();
        tx.send((h("content-type"), h("x-document-request-trace-id"), body))
            .unwrap();
        r#"{"success":true}"#
    }

    pub async fn write(dir: &Path) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sink = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink_url = format!("http://{}/callback", sink.local_addr().unwrap());
        tokio::spawn(async move {
            let app = axum::Router::new()
                .route("/callback", post(capture))
                .with_state(tx);
            axum::serve(sink, app).await.unwrap();
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let emulator = Emulator::build_on(
            EmulatorSettings::new(
                addr,
                format!("{base}/").parse().unwrap(),
                sink_url.parse().unwrap(),
            ),
            listener,
        )
        .await
        .unwrap();
        let now = time::OffsetDateTime::now_utc();
        std::fs::write(dir.join("trust-ca.pem"), emulator.ca_pem()).unwrap();
        // A minute after signing: every seed verifies at this fixed time, for years.
        std::fs::write(
            dir.join("now.txt"),
            format!("{}\n", (now + time::Duration::minutes(1)).unix_timestamp()),
        )
        .unwrap();
        tokio::spawn(emulator.run(std::future::pending()));

        let mut diia = diia_settings(&base, "unused");
        let provider = DiiaProvider::new("diia", &diia).unwrap();
        let (branch, offer) = provider.setup().await.unwrap();
        diia.branch_id = Some(branch);
        diia.offer_id = Some(offer);
        let provider = DiiaProvider::new("diia", &diia).unwrap();
        let http = reqwest::Client::new();
        for target in ["callback_decoder", "cms_verify"] {
            std::fs::create_dir_all(dir.join(target)).unwrap();
        }
        for (seed, action, identity) in [
            ("signed-person", "confirm", "person"),
            ("signed-director", "confirm", "director"),
            ("declined", "decline", "person"),
        ] {
            let (hash, _) = RequestHash::generate(HashAlgorithm::Sha256).unwrap();
            let started = provider.start(&hash, None).await.unwrap();
            let n = started
                .link
                .unwrap()
                .path_segments()
                .unwrap()
                .next_back()
                .unwrap()
                .to_owned();
            let answer = http
                .post(format!("{base}/emulator/requests/{n}/{action}"))
                .json(&serde_json::json!({ "identity": identity }))
                .send()
                .await
                .unwrap();
            assert!(answer.status().is_success());
            let (content_type, trace_id, body) = rx.recv().await.unwrap();
            let mut framed = format!("{content_type}\n{trace_id}\n").into_bytes();
            framed.extend_from_slice(&body);
            std::fs::write(dir.join("callback_decoder").join(seed), framed).unwrap();
            if action == "confirm" {
                let mut cms = hash.digest();
                cms.extend(p7s_of(&body));
                std::fs::write(dir.join("cms_verify").join(seed), cms).unwrap();
            }
        }
    }

    /// The signature inside a captured body (multipart → base64 → JSON → base64).
    fn p7s_of(body: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(body);
        let encoded = text
            .split("\r\n")
            .find(|line| line.len() > 100)
            .expect("the encodeData value");
        let json: serde_json::Value =
            serde_json::from_slice(&STANDARD.decode(encoded).unwrap()).unwrap();
        STANDARD
            .decode(json["signature"].as_str().unwrap())
            .unwrap()
    }
}
