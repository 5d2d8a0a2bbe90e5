//! The OpenID Provider's findings of the adversarial review (issue 32, docs/security.md), each
//! met where an attacker or a relying party meets it: over HTTP, against the running gateway.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use crate::browser::Browser;
use crate::oidc::{
    AuthRequest, RP, RP_REDIRECT, RP_SECRET, SPA, authorize, code_for, decoding_key, error_of,
    param, spawn_op, token, tokens, userinfo, verified_id_token,
};
use crate::sign_in::{DIRECTOR, sign_in};

/// The claims of the ID token a code of `request` is exchanged for.
async fn id_token_claims(browser: &Browser, request: &AuthRequest, code: &str) -> Value {
    let secret = (request.client_id == RP).then_some(RP_SECRET);
    let answer: Value = tokens(browser, request, code, secret, false).await;
    verified_id_token(
        browser,
        answer["id_token"].as_str().unwrap(),
        request.client_id,
    )
    .await
}

/// A new code for `request` in `browser`'s session.
async fn another_code(browser: &mut Browser, request: &AuthRequest) -> String {
    let back = authorize(browser, request).await;
    param(&back, "code").unwrap_or_else(|| panic!("a code: {back}"))
}

// ---------- 1. `sid` per client ----------

/// Two clients of one session learn two `sid`s, neither the cabinet's: with pairwise subjects
/// they cannot link their users through it. A client's `sid` stays the same within the session,
/// and its `id_token_hint` still ends the session.
#[tokio::test]
async fn each_client_knows_the_session_by_a_sid_of_its_own() {
    let env = spawn_op(|s| {
        for client in s.oidc.clients.values_mut() {
            client.pairwise_subject = true;
        }
    })
    .await;
    let rp = AuthRequest::new(RP);
    let (mut browser, code) = code_for(&env, DIRECTOR, &rp).await;
    let rp_claims = id_token_claims(&browser, &rp, &code).await;
    let spa = AuthRequest::new(SPA);
    let code = another_code(&mut browser, &spa).await;
    let spa_claims = id_token_claims(&browser, &spa, &code).await;
    let cabinet: Value = crate::proxy::echo(&mut browser, "/echo", &[]).await;
    let assertion = cabinet["headers"]["x-kepgate-assertion"].as_str().unwrap();
    let cabinet_sid = jsonwebtoken::dangerous::insecure_decode::<Value>(assertion)
        .unwrap()
        .claims["sid"]
        .clone();
    let (rp_sid, spa_sid) = (&rp_claims["sid"], &spa_claims["sid"]);
    assert!(rp_sid.is_string() && spa_sid.is_string());
    assert_ne!(rp_sid, spa_sid, "two clients, one sid");
    assert_ne!(rp_sid, &cabinet_sid, "a client's sid is the cabinet's");
    assert_ne!(spa_sid, &cabinet_sid, "a client's sid is the cabinet's");

    // Stable for the client within the session.
    let again = AuthRequest::new(RP);
    let code = another_code(&mut browser, &again).await;
    let later = id_token_claims(&browser, &again, &code).await;
    assert_eq!(&later["sid"], rp_sid);

    // RP-initiated logout: the client's own hint ends the session.
    let answer: Value = {
        let request = AuthRequest::new(SPA);
        let code = another_code(&mut browser, &request).await;
        tokens(&browser, &request, &code, None, false).await
    };
    let logout = format!(
        "{}?id_token_hint={}",
        browser.own("/oidc/logout"),
        answer["id_token"].as_str().unwrap()
    );
    let done = browser.get(&logout).await;
    let location = done.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("notice=logged_out"), "{location}");
    assert_ne!(browser.get(&browser.own("/me")).await.status(), 200);
}

// ---------- 2. the pairwise secret outlives the signing key ----------

