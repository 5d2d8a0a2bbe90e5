//! Diia.Signature: adapter ↔ emulator over real HTTP, the signed callback, and every refusal.

use kepgate::identity::{Edrpou, Rnokpp};
use kepgate::login::pending::{PendingLoginId, PendingState};
use kepgate::provider::ProviderStart;
use kepgate_signature::dstu4145::DstuCurve;
use kepgate_signature::test_ca::{KeyKind, TestIdentitySpec, TestSigner};
use time::Duration;

use kepgate::config::ProviderSettings;

use crate::browser::Browser;
use crate::diia_stack::{
    DiiaStack, encode_data, now, spawn_diia_stack, spawn_diia_stack_configured,
};
use crate::helpers::kepgate_bin;
use crate::sign_in::{wait_for_phone, waiting_page};

#[tokio::test]
async fn a_login_gets_a_deeplink_of_diias_shape() {
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    let link = started.link().cloned().unwrap();
    assert!(matches!(&started.next, ProviderStart::OnPhone(s) if s.show_qr));
    assert!(
        link.as_str().starts_with(&format!(
            "{}/acquirers/offer-request/dynamic/",
            stack.emulator
        )),
        "{link}"
    );
    let row = stack.pending(started.id).await;
    assert_eq!(row.state, PendingState::Pending);
    assert_eq!(row.deeplink.as_deref(), Some(link.as_str()));
    // The emulator got requestId = base64(SHA-256(id)) and signAlgo ECDSA: it accepted it.
    let n = DiiaStack::request_number(&started);
    let seen: serde_json::Value = stack
        .http
        .get(format!("{}/emulator/requests/{n}", stack.emulator))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["requestId"], row.request_hash.as_str());
}

#[tokio::test]
async fn the_phone_confirming_logs_in_a_private_person_with_their_rnokpp() {
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    let answer = stack.phone(&started, "confirm", "person").await;
    assert_eq!(answer["partnerStatus"], 200, "{answer}");

    let row = stack.pending(started.id).await;
    assert_eq!(
        row.state,
        PendingState::Confirmed,
        "{:?}",
        row.outcome_reason
    );
    let identity = row.identity.expect("identity stored");
    assert_eq!(identity.full_name, "Шевченко Тарас Григорович");
    assert!(identity.rnokpp.is_some());
    assert_eq!(identity.edrpou, None);
}

#[tokio::test]
async fn the_phone_confirming_with_a_company_key_gives_the_edrpou() {
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    stack.phone(&started, "confirm", "director").await;
    let identity = stack
        .pending(started.id)
        .await
        .identity
        .expect("identity stored");
    assert!(identity.edrpou.is_some(), "{identity:?}");
    assert!(identity.rnokpp.is_some());
    assert!(identity.organization.is_some());
}

#[tokio::test]
async fn the_phone_declining_rejects_the_login() {
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    stack.phone(&started, "decline", "person").await;
    let row = stack.pending(started.id).await;
    assert_eq!(row.state, PendingState::Rejected);
    assert!(row.identity.is_none());
}

#[tokio::test]
async fn an_expired_session_token_is_renewed_once_and_the_call_retried() {
    let stack = spawn_diia_stack().await;
    stack.start_login().await;
    let expired = stack
        .http
        .post(format!("{}/emulator/tokens/expire", stack.emulator))
        .send()
        .await
        .unwrap();
    assert!(expired.status().is_success());
    // The cached token is now refused with 401: the adapter must renew it and still succeed.
    let started = stack.start_login().await;
    assert!(started.link().is_some());
}

