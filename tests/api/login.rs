//! The «Хмарне сховище» login end to end over real HTTP: page → start → waiting (SSE) →
//! the emulator as the phone → callback → completion → a working session.

use crate::browser::{Browser, csrf_of};
use crate::diia_stack::{DiiaStack, spawn_diia_stack, spawn_diia_stack_with};

/// Desktop browser: from a cabinet URL to the waiting page. Returns the pending login id.
pub async fn start_in_browser(browser: &mut Browser, rd: &str) -> String {
    let response = press_get_link(browser, rd).await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/.kepgate/login/wait/"), "{location}");
    location.rsplit('/').next().unwrap().to_owned()
}

/// The login page, then «Отримати посилання» with Diia chosen: the answer to the press.
pub async fn press_get_link(browser: &mut Browser, rd: &str) -> reqwest::Response {
    let response = browser
        .get(&format!("/.kepgate/login?rd={}", urlencode(rd)))
        .await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Хмарне сховище") || html.contains("Cloud storage"));
    assert!(html.contains("Дія.Підпис"), "the provider is offered");
    let csrf = csrf_of(&html);
    browser
        .post_form(
            "/.kepgate/login/start",
            &[("csrf", &csrf), ("provider", "diia"), ("rd", rd)],
        )
        .await
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub async fn emulator_answer(stack: &DiiaStack, deeplink: &str, action: &str) {
    let n = deeplink.rsplit('/').next().unwrap();
    let response = stack
        .http
        .post(format!("{}/emulator/requests/{n}/{action}", stack.emulator))
        .json(&serde_json::json!({ "identity": "person" }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

pub fn deeplink_of(html: &str) -> String {
    let at = html
        .find("id=\"deeplink\" href=\"")
        .expect("deeplink on the page")
        + "id=\"deeplink\" href=\"".len();
    html[at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn full_login_pushes_the_browser_and_opens_a_session() {
    let stack = spawn_diia_stack().await;
    let mut browser = Browser::new(&stack.app.address);

    // An unauthenticated page request goes to the login page with a safe return path.
    let response = browser.get("/reports/2026?q=1").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/.kepgate/login?rd=%2Freports%2F2026%3Fq%3D1"
    );

    let id = start_in_browser(&mut browser, "/reports/2026?q=1").await;
    let wait = browser.get(&format!("/.kepgate/login/wait/{id}")).await;
    assert_eq!(wait.status(), 200);
    let html = wait.text().await.unwrap();
    assert!(html.contains("<svg"), "a QR code");
    // The page holds a rotating kepgate link, never the provider's static deeplink.
    let shown = deeplink_of(&html);
    assert!(shown.contains("/.kepgate/q/"), "{shown}");
    let deeplink = browser.provider_link(&shown).await;
    assert!(
        deeplink.contains("/acquirers/offer-request/dynamic/"),
        "{deeplink}"
    );

    let mut events = browser
        .events(&format!("/.kepgate/login/events/{id}"))
        .await;
    let (name, data) = events.next_event().await.unwrap();
    assert_eq!(
        (name.as_str(), data["state"].as_str()),
        ("state", Some("pending"))
    );

    // The phone confirms; the browser is pushed, nobody polls.
    emulator_answer(&stack, &deeplink, "confirm").await;
    let (_, data) = events.next_event().await.unwrap();
    assert_eq!(data["state"], "confirmed");
    assert!(
        events.next_event().await.is_none(),
        "the stream ends after a final state"
    );

    let csrf = csrf_of(&html);
    let response = browser
        .post_form(
            &format!("/.kepgate/login/complete/{id}"),
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
        .post_form("/.kepgate/logout", &[("csrf", &csrf)])
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
    let mut browser = Browser::new(&stack.app.address);
    let id = start_in_browser(&mut browser, "/").await;
    let html = browser
        .get(&format!("/.kepgate/login/wait/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let mut events = browser
        .events(&format!("/.kepgate/login/events/{id}"))
        .await;
    assert_eq!(events.next_event().await.unwrap().1["state"], "pending");
    emulator_answer(
        &stack,
        &browser.provider_link(&deeplink_of(&html)).await,
        "confirm",
    )
    .await;
    assert_eq!(
        events.next_event().await.unwrap().1["state"],
        "confirmed",
        "A heard B's NOTIFY"
    );
}

#[tokio::test]
async fn a_login_survives_a_gateway_restart_between_start_and_callback() {
    let mut stack = spawn_diia_stack().await;
    let mut browser = Browser::new(&stack.app.address);
    let id = start_in_browser(&mut browser, "/after-restart").await;
    let html = browser
        .get(&format!("/.kepgate/login/wait/{id}"))
        .await
        .text()
        .await
        .unwrap();

    stack.restart_gateway().await;

    emulator_answer(
        &stack,
        &browser.provider_link(&deeplink_of(&html)).await,
        "confirm",
    )
    .await;
    let csrf = csrf_of(&html);
    let response = browser
        .post_form(
            &format!("/.kepgate/login/complete/{id}"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/after-restart");
}

#[tokio::test]
async fn completion_from_another_browser_is_refused() {
    let stack = spawn_diia_stack().await;
    let mut browser = Browser::new(&stack.app.address);
    let id = start_in_browser(&mut browser, "/").await;
    let html = browser
        .get(&format!("/.kepgate/login/wait/{id}"))
        .await
        .text()
        .await
        .unwrap();
    emulator_answer(
        &stack,
        &browser.provider_link(&deeplink_of(&html)).await,
        "confirm",
    )
    .await;

    // The attacker has the id (and even a CSRF pair of their own) but not the binding cookie.
    let mut attacker = Browser::new(&stack.app.address);
    let page = attacker.get("/.kepgate/login").await.text().await.unwrap();
    let csrf = csrf_of(&page);
    let response = attacker
        .post_form(
            &format!("/.kepgate/login/complete/{id}"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert!(!attacker.cookies.contains_key("kepgate_session"));
    // With a binding cookie of their own (from their own login start) it is still refused.
    start_in_browser(&mut attacker, "/").await;
    let response = attacker
        .post_form(
            &format!("/.kepgate/login/complete/{id}"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(response.status(), 403);
    // Nor can they watch it.
    assert_eq!(
        attacker
            .get(&format!("/.kepgate/login/wait/{id}"))
            .await
            .status(),
        404
    );

    // The rightful browser still completes.
    let csrf = csrf_of(&html);
    let response = browser
        .post_form(
            &format!("/.kepgate/login/complete/{id}"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(response.status(), 303);
}

#[tokio::test]
async fn a_second_completion_is_refused() {
    let stack = spawn_diia_stack().await;
    let mut browser = Browser::new(&stack.app.address);
    let id = start_in_browser(&mut browser, "/").await;
    let html = browser
        .get(&format!("/.kepgate/login/wait/{id}"))
        .await
        .text()
        .await
        .unwrap();
    emulator_answer(
        &stack,
        &browser.provider_link(&deeplink_of(&html)).await,
        "confirm",
    )
    .await;
    let csrf = csrf_of(&html);
    let binding = browser.cookies.get("kepgate_bind").cloned().unwrap();
    assert_eq!(
        browser
            .post_form(
                &format!("/.kepgate/login/complete/{id}"),
                &[("csrf", &csrf)]
            )
            .await
            .status(),
        303
    );
    // Replay with the same binding cookie: the login was consumed.
    browser.cookies.insert("kepgate_bind".to_owned(), binding);
    let response = browser
        .post_form(
            &format!("/.kepgate/login/complete/{id}"),
            &[("csrf", &csrf)],
        )
        .await;
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
    let mut browser = Browser::new(&stack.app.address);

    let id = start_in_browser(&mut browser, "/").await;
    let html = browser
        .get(&format!("/.kepgate/login/wait/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let mut events = browser
        .events(&format!("/.kepgate/login/events/{id}"))
        .await;
    events.next_event().await.unwrap();
    emulator_answer(
        &stack,
        &browser.provider_link(&deeplink_of(&html)).await,
        "decline",
    )
    .await;
    assert_eq!(events.next_event().await.unwrap().1["state"], "rejected");
    let csrf = csrf_of(&html);
    let response = browser
        .post_form(
            &format!("/.kepgate/login/complete/{id}"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(response.status(), 409);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Запит відхилено") || page.contains("declined"),
        "{page}"
    );
    assert!(page.contains("Отримати нове посилання") || page.contains("Get a new link"));

    let id = start_in_browser(&mut browser, "/").await;
    let mut events = browser
        .events(&format!("/.kepgate/login/events/{id}"))
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
            &format!("/.kepgate/login/complete/{id}"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(response.status(), 409);
}

#[tokio::test]
async fn starting_without_a_csrf_token_is_refused() {
    let stack = spawn_diia_stack().await;
    let mut browser = Browser::new(&stack.app.address);
    browser.get("/.kepgate/login").await;
    let response = browser
        .post_form(
            "/.kepgate/login/start",
            &[
                ("csrf", "forged-token-forged-token-forged-token-xxxx"),
                ("provider", "diia"),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
    let response = browser
        .post_form("/.kepgate/login/start", &[("provider", "diia")])
        .await;
    assert!(response.status().is_client_error());
    // A cross-site form carrying the right token is still refused by its Origin.
    let page = browser.get("/.kepgate/login").await.text().await.unwrap();
    let csrf = csrf_of(&page);
    let response = browser
        .http
        .post(browser.url("/.kepgate/login/start"))
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
        let mut browser = Browser::new(&stack.app.address);
        let page = browser
            .get(&format!("/.kepgate/login?rd={}", urlencode(evil)))
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
                    "/.kepgate/login/start",
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
        let html = browser
            .get(&format!("/.kepgate/login/wait/{id}"))
            .await
            .text()
            .await
            .unwrap();
        emulator_answer(
            &stack,
            &browser.provider_link(&deeplink_of(&html)).await,
            "confirm",
        )
        .await;
        let response = browser
            .post_form(
                &format!("/.kepgate/login/complete/{id}"),
                &[("csrf", &csrf_of(&html))],
            )
            .await;
        assert_eq!(response.headers()["location"], "/", "{evil}");
    }
}

#[tokio::test]
async fn api_clients_get_401_and_can_log_in_with_json() {
    let stack = spawn_diia_stack().await;
    let mut client = Browser::new(&stack.app.address);
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
            "/.kepgate/api/login",
            serde_json::json!({ "provider": "diia", "return_path": "/api/orders" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let started: serde_json::Value = response.json().await.unwrap();
    let id = started["id"].as_str().unwrap().to_owned();
    let link = client
        .provider_link(started["link"].as_str().unwrap())
        .await;
    assert!(link.contains("/acquirers/offer-request/dynamic/"), "{link}");
    let qr = client.get(started["qr_url"].as_str().unwrap()).await;
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");

    let mut events = client.events(started["events_url"].as_str().unwrap()).await;
    assert_eq!(events.next_event().await.unwrap().1["state"], "pending");
    emulator_answer(&stack, &link, "confirm").await;
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
    let (stack, _) = spawn_diia_stack_with_rate(3).await;
    let mut browser = Browser::new(&stack.app.address);
    for _ in 0..3 {
        let page = browser.get("/.kepgate/login").await.text().await.unwrap();
        let r = browser
            .post_form(
                "/.kepgate/login/start",
                &[("csrf", &csrf_of(&page)), ("provider", "diia")],
            )
            .await;
        assert_eq!(r.status(), 303);
    }
    let page = browser.get("/.kepgate/login").await.text().await.unwrap();
    let r = browser
        .post_form(
            "/.kepgate/login/start",
            &[("csrf", &csrf_of(&page)), ("provider", "diia")],
        )
        .await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("Забагато спроб"));
}

async fn spawn_diia_stack_with_rate(rate: u32) -> (DiiaStack, ()) {
    (
        crate::diia_stack::spawn_diia_stack_configured(false, |s| {
            s.login.start_rate_per_minute = rate
        })
        .await
        .0,
        (),
    )
}
