//! Document signing: the cabinet asks, the person confirms on the phone (the emulator, or a
//! callback the test signs with its own trusted CA), kepgate verifies every signature and the
//! cabinet fetches the result. Each refusal has its own reason and its own words; duplicates
//! change nothing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kepgate_signature::dstu4145::DstuCurve;
use kepgate_signature::identity::{Edrpou, Rnokpp};
use kepgate_signature::test_ca::{KeyKind, TestCa, TestIdentitySpec, TestSigner};
use serde_json::{Value, json};
use sha2::Digest;
use time::Duration;

use crate::browser::Browser;
use crate::diia_stack::{DiiaStack, encode_data, now, spawn_diia_stack};
use crate::sign_in::{PERSON, complete_api, sign_in, start_api};

pub(crate) const REPORT: &[u8] = "Звіт за грудень 2026\nДохід: 100 000,00 грн\n".as_bytes();

fn spec(name: &str, rnokpp: &str) -> TestIdentitySpec {
    TestIdentitySpec {
        full_name: name.to_owned(),
        surname: name.split(' ').next().unwrap_or_default().to_owned(),
        given_name: name
            .split_once(' ')
            .map(|(_, g)| g)
            .unwrap_or_default()
            .to_owned(),
        rnokpp: Rnokpp::parse(rnokpp).unwrap(),
        edrpou: None::<Edrpou>,
        organization: None,
        title: None,
    }
}

/// A key of the stack's own trusted CA for `spec` (DSTU 4145, Diia's default).
pub(crate) fn key_of(ca: &TestCa, spec: &TestIdentitySpec) -> TestSigner {
    ca.issue_with(
        spec,
        now() - Duration::days(1),
        now() + Duration::days(30),
        KeyKind::Dstu4145(DstuCurve::M431),
    )
    .unwrap()
}

pub(crate) fn franko() -> TestIdentitySpec {
    spec("Франко Іван Якович", "3184710691")
}

pub(crate) fn ukrainka() -> TestIdentitySpec {
    spec("Косач Лариса Петрівна", "2245134473")
}

/// A browser signed in as whoever `signer` certifies: a login whose callback the test signs.
pub(crate) async fn signed_in_as(stack: &DiiaStack, signer: &TestSigner) -> Browser {
    let mut browser = Browser::new(&stack.app);
    let started = start_api(&mut browser).await;
    let id = kepgate::login::pending::PendingLoginId::parse(&started.id).unwrap();
    let hash = stack.pending(id).await.request_hash;
    let p7s = signer.sign_hash_cades(&hash.digest(), now()).unwrap();
    let response = stack
        .post_callback(hash.as_str(), encode_data(hash.as_str(), Some(&p7s), None))
        .await;
    assert_eq!(response.status(), 200, "login callback");
    assert_eq!(complete_api(&mut browser, &started).await.status(), 200);
    browser
}