// multi_thread: the emulator must keep serving while this thread waits for the child process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diia_setup_command_prints_the_ids_to_configure() {
    let stack = spawn_diia_stack().await;
    let out = kepgate_bin()
        .args(["diia", "setup", "--provider", "diia"])
        .env("KEPGATE_PROVIDERS__DIIA__KIND", "diia")
        .env("KEPGATE_PROVIDERS__DIIA__DISPLAY_NAME", "Дія.Підпис")
        .env("KEPGATE_PROVIDERS__DIIA__API_BASE_URL", &stack.emulator)
        .env(
            "KEPGATE_PROVIDERS__DIIA__ACQUIRER_TOKEN",
            kepgate_emulator::DEFAULT_ACQUIRER_TOKEN,
        )
        .env("KEPGATE_PROVIDERS__DIIA__CALLBACK_SECRET", "s".repeat(40))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("branch_id = \""), "{stdout}");
    assert!(stdout.contains("offer_id = \""), "{stdout}");
}

#[tokio::test]
async fn a_provider_that_is_down_gives_a_clear_error_and_marks_the_login() {
    let (stack, _) = spawn_diia_stack_configured(false, |settings| {
        if let Some(ProviderSettings::Diia(d)) = settings.providers.get_mut("diia") {
            // Nothing listens on port 9 of loopback.
            d.api_base_url = "http://127.0.0.1:9/".parse().unwrap();
        }
    })
    .await;
    let mut browser = Browser::new(&stack.app);
    let start = browser.own("/api/login");
    let response = browser
        .post_json(&start, serde_json::json!({ "provider": "diia" }))
        .await;
    assert_eq!(response.status(), 502);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "provider_unavailable", "{body}");
    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM pending_logins WHERE state = 'failed' AND outcome_reason = 'provider_unavailable'")
        .fetch_one(&stack.app.db)
        .await
        .unwrap();
    assert_eq!(failed, 1);
}

// ---- Callbacks the gateway must refuse, each on its own. ----

fn person(
    ca: &kepgate_signature::test_ca::TestCa,
    not_before: time::OffsetDateTime,
    not_after: time::OffsetDateTime,
) -> TestSigner {
    person_with(
        ca,
        not_before,
        not_after,
        KeyKind::Dstu4145(DstuCurve::M431),
    )
}

fn person_with(
    ca: &kepgate_signature::test_ca::TestCa,
    not_before: time::OffsetDateTime,
    not_after: time::OffsetDateTime,
    kind: KeyKind,
) -> TestSigner {
    ca.issue_with(&franko(), not_before, not_after, kind)
        .unwrap()
}

fn franko() -> TestIdentitySpec {
    TestIdentitySpec {
        full_name: "Франко Іван Якович".to_owned(),
        surname: "Франко".to_owned(),
        given_name: "Іван Якович".to_owned(),
        rnokpp: Rnokpp::parse("3184710691").unwrap(),
        edrpou: None::<Edrpou>,
        organization: None,
        title: None,
    }
}

async fn callback_refused(
    stack: &DiiaStack,
    response: reqwest::Response,
    status: u16,
    reason: &str,
) {
    assert_eq!(response.status(), status);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["reason"], reason, "{body}");
    let confirmed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pending_logins WHERE state = 'confirmed'")
            .fetch_one(&stack.app.db)
            .await
            .unwrap();
    assert_eq!(confirmed, 0, "nobody got in");
}

#[tokio::test]
async fn a_signature_from_our_trusted_test_ca_is_accepted() {
    // The control case for the refusals below: same path, everything right.
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    let hash = stack.pending(started.id).await.request_hash;
    let signer = person(
        &stack.own_ca,
        now() - Duration::days(1),
        now() + Duration::days(30),
    );
    let p7s = signer.sign_hash_cades(&hash.digest(), now()).unwrap();
    let response = stack
        .post_callback(hash.as_str(), encode_data(hash.as_str(), Some(&p7s), None))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"success": true, "state": "confirmed"})
    );
    let identity = stack.pending(started.id).await.identity.unwrap();
    assert_eq!(identity.full_name, "Франко Іван Якович");
    assert_eq!(identity.rnokpp.unwrap().as_str(), "3184710691");
}

