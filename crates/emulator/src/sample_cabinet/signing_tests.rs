//! The cabinet's checks of a signing result, without a gateway: results signed with a test key.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey;
use serde_json::{Value, json};
use sha2::Digest;

use super::*;

pub(super) const ISS: &str = "https://gateway.example/";
pub(super) const SUB: &str = "rnokpp:3012345670";
pub(super) const ID: &str = "6f1c2a54-1d7e-4b8e-9d0a-3c2b1a0f9e8d";

pub(super) struct TestKey {
    pub(super) encoding: EncodingKey,
    pub(super) decoding: DecodingKey,
    /// As the gateway's JWKS lists it (kid `k1`).
    pub(super) jwk: Value,
}

pub(super) fn test_key() -> TestKey {
    let secret = <p256::SecretKey as p256::elliptic_curve::Generate>::try_generate().unwrap();
    let point = secret.public_key().to_sec1_bytes();
    let (x, y) = (
        URL_SAFE_NO_PAD.encode(&point[1..33]),
        URL_SAFE_NO_PAD.encode(&point[33..65]),
    );
    TestKey {
        encoding: EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes()),
        decoding: DecodingKey::from_ec_components(&x, &y).unwrap(),
        jwk: json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "k1",
                    "x": x, "y": y}),
    }
}

pub(super) fn assertion() -> AssertionClaims {
    AssertionClaims {
        iss: ISS.to_owned(),
        aud: "cabinet".to_owned(),
        iat: 0,
        exp: 0,
        sub: SUB.to_owned(),
        name: "Шевченко Тарас Григорович".to_owned(),
        rnokpp: Some("3012345670".to_owned()),
        edrpou: None,
        organization: None,
        provider: "diia".to_owned(),
        provider_name: None,
        cert_serial: "01ab".to_owned(),
        cert_issuer: "Тестовий КНЕДП".to_owned(),
        sid: "s1".to_owned(),
        auth_method: None,
    }
}

pub(super) fn now() -> i64 {
    #[allow(clippy::disallowed_methods)] // a test's expiry is relative to the real clock
    OffsetDateTime::now_utc().unix_timestamp()
}

pub(super) const P7S: &[u8] = b"0\x82 pretend DER CMS";
pub(super) const HASH: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";

fn started() -> StartedSigning {
    StartedSigning {
        sub: SUB.to_owned(),
        files: vec![FileDigest {
            name: "zvit-2026-12.txt".to_owned(),
            size: 120,
            hash: HASH.to_owned(),
        }],
    }
}

pub(super) fn claims() -> Value {
    json!({
        "iss": ISS, "aud": "cabinet", "iat": now(), "exp": now() + 300, "sub": SUB, "sid": "s1",
        "signing_id": ID, "signed_at": now(), "algorithm": "DSTU 4145-2002",
        "signer": {"name": "Шевченко Тарас Григорович", "rnokpp": "3012345670", "edrpou": null,
                   "organization": null, "cert_serial": "01ab", "cert_issuer": "Тестовий КНЕДП"},
        "files": [{"name": "zvit-2026-12.txt", "size": 120, "hash": HASH,
                   "signature_sha256": BASE64.encode(sha2::Sha256::digest(P7S))}],
    })
}

fn status(result: String) -> SigningStatus {
    SigningStatus {
        id: ID.to_owned(),
        state: "signed".to_owned(),
        reason: None,
        reason_text: None,
        files: vec![ResultFile {
            name: "zvit-2026-12.txt".to_owned(),
            size: 120,
            hash: HASH.to_owned(),
            signature: Some(BASE64.encode(P7S)),
        }],
        result: Some(result),
    }
}