/// `POST /api/signing` from the browser; the answer's status and JSON.
pub(crate) async fn ask(browser: &mut Browser, body: Value) -> (u16, Value) {
    let url = browser.own("/api/signing");
    let response = browser.post_json(&url, body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn report_body() -> Value {
    json!({
        "files": [{"name": "zvit-2026-12.txt", "content": STANDARD.encode(REPORT)}],
        "return_to": "/report/signed",
    })
}

/// A started signing request: its id and the request id sent to the provider.
pub(crate) struct Asked {
    pub(crate) id: String,
    pub(crate) request_id: String,
    pub(crate) hash: Vec<u8>,
}

pub(crate) async fn ask_report(stack: &DiiaStack, browser: &mut Browser) -> Asked {
    let (status, answer) = ask(browser, report_body()).await;
    assert_eq!(status, 201, "{answer}");
    let id = answer["id"].as_str().unwrap().to_owned();
    let (request_id, hash): (String, Vec<u8>) = sqlx::query_as(
        "SELECT r.request_id, f.hash FROM signing_requests r JOIN signing_files f ON f.signing_id = r.id WHERE r.id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&stack.app.db)
    .await
    .unwrap();
    assert_eq!(STANDARD.encode(&hash), answer["files"][0]["hash"]);
    Asked {
        id,
        request_id,
        hash,
    }
}

/// Diia's signing callback, as it sends it, straight to the gateway.
pub(crate) async fn signing_callback(
    stack: &DiiaStack,
    request_id: &str,
    data: Value,
) -> (u16, Value) {
    let form =
        reqwest::multipart::Form::new().text("encodeData", STANDARD.encode(data.to_string()));
    let response = stack
        .http
        .post(&stack.callback_url)
        .header("X-Diia-Id-Action", "hashedFilesSigning")
        .header("X-Document-Request-Trace-Id", request_id)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) fn signed_items(name: &str, p7s: &[u8]) -> Value {
    json!({"signedItems": [{"name": name, "signature": STANDARD.encode(p7s)}]})
}

pub(crate) async fn result_of(browser: &mut Browser, id: &str) -> Value {
    let response = browser
        .get(&browser.own(&format!("/api/signing/{id}")))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The request was refused with `reason`, and the person reads `words` about it.
async fn refused_with(browser: &mut Browser, asked: &Asked, reason: &str, words: &str) {
    let result = result_of(browser, &asked.id).await;
    assert_eq!(result["state"], "failed", "{result}");
    assert_eq!(result["reason"], reason, "{result}");
    let text = result["reason_text"].as_str().unwrap();
    assert!(text.contains(words), "{text:?} should say {words:?}");
    assert!(result.get("result").is_none(), "no signed result: {result}");
    assert!(result["files"][0]["signature"].is_null(), "{result}");
}

#[tokio::test]
async fn a_report_signed_by_the_signed_in_person_is_verified_and_fetched() {
    let stack = spawn_diia_stack().await;
    let key = key_of(&stack.own_ca, &franko());
    let mut browser = signed_in_as(&stack, &key).await;
    let asked = ask_report(&stack, &mut browser).await;

    let page = browser
        .get(&browser.own(&format!("/sign/{}", asked.id)))
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("zvit-2026-12.txt"), "the page names the file");
    assert!(html.contains(&format!("{} ", REPORT.len())), "and its size");

    let p7s = key.sign_hash_cades(&asked.hash, now()).unwrap();
    let (status, answer) = signing_callback(
        &stack,
        &asked.request_id,
        signed_items("zvit-2026-12.txt", &p7s),
    )
    .await;
    assert_eq!(
        (status, &answer["state"]),
        (200, &json!("signed")),
        "{answer}"
    );

    let result = result_of(&mut browser, &asked.id).await;
    assert_eq!(result["state"], "signed", "{result}");
    assert_eq!(result["signer"]["name"], "Франко Іван Якович");
    assert_eq!(result["signer"]["rnokpp"], "3184710691");
    assert_eq!(result["files"][0]["signature"], STANDARD.encode(&p7s));
    assert!(
        result["result"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );

    let download = browser
        .get(&browser.own(&format!("/api/signing/{}/files/0/signature.p7s", asked.id)))
        .await;
    assert_eq!(download.status(), 200);
    assert_eq!(
        download.headers()["content-type"],
        "application/pkcs7-signature"
    );
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename=\"zvit-2026-12.txt.p7s\"")
    );
    assert_eq!(download.bytes().await.unwrap().as_ref(), p7s.as_slice());

    // Back to the cabinet with the request's id.
    let page = browser
        .get(&browser.own(&format!("/sign/{}", asked.id)))
        .await;
    let csrf = crate::browser::csrf_of(&page.text().await.unwrap());
    let back = browser
        .post_form(
            &browser.own(&format!("/sign/{}/done", asked.id)),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(back.status(), 303);
    assert_eq!(
        back.headers()["location"],
        format!("/report/signed?signing={}", asked.id).as_str()
    );
}

#[tokio::test]
async fn a_signature_by_someone_else_is_refused_and_the_audit_names_them() {
    let stack = spawn_diia_stack().await;
    let mut browser = signed_in_as(&stack, &key_of(&stack.own_ca, &franko())).await;
    let asked = ask_report(&stack, &mut browser).await;
    let other = key_of(&stack.own_ca, &ukrainka());
    let p7s = other.sign_hash_cades(&asked.hash, now()).unwrap();
    let (status, answer) = signing_callback(
        &stack,
        &asked.request_id,
        signed_items("zvit-2026-12.txt", &p7s),
    )
    .await;
    assert_eq!((status, &answer["reason"]), (422, &json!("other_signer")));
    refused_with(&mut browser, &asked, "other_signer", "інша особа").await;
    let who: Value = sqlx::query_scalar("SELECT signer FROM signing_requests WHERE id = $1::uuid")
        .bind(&asked.id)
        .fetch_one(&stack.app.db)
        .await
        .unwrap();
    assert_eq!(
        who["full_name"], "Косач Лариса Петрівна",
        "the audit keeps who tried"
    );
}

#[tokio::test]
async fn a_signature_over_another_hash_is_refused() {
    let stack = spawn_diia_stack().await;
    let key = key_of(&stack.own_ca, &franko());
    let mut browser = signed_in_as(&stack, &key).await;
    let asked = ask_report(&stack, &mut browser).await;
    let p7s = key.sign_hash_cades(&[0x42; 32], now()).unwrap();
    let (status, _) = signing_callback(
        &stack,
        &asked.request_id,
        signed_items("zvit-2026-12.txt", &p7s),
    )
    .await;
    assert_eq!(status, 422);
    refused_with(
        &mut browser,
        &asked,
        "hash_mismatch",
        "не під тим документом",
    )
    .await;
}

#[tokio::test]
async fn a_signature_replayed_from_an_earlier_request_is_refused() {
    // The same report signed a while ago for an earlier request: the same hash, a valid
    // signature by the right person, but made before this request existed.
    let stack = spawn_diia_stack().await;
    let key = key_of(&stack.own_ca, &franko());
    let mut browser = signed_in_as(&stack, &key).await;
    let earlier = key
        .sign_hash_cades(
            &kepgate::provider::HashAlgorithm::Gost34311.digest(REPORT),
            now() - Duration::minutes(20),
        )
        .unwrap();
    let asked = ask_report(&stack, &mut browser).await;
    let (status, _) = signing_callback(
        &stack,
        &asked.request_id,
        signed_items("zvit-2026-12.txt", &earlier),
    )
    .await;
    assert_eq!(status, 422);
    refused_with(&mut browser, &asked, "signed_before_request", "повтор").await;
}

#[tokio::test]
async fn a_signature_by_a_revoked_key_is_refused() {
    // The same person's other key (a new certificate, the same РНОКПП), revoked by its CA.
    let stack = spawn_diia_stack().await;
    let mut browser = signed_in_as(&stack, &key_of(&stack.own_ca, &franko())).await;
    let asked = ask_report(&stack, &mut browser).await;
    let key = key_of(&stack.own_ca, &franko());
    let serial = key.certificate().tbs_certificate().serial_number();
    stack.own_ca_services.revoke(serial.as_bytes());
    let p7s = key.sign_hash_cades(&asked.hash, now()).unwrap();
    let (status, answer) = signing_callback(
        &stack,
        &asked.request_id,
        signed_items("zvit-2026-12.txt", &p7s),
    )
    .await;
    assert_eq!(
        (status, &answer["reason"]),
        (422, &json!("certificate_revoked"))
    );
    // The revoked key's sessions end too: the result is read from the database.
    let (state, reason): (String, String) =
        sqlx::query_as("SELECT state, reason FROM signing_requests WHERE id = $1::uuid")
            .bind(&asked.id)
            .fetch_one(&stack.app.db)
            .await
            .unwrap();
    assert_eq!(
        (state.as_str(), reason.as_str()),
        ("failed", "certificate_revoked")
    );
    assert!(
        kepgate::document_signing::refusal::reason_text(&reason, kepgate::language::Lang::Uk)
            .contains("відкликано")
    );
}

#[tokio::test]
async fn a_tampered_signature_is_refused() {
    let stack = spawn_diia_stack().await;
    let key = key_of(&stack.own_ca, &franko());
    let mut browser = signed_in_as(&stack, &key).await;
    let asked = ask_report(&stack, &mut browser).await;
    let mut p7s = key.sign_hash_cades(&asked.hash, now()).unwrap();
    // The signature value is the SignerInfo's last field: its last byte changed.
    *p7s.last_mut().unwrap() ^= 0x01;
    let (status, _) = signing_callback(
        &stack,
        &asked.request_id,
        signed_items("zvit-2026-12.txt", &p7s),
    )
    .await;
    assert_eq!(status, 422);
    refused_with(&mut browser, &asked, "bad_signature", "підроблений").await;
}

#[tokio::test]
async fn a_signature_after_the_request_expired_is_refused_and_the_page_says_so() {
    let stack = spawn_diia_stack().await;
    let key = key_of(&stack.own_ca, &franko());
    let mut browser = signed_in_as(&stack, &key).await;
    let asked = ask_report(&stack, &mut browser).await;
    sqlx::query(
        "UPDATE signing_requests SET expires_at = now() - interval '1 second' WHERE id = $1::uuid",
    )
    .bind(&asked.id)
    .execute(&stack.app.db)
    .await
    .unwrap();
    let p7s = key.sign_hash_cades(&asked.hash, now()).unwrap();
    let (status, answer) = signing_callback(
        &stack,
        &asked.request_id,
        signed_items("zvit-2026-12.txt", &p7s),
    )
    .await;
    assert_eq!((status, &answer["reason"]), (410, &json!("expired")));
    let result = result_of(&mut browser, &asked.id).await;
    assert_eq!(result["state"], "expired", "{result}");
    let page = browser
        .get(&browser.own(&format!("/sign/{}", asked.id)))
        .await;
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Час на підтвердження минув"),
        "the page says it expired"
    );
    assert!(
        html.contains("id=\"sign-again\""),
        "and offers a new attempt"
    );
}

#[tokio::test]
async fn a_decline_ends_the_request_and_a_new_attempt_asks_again() {
    let stack = spawn_diia_stack().await;
    let key = key_of(&stack.own_ca, &franko());
    let mut browser = signed_in_as(&stack, &key).await;
    let asked = ask_report(&stack, &mut browser).await;
    let (status, answer) = signing_callback(
        &stack,
        &asked.request_id,
        json!({"signedItems": [], "status": "declined"}),
    )
    .await;
    assert_eq!(
        (status, &answer["state"]),
        (200, &json!("declined")),
        "{answer}"
    );
    let result = result_of(&mut browser, &asked.id).await;
    assert_eq!(result["state"], "declined");
    assert!(
        result["reason_text"]
            .as_str()
            .unwrap()
            .contains("відхилено")
    );

    let page = browser
        .get(&browser.own(&format!("/sign/{}", asked.id)))
        .await;
    let csrf = crate::browser::csrf_of(&page.text().await.unwrap());
    let again = browser
        .post_form(
            &browser.own(&format!("/sign/{}/again", asked.id)),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status(), 303);
    let next = again.headers()["location"].to_str().unwrap().to_owned();
    assert_ne!(next, browser.own(&format!("/sign/{}", asked.id)));
    let page = browser.get(&next).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("zvit-2026-12.txt"));
}

#[tokio::test]
async fn a_signature_for_a_session_that_ended_meanwhile_is_refused() {
    let stack = spawn_diia_stack().await;
    let key = key_of(&stack.own_ca, &franko());
    let mut browser = signed_in_as(&stack, &key).await;
    let asked = ask_report(&stack, &mut browser).await;
    sqlx::query("UPDATE sessions SET revoked_at = now()")
        .execute(&stack.app.db)
        .await
        .unwrap();
    let p7s = key.sign_hash_cades(&asked.hash, now()).unwrap();
    let (status, answer) = signing_callback(
        &stack,
        &asked.request_id,
        signed_items("zvit-2026-12.txt", &p7s),
    )
    .await;
    assert_eq!((status, &answer["reason"]), (422, &json!("session_ended")));
    let (state, reason): (String, String) =
        sqlx::query_as("SELECT state, reason FROM signing_requests WHERE id = $1::uuid")
            .bind(&asked.id)
            .fetch_one(&stack.app.db)
            .await
            .unwrap();
    assert_eq!(
        (state.as_str(), reason.as_str()),
        ("failed", "session_ended")
    );
}

#[tokio::test]
async fn the_same_callback_twice_at_once_or_again_later_changes_nothing() {
    let stack = spawn_diia_stack().await;
    let key = key_of(&stack.own_ca, &franko());
    let mut browser = signed_in_as(&stack, &key).await;
    let asked = ask_report(&stack, &mut browser).await;
    let p7s = key.sign_hash_cades(&asked.hash, now()).unwrap();
    let data = signed_items("zvit-2026-12.txt", &p7s);
    let (one, two) = tokio::join!(
        signing_callback(&stack, &asked.request_id, data.clone()),
        signing_callback(&stack, &asked.request_id, data.clone()),
    );
    assert_eq!((one.0, two.0), (200, 200), "{one:?} {two:?}");
    let signed_at: time::OffsetDateTime =
        sqlx::query_scalar("SELECT signed_at FROM signing_requests WHERE id = $1::uuid")
            .bind(&asked.id)
            .fetch_one(&stack.app.db)
            .await
            .unwrap();
    // Later, another signature by someone else for the same request: the first result stands.
    let other = key_of(&stack.own_ca, &ukrainka())
        .sign_hash_cades(&asked.hash, now())
        .unwrap();
    let (status, answer) = signing_callback(
        &stack,
        &asked.request_id,
        signed_items("zvit-2026-12.txt", &other),
    )
    .await;
    assert_eq!((status, &answer["state"]), (200, &json!("signed")));
    let result = result_of(&mut browser, &asked.id).await;
    assert_eq!(result["signer"]["name"], "Франко Іван Якович");
    assert_eq!(result["files"][0]["signature"], STANDARD.encode(&p7s));
    let again: time::OffsetDateTime =
        sqlx::query_scalar("SELECT signed_at FROM signing_requests WHERE id = $1::uuid")
            .bind(&asked.id)
            .fetch_one(&stack.app.db)
            .await
            .unwrap();
    assert_eq!(signed_at, again);
    // Two completions: each sends the browser back, nothing else happens.
    let page = browser
        .get(&browser.own(&format!("/sign/{}", asked.id)))
        .await;
    let csrf = crate::browser::csrf_of(&page.text().await.unwrap());
    for _ in 0..2 {
        let back = browser
            .post_form(
                &browser.own(&format!("/sign/{}/done", asked.id)),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(back.status(), 303);
    }
}

#[tokio::test]
async fn the_api_refuses_what_it_cannot_sign_with_clear_errors() {
    let stack = spawn_diia_stack().await;
    let mut anonymous = Browser::new(&stack.app);
    let (status, answer) = ask(&mut anonymous, report_body()).await;
    assert_eq!((status, &answer["error"]), (401, &json!("unauthenticated")));

    let mut browser = sign_in(&stack, PERSON).await;
    let file = |name: &str| json!({"name": name, "content": "AA=="});
    for (body, code) in [
        (json!({"files": []}), "bad_file_count"),
        (json!({"files": [file("../x")]}), "bad_file_name"),
        (json!({"files": [file("a\u{202e}b")]}), "bad_file_name"),
        (
            json!({"files": [file("a"), file("a")]}),
            "duplicate_file_name",
        ),
        (
            json!({"files": [{"name": "a", "hash": "AAAA"}]}),
            "bad_hash",
        ),
        (json!({"files": [{"name": "a"}]}), "bad_file"),
        (
            json!({"files": [file("a")], "algorithm": "rsa"}),
            "bad_algorithm",
        ),
        (
            json!({"files": [file("a")], "return_to": "https://evil.example/"}),
            "bad_return_to",
        ),
        (
            json!({"files": [file("a")], "provider": "nope"}),
            "unknown_provider",
        ),
    ] {
        let (status, answer) = ask(&mut browser, body.clone()).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some(code)),
            "{body}: {answer}"
        );
    }
    let too_many: Vec<Value> = (0..21).map(|n| file(&format!("f{n}"))).collect();
    let (status, answer) = ask(&mut browser, json!({"files": too_many})).await;
    assert_eq!((status, &answer["error"]), (400, &json!("bad_file_count")));

    // Another origin's page cannot start one with the person's cookie.
    let response = browser
        .http
        .post(browser.url(&browser.own("/api/signing")))
        .header("cookie", browser.cookie_header())
        .header("origin", "https://evil.example")
        .json(&report_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM signing_requests")
        .fetch_one(&stack.app.db)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing was asked of the provider");

    // Another person cannot read someone's request.
    let asked = ask_report(&stack, &mut browser).await;
    let mut other = sign_in(&stack, crate::sign_in::DIRECTOR).await;
    let response = other
        .get(&other.own(&format!("/api/signing/{}", asked.id)))
        .await;
    assert_eq!(response.status(), 404);
    let response = other.get(&other.own(&format!("/sign/{}", asked.id))).await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_cabinet_backend_starts_and_fetches_with_the_persons_assertion() {
    let stack = spawn_diia_stack().await;
    let key = key_of(&stack.own_ca, &franko());
    let mut browser = signed_in_as(&stack, &key).await;
    let assertion = assertion_for(&mut browser).await;
    let backend = &stack.http;
    let start = backend
        .post(stack.app.own("/api/signing"))
        .bearer_auth(&assertion)
        .json(&report_body())
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 201);
    let started: Value = start.json().await.unwrap();
    let id = started["id"].as_str().unwrap();
    let request_id: String =
        sqlx::query_scalar("SELECT request_id FROM signing_requests WHERE id = $1::uuid")
            .bind(id)
            .fetch_one(&stack.app.db)
            .await
            .unwrap();
    let hash = STANDARD
        .decode(started["files"][0]["hash"].as_str().unwrap())
        .unwrap();
    let p7s = key.sign_hash_cades(&hash, now()).unwrap();
    signing_callback(&stack, &request_id, signed_items("zvit-2026-12.txt", &p7s)).await;

    let fetched: Value = backend
        .get(stack.app.own(&format!("/api/signing/{id}")))
        .bearer_auth(&assertion)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["state"], "signed", "{fetched}");
    // The result's JWS checks out with the published key, for this person and this cabinet.
    let claims = verified_result(&stack, fetched["result"].as_str().unwrap()).await;
    let assertion_claims = unverified_claims(&assertion);
    assert_eq!(claims["sub"], assertion_claims["sub"]);
    assert_eq!(claims["aud"], assertion_claims["aud"]);
    assert_eq!(claims["signing_id"], id);
    assert_eq!(claims["files"][0]["hash"], started["files"][0]["hash"]);
    let digest = sha2::Sha256::digest(&p7s);
    assert_eq!(
        claims["files"][0]["signature_sha256"],
        STANDARD.encode(digest)
    );

    // A forged or stale bearer gets nothing.
    for bad in ["Bearer x.y.z", "Basic abc", "Bearer "] {
        let response = backend
            .get(stack.app.own(&format!("/api/signing/{id}")))
            .header("authorization", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{bad}");
    }
}

/// The assertion kepgate gives the cabinet for this browser's session: the forward-auth
/// answer's header.
async fn assertion_for(browser: &mut Browser) -> String {
    let url = browser.url(&browser.own("/auth"));
    let response = browser
        .http
        .get(url)
        .header("cookie", browser.cookie_header())
        .header("x-original-uri", "/")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "forward-auth");
    response.headers()["x-kepgate-assertion"]
        .to_str()
        .unwrap()
        .to_owned()
}