#[tokio::test]
async fn a_signature_whose_certificate_the_ca_revoked_is_refused() {
    // Everything as in the control case, but the CA's OCSP responder says the key is revoked.
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    let hash = stack.pending(started.id).await.request_hash;
    let signer = person(
        &stack.own_ca,
        now() - Duration::days(1),
        now() + Duration::days(30),
    );
    let serial = signer.certificate().tbs_certificate().serial_number();
    stack.own_ca_services.revoke(serial.as_bytes());
    let p7s = signer.sign_hash_cades(&hash.digest(), now()).unwrap();
    let response = stack
        .post_callback(hash.as_str(), encode_data(hash.as_str(), Some(&p7s), None))
        .await;
    callback_refused(&stack, response, 422, "certificate_revoked").await;
}

#[tokio::test]
async fn an_ecdsa_signature_when_diia_was_asked_for_its_default_dstu_is_refused() {
    // The right hash bytes in messageDigest, but the signer says it hashed with SHA-256 while
    // kepgate sent a GOST 34.311 hash (no signAlgo): not the signature asked for.
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    let hash = stack.pending(started.id).await.request_hash;
    // An ECDSA key certified by the trusted (DSTU) CA: everything else about it is right.
    let signer = person_with(
        &stack.own_ca,
        now() - Duration::days(1),
        now() + Duration::days(30),
        KeyKind::EcdsaP256,
    );
    let p7s = signer.sign_hash_cades(&hash.digest(), now()).unwrap();
    let response = stack
        .post_callback(hash.as_str(), encode_data(hash.as_str(), Some(&p7s), None))
        .await;
    callback_refused(&stack, response, 422, "wrong_digest_algorithm").await;
}

