//! The «Хмарне сховище» login end to end over real HTTP: page → start → waiting (SSE) →
//! the emulator as the phone → callback → completion → a working session.

use crate::browser::{Browser, csrf_of};
use crate::diia_stack::{
    DiiaStack, StackOptions, spawn_diia_stack, spawn_diia_stack_with, spawn_diia_stack_with_options,
};
use crate::helpers::OTHER_PREFIX;
use crate::sign_in::{
    PERSON, complete_on_page, phone_confirms, phone_declines, provider_deeplink, start_on_page,
    urlencode, wait_for_phone, waiting_page,
};

#[tokio::test]
async fn full_login_pushes_the_browser_and_opens_a_session() {
    full_login(StackOptions::default()).await;
}

#[tokio::test]
async fn full_login_works_under_another_route_prefix() {
    full_login(StackOptions::under(OTHER_PREFIX)).await;
}

/// The whole login written out step by step: it is what this test is about.
async fn full_login(options: StackOptions) {
    let (stack, _) = spawn_diia_stack_with_options(options, |_| {}).await;
    let app = &stack.app;
    let mut browser = Browser::new(app);

    // An unauthenticated page request goes to the login page with a safe return path.
    let response = browser.get("/reports/2026?q=1").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        app.own_path("/login?rd=%2Freports%2F2026%3Fq%3D1").as_str()
    );

    let id = start_on_page(&mut browser, "/reports/2026?q=1").await;
    let wait = browser
        .get(&app.own_path(&format!("/login/wait/{id}")))
        .await;
    assert_eq!(wait.status(), 200);
    let html = wait.text().await.unwrap();
    assert!(html.contains("<svg"), "a QR code");
    // The page holds a rotating kepgate link, never the provider's static deeplink.
    let shown = crate::sign_in::deeplink_of(&html);
    assert!(shown.starts_with(&app.own("/q/")), "{shown}");
    let deeplink = browser.provider_link(&shown).await;
    assert!(
        deeplink.contains("/acquirers/offer-request/dynamic/"),
        "{deeplink}"
    );

    let mut events = browser
        .events(&app.own_path(&format!("/login/events/{id}")))
        .await;
    let (name, data) = events.next_event().await.unwrap();
    assert_eq!(
        (name.as_str(), data["state"].as_str()),
        ("state", Some("pending"))
    );

    // The phone confirms; the browser is pushed, nobody polls.
    phone_confirms(&stack, &deeplink, PERSON).await;
    let (_, data) = events.next_event().await.unwrap();
    assert_eq!(data["state"], "confirmed");
    assert!(
        events.next_event().await.is_none(),
        "the stream ends after a final state"
    );

    let csrf = csrf_of(&html);
    let response = browser
        .post_form(
            &app.own_path(&format!("/login/complete/{id}")),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/reports/2026?q=1");
    let session_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("kepgate_session="))
        .expect("a session cookie");
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));

    let page = browser.get("/reports/2026?q=1").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("Шевченко Тарас Григорович"), "{html}");

    // Logout ends it server-side.
    let csrf = csrf_of(&html);
    let response = browser
        .post_form(&app.own_path("/logout"), &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(browser.get("/reports/2026?q=1").await.status(), 303);
}

#[tokio::test]
async fn the_callback_can_land_on_another_replica() {
    // Two gateways on one database; the emulator calls back replica B while the browser waits on A.
    let (stack, replica_b) = spawn_diia_stack_with(true).await;
    let replica_b = replica_b.unwrap();
    assert!(stack.callback_url.starts_with(&replica_b.address));
    let mut browser = Browser::new(&stack.app);
    let waiting = wait_for_phone(&mut browser, "/").await;
    let mut events = browser
        .events(&browser.own(&format!("/login/events/{}", waiting.id)))
        .await;
    assert_eq!(events.next_event().await.unwrap().1["state"], "pending");
    let deeplink = provider_deeplink(&mut browser, &waiting).await;
    phone_confirms(&stack, &deeplink, PERSON).await;
    assert_eq!(
        events.next_event().await.unwrap().1["state"],
        "confirmed",
        "A heard B's NOTIFY"
    );
}

