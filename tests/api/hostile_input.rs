//! Hostile input at the HTTP level: oversized bodies, slow-loris headers, a flood of
//! login starts from many addresses, and the security headers on every kind of page kepgate
//! serves. Each test is one attempt, and each shows it does not get in (or bring it down).

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::browser::{Browser, csrf_of};
use crate::diia_stack::{DiiaStack, PROVIDER, spawn_diia_stack, spawn_diia_stack_configured};
use crate::helpers::spawn_app_with;
use crate::proxy::{route, spawn_cabinet_stack};
use crate::sign_in::{DIRECTOR, PERSON, sign_in, start_api};

const MIB: usize = 1024 * 1024;

async fn pending_rows(stack: &DiiaStack) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pending_logins")
        .fetch_one(&stack.app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn oversized_bodies_to_the_callback_and_the_login_routes_get_a_413_and_change_nothing() {
    let stack = spawn_diia_stack().await;
    // A login in progress that must survive the attack untouched.
    let waiting = stack.start_login().await;

    // The callback, with Content-Length and chunked (no length: the streaming limit counts).
    let huge_form = reqwest::multipart::Form::new().text("encodeData", "A".repeat(MIB));
    let r = stack
        .http
        .post(&stack.callback_url)
        .header("X-Diia-Id-Action", "auth")
        .header("X-Document-Request-Trace-Id", "x")
        .multipart(huge_form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let chunks =
        futures_util::stream::iter((0..16).map(|_| Ok::<_, std::io::Error>(vec![b'A'; 64 * 1024])));
    let r = stack
        .http
        .post(&stack.callback_url)
        .header("X-Diia-Id-Action", "auth")
        .header("content-type", "multipart/form-data; boundary=b")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    // The login form and the JSON start: a page / a JSON error, never a start.
    let mut browser = Browser::new(&stack.app);
    let page = browser
        .get(&stack.app.own_path("/login"))
        .await
        .text()
        .await
        .unwrap();
    let padding = "x".repeat(MIB);
    let r = browser
        .post_form(
            &stack.app.own_path("/login/start"),
            &[
                ("csrf", &csrf_of(&page)),
                ("provider", PROVIDER),
                ("user_hint", &padding),
            ],
        )
        .await;
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("<html"), "an error page");
    let r = stack
        .http
        .post(stack.app.own("/api/login"))
        .header("accept", "application/json")
        .json(&serde_json::json!({ "provider": PROVIDER, "padding": padding }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let error: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error["error"], "payload_too_large");

    // Nothing was started, and the login in progress still completes.
    assert_eq!(pending_rows(&stack).await, 1);
    stack.phone(&waiting, "confirm", "person").await;
    assert_eq!(
        stack.pending(waiting.id).await.state.as_str(),
        "confirmed",
        "the other login was not disturbed"
    );
}

/// An upstream on a raw socket: it tells the test when the first part of a request body has
/// arrived, then waits for the end of the body and answers. Only a gateway that streams gets
/// the first part there before the client has sent the rest.
async fn streaming_upstream(
    listener: TcpListener,
    first_part_arrived: tokio::sync::oneshot::Sender<()>,
) -> usize {
    let (mut socket, _) = listener.accept().await.unwrap();
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut first = Some(first_part_arrived);
    loop {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0, "the gateway closed the upstream connection early");
        seen.extend_from_slice(&buf[..n]);
        if first.is_some() && contains(&seen, b"END-OF-FIRST-PART") {
            first.take().unwrap().send(()).unwrap();
        }
        if contains(&seen, b"END-OF-BODY") {
            break;
        }
    }
    socket
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 8\r\nconnection: close\r\n\r\nreceived")
        .await
        .unwrap();
    seen.len()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn large_bodies_to_the_cabinet_are_streamed_through_unbuffered_and_unlimited() {
    let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_url = format!("http://{}/", upstream.local_addr().unwrap());
    let (stack, _) = spawn_diia_stack_configured(false, |s| {
        let mut uploads = route("/uploads", &upstream_url);
        uploads.public = true;
        s.routes.insert("uploads".to_owned(), uploads);
    })
    .await;
    let (arrived_tx, arrived_rx) = tokio::sync::oneshot::channel();
    let upstream_task = tokio::spawn(streaming_upstream(upstream, arrived_tx));

    // Two parts of 1 MiB each: together 32 × kepgate's own body limit. The second part is sent
    // only once the upstream holds the first.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let body = reqwest::Body::wrap_stream(futures_util::stream::unfold(rx, |mut rx| async {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    let request = stack
        .http
        .post(stack.app.url("/uploads/file"))
        .body(body)
        .send();
    let sender = async move {
        let mut first = vec![b'a'; MIB];
        first.extend_from_slice(b"END-OF-FIRST-PART");
        tx.send(Ok(first)).await.unwrap();
        tokio::time::timeout(Duration::from_secs(20), arrived_rx)
            .await
            .expect("the first part reaches the upstream before the rest is sent: streamed")
            .unwrap();
        let mut rest = vec![b'b'; MIB];
        rest.extend_from_slice(b"END-OF-BODY");
        tx.send(Ok(rest)).await.unwrap();
    };
    let (response, ()) = tokio::join!(request, sender);
    let response = response.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "received");
    assert!(
        upstream_task.await.unwrap() > 2 * MIB,
        "the whole body arrived"
    );
}

#[tokio::test]
async fn slow_loris_headers_are_cut_off_and_the_gateway_serves_on() {
    let app = spawn_app_with(|s| s.server.header_read_timeout = Duration::from_secs(1)).await;
    let healthz = app.own_path("/healthz");
    let mut stream = TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    stream
        .write_all(format!("GET {healthz} HTTP/1.1\r\nHost: x\r\nX-Slow: ").as_bytes())
        .await
        .unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // The client trickles a header byte every 100 ms and never ends it; the pause is the attack
    // itself, not a synchronisation.
    let trickle = tokio::spawn(async move {
        while writer.write_all(b"a").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    // The bound only turns a gateway that never cuts the client off into a failure.
    let read = tokio::time::timeout(Duration::from_secs(30), reader.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the gateway cut the slow client off");
    let answer = String::from_utf8_lossy(&answer);
    assert!(!answer.contains(" 200 "), "never served: {answer}");
    trickle.abort();
    assert_eq!(app.get(&healthz).await.status(), 200);
}

async fn start_json(stack: &DiiaStack, from: &str) -> reqwest::Response {
    stack
        .http
        .post(stack.app.own("/api/login"))
        .header("x-forwarded-for", from)
        .header("accept", "application/json")
        .json(&serde_json::json!({ "provider": PROVIDER }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_flood_of_login_starts_from_many_addresses_is_held_per_address_and_signed_in_users_carry_on()
 {
    // Behind a trusted proxy (this test's loopback), the address is the client's.
    let env = spawn_cabinet_stack(|s, _| {
        s.proxy.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.login.start_rate_per_minute = 2;
    })
    .await;
    let stack = std::sync::Arc::new(env.stack);
    let mut user = sign_in(&stack, PERSON).await;

    let mut flood = tokio::task::JoinSet::new();
    for n in 0..40 {
        for _ in 0..3 {
            let stack = stack.clone();
            flood.spawn(async move {
                let from = format!("198.51.100.{n}");
                let status = start_json(&stack, &from).await.status().as_u16();
                (from, status)
            });
        }
    }
    // During the flood, the signed-in user works in the cabinet.
    for _ in 0..10 {
        let r = user.get("/echo").await;
        assert_eq!(r.status(), 200, "the cabinet during the flood");
    }
    let mut by_address: BTreeMap<String, Vec<u16>> = BTreeMap::new();
    while let Some(done) = flood.join_next().await {
        let (from, status) = done.unwrap();
        by_address.entry(from).or_default().push(status);
    }
    let mut started = 0;
    for (from, statuses) in by_address {
        // Two starts pass the address's limit; each either starts or, when the replica's bound
        // on starts in flight is reached at that moment, gets the 503 «too many logins».
        let limited = statuses.iter().filter(|s| **s == 429).count();
        assert_eq!(limited, 1, "{from}: {statuses:?}");
        assert!(
            statuses.iter().all(|s| matches!(s, 201 | 429 | 503)),
            "{from}: {statuses:?}"
        );
        started += statuses.iter().filter(|s| **s == 201).count();
    }
    assert!(started > 0);
    // The pool is there for everyone: the database answers, the user still works, and a new
    // person from a new address signs in end to end.
    assert_eq!(
        stack.app.get(&stack.app.own_path("/readyz")).await.status(),
        200
    );
    assert_eq!(user.get("/echo").await.status(), 200);
    let mut newcomer = sign_in(&stack, DIRECTOR).await;
    assert_eq!(newcomer.get("/echo").await.status(), 200);
}

#[tokio::test]
async fn the_number_of_waiting_logins_is_bounded_globally_with_a_clear_503() {
    let clock = kepgate::clock::ManualClock::new(crate::diia_stack::now());
    let (stack, _) = crate::diia_stack::spawn_diia_stack_clocked(
        false,
        Some(std::sync::Arc::new(clock.clone())),
        |s| {
            s.proxy.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
            s.login.max_pending = 5;
        },
    )
    .await;
    // Five people from five addresses: each within its own rate limit.
    for n in 0..5 {
        assert_eq!(
            start_json(&stack, &format!("203.0.113.{n}")).await.status(),
            201
        );
    }
    // The sixth, from yet another address, is told the truth: busy, not "you tried too often".
    let r = start_json(&stack, "203.0.113.99").await;
    assert_eq!(r.status(), 503);
    let error: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error["error"], "too_many_logins");
    let mut browser = Browser::new(&stack.app);
    let page = browser
        .get(&stack.app.own_path("/login"))
        .await
        .text()
        .await
        .unwrap();
    let r = browser
        .http
        .post(stack.app.own("/login/start"))
        .header("x-forwarded-for", "203.0.113.100")
        .header("accept-language", "en")
        .header("cookie", browser.cookie_header())
        .form(&[("csrf", csrf_of(&page).as_str()), ("provider", PROVIDER)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Too many logins right now")
    );
    assert_eq!(
        pending_rows(&stack).await,
        5,
        "nothing stored beyond the bound"
    );

    // Once the waiting logins expire, logins start again.
    clock.advance(time::Duration::minutes(4));
    assert_eq!(start_json(&stack, "203.0.113.101").await.status(), 201);
}

/// Dynamic requests the emulator's `slow` fault is holding.
async fn held_at_provider(stack: &DiiaStack) -> usize {
    stack
        .http
        .get(format!("{}/emulator/faults/held", stack.emulator))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn concurrent_login_starts_are_bounded_per_replica_while_the_provider_hangs() {
    let (stack, _) = spawn_diia_stack_configured(false, |s| {
        s.proxy.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.login.max_starts_in_flight = 2;
    })
    .await;
    let faults = stack
        .http
        .post(format!("{}/emulator/faults", stack.emulator))
        .json(&serde_json::json!({ "dynamic": "slow", "slowMs": 60_000 }))
        .send()
        .await
        .unwrap();
    assert!(faults.status().is_success());
    let stack = std::sync::Arc::new(stack);
    let mut hanging = Vec::new();
    for n in 0..2 {
        let stack = stack.clone();
        hanging.push(tokio::spawn(async move {
            start_json(&stack, &format!("192.0.2.{n}")).await.status()
        }));
    }
    // Both hold their slot once the provider holds their request (the pending row is written
    // only after the provider answers).
    while held_at_provider(&stack).await < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let r = start_json(&stack, "192.0.2.50").await;
    assert_eq!(r.status(), 503);
    let error: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error["error"], "too_many_logins");
    assert_eq!(held_at_provider(&stack).await, 2);
    assert_eq!(pending_rows(&stack).await, 0);
    assert_eq!(
        stack.app.get(&stack.app.own_path("/readyz")).await.status(),
        200
    );
    for task in hanging {
        task.abort();
    }
}

// ---------- security headers on every kind of response ----------

struct Checked {
    html_pages: usize,
    responses: usize,
}

fn check_headers(what: &str, response: &reqwest::Response, https: bool, checked: &mut Checked) {
    let h = response.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP: {h:?}"))
        .to_str()
        .unwrap();
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src") || d.starts_with("default-src"))
        .unwrap_or_default();
    assert!(
        !csp.contains("'unsafe-inline'") && !csp.contains("'unsafe-eval'"),
        "{what}: {csp}"
    );
    assert!(
        !script_src.is_empty(),
        "{what}: scripts are governed: {csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(h.get("referrer-policy").is_some(), "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert!(h.get("server").is_none(), "{what}: a server banner");
    assert_eq!(
        h.get("strict-transport-security").is_some(),
        https,
        "{what}: HSTS exactly on https"
    );
    checked.responses += 1;
}

/// No inline script: every `<script` has a `src`, and no inline event handlers.
fn check_html(what: &str, html: &str, checked: &mut Checked) {
    for tag in html.split("<script").skip(1) {
        let tag = tag.split('>').next().unwrap_or_default();
        assert!(tag.contains("src="), "{what}: inline <script{tag}>");
    }
    assert!(!html.contains(" onclick="), "{what}: inline handler");
    assert!(!html.contains(" onload="), "{what}: inline handler");
    checked.html_pages += 1;
}

async fn walk_every_kind_of_page(https: bool) -> Checked {
    // Port 1: never handed out as an ephemeral port, so no other test's listener can take it
    // (a port bound and released here could be, and then the upstream was not down).
    let dead_url = "http://127.0.0.1:1/".to_owned();
    let env = spawn_cabinet_stack(|s, _| {
        if https {
            // Links for phones stay on plain http: the test client cannot speak TLS to it.
            s.server.public_base_url = Some(s.server.base_url.clone());
            let url = s
                .server
                .base_url
                .as_str()
                .replacen("http://", "https://", 1);
            s.server.base_url = url.parse().unwrap();
        }
        s.login.start_rate_per_minute = 4;
        s.routes
            .insert("gone".to_owned(), route("/gone", &dead_url));
    })
    .await;
    let stack = &env.stack;
    let mut c = Checked {
        html_pages: 0,
        responses: 0,
    };
    let own = |below: &str| stack.app.own_path(below);
    let mut browser = Browser::new(&stack.app);
    // First, as it starts a login of its own (the rate limit is 4 per address here).
    let mut user = sign_in(stack, PERSON).await;

    macro_rules! page {
        ($what:expr, $response:expr, $status:expr) => {{
            let r = $response;
            assert_eq!(r.status().as_u16(), $status, "{}", $what);
            check_headers($what, &r, https, &mut c);
            let is_html = r
                .headers()
                .get("content-type")
                .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"));
            let text = r.text().await.unwrap();
            if is_html {
                check_html($what, &text, &mut c);
            }
            text
        }};
    }

    let login = page!("login page", browser.get(&own("/login")).await, 200);
    assert!(login.contains("<form"), "the login page");
    page!("cabinet without a session", browser.get("/").await, 303);
    page!("healthz", browser.get(&own("/healthz")).await, 200);
    page!("readyz", browser.get(&own("/readyz")).await, 200);
    page!("jwks", browser.get(&own("/jwks.json")).await, 200);
    page!(
        "stylesheet",
        browser.get(&own("/static/kepgate.css")).await,
        200
    );
    page!("script", browser.get(&own("/static/login.js")).await, 200);
    page!("forward-auth", browser.get(&own("/auth")).await, 401);
    page!("404", browser.get(&own("/nothing")).await, 404);
    page!(
        "403 (no CSRF token)",
        browser
            .post_form(
                &own("/login/start"),
                &[("csrf", "forged"), ("provider", PROVIDER)]
            )
            .await,
        403
    );
    page!(
        "400 (unknown provider)",
        browser
            .post_form(
                &own("/login/start"),
                &[("csrf", &csrf_of(&login)), ("provider", "nope")],
            )
            .await,
        400
    );
    page!(
        "413",
        browser
            .http
            .post(browser.url(&own("/login/start")))
            .body(vec![b'x'; MIB])
            .send()
            .await
            .unwrap(),
        413
    );
    page!(
        "callback answer",
        stack.post_callback("x", "not base64".to_owned()).await,
        400
    );

    // A login: the waiting page, its QR code and event stream, and the phone's check page.
    let started = browser
        .post_form(
            &own("/login/start"),
            &[("csrf", &csrf_of(&login)), ("provider", PROVIDER)],
        )
        .await;
    assert_eq!(started.status(), 303);
    let wait_path = started.headers()["location"].to_str().unwrap().to_owned();
    let id = wait_path.rsplit('/').next().unwrap().to_owned();
    check_headers("login start (303)", &started, https, &mut c);
    page!("wait page", browser.get(&wait_path).await, 200);
    page!(
        "QR image",
        browser.get(&own(&format!("/login/qr/{id}"))).await,
        200
    );
    let events = browser
        .http
        .get(browser.url(&own(&format!("/login/events/{id}"))))
        .header("accept", "text/event-stream")
        .header("cookie", browser.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    check_headers("SSE", &events, https, &mut c);
    drop(events);
    let mut api = Browser::new(&stack.app);
    let link = start_api(&mut api).await.link;
    let mut phone = Browser::new(&stack.app);
    let phone_page = page!("phone check", phone.get(&link).await, 200);
    assert!(phone_page.contains("<form"), "the phone check page");
    let declined = page!(
        "phone declines",
        phone
            .post_form(
                &link,
                &[
                    ("csrf", &csrf_of(&phone_page)),
                    ("opened", &opened_of(&phone_page)),
                    ("choice", "decline")
                ]
            )
            .await,
        410
    );
    assert!(declined.contains("<html"));
    page!(
        "410 (link of a declined login)",
        phone.get(&link).await,
        410
    );
    page!(
        "429",
        browser
            .post_form(
                &own("/login/start"),
                &[("csrf", &csrf_of(&login)), ("provider", PROVIDER)],
            )
            .await,
        429
    );

    // Signed in: /me, a 502 page in the cabinet's space, and logout.
    let me = page!("me", user.get(&own("/me")).await, 200);
    page!("502 (upstream down)", user.get("/gone/x").await, 502);
    page!("forward-auth signed in", user.get(&own("/auth")).await, 200);
    page!(
        "logout",
        user.post_form(&own("/logout"), &[("csrf", &csrf_of(&me))])
            .await,
        303
    );
    c
}

#[tokio::test]
async fn every_kind_of_page_carries_the_security_headers_on_http() {
    let checked = walk_every_kind_of_page(false).await;
    assert!(checked.responses >= 25 && checked.html_pages >= 8);
}

#[tokio::test]
async fn every_kind_of_page_carries_the_security_headers_and_hsts_on_https() {
    let checked = walk_every_kind_of_page(true).await;
    assert!(checked.responses >= 25 && checked.html_pages >= 8);
}

/// The phone page's signed opening stamp (its hidden `opened` field).
fn opened_of(page: &str) -> String {
    let marker = "name=\"opened\" value=\"";
    let at = page.find(marker).expect("an opening stamp") + marker.len();
    page[at..].split('"').next().unwrap().to_owned()
}
