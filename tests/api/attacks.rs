//! Attacks: each test is one attacker's attempt, and each shows it does not get in.
//! Real gateway, real Diia emulator, real sample cabinet, real PostgreSQL.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::browser::{Browser, csrf_of};
use crate::diia_stack::{DiiaStack, spawn_diia_stack, spawn_diia_stack_configured};
use crate::helpers::spawn_app_with;
use crate::proxy::spawn_cabinet_stack;
use crate::sign_in::{DIRECTOR, PERSON, sign_in, sign_in_as, start_api};

/// Writes `request` on a fresh connection and reads until the gateway closes it. The bound is
/// only there so a gateway that keeps the connection open fails the test instead of hanging it.
async fn raw_exchange(address: &str, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the gateway closes the connection after refusing")
        .ok();
    String::from_utf8_lossy(&answer).into_owned()
}

/// The smuggled request behind a framing conflict: if the gateway (or the cabinet behind it)
/// read the body by the other header, this would be answered as a second request.
const SMUGGLED: &str = "GET /static/echo?smuggled=1 HTTP/1.1\r\nHost: x\r\n\r\n";

fn assert_refused_once(answer: &str) {
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert_eq!(
        answer.matches("HTTP/1.1 ").count(),
        1,
        "one answer only: nothing smuggled was served: {answer}"
    );
    assert!(!answer.contains("smuggled"), "{answer}");
}

#[tokio::test]
async fn content_length_with_chunked_transfer_encoding_smuggles_nothing() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let body = format!("0\r\n\r\n{SMUGGLED}");
    let request = format!(
        "POST /static/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\
         Transfer-Encoding: chunked\r\n\r\n{body}"
    );
    let answer = raw_exchange(&env.stack.app.address, request.as_bytes()).await;
    // hyper does not answer 400 here: it drops Content-Length, reads the chunked body (empty)
    // and closes the connection after one answer (RFC 9112 §6.1). What matters holds: the bytes
    // after the chunks are never read as a request, and the cabinet saw no Content-Length.
    assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(!answer.contains("smuggled"), "{answer}");
    assert!(!answer.contains("\"content-length\""), "{answer}");
    assert!(answer.contains("\"body_bytes\":0"), "{answer}");
}

#[tokio::test]
async fn two_different_content_lengths_are_refused() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let request = format!(
        "POST /static/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\
         Content-Length: {}\r\n\r\n{SMUGGLED}",
        SMUGGLED.len()
    );
    let answer = raw_exchange(&env.stack.app.address, request.as_bytes()).await;
    assert_refused_once(&answer);
}

#[tokio::test]
async fn oversized_request_headers_are_refused_and_the_gateway_lives_on() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let huge = "a".repeat(100 * 1024);
    let request = format!("GET /static/echo HTTP/1.1\r\nHost: x\r\nX-Big: {huge}\r\n\r\n");
    let answer = raw_exchange(&env.stack.app.address, request.as_bytes()).await;
    assert!(
        answer.starts_with("HTTP/1.1 431") || answer.starts_with("HTTP/1.1 400"),
        "{}",
        &answer[..answer.len().min(300)]
    );
    assert!(!answer.contains("x-big"), "nothing reached the cabinet");
    // Still serving.
    let app = &env.stack.app;
    assert_eq!(app.get(&app.own_path("/healthz")).await.status(), 200);
}

fn session_cookie(browser: &Browser) -> String {
    browser.cookies["kepgate_session"].clone()
}

#[tokio::test]
async fn a_tampered_session_cookie_opens_nothing() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let mut victim = sign_in(&env.stack, PERSON).await;
    let login = env.stack.app.own_path("/login");
    assert_eq!(victim.get("/").await.status(), 200);
    let token = session_cookie(&victim);

    let mut flipped = token.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    // The database keeps only SHA-256 of the token: presenting the stored hash is no token.
    let stored_hash: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM sessions LIMIT 1")
        .fetch_one(&env.stack.app.db)
        .await
        .unwrap();
    use base64::Engine;
    let hash_as_cookie = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&stored_hash);
    let candidates = [
        flipped,
        format!("{token}A"),
        token[..token.len() / 2].to_owned(),
        hash_as_cookie,
        "' OR '1'='1".to_owned(),
        String::new(),
    ];
    for candidate in candidates {
        let mut attacker = Browser::new(&env.stack.app);
        attacker
            .cookies
            .insert("kepgate_session".to_owned(), candidate.clone());
        let page = attacker.get("/echo").await;
        assert_eq!(page.status(), 303, "{candidate:?}");
        assert!(
            page.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with(&login),
            "{candidate:?}"
        );
        let api = attacker
            .http
            .get(attacker.url("/echo"))
            .header("accept", "application/json")
            .header("cookie", format!("kepgate_session={candidate}"))
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), 401, "{candidate:?}");
    }
}

