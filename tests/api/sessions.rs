//! Sessions: idle and absolute timeouts on an injected clock, the shared-computer
//! choice, revocation seen by a second replica, the person's own page, and the administrators'
//! commands — over real HTTP, on real PostgreSQL.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kepgate::clock::ManualClock;
use kepgate::config::Settings;
use kepgate::identity::{Edrpou, Rnokpp, SignerIdentity};
use kepgate::login::pending::{self, NewPendingLogin, Outcome, PendingLoginId};
use kepgate::provider::{HashAlgorithm, RequestHash};
use kepgate::return_path::ReturnPath;
use kepgate::session::{self, EndedBy, NewSession, Whom};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::browser::{Browser, csrf_of};
use crate::diia_stack::{
    DiiaStack, StackOptions, spawn_diia_stack_clocked, spawn_diia_stack_with_options,
};
use crate::helpers::{OTHER_PREFIX, TestApp, kepgate_bin, spawn_app};
use crate::sign_in::{
    PERSON, on_shared_pc, phone_declines, provider_deeplink, sign_in_on_pages, urlencode,
    wait_for_phone,
};

const PERSON_RNOKPP: &str = "3652504575";
/// The emulator's test identity "person".
const EMULATOR_PERSON_RNOKPP: &str = "3012345670";

fn clock() -> ManualClock {
    ManualClock::new(OffsetDateTime::now_utc())
}

async fn stack_on(clock: &ManualClock, configure: impl FnOnce(&mut Settings)) -> DiiaStack {
    spawn_diia_stack_clocked(false, Some(Arc::new(clock.clone())), configure)
        .await
        .0
}

/// Like [`stack_on`], kepgate's own routes under `prefix`.
async fn stack_under(clock: &ManualClock, prefix: &str) -> DiiaStack {
    let options = StackOptions {
        clock: Some(Arc::new(clock.clone())),
        ..StackOptions::under(prefix)
    };
    spawn_diia_stack_with_options(options, |_| {}).await.0
}

fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("kepgate_session="))
        .expect("a session cookie")
}

async fn last_seen_in_db(db: &PgPool) -> OffsetDateTime {
    sqlx::query_scalar::<_, OffsetDateTime>("SELECT last_seen_at FROM sessions")
        .fetch_one(db)
        .await
        .unwrap()
}

/// The browser is sent to the login page, told its session ended, with `rd` to come back to.
fn assert_expired_redirect(app: &TestApp, response: &reqwest::Response, rd: &str) {
    assert_eq!(response.status(), 303);
    let login = app.own_path(&format!("/login?notice=expired&rd={}", urlencode(rd)));
    assert_eq!(response.headers()["location"], login.as_str());
}

#[tokio::test]
async fn sessions_idle_timeout_slides_with_bounded_writes_then_ends_with_a_notice() {
    let clock = clock();
    let stack = stack_on(&clock, |_| {}).await;
    let mut browser = Browser::new(&stack.app);
    let completed = sign_in_on_pages(&stack, &mut browser, "/reports?y=2026", PERSON).await;
    // An ordinary computer: the cookie may outlive the browser, up to the absolute timeout.
    assert!(session_cookie(&completed).contains("Max-Age=28800"));
    let signed_in_at = last_seen_in_db(&stack.app.db).await;

    // Requests within the write interval slide the idle timeout without writing.
    clock.advance(time::Duration::seconds(30));
    assert_eq!(browser.get("/reports?y=2026").await.status(), 200);
    assert_eq!(
        last_seen_in_db(&stack.app.db).await,
        signed_in_at,
        "no write"
    );

    // 14 minutes later (idle 15): still in, and now the activity is written once.
    clock.advance(time::Duration::minutes(14));
    assert_eq!(browser.get("/reports?y=2026").await.status(), 200);
    let written = last_seen_in_db(&stack.app.db).await;
    // PostgreSQL keeps microseconds.
    assert!(
        (written - clock_now(&clock)).abs() < time::Duration::microseconds(1),
        "activity written after the interval"
    );
    // Another 14 minutes: 28.5 minutes after login, alive because the timeout slides.
    clock.advance(time::Duration::minutes(14));
    assert_eq!(browser.get("/reports?y=2026").await.status(), 200);

    // 15 idle minutes: the session is over; the browser is told so and keeps its place.
    clock.advance(time::Duration::minutes(15));
    let response = browser.get("/reports?y=2026").await;
    assert_expired_redirect(&stack.app, &response, "/reports?y=2026");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let page = browser.get(&location).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Ваш сеанс завершився"), "{html}");
    assert!(
        html.contains("value=\"/reports?y=2026\""),
        "the return path is kept"
    );
    browser
        .cookies
        .insert("kepgate_lang".to_owned(), "en".to_owned());
    let html = browser.get(&location).await.text().await.unwrap();
    assert!(html.contains("Your session has ended"), "{html}");
}