pub(super) fn sign(key: &TestKey, typ: &str, claims: &Value) -> String {
    let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
    header.typ = Some(typ.to_owned());
    header.kid = Some("k1".to_owned());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

fn check(key: &TestKey, status: &SigningStatus, started: Option<&StartedSigning>) -> String {
    match check_result(status, started, &assertion(), &key.decoding) {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn a_result_that_binds_this_person_report_and_signature_passes() {
    let key = test_key();
    let s = status(sign(&key, SIGNING_RESULT_TYP, &claims()));
    let checked = check_result(&s, Some(&started()), &assertion(), &key.decoding).unwrap();
    assert_eq!(checked.signatures, vec![P7S.to_vec()]);
    assert_eq!(checked.claims.signer.name, "Шевченко Тарас Григорович");
}

#[test]
fn a_result_about_another_person_is_refused() {
    let key = test_key();
    let mut c = claims();
    c["sub"] = json!("rnokpp:2654321099");
    let s = status(sign(&key, SIGNING_RESULT_TYP, &c));
    assert!(check(&key, &s, Some(&started())).contains("another person"));
    // Nor one another person started.
    let s = status(sign(&key, SIGNING_RESULT_TYP, &claims()));
    let mut theirs = started();
    theirs.sub = "rnokpp:2654321099".to_owned();
    assert!(check(&key, &s, Some(&theirs)).contains("another person"));
}

#[test]
fn a_result_with_another_hash_is_refused() {
    let key = test_key();
    let mut c = claims();
    c["files"][0]["hash"] = json!(BASE64.encode([0u8; 32]));
    let s = status(sign(&key, SIGNING_RESULT_TYP, &c));
    assert!(check(&key, &s, Some(&started())).contains("hash"));
    // The JSON's hash must match too, even when the JWS's does.
    let mut s = status(sign(&key, SIGNING_RESULT_TYP, &claims()));
    s.files[0].hash = BASE64.encode([0u8; 32]);
    assert!(check(&key, &s, Some(&started())).contains("hash"));
}

#[test]
fn a_signature_the_result_does_not_bind_is_refused() {
    let key = test_key();
    let mut c = claims();
    c["files"][0]["signature_sha256"] = json!(BASE64.encode(sha2::Sha256::digest(b"other")));
    let s = status(sign(&key, SIGNING_RESULT_TYP, &c));
    assert!(check(&key, &s, Some(&started())).contains("not the one the result binds"));
    let mut s = status(sign(&key, SIGNING_RESULT_TYP, &claims()));
    s.files[0].signature = Some(BASE64.encode(b"swapped"));
    assert!(check(&key, &s, Some(&started())).contains("not the one the result binds"));
}

#[test]
fn a_result_of_the_wrong_type_key_audience_issuer_or_age_is_refused() {
    let key = test_key();
    let ok = started();
    let s = status(sign(&key, "kepgate-assertion+jwt", &claims()));
    assert!(check(&key, &s, Some(&ok)).contains("typ"));
    let s = status(sign(&test_key(), SIGNING_RESULT_TYP, &claims()));
    assert!(check(&key, &s, Some(&ok)).contains("does not verify"));
    for (claim, value) in [
        ("aud", json!("other-route")),
        ("iss", json!("https://evil.example/")),
        ("exp", json!(now() - 3600)),
        ("signing_id", json!("00000000-0000-0000-0000-000000000000")),
    ] {
        let mut c = claims();
        c[claim] = value;
        let s = status(sign(&key, SIGNING_RESULT_TYP, &c));
        assert_ne!(check(&key, &s, Some(&ok)), "ok", "{claim}");
    }
    let mut s = status(sign(&key, SIGNING_RESULT_TYP, &claims()));
    s.result = None;
    assert!(check(&key, &s, Some(&ok)).contains("no signed result"));
}

#[test]
fn a_result_the_cabinet_did_not_start_is_refused() {
    let key = test_key();
    let s = status(sign(&key, SIGNING_RESULT_TYP, &claims()));
    assert!(check(&key, &s, None).contains("did not start"));
}

#[test]
fn started_signings_are_remembered_up_to_a_bound() {
    let mut started_list = Started::default();
    for i in 0..=MAX_REMEMBERED {
        started_list.remember(format!("id-{i}"), started());
    }
    assert!(started_list.get("id-0").is_none());
    assert!(started_list.get(&format!("id-{MAX_REMEMBERED}")).is_some());
}

fn args(gateway_url: Option<&str>, jwks_url: Option<&str>) -> CabinetArgs {
    CabinetArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        jwks_url: jwks_url.map(|u| u.parse().unwrap()),
        audience: "cabinet".to_owned(),
        issuer: None,
        ca_file: None,
        gateway_url: gateway_url.map(|u| u.parse().unwrap()),
    }
}

#[test]
fn the_signing_api_is_at_the_gateway_url_or_beside_the_jwks() {
    let api = |a: CabinetArgs| signing_api(&a).map(String::from).ok();
    assert_eq!(
        api(args(Some("http://127.0.0.1:8080"), None)).as_deref(),
        Some("http://127.0.0.1:8080/.kepgate/api/signing")
    );
    assert_eq!(
        api(args(
            Some("https://gw.example/"),
            Some("https://x/.kepgate/jwks.json")
        ))
        .as_deref(),
        Some("https://gw.example/.kepgate/api/signing")
    );
    assert_eq!(
        api(args(None, Some("https://gw.example/auth/jwks.json"))).as_deref(),
        Some("https://gw.example/auth/api/signing")
    );
    assert_eq!(api(args(None, None)), None);
}

#[test]
fn ids_and_file_names_are_made_safe() {
    assert!(is_signing_id(ID));
    for bad in ["", "../x", "a/b", "id?x=1", &"a".repeat(65)] {
        assert!(!is_signing_id(bad), "{bad}");
    }
    assert_eq!(attachment_name("zvit-2026-12.txt"), "zvit-2026-12.txt.p7s");
    assert_eq!(attachment_name("звіт \"1\".txt"), "______1_.txt.p7s");
}

#[test]
fn the_report_names_the_person() {
    let text = report_text(&assertion());
    assert!(text.starts_with("Звіт за грудень 2026\n"));
    assert!(text.contains("Платник: Шевченко Тарас Григорович"));
    assert!(text.contains("РНОКПП: 3012345670"));
}

#[test]
fn the_pages_escape_what_they_show() {
    let page = SignedPage {
        heading: "Звіт не підписано".to_owned(),
        signed: None,
        verified: None,
        problem: Some("<script>x</script>".to_owned()),
        download: None,
    }
    .render()
    .unwrap();
    assert!(page.contains("&#60;script&#62;x&#60;/script&#62;"));
    let mut who = assertion();
    who.name = "<b>Тарас</b>".to_owned();
    let page = ReportPage {
        report: report_text(&who),
        name: who.name,
    }
    .render()
    .unwrap();
    assert!(!page.contains("<b>"));
    assert!(page.contains("Підписати звіт"));
}