#[tokio::test]
async fn a_login_survives_a_gateway_restart_between_start_and_callback() {
    let mut stack = spawn_diia_stack().await;
    let mut browser = Browser::new(&stack.app);
    let waiting = wait_for_phone(&mut browser, "/after-restart").await;

    stack.restart_gateway().await;

    let deeplink = provider_deeplink(&mut browser, &waiting).await;
    phone_confirms(&stack, &deeplink, PERSON).await;
    let response = complete_on_page(&mut browser, &waiting).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/after-restart");
}

#[tokio::test]
async fn completion_from_another_browser_is_refused() {
    let stack = spawn_diia_stack().await;
    let mut browser = Browser::new(&stack.app);
    let waiting = wait_for_phone(&mut browser, "/").await;
    let deeplink = provider_deeplink(&mut browser, &waiting).await;
    phone_confirms(&stack, &deeplink, PERSON).await;
    let complete = stack
        .app
        .own_path(&format!("/login/complete/{}", waiting.id));

    // The attacker has the id (and even a CSRF pair of their own) but not the binding cookie.
    let mut attacker = Browser::new(&stack.app);
    let page = attacker
        .get(&stack.app.own_path("/login"))
        .await
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let response = attacker.post_form(&complete, &[("csrf", &csrf)]).await;
    assert_eq!(response.status(), 403);
    assert!(!attacker.cookies.contains_key("kepgate_session"));
    // With a binding cookie of their own (from their own login start) it is still refused.
    start_on_page(&mut attacker, "/").await;
    let response = attacker.post_form(&complete, &[("csrf", &csrf)]).await;
    assert_eq!(response.status(), 403);
    // Nor can they watch it.
    assert_eq!(
        attacker
            .get(&stack.app.own_path(&format!("/login/wait/{}", waiting.id)))
            .await
            .status(),
        404
    );

    // The rightful browser still completes.
    let response = complete_on_page(&mut browser, &waiting).await;
    assert_eq!(response.status(), 303);
}

#[tokio::test]
async fn a_second_completion_is_refused() {
    let stack = spawn_diia_stack().await;
    let mut browser = Browser::new(&stack.app);
    let waiting = wait_for_phone(&mut browser, "/").await;
    let deeplink = provider_deeplink(&mut browser, &waiting).await;
    phone_confirms(&stack, &deeplink, PERSON).await;
    let binding = browser.cookies.get("kepgate_bind").cloned().unwrap();
    assert_eq!(complete_on_page(&mut browser, &waiting).await.status(), 303);
    // Replay with the same binding cookie: the login was consumed.
    browser.cookies.insert("kepgate_bind".to_owned(), binding);
    let response = complete_on_page(&mut browser, &waiting).await;
    assert_eq!(response.status(), 409);
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&stack.app.db)
        .await
        .unwrap();
    assert_eq!(sessions, 1);
}

#[tokio::test]
async fn declined_and_expired_logins_cannot_be_completed_and_say_so() {
    let stack = spawn_diia_stack().await;
    let mut browser = Browser::new(&stack.app);

    let waiting = wait_for_phone(&mut browser, "/").await;
    let mut events = browser
        .events(&browser.own(&format!("/login/events/{}", waiting.id)))
        .await;
    events.next_event().await.unwrap();
    let deeplink = provider_deeplink(&mut browser, &waiting).await;
    phone_declines(&stack, &deeplink).await;
    assert_eq!(events.next_event().await.unwrap().1["state"], "rejected");
    let response = complete_on_page(&mut browser, &waiting).await;
    assert_eq!(response.status(), 409);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Запит відхилено") || page.contains("declined"),
        "{page}"
    );
    assert!(page.contains("Отримати нове посилання") || page.contains("Get a new link"));

    let id = start_on_page(&mut browser, "/").await;
    let mut events = browser
        .events(&browser.own(&format!("/login/events/{id}")))
        .await;
    events.next_event().await.unwrap();
    sqlx::query("UPDATE pending_logins SET expires_at = now() WHERE id = $1::uuid")
        .bind(&id)
        .execute(&stack.app.db)
        .await
        .unwrap();
    // The sweeper (or our own timer) announces it; the waiting browser hears it.
    let swept =
        kepgate::login::pending::expire_overdue(&stack.app.db, time::OffsetDateTime::now_utc())
            .await
            .unwrap();
    assert_eq!(swept, 1);
    assert_eq!(events.next_event().await.unwrap().1["state"], "expired");
    let response = browser
        .post_form(
            &browser.own(&format!("/login/complete/{id}")),
            &[("csrf", &waiting.csrf())],
        )
        .await;
    assert_eq!(response.status(), 409);
}