fn clock_now(clock: &ManualClock) -> OffsetDateTime {
    use kepgate::clock::Clock;
    clock.now()
}

#[tokio::test]
async fn sessions_absolute_timeout_ends_even_a_busy_session() {
    let clock = clock();
    let stack = stack_on(&clock, |s| {
        s.session.absolute_timeout = Duration::from_secs(3600);
    })
    .await;
    let mut browser = Browser::new(&stack.app);
    sign_in_on_pages(&stack, &mut browser, "/", PERSON).await;
    // Busy: a request every 10 minutes, well inside the idle timeout.
    for _ in 0..5 {
        clock.advance(time::Duration::minutes(10));
        assert_eq!(browser.get("/work").await.status(), 200);
    }
    clock.advance(time::Duration::minutes(10)); // 60 minutes after login
    assert_expired_redirect(&stack.app, &browser.get("/work").await, "/work");
    // API clients get 401, not a redirect.
    let api = browser
        .http
        .get(browser.url("/api/data"))
        .header(
            "cookie",
            format!("kepgate_session={}", browser.cookies["kepgate_session"]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401);
}

#[tokio::test]
async fn sessions_shared_computer_gets_a_browser_cookie_a_short_idle_timeout_and_no_store() {
    let clock = clock();
    let stack = stack_on(&clock, |s| s.session.shared_pc_default = true).await;
    let mut browser = Browser::new(&stack.app);
    // Configured on by default: the box starts ticked.
    let html = browser
        .get(&stack.app.own_path("/login"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("name=\"shared_pc\" value=\"on\""), "{html}");
    assert!(html.contains("checked"), "ticked by default");
    assert!(html.contains("Це громадський або спільний компʼютер"));

    let completed = sign_in_on_pages(&stack, &mut browser, on_shared_pc("/"), PERSON).await;
    // Unticked, the same gateway gives an ordinary session.
    let mut other = Browser::new(&stack.app);
    let ordinary = sign_in_on_pages(&stack, &mut other, "/", PERSON).await;
    assert!(session_cookie(&ordinary).contains("Max-Age="));
    let cookie = session_cookie(&completed);
    assert!(
        !cookie.contains("Max-Age"),
        "a browser-session cookie: {cookie}"
    );
    assert_eq!(completed.headers()["cache-control"], "no-store");
    let page = browser.get("/").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");

    // shared_pc_idle_timeout (5 min) rather than idle_timeout (15 min).
    clock.advance(time::Duration::minutes(4));
    assert_eq!(browser.get("/").await.status(), 200);
    clock.advance(time::Duration::minutes(5));
    assert_expired_redirect(&stack.app, &browser.get("/").await, "/");
    // The ordinary session, idle as long, lives on (15 minutes).
    assert_eq!(other.get("/").await.status(), 200);
}

/// A session opened in the database the way a completion opens it (the login itself, with its
/// provider and browser, is covered elsewhere).
async fn make_session(app: &TestApp, rnokpp: &str, edrpou: Option<&str>) -> String {
    make_session_issued(app, rnokpp, edrpou, None).await
}

/// Like [`make_session`], its certificate (serial 01 of "CN=Test") issued by the CA key
/// `issuer_key_sha256` (None: a session stored before kepgate kept it).
async fn make_session_issued(
    app: &TestApp,
    rnokpp: &str,
    edrpou: Option<&str>,
    issuer_key_sha256: Option<&str>,
) -> String {
    let db = &app.db;
    let now = OffsetDateTime::now_utc();
    let id = PendingLoginId::new();
    let (hash, _) = RequestHash::generate(HashAlgorithm::Sha256).unwrap();
    pending::insert(
        db,
        &NewPendingLogin {
            id,
            provider: "diia",
            user_hint: None,
            request_hash: &hash,
            binding_hash: &[0u8; 32],
            return_path: &ReturnPath::root(),
            client_ip: Some("10.1.2.3".parse().unwrap()),
            user_agent: Some("test-agent"),
            shared_pc: false,
            deeplink: None,
            now,
            expires_at: now + time::Duration::minutes(3),
            traceparent: None,
        },
    )
    .await
    .unwrap();
    let identity = SignerIdentity {
        full_name: "Тестова Олена Петрівна".to_owned(),
        surname: None,
        given_name: None,
        rnokpp: Some(Rnokpp::parse(rnokpp).unwrap()),
        edrpou: edrpou.map(|e| Edrpou::parse(e).unwrap()),
        organization: None,
        title: None,
        cert_serial_hex: "01".to_owned(),
        issuer: "CN=Test".to_owned(),
        issuer_cn: None,
        issuer_key_sha256: issuer_key_sha256.map(str::to_owned),
        not_before: Some(now - time::Duration::days(1)),
        not_after: Some(now + time::Duration::days(365)),
    };
    // The one way a session opens: from a confirmed login, as its browser completes it.
    pending::record_outcome(db, id, &Outcome::Confirmed(Box::new(identity)), now)
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    let opened = session::open(
        &mut *tx,
        &NewSession {
            pending_login_id: id.0,
            binding_hash: &[0u8; 32],
            client_ip: Some("10.1.2.3".parse().unwrap()),
            user_agent: Some("test-agent"),
            now,
            complete_within: time::Duration::minutes(2),
            expires_at: now + time::Duration::hours(8),
            idle_timeout: time::Duration::minutes(15),
            shared_pc_idle_timeout: time::Duration::minutes(5),
        },
    )
    .await
    .unwrap()
    .expect("the confirmed login opens a session");
    tx.commit().await.unwrap();
    opened.token.expose().to_owned()
}

async fn status_with(app: &TestApp, token: &str) -> u16 {
    app.client
        .get(app.url("/cabinet"))
        .header("accept", "text/html")
        .header("cookie", format!("kepgate_session={token}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn sessions_revocation_on_one_replica_is_seen_by_the_other_at_once() {
    // Both replicas on a frozen clock: their caches never age out, so only the NOTIFY can
    // make replica B refuse a session it has cached.
    let clock = clock();
    let (stack, replica_b) =
        spawn_diia_stack_clocked(true, Some(Arc::new(clock.clone())), |_| {}).await;
    let a = &stack.app;
    let b = replica_b.unwrap();
    // B's LISTEN connection is up once it has cleared its cache for the first time.
    let mut evictions = b.state.web.sessions.cache().evictions();
    tokio::time::timeout(Duration::from_secs(10), evictions.wait_for(|n| *n >= 1))
        .await
        .expect("replica B listens")
        .unwrap();

    let mut timings = Vec::new();
    for _ in 0..20 {
        let token = make_session(a, PERSON_RNOKPP, None).await;
        assert_eq!(status_with(&b, &token).await, 200);
        assert_eq!(status_with(a, &token).await, 200);
        let before = *evictions.borrow_and_update();
        let parsed = session::SessionToken::parse(&token).unwrap();
        let started = Instant::now();
        // Replica A ends it (logout there); B only hears of it.
        let ended = a
            .state
            .web
            .sessions
            .end(Whom::Token(&parsed), EndedBy::Logout)
            .await
            .unwrap();
        assert_eq!(ended.len(), 1);
        tokio::time::timeout(Duration::from_secs(10), evictions.wait_for(|n| *n > before))
            .await
            .expect("B hears the revocation")
            .unwrap();
        timings.push(started.elapsed());
        assert_eq!(status_with(&b, &token).await, 303, "B refuses it");
        assert_eq!(status_with(a, &token).await, 303, "A refuses it");
    }
    timings.sort();
    println!(
        "revocation reached replica B after: min {:?}, median {:?}, max {:?} (n = {})",
        timings[0],
        timings[timings.len() / 2],
        timings[timings.len() - 1],
        timings.len()
    );
}

/// Two CAs of one name (a re-keyed CA) that both issued serial 01: when one of them revokes
/// its 01, only the sessions opened with that CA's certificate end. A session stored before
/// kepgate kept the issuer's key can only be matched by the name, and is.
#[tokio::test]
async fn sessions_revoking_a_certificate_ends_only_the_sessions_of_that_ca_key() {
    let app = spawn_app().await;
    let (key_a, key_b) = ("aa".repeat(32), "bb".repeat(32));
    let of_a = make_session_issued(&app, PERSON_RNOKPP, None, Some(&key_a)).await;
    let of_b = make_session_issued(&app, PERSON_RNOKPP, None, Some(&key_b)).await;
    let old = make_session_issued(&app, PERSON_RNOKPP, None, None).await;
    for token in [&of_a, &of_b, &old] {
        assert_eq!(status_with(&app, token).await, 200);
    }
    let serials = ["01".to_owned()];
    let whom = Whom::Certificates {
        serials_hex: &serials,
        issuer: "CN=Test",
        issuer_key_sha256: Some(&key_a),
    };
    let ended = app
        .state
        .web
        .sessions
        .end(whom, EndedBy::CertificateRevoked)
        .await
        .unwrap();
    assert_eq!(ended.len(), 2);
    assert_eq!(
        status_with(&app, &of_a).await,
        303,
        "A's certificate revoked"
    );
    assert_eq!(
        status_with(&app, &of_b).await,
        200,
        "B's serial 01 is another key"
    );
    assert_eq!(status_with(&app, &old).await, 303, "no key kept: by name");
}

#[tokio::test]
async fn sessions_revocation_without_notify_is_bounded_by_the_cache_ttl() {
    // A replica whose LISTEN missed the notice still refuses once its copy is `cache_ttl` old.
    let clock = clock();
    let stack = stack_on(&clock, |s| s.session.cache_ttl = Duration::from_secs(10)).await;
    let app = &stack.app;
    // The LISTEN connection clears the cache when it comes up; on a busy machine that can be
    // after the first request below, taking the copy this test relies on. Wait for it first.
    let mut evictions = app.state.web.sessions.cache().evictions();
    tokio::time::timeout(Duration::from_secs(10), evictions.wait_for(|n| *n >= 1))
        .await
        .expect("the gateway listens")
        .unwrap();
    let token = make_session(app, PERSON_RNOKPP, None).await;
    assert_eq!(status_with(app, &token).await, 200);
    // Revoked behind the gateway's back: no NOTIFY (as if the LISTEN connection was down).
    sqlx::query("UPDATE sessions SET revoked_at = now(), revoked_reason = 'admin'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(status_with(app, &token).await, 200, "still the cached copy");
    clock.advance(time::Duration::seconds(10));
    assert_eq!(
        status_with(app, &token).await,
        303,
        "refused after cache_ttl"
    );
}

#[tokio::test]
async fn sessions_me_page_shows_own_sessions_and_history_and_ends_them() {
    let clock = clock();
    me_page(stack_on(&clock, |_| {}).await).await;
}

#[tokio::test]
async fn sessions_me_page_works_under_another_route_prefix() {
    let clock = clock();
    me_page(stack_under(&clock, OTHER_PREFIX).await).await;
}

async fn me_page(stack: DiiaStack) {
    let app = &stack.app;
    let me = app.own_path("/me");
    let mut desk = Browser::new(app);
    let mut laptop = Browser::new(app);
    sign_in_on_pages(&stack, &mut desk, "/", PERSON).await;
    sign_in_on_pages(&stack, &mut laptop, on_shared_pc("/"), PERSON).await;

    let page = desk.get(&me).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("Шевченко Тарас Григорович"));
    assert_eq!(html.matches("class=\"session\"").count(), 2, "{html}");
    assert!(html.contains("цей сеанс"));
    assert!(
        html.contains("спільний компʼютер"),
        "the laptop's choice shows"
    );
    // One row per sign-in: the phone's confirmation is told by the completion that followed.
    assert!(html.contains("Вхід виконано") && !html.contains("Підтверджено на телефоні"));

    desk.cookies
        .insert("kepgate_lang".to_owned(), "en".to_owned());
    let html = desk.get(&me).await.text().await.unwrap();
    assert!(html.contains("Sign-in history") && html.contains("Signed in"));
    assert!(html.contains("this session"));

    // End the laptop's session from the desk.
    let laptop_id: String = sqlx::query_scalar(
        "SELECT id::text FROM sessions WHERE shared_pc ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(&stack.app.db)
    .await
    .unwrap();
    let csrf = csrf_of(&html);
    let ended = desk
        .post_form(
            &app.own_path(&format!("/me/sessions/{laptop_id}/end")),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(ended.status(), 303);
    let notice = app.own_path("/me?notice=ended");
    assert_eq!(ended.headers()["location"], notice.as_str());
    assert_expired_redirect(app, &laptop.get("/").await, "/");
    let html = desk.get(&notice).await.text().await.unwrap();
    assert_eq!(html.matches("class=\"session\"").count(), 1);
    assert!(html.contains("The sessions have been ended."));
    assert!(html.contains("Session ended remotely"));

    // Without a session, /me goes to the login page and comes back afterwards.
    assert_expired_redirect(app, &laptop.get(&me).await, &me);

    // All my sessions: this one too.
    let ended = desk
        .post_form(&app.own_path("/me/sessions/end-all"), &[("csrf", &csrf)])
        .await;
    assert_eq!(ended.status(), 303);
    assert_eq!(
        ended.headers()["location"],
        app.own_path("/login?notice=logged_out").as_str()
    );
    assert_eq!(desk.get("/").await.status(), 303);

    // Every step is in the history, with address and user agent.
    let events: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT event, client_ip::text FROM login_history ORDER BY id")
            .fetch_all(&stack.app.db)
            .await
            .unwrap();
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        names,
        [
            "started",
            "confirmed",
            "completed",
            "started",
            "confirmed",
            "completed",
            "revoked",
            "revoked"
        ]
    );
    assert!(
        events
            .iter()
            .all(|(_, ip)| ip.as_deref() == Some("127.0.0.1/32")),
        "{events:?}"
    );
}

#[tokio::test]
async fn sessions_history_records_declines_and_logout_and_is_pruned() {
    let clock = clock();
    let stack = stack_on(&clock, |_| {}).await;
    let mut browser = Browser::new(&stack.app);
    // A declined attempt.
    let declined = wait_for_phone(&mut browser, "/").await;
    let deeplink = provider_deeplink(&mut browser, &declined).await;
    phone_declines(&stack, &deeplink).await;
    // Then a login and a logout.
    sign_in_on_pages(&stack, &mut browser, "/", PERSON).await;
    let html = browser.get("/").await.text().await.unwrap();
    let out = browser
        .post_form(&stack.app.own_path("/logout"), &[("csrf", &csrf_of(&html))])
        .await;
    assert_eq!(out.status(), 303);

    let rows = session::history::since(&stack.app.db, OffsetDateTime::UNIX_EPOCH, 100)
        .await
        .unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(
        names,
        [
            "started",
            "declined",
            "started",
            "confirmed",
            "completed",
            "logout"
        ]
    );
    let completed = &rows[4];
    assert_eq!(completed.rnokpp.as_deref(), Some(EMULATOR_PERSON_RNOKPP));
    assert_eq!(completed.provider, "diia");
    assert_eq!(completed.client_ip.as_deref(), Some("127.0.0.1/32"));
    assert_eq!(
        rows[0].client_ip.as_deref(),
        Some("127.0.0.1/32"),
        "known from the start"
    );

    // Retention: everything older than the cut-off goes, with the ended session.
    let (history, sessions) = session::retention::delete_history_and_sessions_before(
        &stack.app.db,
        clock_now(&clock) + time::Duration::days(1),
    )
    .await
    .unwrap();
    assert_eq!((history, sessions), (6, 1));
}

pub fn run_cli(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let url = format!("{}/{}", crate::helpers::postgres_server_url(), app.db_name);
    let out = kepgate_bin()
        .args(args)
        .env("DATABASE_URL", url)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn sessions_admin_cli_lists_revokes_and_audits() {
    let app = spawn_app().await;
    let director = "1759013776";
    let company = "32855961";
    let t1 = make_session(&app, PERSON_RNOKPP, None).await;
    let t2 = make_session(&app, director, Some(company)).await;
    let t3 = make_session(&app, director, Some(company)).await;
    for t in [&t1, &t2, &t3] {
        assert_eq!(status_with(&app, t).await, 200);
    }

    let (ok, stdout, stderr) = run_cli(&app, &["sessions", "list"]);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("ID"), "{stdout}");
    assert_eq!(stdout.lines().count(), 4, "header + 3: {stdout}");
    assert!(stdout.contains("Тестова Олена Петрівна"));

    let (ok, stdout, stderr) = run_cli(&app, &["sessions", "list", "--edrpou", company, "--json"]);
    assert!(ok, "{stderr}");
    let listed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[0]["rnokpp"], director);

    let (ok, _, stderr) = run_cli(&app, &["sessions", "list", "--rnokpp", "123"]);
    assert!(!ok && stderr.contains("--rnokpp"), "{stderr}");

    // One by id, against the running gateway: refused at once (NOTIFY to its LISTEN).
    let person_id = listed_id(
        &run_cli(
            &app,
            &["sessions", "list", "--rnokpp", PERSON_RNOKPP, "--json"],
        )
        .1,
    );
    let mut evictions = app.state.web.sessions.cache().evictions();
    let before = *evictions.borrow_and_update();
    let (ok, stdout, stderr) = run_cli(&app, &["sessions", "revoke", &person_id]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("revoked 1 session(s)"), "{stdout}");
    tokio::time::timeout(Duration::from_secs(10), evictions.wait_for(|n| *n > before))
        .await
        .expect("the gateway hears it")
        .unwrap();
    assert_eq!(status_with(&app, &t1).await, 303);

    // Everyone of a person.
    let (ok, stdout, stderr) = run_cli(
        &app,
        &["sessions", "revoke", "--rnokpp", director, "--json"],
    );
    assert!(ok, "{stderr}");
    let revoked: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(revoked["revoked"].as_array().unwrap().len(), 2);
    let (_, stdout, _) = run_cli(&app, &["sessions", "list", "--json"]);
    assert_eq!(stdout.trim(), "[]");

    // The audit: table and JSON.
    let (ok, stdout, stderr) = run_cli(&app, &["audit", "--since", "1h"]);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("TIME"), "{stdout}");
    assert_eq!(stdout.matches(" revoked ").count(), 3, "{stdout}");
    let (ok, stdout, _) = run_cli(&app, &["audit", "--since", "2000-01-01", "--json"]);
    assert!(ok);
    let rows: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let events: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert_eq!(events.iter().filter(|e| **e == "completed").count(), 3);
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["reason"] == "admin")
    );
    let (ok, _, stderr) = run_cli(&app, &["audit", "--since", "yesterday"]);
    assert!(!ok && stderr.contains("--since"), "{stderr}");
}

fn listed_id(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v[0]["id"].as_str().unwrap().to_owned()
}