#[tokio::test]
async fn a_signature_over_a_different_hash_is_refused() {
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    let hash = stack.pending(started.id).await.request_hash;
    let signer = person(
        &stack.own_ca,
        now() - Duration::days(1),
        now() + Duration::days(30),
    );
    let p7s = signer.sign_hash_cades(&[0x42; 32], now()).unwrap();
    let response = stack
        .post_callback(hash.as_str(), encode_data(hash.as_str(), Some(&p7s), None))
        .await;
    callback_refused(&stack, response, 422, "hash_mismatch").await;
    assert_eq!(stack.pending(started.id).await.state, PendingState::Failed);
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_ca_is_refused() {
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    let hash = stack.pending(started.id).await.request_hash;
    let stranger = kepgate_signature::test_ca::TestCa::generate("Тестовий КНЕДП", now()).unwrap();
    let p7s = person(
        &stranger,
        now() - Duration::days(1),
        now() + Duration::days(30),
    )
    .sign_hash_cades(&hash.digest(), now())
    .unwrap();
    let response = stack
        .post_callback(hash.as_str(), encode_data(hash.as_str(), Some(&p7s), None))
        .await;
    callback_refused(&stack, response, 422, "untrusted_chain").await;
}

/// A certificate of the trusted CA whose subject holds what a broken or hostile CA could put
/// there: NUL (PostgreSQL cannot store it: the callback answered 503 "try again later", Diia
/// retried a failure that never goes away, and the login waited for its expiry), a terminal
/// escape, a line break that forges a row of `kepgate audit`, a bidi override.
#[tokio::test]
async fn a_certificate_name_that_is_not_text_fails_the_login_at_once_with_a_final_answer() {
    let stack = spawn_diia_stack().await;
    type Spoil = fn(&mut TestIdentitySpec);
    let cases: [(&str, Spoil); 5] = [
        ("NUL in the name", |s| {
            s.full_name = "Франко\0Іван Якович".to_owned()
        }),
        ("NUL in the organisation", |s| {
            s.organization = Some("ТОВ «Тестова компанія»\0".to_owned())
        }),
        ("a terminal escape in the name", |s| {
            s.full_name = "Франко\u{1b}]0;pwned\u{7}\u{1b}[2J Іван".to_owned()
        }),
        ("a forged line in the surname", |s| {
            s.surname = "Франко\r\n2026-01-01T00:00:00Z  completed  diia  Інша Особа".to_owned()
        }),
        ("a bidi override in the title", |s| {
            s.title = Some("\u{202E}ротиреД".to_owned())
        }),
    ];
    for (what, spoil) in cases {
        let mut browser = Browser::new(&stack.app);
        let waiting = wait_for_phone(&mut browser, "/cabinet").await;
        let id = PendingLoginId(waiting.id.parse().unwrap());
        let hash = stack.pending(id).await.request_hash;
        let mut spec = franko();
        spoil(&mut spec);
        let p7s = stack
            .own_ca
            .issue_with(
                &spec,
                now() - Duration::days(1),
                now() + Duration::days(30),
                KeyKind::Dstu4145(DstuCurve::M431),
            )
            .unwrap()
            .sign_hash_cades(&hash.digest(), now())
            .unwrap();
        let callback = encode_data(hash.as_str(), Some(&p7s), None);
        let response = stack.post_callback(hash.as_str(), callback.clone()).await;
        assert_eq!(
            response.status(),
            422,
            "{what}: a final answer, not a retry"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["reason"], "unusable_name", "{what}: {body}");
        let login = stack.pending(id).await;
        assert_eq!(login.state, PendingState::Failed, "{what}: ended at once");
        assert!(login.identity.is_none(), "{what}: nothing of it stored");
        let page = waiting_page(&mut browser, &waiting.id).await;
        assert!(
            page.contains("містять недопустимі символи"),
            "{what}: the person is told why: {page}"
        );
        // Were Diia to send it again, the first answer stands.
        let again = stack.post_callback(hash.as_str(), callback).await;
        assert_eq!(again.status(), 200, "{what}");
        assert_eq!(stack.pending(id).await.state, PendingState::Failed);
    }
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    let hash = stack.pending(started.id).await.request_hash;
    let p7s = person(
        &stack.own_ca,
        now() - Duration::days(400),
        now() - Duration::days(35),
    )
    .sign_hash_cades(&hash.digest(), now())
    .unwrap();
    let response = stack
        .post_callback(hash.as_str(), encode_data(hash.as_str(), Some(&p7s), None))
        .await;
    callback_refused(&stack, response, 422, "certificate_expired").await;
}

#[tokio::test]
async fn a_tampered_signature_is_refused() {
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    let hash = stack.pending(started.id).await.request_hash;
    let mut p7s = person(
        &stack.own_ca,
        now() - Duration::days(1),
        now() + Duration::days(30),
    )
    .sign_hash_cades(&hash.digest(), now())
    .unwrap();
    // The ECDSA signature value sits at the end of the SignerInfo: flip a bit in it.
    let last = p7s.len() - 3;
    p7s[last] ^= 0x01;
    let response = stack
        .post_callback(hash.as_str(), encode_data(hash.as_str(), Some(&p7s), None))
        .await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["reason"] == "bad_signature" || body["reason"] == "malformed_signature",
        "{body}"
    );
    assert_ne!(
        stack.pending(started.id).await.state,
        PendingState::Confirmed
    );
}

#[tokio::test]
async fn malformed_callbacks_are_refused_and_change_nothing() {
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    let hash = stack.pending(started.id).await.request_hash;
    let trace = hash.as_str();

    // encodeData not base64
    let r = stack
        .post_callback(trace, "%%% not base64 %%%".to_owned())
        .await;
    callback_refused(&stack, r, 400, "malformed").await;
    // base64 of something that is not the JSON
    let r = stack
        .post_callback(trace, base64_of("{\"hello\": 1}"))
        .await;
    callback_refused(&stack, r, 400, "malformed").await;
    // signature field not base64
    let r = stack
        .post_callback(
            trace,
            base64_of(&format!(
                "{{\"requestId\":\"{trace}\",\"signature\":\"@@\"}}"
            )),
        )
        .await;
    callback_refused(&stack, r, 400, "malformed").await;
    // not multipart at all
    let r = stack
        .http
        .post(&stack.callback_url)
        .header("X-Diia-Id-Action", "auth")
        .header("X-Document-Request-Trace-Id", trace)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    callback_refused(&stack, r, 400, "malformed").await;
    // broken multipart framing
    let r = stack
        .http
        .post(&stack.callback_url)
        .header("X-Diia-Id-Action", "auth")
        .header("X-Document-Request-Trace-Id", trace)
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body("--XYZ\r\nContent-Disposition: form-data; name=\"encodeData\"\r\n\r\nabc")
        .send()
        .await
        .unwrap();
    callback_refused(&stack, r, 400, "malformed").await;

    assert_eq!(
        stack.pending(started.id).await.state,
        PendingState::Pending,
        "still waiting for the real one"
    );
}