/// The waiting browser's stream says `expired` at the login's deadline by itself, not at the
/// next sweep (every 15 s): the event comes at the deadline and the row says expired with it.
#[tokio::test]
async fn the_event_stream_announces_the_expiry_at_the_deadline() {
    const LIFETIME: std::time::Duration = std::time::Duration::from_secs(3);
    // The sweeper runs when the gateway starts and then every 15 s: a login started after this
    // instant and expired well before `sweep_free` was expired by no sweep.
    let spawned = std::time::Instant::now();
    let (stack, _) = crate::diia_stack::spawn_diia_stack_configured(false, |s| {
        let Some(kepgate::config::ProviderSettings::Diia(diia)) = s.providers.get_mut("diia")
        else {
            unreachable!("the stack runs Diia")
        };
        diia.common.request_ttl = LIFETIME;
    })
    .await;
    let sweep_free = spawned + std::time::Duration::from_secs(15);
    let mut browser = Browser::new(&stack.app);
    let id = start_on_page(&mut browser, "/").await;
    let mut events = browser
        .events(&browser.own(&format!("/login/events/{id}")))
        .await;
    assert_eq!(events.next_event().await.unwrap().1["state"], "pending");
    let deadline: time::OffsetDateTime =
        sqlx::query_scalar("SELECT expires_at FROM pending_logins WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&stack.app.db)
            .await
            .unwrap();

    let (name, data) = tokio::time::timeout(LIFETIME * 3, events.next_event())
        .await
        .expect("the expiry is announced within the login's lifetime after its deadline")
        .expect("an event, not the end of the stream");
    let heard = time::OffsetDateTime::now_utc();
    let arrived = std::time::Instant::now();
    assert_eq!(
        (name.as_str(), &data["state"]),
        ("state", &"expired".into())
    );
    assert_eq!(data["message"], "Час дії посилання минув.");
    assert!(
        heard >= deadline,
        "announced at {heard}, before the deadline {deadline}"
    );
    assert!(
        heard - deadline < time::Duration::seconds(2),
        "announced at {heard}, {} after the deadline {deadline}",
        heard - deadline
    );
    assert!(
        arrived < sweep_free,
        "the stack took so long to start that a sweep may have run: the test proves nothing"
    );
    let state: String = sqlx::query_scalar("SELECT state FROM pending_logins WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&stack.app.db)
        .await
        .unwrap();
    assert_eq!(state, "expired", "the stream recorded it");
    // The last event, then the stream ends.
    assert!(events.next_event().await.is_none());
}

#[tokio::test]
async fn starting_without_a_csrf_token_is_refused() {
    let stack = spawn_diia_stack().await;
    let (login, start) = (
        stack.app.own_path("/login"),
        stack.app.own_path("/login/start"),
    );
    let mut browser = Browser::new(&stack.app);
    browser.get(&login).await;
    let response = browser
        .post_form(
            &start,
            &[
                ("csrf", "forged-token-forged-token-forged-token-xxxx"),
                ("provider", "diia"),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
    let response = browser.post_form(&start, &[("provider", "diia")]).await;
    assert!(response.status().is_client_error());
    // A cross-site form carrying the right token is still refused by its Origin.
    let page = browser.get(&login).await.text().await.unwrap();
    let csrf = csrf_of(&page);
    let response = browser
        .http
        .post(browser.url(&start))
        .header("origin", "https://evil.example")
        .header(
            "cookie",
            format!("kepgate_csrf={}", browser.cookies["kepgate_csrf"]),
        )
        .form(&[("csrf", csrf.as_str()), ("provider", "diia")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let started: i64 = sqlx::query_scalar("SELECT count(*) FROM pending_logins")
        .fetch_one(&stack.app.db)
        .await
        .unwrap();
    assert_eq!(started, 0);
}

#[tokio::test]
async fn return_paths_to_other_origins_end_at_the_root() {
    let stack = spawn_diia_stack().await;
    for evil in [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
    ] {
        let mut browser = Browser::new(&stack.app);
        let page = browser
            .get(
                &stack
                    .app
                    .own_path(&format!("/login?rd={}", urlencode(evil))),
            )
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("name=\"rd\" value=\"&#x2f;\"")
                || page.contains("name=\"rd\" value=\"/\""),
            "{evil}"
        );
        // Even if posted directly, the stored return path is safe.
        let id = {
            let csrf = csrf_of(&page);
            let response = browser
                .post_form(
                    &stack.app.own_path("/login/start"),
                    &[("csrf", &csrf), ("provider", "diia"), ("rd", evil)],
                )
                .await;
            response.headers()["location"]
                .to_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        };
        let waiting = crate::sign_in::Waiting {
            page: waiting_page(&mut browser, &id).await,
            id,
        };
        let deeplink = provider_deeplink(&mut browser, &waiting).await;
        phone_confirms(&stack, &deeplink, PERSON).await;
        let response = complete_on_page(&mut browser, &waiting).await;
        assert_eq!(response.headers()["location"], "/", "{evil}");
    }
}

#[tokio::test]
async fn api_clients_get_401_and_can_log_in_with_json() {
    api_login(StackOptions::default()).await;
}

#[tokio::test]
async fn api_clients_log_in_with_json_under_another_route_prefix() {
    api_login(StackOptions::under(OTHER_PREFIX)).await;
}

/// The JSON login written out: it is what this test is about.
async fn api_login(options: StackOptions) {
    let (stack, _) = spawn_diia_stack_with_options(options, |_| {}).await;
    let app = &stack.app;
    let mut client = Browser::new(app);
    let response = client
        .http
        .get(client.url("/api/orders"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let response = client
        .post_json(
            &app.own_path("/api/login"),
            serde_json::json!({ "provider": "diia", "return_path": "/api/orders" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let started: serde_json::Value = response.json().await.unwrap();
    let id = started["id"].as_str().unwrap().to_owned();
    // Every address in the answer is under the configured prefix.
    for (field, below) in [
        ("qr_url", format!("/login/qr/{id}")),
        ("events_url", format!("/login/events/{id}")),
        ("complete_url", format!("/api/login/{id}/complete")),
    ] {
        assert_eq!(started[field], app.own_path(&below), "{started}");
    }
    let link = client
        .provider_link(started["link"].as_str().unwrap())
        .await;
    assert!(link.contains("/acquirers/offer-request/dynamic/"), "{link}");
    let qr = client.get(started["qr_url"].as_str().unwrap()).await;
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");

    let mut events = client.events(started["events_url"].as_str().unwrap()).await;
    assert_eq!(events.next_event().await.unwrap().1["state"], "pending");
    phone_confirms(&stack, &link, PERSON).await;
    assert_eq!(events.next_event().await.unwrap().1["state"], "confirmed");

    let response = client
        .post_json(
            started["complete_url"].as_str().unwrap(),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["return_path"],
        "/api/orders"
    );
    assert!(client.cookies.contains_key("kepgate_session"), "{id}");
}

#[tokio::test]
async fn login_starts_are_rate_limited_per_address() {
    let stack = spawn_diia_stack_with_rate(3).await;
    let (login, start) = (
        stack.app.own_path("/login"),
        stack.app.own_path("/login/start"),
    );
    let mut browser = Browser::new(&stack.app);
    for _ in 0..3 {
        let page = browser.get(&login).await.text().await.unwrap();
        let r = browser
            .post_form(&start, &[("csrf", &csrf_of(&page)), ("provider", "diia")])
            .await;
        assert_eq!(r.status(), 303);
    }
    let page = browser.get(&login).await.text().await.unwrap();
    let r = browser
        .post_form(&start, &[("csrf", &csrf_of(&page)), ("provider", "diia")])
        .await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("Забагато спроб"));
}

async fn spawn_diia_stack_with_rate(rate: u32) -> DiiaStack {
    crate::diia_stack::spawn_diia_stack_configured(false, |s| s.login.start_rate_per_minute = rate)
        .await
        .0
}