/// What a pairwise `sub` was before the secret was stored: keyed with a secret derived from the
/// ES256 key (`SigningKey::derived_secret("oidc pairwise subject")`).
fn legacy_pairwise_sub(es256_pkcs8: &[u8], client: &str, subject: &str) -> String {
    let mut derived = Sha256::new();
    derived.update(Sha256::digest(es256_pkcs8));
    derived.update(b"oidc pairwise subject");
    let mut hash = Sha256::new();
    hash.update(derived.finalize());
    hash.update(client.as_bytes());
    hash.update([0]);
    hash.update(subject.as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The same person's pairwise `sub` before and after the signing keys are rotated (their rows
/// deleted, the gateway restarted: new keys, new `kid`s); and it is the very value kepgate gave
/// before the secret was stored (an upgraded deployment keeps its subjects).
#[tokio::test]
async fn rotating_the_signing_key_keeps_every_pairwise_subject() {
    let mut env = spawn_op(|s| {
        s.oidc.clients.get_mut(RP).unwrap().pairwise_subject = true;
    })
    .await;
    let request = AuthRequest::new(RP);
    let (mut browser, code) = code_for(&env, DIRECTOR, &request).await;
    let before = id_token_claims(&browser, &request, &code).await["sub"].clone();
    let es256: Vec<u8> =
        sqlx::query_scalar("SELECT private_key FROM assertion_keys WHERE id = 'default'")
            .fetch_one(&env.stack.app.db)
            .await
            .unwrap();
    assert_eq!(
        before,
        legacy_pairwise_sub(&es256, RP, "rnokpp:2654321099").as_str(),
        "the subjects handed out before the secret was stored"
    );
    let jwks = |browser: &Browser| {
        let (http, url) = (
            browser.http.clone(),
            browser.url(&browser.own("/jwks.json")),
        );
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let old_keys = jwks(&browser).await;

    sqlx::query("DELETE FROM assertion_keys")
        .execute(&env.stack.app.db)
        .await
        .unwrap();
    env.stack.restart_gateway().await;
    assert_ne!(jwks(&browser).await, old_keys, "the keys were rotated");

    let request = AuthRequest::new(RP);
    let code = another_code(&mut browser, &request).await;
    let after = id_token_claims(&browser, &request, &code).await["sub"].clone();
    assert_eq!(
        after, before,
        "the same person, the same client, the same sub"
    );
}

// ---------- 3. a leaked code cannot be burnt by whoever holds it ----------

/// Whoever holds a leaked code but not the client's secret, redirect URI or verifier neither
/// spends it nor, once the client has exchanged it, revokes what the client got: only a replay
/// by the code's own client, with every binding, counts as one (RFC 6749 §4.1.2).
#[tokio::test]
async fn a_leaked_code_neither_spends_nor_revokes_without_the_clients_bindings() {
    let env = spawn_op(|_| {}).await;
    let request = AuthRequest::new(RP);
    let (browser, code) = code_for(&env, DIRECTOR, &request).await;
    let mut other_client = AuthRequest::new(SPA);
    other_client.verifier = request.verifier.clone();
    let mut other_redirect = AuthRequest::new(RP);
    other_redirect.verifier = request.verifier.clone();
    other_redirect.redirect_uri = crate::oidc::RP_REDIRECT_2.to_owned();
    let mut wrong_verifier = AuthRequest::new(RP);
    wrong_verifier.verifier = Some("a-guessed-verifier-a-guessed-verifier-a-guessed".into());
    let mut no_verifier = AuthRequest::new(RP);
    no_verifier.verifier = None;
    let attempts = |code: String| {
        let (other_client, other_redirect, wrong_verifier, no_verifier) = (
            &other_client,
            &other_redirect,
            &wrong_verifier,
            &no_verifier,
        );
        let browser = &browser;
        async move {
            let mut errors = vec![];
            for (what, attempt, secret) in [
                ("another client", other_client, None),
                ("another redirect_uri", other_redirect, Some(RP_SECRET)),
                ("a wrong verifier", wrong_verifier, Some(RP_SECRET)),
                ("no verifier", no_verifier, Some(RP_SECRET)),
            ] {
                let answer = token(browser, attempt, &code, secret, false).await;
                errors.push((what, error_of(answer).await));
            }
            errors
        }
    };
    for (what, error) in attempts(code.clone()).await {
        assert_eq!(error, (400, "invalid_grant".to_owned()), "{what}");
    }
    // The client's own exchange still works.
    let answer: Value = tokens(&browser, &request, &code, Some(RP_SECRET), false).await;
    let access = answer["access_token"].as_str().unwrap();
    // The same attempts after it: refused, and the client's token still opens userinfo.
    for (what, error) in attempts(code.clone()).await {
        assert_eq!(error, (400, "invalid_grant".to_owned()), "{what}");
        assert_eq!(userinfo(&browser, access).await.status(), 200, "{what}");
    }
    // A replay by the client itself, with every binding: refused, and the token revoked.
    assert_eq!(
        error_of(token(&browser, &request, &code, Some(RP_SECRET), false).await).await,
        (400, "invalid_grant".to_owned())
    );
    assert_eq!(userinfo(&browser, access).await.status(), 401);
}

// ---------- 6. PKCE values of RFC 7636's form only ----------

/// `code_verifier` is 43 to 128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1): anything else
/// is `invalid_request` at the token endpoint, even when its hash is the code's challenge. A
/// `code_challenge` must be the base64url of 32 bytes.
#[tokio::test]
async fn pkce_verifiers_and_challenges_must_have_rfc_7636s_form() {
    let env = spawn_op(|_| {}).await;
    let mut browser = sign_in(&env.stack, DIRECTOR).await;
    let exchange = |verifier: String| {
        let mut request = AuthRequest::new(SPA);
        request.verifier = Some(verifier);
        request
    };
    for (what, verifier) in [
        ("42 characters", "a".repeat(42)),
        ("129 characters", "b".repeat(129)),
        ("a '+'", format!("{}+", "c".repeat(50))),
        ("a '/'", format!("{}/", "d".repeat(50))),
        ("a space", format!("{} x", "e".repeat(50))),
        ("a non-ASCII letter", format!("{}ї", "f".repeat(50))),
    ] {
        let request = exchange(verifier);
        let code = another_code(&mut browser, &request).await;
        assert_eq!(
            error_of(token(&browser, &request, &code, None, false).await).await,
            (400, "invalid_request".to_owned()),
            "{what}"
        );
    }
    for (what, verifier) in [
        ("43 characters", "g".repeat(43)),
        ("128 characters", "h".repeat(128)),
        ("every kind", format!("AZaz09-._~{}", "i".repeat(40))),
    ] {
        let request = exchange(verifier);
        let code = another_code(&mut browser, &request).await;
        let status = token(&browser, &request, &code, None, false).await.status();
        assert_eq!(status, 200, "{what}");
    }
    // A challenge of 43 characters that is no SHA-256 (stray bits in its last character).
    let mut stray = AuthRequest::new(SPA);
    stray.verifier = None;
    stray.extra.push((
        "code_challenge",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN".into(),
    ));
    stray.extra.push(("code_challenge_method", "S256".into()));
    let back = authorize(&mut browser, &stray).await;
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
}

// ---------- 4. back-channel logout: in parallel, with retries ----------

/// A relying party's back-channel endpoint on a port of its own: the logout tokens it was sent,
/// with the time of each attempt. `fail_first` attempts are answered 503; with `hang`, nothing
/// is ever answered.
struct Receiver {
    uri: String,
    attempts: Arc<Mutex<Vec<(Instant, String)>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn receiver(fail_first: usize, hang: bool) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/backchannel", listener.local_addr().unwrap());
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let seen = attempts.clone();
    let app = axum::Router::new().route(
        "/backchannel",
        axum::routing::post(
            move |axum::Form(form): axum::Form<BTreeMap<String, String>>| {
                let seen = seen.clone();
                async move {
                    let n = {
                        let mut seen = seen.lock().unwrap();
                        seen.push((Instant::now(), form["logout_token"].clone()));
                        seen.len()
                    };
                    if hang {
                        tokio::time::sleep(Duration::from_secs(600)).await;
                    }
                    if n <= fail_first {
                        axum::http::StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        axum::http::StatusCode::OK
                    }
                }
            },
        ),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    Receiver {
        uri,
        attempts,
        _stop: stop,
    }
}

/// A client whose endpoint fails the first attempt is told at the second, a second or so
/// later, while another client's endpoint never answers: the notices go out side by side, each
/// with retries of its own.
#[tokio::test]
async fn a_back_channel_logout_is_retried_and_a_hanging_client_delays_no_other() {
    let flaky = receiver(1, false).await;
    let hanging = receiver(0, true).await;
    let env = spawn_op(|s| {
        s.oidc.clients.get_mut(RP).unwrap().backchannel_logout_uri =
            Some(flaky.uri.parse().unwrap());
        s.oidc.clients.get_mut(SPA).unwrap().backchannel_logout_uri =
            Some(hanging.uri.parse().unwrap());
    })
    .await;
    let rp = AuthRequest::new(RP);
    let (mut browser, code) = code_for(&env, DIRECTOR, &rp).await;
    let sid = id_token_claims(&browser, &rp, &code).await["sid"].clone();
    let spa = AuthRequest::new(SPA);
    let code = another_code(&mut browser, &spa).await;
    id_token_claims(&browser, &spa, &code).await;

    let me = browser.get(&browser.own("/me")).await.text().await.unwrap();
    let csrf = crate::browser::csrf_of(&me);
    let out = browser
        .post_form(&browser.own("/logout"), &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status(), 303);
    let signed_out = Instant::now();
    let deadline = signed_out + Duration::from_secs(9);
    while flaky.attempts.lock().unwrap().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the flaky client was not told again: {} attempt(s)",
            flaky.attempts.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !hanging.attempts.lock().unwrap().is_empty(),
        "the other client was sent its notice too"
    );
    let attempts = flaky.attempts.lock().unwrap().clone();
    let waited = attempts[1].0 - attempts[0].0;
    assert!(
        waited >= Duration::from_millis(500),
        "a pause before the retry: {waited:?}"
    );
    assert_eq!(attempts[0].1, attempts[1].1, "the same logout token again");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[RP]);
    validation.set_issuer(&[browser.base.as_str()]);
    let key = decoding_key(&browser, &attempts[1].1).await;
    let claims = jsonwebtoken::decode::<Value>(&attempts[1].1, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["sid"], sid);
    // Taken: no further attempts.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(flaky.attempts.lock().unwrap().len(), 2, "told once taken");
}

// ---------- 5. a request too long to survive the login is refused up front ----------

/// Without a session, a request whose way back through the login would be cut (a `state` near
/// its 2,048-byte limit) is refused at once with `invalid_request` at the redirect URI, the
/// state with it; one that is accepted comes back whole after the login.
#[tokio::test]
async fn a_request_too_long_to_come_back_through_the_login_is_refused_up_front() {
    let env = spawn_op(|_| {}).await;
    let mut browser = Browser::new(&env.stack.app);
    let mut long = AuthRequest::new(RP);
    long.state = "s".repeat(1900);
    let back = authorize(&mut browser, &long).await;
    assert!(back.as_str().starts_with(RP_REDIRECT), "{back}");
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    assert_eq!(param(&back, "state").as_deref(), Some(long.state.as_str()));

    // Long, but not too long: through the login pages and back to the request, whole.
    let mut fits = AuthRequest::new(RP);
    fits.state = "Ж".repeat(150) + &"s".repeat(500);
    let to_login = authorize(&mut browser, &fits).await;
    assert_eq!(to_login.path(), browser.own("/login"), "{to_login}");
    let rd = param(&to_login, "rd").unwrap();
    let done =
        crate::sign_in::sign_in_on_pages(&env.stack, &mut browser, rd.as_str(), DIRECTOR).await;
    let location = done.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, rd, "the login comes back to the request whole");
    let answer = browser.get(&location).await;
    let back = answer.headers()["location"].to_str().unwrap().to_owned();
    let back: Url = browser.url(&back).parse().unwrap();
    assert!(param(&back, "code").is_some(), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some(fits.state.as_str()));
}

// ---------- 7. response_mode: the query, or nothing ----------

/// A client that asks for its answer in a form post or the fragment would look for it there
/// and lose the code sent in the query: it is told `invalid_request` instead, and no code is
/// made. Discovery names the one mode there is.
#[tokio::test]
async fn a_response_mode_other_than_query_is_refused_and_discovery_says_so() {
    let env = spawn_op(|_| {}).await;
    let mut browser = sign_in(&env.stack, DIRECTOR).await;
    for mode in ["form_post", "fragment"] {
        let mut request = AuthRequest::new(RP);
        request.extra.push(("response_mode", mode.into()));
        let back = authorize(&mut browser, &request).await;
        assert!(back.as_str().starts_with(RP_REDIRECT), "{back}");
        assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
        assert!(param(&back, "code").is_none(), "{mode}: {back}");
        assert_eq!(
            param(&back, "state").as_deref(),
            Some(request.state.as_str())
        );
    }
    let mut query = AuthRequest::new(RP);
    query.extra.push(("response_mode", "query".into()));
    let back = authorize(&mut browser, &query).await;
    assert!(param(&back, "code").is_some(), "{back}");
    let doc: Value = browser
        .http
        .get(browser.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["response_modes_supported"],
        serde_json::json!(["query"])
    );
}

// ---------- 8. the small ones ----------

/// `Bearer` and `Basic` in any case (RFC 7235 §2.1: scheme names are case-insensitive).
#[tokio::test]
async fn bearer_and_basic_are_taken_in_any_case() {
    use base64::Engine;
    let env = spawn_op(|_| {}).await;
    let request = AuthRequest::new(RP);
    let (browser, code) = code_for(&env, DIRECTOR, &request).await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{RP}:{RP_SECRET}"));
    let answer = browser
        .http
        .post(browser.url(&browser.own("/oidc/token")))
        .header("authorization", format!("BASIC {basic}"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", RP_REDIRECT),
            ("code_verifier", request.verifier.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "Basic in capitals");
    let answer: Value = answer.json().await.unwrap();
    let access = answer["access_token"].as_str().unwrap();
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let info = browser
            .http
            .get(browser.url(&browser.own("/oidc/userinfo")))
            .header("authorization", format!("{scheme} {access}"))
            .send()
            .await
            .unwrap();
        assert_eq!(info.status(), 200, "{scheme}");
    }
}

/// The token endpoint's errors are JSON whatever went wrong (RFC 6749 §5.2): another method, a
/// body that is no form, a parameter sent twice.
#[tokio::test]
async fn the_token_endpoint_answers_every_error_in_json() {
    let env = spawn_op(|_| {}).await;
    let browser = Browser::new(&env.stack.app);
    let token_url = browser.url(&browser.own("/oidc/token"));
    let json_error = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("application/json"), "{status}: {kind}");
        let body: Value = response.json().await.unwrap();
        (status, body["error"].as_str().unwrap().to_owned())
    };
    let get = browser.http.get(&token_url).send().await.unwrap();
    assert_eq!(json_error(get).await, (405, "invalid_request".to_owned()));
    let as_json = browser
        .http
        .post(&token_url)
        .json(&serde_json::json!({ "grant_type": "authorization_code", "code": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_error(as_json).await,
        (400, "invalid_request".to_owned())
    );
    let twice = browser
        .http
        .post(&token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&code=a&code=b&client_id=spa")
        .send()
        .await
        .unwrap();
    assert_eq!(json_error(twice).await, (400, "invalid_request".to_owned()));
}

/// A HEAD at `authorize` (a link checker, a prefetcher), signed in: no code, while a GET makes
/// one.
#[tokio::test]
async fn a_head_at_authorize_makes_no_code() {
    let env = spawn_op(|_| {}).await;
    let mut browser = sign_in(&env.stack, DIRECTOR).await;
    let head = browser
        .http
        .head(browser.url(&AuthRequest::new(RP).url(&browser)))
        .header("cookie", browser.cookie_header())
        .send()
        .await
        .unwrap();
    let location = head
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(!location.contains("code="), "HEAD made a code: {location}");
    assert_ne!(head.status(), 303);
    assert!(
        param(
            &authorize(&mut browser, &AuthRequest::new(RP)).await,
            "code"
        )
        .is_some()
    );
}

/// Discovery and the keys are readable from any origin (a browser-only client reads them too).
#[tokio::test]
async fn discovery_and_the_keys_are_readable_from_any_origin() {
    let env = spawn_op(|_| {}).await;
    let browser = Browser::new(&env.stack.app);
    for path in [
        "/.well-known/openid-configuration".to_owned(),
        browser.own("/jwks.json"),
    ] {
        let response = browser
            .http
            .get(browser.url(&path))
            .header("origin", "https://spa.example.ua")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["access-control-allow-origin"],
            "*",
            "{path}"
        );
    }
}