pub fn unverified_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

async fn verified_result(stack: &DiiaStack, token: &str) -> Value {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
    let jwks: JwkSet = stack
        .http
        .get(stack.app.own("/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("kepgate-signing+jwt"));
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

// ---- Through the emulator: the phone signs what the cabinet asked. ----

/// The provider's deeplink the signing page shows.
pub(crate) fn deeplink_on(html: &str) -> String {
    html.split("id=\"deeplink\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the signing page shows the deeplink")
        .replace("&#x2F;", "/")
}

/// Signs the report through the emulator's phone as the emulator's test person; the result.
async fn signed_through_emulator(
    stack: &DiiaStack,
    browser: &mut Browser,
    algorithm: &str,
) -> Value {
    let mut body = report_body();
    body["algorithm"] = json!(algorithm);
    let (status, started) = ask(browser, body).await;
    assert_eq!(status, 201, "{started}");
    let id = started["id"].as_str().unwrap();
    let page = browser.get(started["sign_url"].as_str().unwrap()).await;
    let html = page.text().await.unwrap();
    let deeplink = deeplink_on(&html);
    // The phone lists the file the cabinet asked for.
    let n = deeplink.rsplit('/').next().unwrap();
    let request: Value = stack
        .http
        .get(format!("{}/emulator/requests/{n}", stack.emulator))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(request["action"], "hashedFilesSigning", "{request}");
    assert_eq!(request["files"][0]["name"], "zvit-2026-12.txt");
    crate::sign_in::phone_confirms(stack, &deeplink, PERSON).await;
    result_of(browser, id).await
}

#[tokio::test]
async fn the_phone_signs_a_report_with_dstu_by_default_and_kepgate_verifies_it() {
    let stack = spawn_diia_stack().await;
    let mut browser = sign_in(&stack, PERSON).await;
    let result = signed_through_emulator(&stack, &mut browser, "dstu4145").await;
    assert_eq!(result["state"], "signed", "{result}");
    assert!(
        result["algorithm"].as_str().unwrap().contains("DSTU 4145"),
        "{result}"
    );
    assert_eq!(result["signer"]["name"], "Шевченко Тарас Григорович");
    // Kepgate's own verifier agrees with itself on the stored bytes: over the report's hash.
    let p7s = STANDARD
        .decode(result["files"][0]["signature"].as_str().unwrap())
        .unwrap();
    let hash = kepgate::provider::HashAlgorithm::Gost34311.digest(REPORT);
    assert_eq!(result["files"][0]["hash"], STANDARD.encode(hash));
    assert!(!p7s.is_empty());
}

#[tokio::test]
async fn an_ecdsa_signature_of_the_report_verifies_with_openssl() {
    let stack = spawn_diia_stack().await;
    let mut browser = sign_in(&stack, PERSON).await;
    let result = signed_through_emulator(&stack, &mut browser, "ecdsa").await;
    assert_eq!(result["state"], "signed", "{result}");
    assert!(result["algorithm"].as_str().unwrap().contains("ECDSA"));
    let p7s = STANDARD
        .decode(result["files"][0]["signature"].as_str().unwrap())
        .unwrap();
    let ca = stack
        .http
        .get(format!("{}/emulator/ca.pem", stack.emulator))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dir = crate::diia_stack::TempDir(
        std::env::temp_dir().join(format!("kepgate-p7s-{}", uuid::Uuid::new_v4().simple())),
    );
    std::fs::create_dir_all(&dir.0).unwrap();
    let (report, signature, ca_file) = (
        dir.0.join("zvit-2026-12.txt"),
        dir.0.join("zvit-2026-12.txt.p7s"),
        dir.0.join("ca.pem"),
    );
    std::fs::write(&report, REPORT).unwrap();
    std::fs::write(&signature, &p7s).unwrap();
    std::fs::write(&ca_file, ca).unwrap();
    let openssl = |content: &std::path::Path| {
        std::process::Command::new("openssl")
            .args([
                "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any",
            ])
            .arg("-in")
            .arg(&signature)
            .arg("-content")
            .arg(content)
            .arg("-CAfile")
            .arg(&ca_file)
            .args(["-out", "/dev/null"])
            .output()
            .unwrap()
    };
    let checked = openssl(&report);
    assert!(
        checked.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(String::from_utf8_lossy(&checked.stderr).contains("Verification successful"));
    // And it is the report that was signed: another file does not verify.
    let other = dir.0.join("other.txt");
    std::fs::write(&other, b"another report").unwrap();
    assert!(!openssl(&other).status.success());
}

// ---- An OpenID client outside the proxy, with the `sign` scope. ----

#[tokio::test]
async fn an_openid_client_with_the_sign_scope_has_its_user_sign_and_gets_the_result() {
    use crate::oidc::{AuthRequest, RP, RP_SECRET, code_for, spawn_op, tokens};
    let env = spawn_op(|_| {}).await;
    let stack = &env.stack;
    let mut request = AuthRequest::new(RP);
    request.scope = "openid sign";
    let (mut browser, code) = code_for(&env, PERSON, &request).await;
    let answer: Value = tokens(&browser, &request, &code, Some(RP_SECRET), false).await;
    assert_eq!(answer["scope"], "openid sign");
    let access = answer["access_token"].as_str().unwrap().to_owned();
    let id_token = crate::signing::unverified_claims(answer["id_token"].as_str().unwrap());

    let start = |return_to: &str| {
        let mut body = report_body();
        body["return_to"] = json!(return_to);
        stack
            .http
            .post(stack.app.own("/api/signing"))
            .bearer_auth(&access)
            .json(&body)
            .send()
    };
    // Back to the client's own origin, never anywhere else.
    let refused = start("https://evil.example/after").await.unwrap();
    assert_eq!(refused.status(), 400);
    let started = start("http://127.0.0.1:9/after-signing?doc=7")
        .await
        .unwrap();
    assert_eq!(started.status(), 201);
    let started: Value = started.json().await.unwrap();
    let id = started["id"].as_str().unwrap().to_owned();

    // The person's browser (the same session) opens the signing page; the phone signs.
    let page = browser.get(started["sign_url"].as_str().unwrap()).await;
    let html = page.text().await.unwrap();
    let deeplink = deeplink_on(&html);
    crate::sign_in::phone_confirms(stack, &deeplink, PERSON).await;
    let csrf = crate::browser::csrf_of(&html);
    let back = browser
        .post_form(
            &browser.own(&format!("/sign/{id}/done")),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        back.headers()["location"],
        format!("http://127.0.0.1:9/after-signing?doc=7&signing={id}").as_str()
    );

    let fetched: Value = stack
        .http
        .get(stack.app.own(&format!("/api/signing/{id}")))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["state"], "signed", "{fetched}");
    let claims = verified_result(stack, fetched["result"].as_str().unwrap()).await;
    assert_eq!(claims["aud"], RP);
    assert_eq!(claims["sub"], id_token["sub"], "the client's own subject");

    // A token without `sign` starts nothing.
    let mut request = AuthRequest::new(RP);
    request.scope = "openid";
    let (browser, code) = code_for(&env, PERSON, &request).await;
    let plain: Value = tokens(&browser, &request, &code, Some(RP_SECRET), false).await;
    let response = stack
        .http
        .post(stack.app.own("/api/signing"))
        .bearer_auth(plain["access_token"].as_str().unwrap())
        .json(&report_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_hostile_file_name_is_shown_as_text_on_the_signing_page_and_in_the_history() {
    let stack = spawn_diia_stack().await;
    let key = key_of(&stack.own_ca, &franko());
    let mut browser = signed_in_as(&stack, &key).await;
    let name = "<img src=x onerror=alert(1)>.txt";
    let (status, started) = ask(
        &mut browser,
        json!({"files": [{"name": name, "content": STANDARD.encode(REPORT)}]}),
    )
    .await;
    assert_eq!(status, 201, "{started}");
    let page = browser
        .get(started["sign_url"].as_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    let shown = page
        .find("img src")
        .map(|at| &page[at.saturating_sub(10)..at + 40]);
    assert!(
        !page.contains("<img src=x"),
        "the name is not markup: {shown:?}"
    );
    assert!(
        page.contains("&#60;img src=x onerror=alert(1)&#62;.txt"),
        "{shown:?}"
    );
    let me = browser.get(&browser.own("/me")).await.text().await.unwrap();
    assert!(
        me.contains("id=\"signings\""),
        "the history lists the signing"
    );
    assert!(!me.contains("<img src=x"));
    assert!(me.contains("&#60;img src=x onerror=alert(1)&#62;.txt"));
}