#[tokio::test]
async fn an_unknown_or_mismatching_trace_id_is_refused() {
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    let hash = stack.pending(started.id).await.request_hash;
    let signer = person(
        &stack.own_ca,
        now() - Duration::days(1),
        now() + Duration::days(30),
    );
    let p7s = signer.sign_hash_cades(&hash.digest(), now()).unwrap();

    // Header says one request, body another.
    let other = kepgate::provider::RequestHash::of(
        kepgate::provider::HashAlgorithm::Sha256,
        b"another request",
    );
    let r = stack
        .post_callback(other.as_str(), encode_data(hash.as_str(), Some(&p7s), None))
        .await;
    callback_refused(&stack, r, 400, "malformed").await;

    // A request nobody started.
    let r = stack
        .post_callback(
            other.as_str(),
            encode_data(other.as_str(), Some(&p7s), None),
        )
        .await;
    callback_refused(&stack, r, 404, "unknown_request").await;

    assert_eq!(stack.pending(started.id).await.state, PendingState::Pending);
}

/// Diia's callback as `multipart/mixed` with `encodeData` either a bare form field (what the
/// emulator and the SDK examples expect) or a part typed `text/plain`: both sign the person in.
#[tokio::test]
async fn an_encode_data_part_with_or_without_a_content_type_is_accepted() {
    let stack = spawn_diia_stack().await;
    let signer = person(
        &stack.own_ca,
        now() - Duration::days(1),
        now() + Duration::days(30),
    );
    for part_type in [None, Some("text/plain; charset=utf-8")] {
        let started = stack.start_login().await;
        let hash = stack.pending(started.id).await.request_hash;
        let p7s = signer.sign_hash_cades(&hash.digest(), now()).unwrap();
        let typed = part_type
            .map(|t| format!("Content-Type: {t}\r\n"))
            .unwrap_or_default();
        let body = format!(
            "--cb\r\nContent-Disposition: form-data; name=\"encodeData\"\r\n{typed}\r\n{}\r\n--cb--\r\n",
            encode_data(hash.as_str(), Some(&p7s), None)
        );
        let r = stack
            .http
            .post(&stack.callback_url)
            .header("X-Diia-Id-Action", "auth")
            .header("X-Document-Request-Trace-Id", hash.as_str())
            .header("Content-Type", "multipart/mixed; boundary=cb")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "part type {part_type:?}");
        assert_eq!(
            stack.pending(started.id).await.state,
            PendingState::Confirmed,
            "part type {part_type:?}"
        );
    }
}

#[tokio::test]
async fn a_wrong_callback_secret_is_not_found() {
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    let hash = stack.pending(started.id).await.request_hash;
    let wrong = stack.callback_url.rsplit_once('/').unwrap().0.to_owned()
        + "/guessed-secret-guessed-secret-guessed";
    let form = reqwest::multipart::Form::new().text(
        "encodeData",
        encode_data(hash.as_str(), None, Some("declined")),
    );
    let r = stack
        .http
        .post(wrong)
        .header("X-Diia-Id-Action", "auth")
        .header("X-Document-Request-Trace-Id", hash.as_str())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(stack.pending(started.id).await.state, PendingState::Pending);
}