#[tokio::test]
async fn a_session_cookie_planted_before_login_is_not_the_session_after_it() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    // The attacker plants a value and a real, live token of their own in the victim's browser.
    let attacker = sign_in(&env.stack, DIRECTOR).await;
    for planted in [
        "attacker-chosen-value".to_owned(),
        session_cookie(&attacker),
    ] {
        let mut victim = Browser::new(&env.stack.app);
        victim
            .cookies
            .insert("kepgate_session".to_owned(), planted.clone());
        sign_in_as(&env.stack, &mut victim, PERSON).await;
        let after = session_cookie(&victim);
        assert_ne!(after, planted, "the session cookie changes at login");
        let seen: serde_json::Value = victim.get("/echo").await.json().await.unwrap();
        assert_eq!(seen["headers"]["x-kepgate-rnokpp"], "3012345670");
    }
    // And the attacker's token never becomes the victim's session: signing in at a browser ends
    // the session that browser held before, so the planted token is now simply over.
    let mut attacker = attacker;
    let after = attacker.get("/echo").await;
    assert_eq!(after.status(), 303, "ended, not turned into the victim's");
    assert!(
        after.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(&env.stack.app.own_path("/login?notice=expired"))
    );
}

const INJECTIONS: [&str; 5] = [
    "' OR '1'='1",
    "1'; DROP TABLE sessions; --",
    "\" OR 1=1 --",
    "x'::text); SELECT pg_sleep(0); --",
    "%27%20OR%201%3D1",
];

async fn database_intact(stack: &DiiaStack) {
    for table in ["sessions", "pending_logins", "login_history"] {
        let found: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
            .bind(table)
            .fetch_one(&stack.app.db)
            .await
            .unwrap();
        assert_eq!(found.as_deref(), Some(table));
    }
}

fn assert_clean_4xx(status: reqwest::StatusCode, what: &str) {
    assert!(status.is_client_error(), "{what}: {status}");
}

