//! Faults: the database going away, the gateway killed or stopped, a provider that is
//! slow, down or talking nonsense, an upstream that does not answer. Real processes where the
//! fault is about the process (SIGKILL, SIGTERM), real PostgreSQL, real HTTP; no mocks.
//! `cargo test --test api faults` runs them.

use std::path::PathBuf;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kepgate::config::{ProviderSettings, Settings};
use secrecy::ExposeSecret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::browser::Browser;
use crate::diia_stack::{DiiaStack, spawn_diia_stack, spawn_diia_stack_configured};
use crate::helpers::{client, kepgate_bin};
use crate::proxy::{route, spawn_cabinet_stack};
use crate::sign_in::{
    PERSON, Waiting, complete_on_page, phone_confirms, press_get_link, provider_deeplink, sign_in,
    start_on_page, wait_for_phone,
};

// ---------- the database ----------

#[tokio::test]
async fn a_database_outage_mid_login_gives_503_pages_and_the_login_finishes_after_it() {
    // cache_ttl 0: the signed-in browser's session is read from the database on every request.
    // (With the default, a replica goes on serving a session it saw within the last 10 s.)
    let env = spawn_cabinet_stack(|s, _| s.session.cache_ttl = Duration::ZERO).await;
    let stack = &env.stack;
    let app = &stack.app;
    let mut member = sign_in(stack, PERSON).await;
    let mut waiting = Browser::new(app);
    let login = wait_for_phone(&mut waiting, "/after-outage").await;
    let deeplink = provider_deeplink(&mut waiting, &login).await;
    let mut events = waiting
        .events(&app.own_path(&format!("/login/events/{}", login.id)))
        .await;
    assert_eq!(events.next_event().await.unwrap().1["state"], "pending");

    app.cut_database().await;

    // The login page: a 503 page in the browser's language with the request id, not a form
    // whose button can only fail. (The gateway learns of the outage when PostgreSQL terminates
    // its LISTEN connection, a moment after the cut.)
    let mut anonymous = Browser::new(app);
    let deadline = Instant::now() + Duration::from_secs(10);
    let login_page = loop {
        let response = anonymous.get(&app.own_path("/login?rd=/reports")).await;
        if response.status() != 200 || Instant::now() > deadline {
            break response;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_unavailable_page(login_page, "Сервіс тимчасово недоступний").await;
    let english = app
        .client
        .get(app.own("/login"))
        .header("accept", "text/html")
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_unavailable_page(english, "Service temporarily unavailable").await;

    // The cabinet: the same page for a signed-in browser and for an anonymous one (no redirect
    // into a login that cannot work, no 500), JSON for an API client.
    assert_unavailable_page(member.get("/").await, "Сервіс тимчасово недоступний").await;
    assert_unavailable_page(
        anonymous.get("/reports/2026").await,
        "Сервіс тимчасово недоступний",
    )
    .await;
    let api = app
        .client
        .get(app.url("/api/data"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 503);
    let request_id = api.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"], "unavailable", "{body}");
    assert_eq!(body["request_id"], request_id.as_str(), "{body}");

    assert_eq!(app.get(&app.own_path("/readyz")).await.status(), 503);
    assert_eq!(app.get(&app.own_path("/healthz")).await.status(), 200);

    // The database returns; the gateway is not restarted. The phone confirms the login started
    // before the outage; the browser's stream, open all along, hears of it: the LISTEN
    // connection came back and the stream re-read its login.
    app.restore_database().await;
    phone_confirms(stack, &deeplink, PERSON).await;
    assert_eq!(events.next_event().await.unwrap().1["state"], "confirmed");
    let done = complete_on_page(&mut waiting, &login).await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/after-outage");
    assert_eq!(waiting.get("/echo").await.status(), 200, "the new session");
    assert_eq!(member.get("/echo").await.status(), 200, "the old session");
    assert_eq!(anonymous.get(&app.own_path("/login")).await.status(), 200);
    assert_eq!(app.get(&app.own_path("/readyz")).await.status(), 200);
}

#[tokio::test]
async fn a_waiting_browser_keeps_its_stream_through_a_database_outage_and_hears_the_expiry() {
    let (stack, _) = spawn_diia_stack_configured(false, |s| {
        if let Some(ProviderSettings::Diia(d)) = s.providers.get_mut("diia") {
            d.common.request_ttl = Duration::from_secs(3);
        }
    })
    .await;
    let mut browser = Browser::new(&stack.app);
    let id = start_on_page(&mut browser, "/").await;
    let mut events = browser
        .events(&browser.own(&format!("/login/events/{id}")))
        .await;
    assert_eq!(events.next_event().await.unwrap().1["state"], "pending");

    stack.app.cut_database().await;
    // The link runs out while the database is away: the stream, which cannot re-read the login,
    // still says so (an ended stream would send the page's EventSource into a 503 it never
    // retries), then ends properly.
    let (_, data) = events.next_event().await.expect("the stream goes on");
    assert_eq!(data["state"], "expired", "{data}");
    assert_eq!(data["message"], "Час дії посилання минув.");
    events.read_to_end().await.expect("a clean end");
    stack.app.restore_database().await;
}

/// 503, Retry-After, no caching, and a page that names the problem and the request id.
async fn assert_unavailable_page(response: reqwest::Response, title: &str) {
    assert_eq!(response.status(), 503, "{:?}", response.headers());
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(response.headers()["cache-control"], "no-store");
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    assert!(html.contains(title), "{html}");
    assert!(
        html.contains(&request_id),
        "the request id is shown: {html}"
    );
}

// ---------- the gateway process ----------

/// `kepgate serve` as a child process, configured like an in-process gateway of the tests.
struct GatewayProcess {
    child: Child,
    address: String,
    /// `server.route_prefix`, as configured.
    prefix: String,
    dir: PathBuf,
}

impl GatewayProcess {
    /// Starts it and waits until it is ready (bounded).
    async fn start(settings: &Settings) -> Self {
        let dir =
            std::env::temp_dir().join(format!("kepgate-proc-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("kepgate.toml");
        std::fs::write(&config, gateway_toml(settings)).unwrap();
        let log = std::fs::File::create(dir.join("log")).unwrap();
        let child = kepgate_bin()
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let mut gateway = GatewayProcess {
            child,
            address: settings
                .server
                .base_url
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
            prefix: settings.server.route_prefix.clone(),
            dir,
        };
        let http = client();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = gateway.child.try_wait().unwrap() {
                panic!("kepgate exited ({status}): {}", gateway.log());
            }
            let ready = http
                .get(format!("{}{}/readyz", gateway.address, gateway.prefix))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return gateway;
            }
            assert!(Instant::now() < deadline, "not ready: {}", gateway.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A browser with no cookies, visiting this gateway.
    fn browser(&self) -> Browser {
        Browser::at(&self.address, &self.prefix)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// SIGKILL: no clean-up of any kind.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn terminate(&self) {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// The exit status, waiting at most `limit` (a hang guard).
    async fn exited_within(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "still running: {}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The configuration file of `settings`, for what these tests use: server, database, trust,
/// the Diia provider (as `kepgate diia setup` left it) and plain routes.
fn gateway_toml(s: &Settings) -> String {
    let q = |v: &str| serde_json::to_string(v).unwrap();
    let files: Vec<String> = s
        .trust
        .files
        .iter()
        .map(|f| q(&f.to_string_lossy()))
        .collect();
    let mut toml = format!(
        "[server]\nlisten = {}\nbase_url = {}\nroute_prefix = {}\nshutdown_grace = {}\n\
         [database]\nurl = {}\n[metrics]\nenabled = false\n[log]\nfilter = \"info\"\n\
         [session]\ncache_ttl = {}\n[trust]\nfiles = [{}]\nrevocation = {}\n",
        q(&s.server.listen.to_string()),
        q(s.server.base_url.as_str()),
        q(&s.server.route_prefix),
        s.server.shutdown_grace.as_secs(),
        q(s.database.url.expose_secret()),
        s.session.cache_ttl.as_secs(),
        files.join(", "),
        serde_json::to_string(&s.trust.revocation).unwrap(),
    );
    for (id, provider) in &s.providers {
        match provider {
            ProviderSettings::Diia(d) => {
                toml.push_str(&format!(
                    "[providers.{id}]\nkind = \"diia\"\ndisplay_name = {}\napi_base_url = {}\n\
                     acquirer_token = {}\nbranch_id = {}\noffer_id = {}\nsign_algo = {}\n\
                     callback_secret = {}\nrequest_ttl = {}\nhttp_timeout = {}\nhttp_retries = {}\n",
                    q(&d.common.display_name),
                    q(d.api_base_url.as_str()),
                    q(d.acquirer_token.expose_secret()),
                    q(d.branch_id.as_deref().unwrap()),
                    q(d.offer_id.as_deref().unwrap()),
                    q(d.sign_algo.as_str()),
                    q(d.common.callback_secret_str()),
                    d.common.request_ttl.as_secs(),
                    d.common.http_timeout.as_secs(),
                    d.common.http_retries,
                ));
            }
            ProviderSettings::IdGovUa(_) => unreachable!("the fault stack runs Diia only"),
        }
    }
    for (name, r) in &s.routes {
        toml.push_str(&format!(
            "[routes.{name}]\nprefix = {}\nupstream = {}\npublic = {}\nresponse_timeout = {}\n",
            q(&r.prefix),
            q(r.upstream.as_str()),
            r.public,
            r.response_timeout.as_secs(),
        ));
    }
    toml
}

#[tokio::test]
async fn a_login_survives_sigkill_before_the_callback_and_before_completion() {
    let mut stack = spawn_diia_stack().await;
    stack.app.stop().await;
    let mut gateway = GatewayProcess::start(&stack.settings).await;

    // Killed between start and callback: the pending login is in the database, the callback
    // lands on the restarted process, and the page (its stream reconnected) completes.
    let mut browser = gateway.browser();
    let login = wait_for_phone(&mut browser, "/after-kill").await;
    let deeplink = provider_deeplink(&mut browser, &login).await;
    gateway.kill();
    let mut gateway = GatewayProcess::start(&stack.settings).await;
    phone_confirms(&stack, &deeplink, PERSON).await;
    let mut events = browser
        .events(&browser.own(&format!("/login/events/{}", login.id)))
        .await;
    assert_eq!(events.next_event().await.unwrap().1["state"], "confirmed");
    complete(&mut browser, &login, "/after-kill").await;

    // Killed between callback and completion: the confirmed login waits in the database.
    let mut second = gateway.browser();
    let login = wait_for_phone(&mut second, "/second").await;
    let deeplink = provider_deeplink(&mut second, &login).await;
    phone_confirms(&stack, &deeplink, PERSON).await;
    gateway.kill();
    let _gateway = GatewayProcess::start(&stack.settings).await;
    complete(&mut second, &login, "/second").await;

    // Both sessions open the cabinet (here kepgate's signed-in page: no routes configured).
    for browser in [&mut browser, &mut second] {
        let page = browser.get("/").await;
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("Шевченко Тарас"));
    }
}

/// «Продовжити», which must lead back to `rd` (here the gateway is another process each time).
async fn complete(browser: &mut Browser, login: &Waiting, rd: &str) {
    let done = complete_on_page(browser, login).await;
    assert_eq!(done.status(), 303, "{}", done.text().await.unwrap());
    assert_eq!(done.headers()["location"], rd);
}

/// An upstream that takes requests and answers only when the test says so; counts arrivals.
struct HeldUpstream {
    url: String,
    arrived: watch::Receiver<usize>,
    release: Arc<watch::Sender<bool>>,
}

/// What a released request gets: large enough to take more than one write.
const HELD_BODY_BYTES: usize = 256 * 1024;

impl HeldUpstream {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let (arrived_tx, arrived) = watch::channel(0usize);
        let arrived_tx = Arc::new(arrived_tx);
        let release = Arc::new(watch::channel(false).0);
        let released = release.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let arrived_tx = arrived_tx.clone();
                let mut released = released.subscribe();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    arrived_tx.send_modify(|n| *n += 1);
                    if released.wait_for(|r| *r).await.is_err() {
                        return;
                    }
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\
                         content-length: {HELD_BODY_BYTES}\r\nconnection: close\r\n\r\n"
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(&held_body()).await;
                });
            }
        });
        HeldUpstream {
            url,
            arrived,
            release,
        }
    }

    async fn wait_for_arrivals(&mut self, n: usize, limit: Duration) {
        let reached = tokio::time::timeout(limit, async {
            let _ = self.arrived.wait_for(|a| *a >= n).await.map(|_| ());
        })
        .await;
        assert!(
            reached.is_ok(),
            "only {} of {n} requests reached the upstream",
            *self.arrived.borrow()
        );
    }
}

fn held_body() -> Vec<u8> {
    (0..HELD_BODY_BYTES)
        .map(|i| b'a' + (i % 26) as u8)
        .collect()
}

#[tokio::test]
async fn sigterm_finishes_in_flight_requests_ends_login_streams_cleanly_and_exits_0() {
    let mut upstream = HeldUpstream::start().await;
    let (mut stack, _) = spawn_diia_stack_configured(false, |s| {
        s.routes
            .insert("reports".to_owned(), route("/reports", &upstream.url));
        // Long enough that only a clean drain can end the process in time (see the end).
        s.server.shutdown_grace = Duration::from_secs(60);
    })
    .await;
    let mut member = sign_in(&stack, PERSON).await;
    stack.app.stop().await;
    let mut gateway = GatewayProcess::start(&stack.settings).await;

    // A browser waiting for its phone holds a live stream; a signed-in one waits for a report.
    let mut waiting = gateway.browser();
    let login = wait_for_phone(&mut waiting, "/").await;
    let mut events = waiting
        .events(&waiting.own(&format!("/login/events/{}", login.id)))
        .await;
    assert_eq!(events.next_event().await.unwrap().1["state"], "pending");
    let report = tokio::spawn(async move {
        let response = member.get("/reports/annual").await;
        (response.status(), response.bytes().await)
    });
    upstream.wait_for_arrivals(1, Duration::from_secs(20)).await;

    gateway.terminate();

    // The stream ends properly (the closing chunk, not a reset), telling EventSource when to
    // reconnect: through the load balancer, to a replica that is not going away.
    let rest = events
        .read_to_end()
        .await
        .expect("a clean end of the stream");
    assert!(rest.contains("retry:"), "{rest:?}");
    // New connections are refused while the report is still being worked on.
    let address = gateway.address.trim_start_matches("http://").to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(&address).await.is_ok() {
        assert!(Instant::now() < deadline, "still accepting connections");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!report.is_finished());

    // The report arrives whole.
    upstream.release.send_replace(true);
    let (status, body) = report.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(body.unwrap().as_ref(), held_body().as_slice());

    // Then the process exits by itself, well before the grace period would have cut it short.
    let status = gateway.exited_within(Duration::from_secs(30)).await;
    assert!(status.success(), "{status}: {}", gateway.log());
    assert!(
        !gateway.log().contains("grace period over"),
        "{}",
        gateway.log()
    );
}

// ---------- the provider ----------

#[tokio::test]
async fn a_slow_failing_or_garbled_provider_gets_a_clear_message_in_time_and_is_counted() {
    let (mut stack, _) = spawn_diia_stack_configured(false, |s| {
        if let Some(ProviderSettings::Diia(d)) = s.providers.get_mut("diia") {
            d.common.http_timeout = Duration::from_secs(1);
        }
    })
    .await;
    let before = provider_errors(&stack).await;
    let mut browser = Browser::new(&stack.app);
    let cases = [
        // The emulator sleeps 5 s: beyond the 1 s timeout.
        ("slow", "Провайдер не відповідає. Спробуйте ще раз"),
        ("error500", "Провайдер зараз недоступний. Спробуйте"),
        ("garbage", "Провайдер зараз недоступний. Спробуйте"),
    ];
    for (fault, message) in cases {
        set_fault(&stack, fault).await;
        let response = press_within(&mut browser).await;
        assert_eq!(response.status(), 502, "{fault}");
        let html = response.text().await.unwrap();
        assert!(html.contains(message), "{fault}: {html}");
        assert!(
            html.contains("Отримати посилання"),
            "the form, to try again"
        );
    }
    // The JSON API says it too, in the client's language.
    set_fault(&stack, "slow").await;
    let api = tokio::time::timeout(
        Duration::from_secs(15),
        stack
            .app
            .client
            .post(stack.app.own("/api/login"))
            .header("accept-language", "en")
            .json(&serde_json::json!({ "provider": "diia" }))
            .send(),
    )
    .await
    .expect("an answer, not a hang")
    .unwrap();
    assert_eq!(api.status(), 502);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"], "provider_timeout", "{body}");
    assert_eq!(
        body["message"],
        "The provider is not answering. Try again in a minute."
    );

    // Nothing is left waiting: every failed start is marked failed, and the same browser starts
    // again as soon as the provider is back.
    set_fault(&stack, "ok").await;
    let retried = press_within(&mut browser).await;
    assert_eq!(retried.status(), 303, "{}", retried.text().await.unwrap());

    // The provider's address refuses connections.
    stack.stop_emulator().await;
    let response = press_within(&mut browser).await;
    assert_eq!(response.status(), 502);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Провайдер зараз недоступний")
    );

    let states: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT state, outcome_reason FROM pending_logins ORDER BY created_at")
            .fetch_all(&stack.app.db)
            .await
            .unwrap();
    let failed = |reason: &str| ("failed".to_owned(), Some(reason.to_owned()));
    assert_eq!(
        states,
        vec![
            failed("provider_timeout"),
            failed("provider_unavailable"),
            failed("provider_bad_answer"),
            failed("provider_timeout"),
            ("pending".to_owned(), None),
            failed("provider_unavailable"),
        ]
    );

    // Counted by provider and kind on the metrics socket (other tests share the recorder, so
    // at least this many).
    let after = provider_errors(&stack).await;
    for (kind, ours) in [("timeout", 2), ("unavailable", 2), ("bad_response", 1)] {
        let grew = after.get(kind).copied().unwrap_or(0) - before.get(kind).copied().unwrap_or(0);
        assert!(grew >= ours, "{kind}: {before:?} → {after:?}");
    }
}

/// «Отримати посилання», with a bound on the wait: the configured timeout plus a wide margin.
async fn press_within(browser: &mut Browser) -> reqwest::Response {
    tokio::time::timeout(Duration::from_secs(15), press_get_link(browser, "/"))
        .await
        .expect("an answer, not a hang")
}

async fn set_fault(stack: &DiiaStack, fault: &str) {
    let response = stack
        .http
        .post(format!("{}/emulator/faults", stack.emulator))
        .json(&serde_json::json!({ "dynamic": fault, "slowMs": 5000 }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

/// `kepgate_provider_errors_total{provider="diia"}` by kind.
async fn provider_errors(stack: &DiiaStack) -> std::collections::BTreeMap<String, u64> {
    let metrics = stack.app.metrics_address.as_ref().expect("metrics enabled");
    let text = crate::helpers::metrics_text(metrics).await;
    text.lines()
        .filter(|l| {
            l.starts_with("kepgate_provider_errors_total{") && l.contains("provider=\"diia\"")
        })
        .filter_map(|l| {
            let kind = l.split("kind=\"").nth(1)?.split('"').next()?.to_owned();
            let value = l.rsplit(' ').next()?.parse().ok()?;
            Some((kind, value))
        })
        .collect()
}

// ---------- the upstream ----------

#[tokio::test]
async fn a_thousand_requests_to_a_stalled_upstream_get_504_while_the_gateway_serves_on() {
    const REQUESTS: usize = 1000;
    let mut upstream = HeldUpstream::start().await;
    let (stack, _) = spawn_diia_stack_configured(false, |s| {
        let mut stalled = route("/", &upstream.url);
        // Long enough for all of them to be in flight at once on a busy two-core machine.
        stalled.response_timeout = Duration::from_secs(10);
        s.routes.insert("cabinet".to_owned(), stalled);
        // A thousand connections from one address are this test's load, not an attack on it:
        // the per-address cap (`http2_limits`) would refuse all but 256.
        s.server.max_connections_per_address = 0;
        // Nothing listens on port 9 of loopback.
        s.routes
            .insert("down".to_owned(), route("/down", "http://127.0.0.1:9/"));
    })
    .await;
    let mut member = sign_in(&stack, PERSON).await;
    let down = member.get("/down/page").await;
    assert_eq!(down.status(), 502);
    assert!(
        down.text()
            .await
            .unwrap()
            .contains("Застосунок за шлюзом не відповідає")
    );

    let cookie = member.cookie_header();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let requests: Vec<_> = (0..REQUESTS)
        .map(|i| {
            let request = http
                .get(stack.app.url(&format!("/reports/{i}")))
                .header("accept", "text/html")
                .header("cookie", &cookie)
                .send();
            tokio::spawn(async move {
                let response = request.await.unwrap();
                (response.status(), response.text().await.unwrap())
            })
        })
        .collect();
    upstream
        .wait_for_arrivals(REQUESTS, Duration::from_secs(60))
        .await;
    // All of them in flight at once: the gateway still answers its probes, and other users.
    assert_eq!(
        stack
            .app
            .get(&stack.app.own_path("/healthz"))
            .await
            .status(),
        200
    );
    assert_eq!(
        stack.app.get(&stack.app.own_path("/readyz")).await.status(),
        200
    );
    assert_eq!(member.get("/down/x").await.status(), 502);

    for request in requests {
        let (status, html) = request.await.unwrap();
        assert_eq!(status, 504);
        assert!(
            html.contains("x-request-id") || html.contains("request-id"),
            "{html}"
        );
    }
}