#[tokio::test]
async fn a_second_callback_for_the_same_request_changes_nothing() {
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    stack.phone(&started, "confirm", "person").await;
    let first = stack.pending(started.id).await;
    assert_eq!(first.state, PendingState::Confirmed);

    // Replay of a decline, then of a valid signature by somebody else: the first result stands.
    let hash = first.request_hash.clone();
    let r = stack
        .post_callback(
            hash.as_str(),
            encode_data(hash.as_str(), None, Some("declined")),
        )
        .await;
    assert_eq!(r.status(), 200);
    let other = person(
        &stack.own_ca,
        now() - Duration::days(1),
        now() + Duration::days(30),
    )
    .sign_hash_cades(&hash.digest(), now())
    .unwrap();
    let r = stack
        .post_callback(
            hash.as_str(),
            encode_data(hash.as_str(), Some(&other), None),
        )
        .await;
    assert_eq!(r.status(), 200);

    let after = stack.pending(started.id).await;
    assert_eq!(after.state, PendingState::Confirmed);
    assert_eq!(after.identity, first.identity, "identity unchanged");
}

#[tokio::test]
async fn a_callback_after_expiry_is_refused() {
    let stack = spawn_diia_stack().await;
    let started = stack.start_login().await;
    sqlx::query("UPDATE pending_logins SET expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(started.id.0)
        .execute(&stack.app.db)
        .await
        .unwrap();
    let hash = stack.pending(started.id).await.request_hash;
    let p7s = person(
        &stack.own_ca,
        now() - Duration::days(1),
        now() + Duration::days(30),
    )
    .sign_hash_cades(&hash.digest(), now())
    .unwrap();
    let r = stack
        .post_callback(hash.as_str(), encode_data(hash.as_str(), Some(&p7s), None))
        .await;
    callback_refused(&stack, r, 410, "expired").await;
    assert_eq!(stack.pending(started.id).await.state, PendingState::Expired);
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn the_callback_allow_list_judges_the_client_a_trusted_proxy_names_not_the_proxy() {
    // Diia's address as the front proxy forwards it; the proxy itself is 127.0.0.1.
    let diia_address = "203.0.113.7";
    let allowing = |trusted: &'static str| {
        move |s: &mut kepgate::config::Settings| {
            s.proxy.trusted_proxies = vec![trusted.parse().unwrap()];
            if let Some(ProviderSettings::Diia(d)) =
                s.providers.get_mut(crate::diia_stack::PROVIDER)
            {
                d.common.callback_allowed_ips = vec![format!("{diia_address}/32").parse().unwrap()];
            }
        }
    };
    // A body the allow-list lets through is then refused as malformed (400): which of the two
    // answers comes back says what the allow-list decided.
    let callback = async |stack: &DiiaStack, forwarded_for: Option<&str>| {
        let mut request = stack
            .http
            .post(&stack.callback_url)
            .header("content-type", "application/json")
            .body("{}");
        if let Some(chain) = forwarded_for {
            request = request.header("x-forwarded-for", chain);
        }
        let answer = request.send().await.unwrap();
        let status = answer.status().as_u16();
        let body: serde_json::Value = answer.json().await.unwrap();
        (
            status,
            body["reason"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let allowed = (400, "malformed".to_owned());
    let refused = (403, "address_not_allowed".to_owned());

    let (behind_proxy, _) = spawn_diia_stack_configured(false, allowing("127.0.0.1/32")).await;
    assert_eq!(callback(&behind_proxy, Some(diia_address)).await, allowed);
    // Whatever the caller wrote left of what the proxy appended is not believed.
    assert_eq!(
        callback(
            &behind_proxy,
            Some(&format!("{diia_address}, 198.51.100.9"))
        )
        .await,
        refused
    );
    assert_eq!(callback(&behind_proxy, Some("198.51.100.9")).await, refused);
    assert_eq!(
        callback(&behind_proxy, None).await,
        refused,
        "the proxy itself"
    );

    // The same header from a peer that is no trusted proxy is the caller's own word.
    let (direct, _) = spawn_diia_stack_configured(false, allowing("10.0.0.0/8")).await;
    assert_eq!(callback(&direct, Some(diia_address)).await, refused);
}