#[tokio::test]
async fn sql_injection_shapes_in_every_input_get_a_clean_4xx() {
    // Many starts from one address: the rate limit is not what this test is about.
    let (stack, _) =
        spawn_diia_stack_configured(false, |s| s.login.start_rate_per_minute = 1000).await;
    let own = |below: &str| stack.app.own_path(below);
    let mut browser = Browser::new(&stack.app);
    for shape in INJECTIONS {
        let encoded: String = url::form_urlencoded::byte_serialize(shape.as_bytes()).collect();
        // Provider id, in the form and in the JSON API.
        let page = browser.get(&own("/login")).await.text().await.unwrap();
        let r = browser
            .post_form(
                &own("/login/start"),
                &[("csrf", &csrf_of(&page)), ("provider", shape)],
            )
            .await;
        assert_clean_4xx(r.status(), "provider in form");
        let r = browser
            .post_json(&own("/api/login"), serde_json::json!({ "provider": shape }))
            .await;
        assert_clean_4xx(r.status(), "provider in JSON");
        // Pending-login ids in URLs.
        for path in [
            own(&format!("/login/wait/{encoded}")),
            own(&format!("/login/events/{encoded}")),
            own(&format!("/login/qr/{encoded}")),
            own(&format!("/q/{encoded}")),
        ] {
            assert_clean_4xx(browser.get(&path).await.status(), &path);
        }
        let r = browser
            .post_form(
                &own(&format!("/login/complete/{encoded}")),
                &[("csrf", &csrf_of(&page))],
            )
            .await;
        assert_clean_4xx(r.status(), "complete id");
        let r = browser
            .post_json(
                &own(&format!("/api/login/{encoded}/complete")),
                serde_json::json!({}),
            )
            .await;
        assert_clean_4xx(r.status(), "api complete id");
        // The callback's provider and secret segments.
        for path in [
            own(&format!("/callback/diia/{encoded}")),
            own(&format!("/callback/{encoded}/x")),
        ] {
            let r = stack.http.post(stack.app.url(&path)).send().await.unwrap();
            assert_clean_4xx(r.status(), &path);
        }
        // Session id of /me (no session: the login page or 4xx, never a 500).
        let r = browser
            .post_form(
                &own(&format!("/me/sessions/{encoded}/end")),
                &[("csrf", &csrf_of(&page))],
            )
            .await;
        assert!(r.status().is_client_error() || r.status().is_redirection());
    }
    // Return path and user hint are data, never SQL: the start works and stores them as given.
    for shape in INJECTIONS {
        let page = browser.get(&own("/login")).await.text().await.unwrap();
        let rd = format!("/{shape}");
        let r = browser
            .post_form(
                &own("/login/start"),
                &[
                    ("csrf", &csrf_of(&page)),
                    ("provider", "diia"),
                    ("rd", &rd),
                    ("user_hint", shape),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "{shape}");
    }
    database_intact(&stack).await;
}

#[tokio::test]
async fn pending_login_ids_are_no_oracle_to_another_browser() {
    let stack = spawn_diia_stack().await;
    let own = |below: &str| stack.app.own_path(below);
    let mut owner = Browser::new(&stack.app);
    let real = start_api(&mut owner).await.id;
    let random = uuid::Uuid::new_v4().to_string();

    let mut attacker = Browser::new(&stack.app);
    let page = attacker.get(&own("/login")).await.text().await.unwrap();
    let csrf = csrf_of(&page);
    let mut answers = Vec::new();
    for id in [&real, &random] {
        let mut statuses = Vec::new();
        for path in ["wait", "events", "qr"] {
            statuses.push(
                attacker
                    .get(&own(&format!("/login/{path}/{id}")))
                    .await
                    .status(),
            );
        }
        statuses.push(
            attacker
                .post_form(&own(&format!("/login/complete/{id}")), &[("csrf", &csrf)])
                .await
                .status(),
        );
        statuses.push(
            attacker
                .post_json(
                    &own(&format!("/api/login/{id}/complete")),
                    serde_json::json!({}),
                )
                .await
                .status(),
        );
        assert!(statuses.iter().all(|s| s.is_client_error()), "{statuses:?}");
        answers.push(statuses);
    }
    assert_eq!(answers[0], answers[1], "a real id answers as a random one");
    // The owner still sees it.
    assert_eq!(
        owner
            .get(&own(&format!("/login/wait/{real}")))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn rotating_x_forwarded_for_does_not_escape_the_login_rate_limit() {
    let (stack, _) =
        spawn_diia_stack_configured(false, |s| s.login.start_rate_per_minute = 3).await;
    let mut statuses = Vec::new();
    for n in 0..5 {
        let spoofed = format!("203.0.113.{n}");
        let response = stack
            .http
            .post(stack.app.own("/api/login"))
            .header("x-forwarded-for", &spoofed)
            .header("x-real-ip", &spoofed)
            .header("forwarded", format!("for={spoofed}"))
            .json(&serde_json::json!({ "provider": "diia" }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 201, 429, 429]);
}

#[tokio::test]
async fn hsts_on_an_https_base_url_and_no_server_banner() {
    let app = spawn_app_with(|s| {
        let url = s
            .server
            .base_url
            .as_str()
            .replacen("http://", "https://", 1);
        s.server.base_url = url.parse().unwrap();
    })
    .await;
    for below in ["/login", "/healthz", "/nothing-here"] {
        let path = app.own_path(below);
        let response = app.get(&path).await;
        let headers = response.headers();
        assert_eq!(
            headers["strict-transport-security"], "max-age=31536000",
            "{path}"
        );
        assert!(headers.get("server").is_none(), "{path}: {headers:?}");
        assert!(
            !headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("unsafe-inline")
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "same-origin");
    }
    // Plain http (development only): no HSTS, which would break the next http visit.
    let plain = spawn_app_with(|_| {}).await;
    let response = plain.get(&plain.own_path("/login")).await;
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
    assert!(response.headers().get("server").is_none());
}
