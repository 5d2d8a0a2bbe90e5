//! Reloading a running gateway: a real `kepgate serve` process, its configuration file rewritten
//! between reloads, SIGHUP sent by `kill` (as `systemctl reload` does) or by `kepgate reload`.
//! The Diia emulator runs in the test, the cabinet is a real WSGI app.

use std::io::Read;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kepgate::provider::diia::DiiaProvider;
use kepgate_emulator::{Emulator, EmulatorSettings};
use tokio::sync::oneshot;

use crate::browser::Browser;
use crate::diia_stack::{PROVIDER, TempDir, diia_settings};
use crate::helpers::{client, free_port, fresh_database_url, kepgate_bin, test_settings};
use crate::processes::KillOnDrop;
use crate::sign_in::{PERSON, complete_api, phone_answers_at, start_api, wait_for_phone};
use crate::upstreams::{Upstream, wsgi_environ_app};

/// A gateway process reading `kepgate.toml` in its folder, with a Diia emulator and a cabinet.
struct LiveGateway {
    child: KillOnDrop,
    log: Arc<Mutex<String>>,
    dir: TempDir,
    port: u16,
    metrics_port: u16,
    prefix: String,
    emulator: String,
    /// The `[providers.diia]` table that signs in through the emulator.
    diia_table: String,
    cabinet: Upstream,
    database_url: String,
    _emulator_stop: oneshot::Sender<()>,
}

impl LiveGateway {
    /// Starts with `sections` (TOML) beside the fixed ones; `sections` may use `{diia}` for the
    /// working Diia provider table and `{cabinet}` for the cabinet's address.
    async fn start(sections: &str) -> Self {
        let gateway = Self::spawned(sections, fresh_database_url().0).await;
        gateway.wait_ready().await;
        gateway
    }

    /// Started on `database_url`, not yet ready.
    async fn spawned(sections: &str, database_url: String) -> Self {
        let dir = TempDir(
            std::env::temp_dir().join(format!("kepgate-reload-{}", uuid::Uuid::new_v4().simple())),
        );
        std::fs::create_dir_all(&dir.0).unwrap();
        let port = free_port();
        let metrics_port = free_port();
        let prefix = test_settings().server.route_prefix;
        let secret = uuid::Uuid::new_v4().simple().to_string() + "x";
        let callback = format!("http://127.0.0.1:{port}{prefix}/callback/{PROVIDER}/{secret}");
        let (emulator, ca_pem, stop) = start_emulator(&callback).await;
        let (branch, offer) = DiiaProvider::new(PROVIDER, &diia_settings(&emulator, &secret))
            .unwrap()
            .setup()
            .await
            .expect("branch and offer created at the emulator");
        std::fs::write(dir.0.join("emulator-ca.pem"), ca_pem).unwrap();
        let diia_table = format!(
            "[providers.diia]\nkind = \"diia\"\ndisplay_name = \"Дія.Підпис\"\n\
             api_base_url = \"{emulator}/\"\nacquirer_token = \"{}\"\nbranch_id = \"{branch}\"\n\
             offer_id = \"{offer}\"\ncallback_secret = \"{secret}\"\n",
            kepgate_emulator::DEFAULT_ACQUIRER_TOKEN
        );
        let cabinet = wsgi_environ_app().await;
        let mut gateway = LiveGateway {
            child: KillOnDrop(std::process::Command::new("true").spawn().unwrap()),
            log: Arc::default(),
            dir,
            port,
            metrics_port,
            prefix,
            emulator,
            diia_table,
            cabinet,
            database_url,
            _emulator_stop: stop,
        };
        gateway.write(sections);
        gateway.child = gateway.spawn();
        gateway
    }

    fn config_path(&self) -> PathBuf {
        self.dir.0.join("kepgate.toml")
    }

    /// Rewrites the configuration file (the running gateway reads it at the next reload).
    fn write(&self, sections: &str) {
        let sections = sections
            .replace("{diia}", &self.diia_table)
            .replace("{cabinet}", &self.cabinet.address);
        // The emulator's CA is trusted unless `sections` says what is.
        let trust = if sections.contains("[trust]") {
            String::new()
        } else {
            format!(
                "[trust]\nfiles = [\"{}\"]\nrevocation = \"off\"\n",
                self.dir.0.join("emulator-ca.pem").display()
            )
        };
        let text = format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nbase_url = \"http://127.0.0.1:{port}/\"\n\
             {sections}\n\
             [metrics]\nlisten = \"127.0.0.1:{metrics}\"\n{trust}",
            port = self.port,
            metrics = self.metrics_port,
        );
        // Whole or not at all, as an editor's save or a configuration manager would.
        let next = self.dir.0.join("kepgate.toml.next");
        std::fs::write(&next, text).unwrap();
        std::fs::rename(next, self.config_path()).unwrap();
    }

    fn spawn(&self) -> KillOnDrop {
        let mut child = kepgate_bin()
            .arg("--config")
            .arg(self.config_path())
            .arg("serve")
            .env("DATABASE_URL", &self.database_url)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let log = self.log.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                log.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        KillOnDrop(child)
    }

    async fn wait_ready(&self) {
        let started = Instant::now();
        loop {
            if let Ok(response) = client().get(self.own("/readyz")).send().await
                && response.status() == 200
            {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the gateway did not become ready: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the pending login `id` is in `state` in the database.
    async fn wait_for_state(&self, id: &str, state: &str) {
        let db = sqlx::PgPool::connect(&self.database_url).await.unwrap();
        let id: uuid::Uuid = id.parse().unwrap();
        let started = Instant::now();
        loop {
            let now: String = sqlx::query_scalar("SELECT state FROM pending_logins WHERE id = $1")
                .bind(id)
                .fetch_one(&db)
                .await
                .unwrap();
            if now == state {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "still {now}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        db.close().await;
    }

    fn pid(&self) -> u32 {
        self.child.0.id()
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn reloads_logged(&self) -> usize {
        self.log().matches("SIGHUP received; reloaded").count()
    }

    /// `kill -HUP`, then the log line saying what the reload did.
    async fn reload(&self) -> String {
        let before = self.reloads_logged();
        let sent = std::process::Command::new("kill")
            .args(["-s", "HUP", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        self.reloaded_after(before).await
    }

    async fn reloaded_after(&self, before: usize) -> String {
        let started = Instant::now();
        while self.reloads_logged() == before {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no reload logged: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let log = self.log();
        let at = log
            .match_indices("SIGHUP received; reloaded")
            .nth(before)
            .unwrap()
            .0;
        log[at..].lines().next().unwrap().to_owned()
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn own(&self, below: &str) -> String {
        self.url(&format!("{}{below}", self.prefix))
    }

    fn browser(&self) -> Browser {
        Browser::at(&self.url(""), &self.prefix)
    }

    async fn metrics(&self) -> String {
        crate::helpers::metrics_text(&format!("http://127.0.0.1:{}", self.metrics_port)).await
    }

    async fn login_page(&self) -> String {
        let page = client().get(self.own("/login")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        page.text().await.unwrap()
    }

    /// Signs in through the emulator as its test person: the browser with the session.
    async fn signed_in(&self) -> Browser {
        let mut browser = self.browser();
        let started = start_api(&mut browser).await;
        let deeplink = browser.provider_link(&started.link).await;
        phone_answers_at(&client(), &self.emulator, &deeplink, "confirm", PERSON).await;
        let done = complete_api(&mut browser, &started).await;
        assert_eq!(done.status(), 200, "completion");
        browser
    }
}

/// A Diia emulator calling back `callback`: its address, its CA (PEM), and its stop switch.
async fn start_emulator(callback: &str) -> (String, String, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let settings = EmulatorSettings::new(
        addr,
        format!("{base}/").parse().unwrap(),
        callback.parse().unwrap(),
    );
    let emulator = Emulator::build_on(settings, listener).await.unwrap();
    let ca = emulator.ca_pem().to_owned();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(emulator.run(async move {
        let _ = stopped.await;
    }));
    (base, ca, stop)
}

const CABINET_ROUTE: &str = "[routes.cabinet]\nprefix = \"/\"\nupstream = \"{cabinet}\"\n";

/// A second Diia provider (never signed in with: the login page lists it).
fn second_provider(emulator: &str) -> String {
    format!(
        "[providers.second]\nkind = \"diia\"\ndisplay_name = \"Друга Дія\"\n\
         api_base_url = \"{emulator}/\"\nacquirer_token = \"t\"\nbranch_id = \"b\"\n\
         offer_id = \"o\"\ncallback_secret = \"{}\"\n",
        "c".repeat(40)
    )
}

/// What the cabinet saw of a request (the WSGI environ's HTTP_ headers).
async fn cabinet_saw(browser: &mut Browser, path: &str) -> serde_json::Value {
    let response = browser.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn sighup_applies_routes_headers_providers_branding_limits_and_clients() {
    let gateway = LiveGateway::start(&format!(
        "{CABINET_ROUTE}[ui.branding]\norganization = \"ТОВ «Перша»\"\n{{diia}}"
    ))
    .await;
    let mut browser = gateway.signed_in().await;
    let seen = cabinet_saw(&mut browser, "/reports/").await;
    assert!(seen["HTTP_X_KEPGATE_RNOKPP"].is_string(), "{seen}");
    assert!(gateway.login_page().await.contains("ТОВ «Перша»"));
    let oidc_authorize = gateway.own(
        "/oidc/authorize?client_id=grafana&redirect_uri=https%3A%2F%2Fgrafana.example.ua%2Fcb\
         &response_type=code&scope=openid&state=s&nonce=n",
    );
    let before = client().get(&oidc_authorize).send().await.unwrap();
    assert_eq!(before.status(), 404, "no OpenID Provider yet");
    let big_form = "x".repeat(8 * 1024);
    let posted = |url: String| {
        let body = big_form.clone();
        async move {
            client()
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_ne!(posted(gateway.own("/login/start")).await, 413);

    gateway.write(&format!(
        "body_limit_bytes = 4096\n\
         [routes.cabinet]\nprefix = \"/\"\nupstream = \"{{cabinet}}\"\n\
         [routes.public]\nprefix = \"/help/\"\nupstream = \"{{cabinet}}\"\npublic = true\n\
         [identity]\nrnokpp_header = \"x-person-rnokpp\"\n\
         [ui.branding]\norganization = \"ТОВ «Друга»\"\n\
         [oidc]\nenabled = true\n\
         [oidc.clients.grafana]\nredirect_uris = [\"https://grafana.example.ua/cb\"]\n\
         secret_sha256 = \"{}\"\n\
         {{diia}}{}",
        "ab".repeat(32),
        second_provider(&gateway.emulator),
    ));
    let said = gateway.reload().await;
    assert!(said.contains("the configuration: applied"), "{said}");

    // The identity headers, by their new names, on the session that was open before; the old
    // names, which a cabinet not yet redeployed still reads, cannot be forged by a client.
    let forged = client()
        .get(gateway.url("/reports/"))
        .header("cookie", browser.cookie_header())
        .header("x-kepgate-rnokpp", "1111111111")
        .header("x-kepgate-subject", "rnokpp:1111111111")
        .send()
        .await
        .unwrap();
    let seen: serde_json::Value = forged.json().await.unwrap();
    assert!(seen["HTTP_X_PERSON_RNOKPP"].is_string(), "{seen}");
    assert!(seen.get("HTTP_X_KEPGATE_RNOKPP").is_none(), "{seen}");
    assert!(
        !seen.to_string().contains("1111111111"),
        "nothing forged: {seen}"
    );
    // A new public route: no session needed.
    let help = client().get(gateway.url("/help/faq")).send().await.unwrap();
    assert_eq!(help.status(), 200);
    let page = gateway.login_page().await;
    assert!(page.contains("ТОВ «Друга»") && !page.contains("ТОВ «Перша»"));
    assert!(page.contains("Друга Дія"), "the new provider is offered");
    let after = client().get(&oidc_authorize).send().await.unwrap();
    assert!(
        after.status().is_redirection(),
        "the new client's request goes on to the login: {}",
        after.status()
    );
    assert_eq!(posted(gateway.own("/login/start")).await, 413);

    // And back: what the file no longer has is gone.
    gateway.write(&format!("{CABINET_ROUTE}{{diia}}"));
    gateway.reload().await;
    let help = client().get(gateway.url("/help/faq")).send().await.unwrap();
    assert_ne!(
        help.status(),
        200,
        "the public route is gone: a session is needed again"
    );
    assert!(!gateway.login_page().await.contains("Друга Дія"));
    let seen = cabinet_saw(&mut browser, "/reports/").await;
    assert!(seen["HTTP_X_KEPGATE_RNOKPP"].is_string(), "{seen}");
}

#[tokio::test]
async fn a_tightened_policy_and_a_changed_trust_list_apply_from_the_next_request() {
    let gateway = LiveGateway::start(&format!("{CABINET_ROUTE}{{diia}}")).await;
    let mut browser = gateway.signed_in().await;
    cabinet_saw(&mut browser, "/reports/").await;

    // Only somebody else may enter now: the open session is refused at its next request.
    gateway.write(&format!(
        "{CABINET_ROUTE}[routes.cabinet.allow]\nrnokpp = [\"2245134473\"]\n{{diia}}"
    ));
    assert!(gateway.reload().await.contains("applied"));
    assert_eq!(browser.get("/reports/").await.status(), 403);

    // The emulator's CA no longer trusted (only the national bundle is): its signatures fail.
    gateway.write(&format!(
        "{CABINET_ROUTE}{{diia}}[trust]\nfiles = [\"{}\"]\nrevocation = \"off\"\n",
        std::fs::canonicalize("tests/fixtures/ua-trust/CACertificates.p7b")
            .unwrap()
            .display()
    ));
    assert!(gateway.reload().await.contains("applied"));
    assert_eq!(
        browser.get("/reports/").await.status(),
        200,
        "policy lifted"
    );
    let mut stranger = gateway.browser();
    let started = start_api(&mut stranger).await;
    let deeplink = stranger.provider_link(&started.link).await;
    phone_answers_at(&client(), &gateway.emulator, &deeplink, "confirm", PERSON).await;
    let refused = complete_api(&mut stranger, &started).await;
    assert_ne!(
        refused.status(),
        200,
        "a signature chaining to a CA no longer trusted opens no session"
    );
}

#[tokio::test]
async fn a_broken_configuration_changes_nothing_and_says_so() {
    let gateway = LiveGateway::start("[ui.branding]\norganization = \"ТОВ «Перша»\"\n{diia}").await;
    let ready = |gateway: &LiveGateway| {
        let url = gateway.own("/readyz");
        async move { client().get(url).send().await.unwrap().status() }
    };
    for broken in [
        // Not TOML.
        "[ui.branding\norganization = \"ТОВ «Друга»\"\n",
        // A key that does not exist.
        "[ui.branding]\norganisation = \"ТОВ «Друга»\"\n{diia}",
        // Well formed, but a file it names cannot be read (what check-config also refuses).
        "[ui.branding]\norganization = \"ТОВ «Друга»\"\nlogo_file = \"/nonexistent/logo.svg\"\n{diia}",
    ] {
        gateway.write(broken);
        let said = gateway.reload().await;
        assert!(said.contains("refused"), "{said}");
        assert_eq!(ready(&gateway).await, 200, "still ready");
        let page = gateway.login_page().await;
        assert!(
            page.contains("ТОВ «Перша»"),
            "the running configuration stays"
        );
        assert!(page.contains("Дія.Підпис"), "and its provider with it");
    }
    let log = gateway.log();
    assert!(log.contains("configuration not reloaded"), "{log}");
    assert!(log.contains("logo_file"), "the error names the key: {log}");
    let metrics = gateway.metrics().await;
    assert!(
        metrics.contains("kepgate_config_reloads_total{outcome=\"refused\"} 3"),
        "{metrics}"
    );

    // Mended, it applies.
    gateway.write("[ui.branding]\norganization = \"ТОВ «Друга»\"\n{diia}");
    assert!(gateway.reload().await.contains("applied"));
    assert!(gateway.login_page().await.contains("ТОВ «Друга»"));
    assert!(
        gateway
            .metrics()
            .await
            .contains("kepgate_config_reloads_total{outcome=\"applied\"} 1")
    );
}

#[tokio::test]
async fn what_needs_a_restart_is_named_and_the_rest_applies() {
    let gateway = LiveGateway::start("{diia}").await;
    gateway.write(
        "max_connections_per_address = 7\n[ui.branding]\norganization = \"ТОВ «Нова»\"\n\
         [log]\nformat = \"json\"\n{diia}\n[database]\nmax_connections = 3\n",
    );
    let said = gateway.reload().await;
    assert!(
        said.contains("server.max_connections_per_address")
            && said.contains("database.max_connections")
            && said.contains("log")
            && said.contains("restart to apply"),
        "{said}"
    );
    let log = gateway.log();
    assert!(log.contains("read only at start"), "{log}");
    assert!(gateway.login_page().await.contains("ТОВ «Нова»"));
    // Compared with what runs, not with the last file: the same file again still differs,
    // and the values it started with, written back, differ from nothing.
    let said = gateway.reload().await;
    assert!(said.contains("database.max_connections"), "{said}");
    gateway.write("[ui.branding]\norganization = \"ТОВ «Стара»\"\n{diia}");
    let said = gateway.reload().await;
    assert!(
        said.contains("applied") && !said.contains("restart"),
        "{said}"
    );
    assert_eq!(
        client()
            .get(gateway.own("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_waiting_login_of_a_removed_provider_fails_at_once_and_says_why() {
    let gateway = LiveGateway::start("{diia}").await;
    let mut browser = gateway.browser();
    let waiting = wait_for_phone(&mut browser, "/cabinet").await;
    gateway.write(&second_provider(&gateway.emulator));
    let said = gateway.reload().await;
    assert!(said.contains("applied"), "{said}");
    let status = browser
        .get(&browser.own(&format!("/login/wait/{}", waiting.id)))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        status.contains("вимкнув адміністратор"),
        "the waiting page says the provider was turned off: {status}"
    );
    assert!(gateway.log().contains("their unfinished logins failed"));
}

#[tokio::test]
async fn a_login_confirmed_just_before_its_provider_is_removed_opens_no_session() {
    let gateway = LiveGateway::start(&format!("{CABINET_ROUTE}{{diia}}")).await;
    let mut browser = gateway.browser();
    let started = start_api(&mut browser).await;
    let deeplink = browser.provider_link(&started.link).await;
    phone_answers_at(&client(), &gateway.emulator, &deeplink, "confirm", PERSON).await;
    gateway.wait_for_state(&started.id, "confirmed").await;
    gateway.write(&format!(
        "{CABINET_ROUTE}{}",
        second_provider(&gateway.emulator)
    ));
    assert!(gateway.reload().await.contains("applied"));
    let refused = complete_api(&mut browser, &started).await;
    assert_ne!(
        refused.status(),
        200,
        "no session from a provider turned off"
    );
    assert_eq!(
        browser.get("/reports/").await.status(),
        303,
        "not signed in"
    );
}

#[tokio::test]
async fn no_request_fails_while_the_configuration_is_reloaded_again_and_again() {
    let gateway = LiveGateway::start(&format!("{CABINET_ROUTE}{{diia}}")).await;
    let browser = gateway.signed_in().await;
    let cookies = browser.cookie_header();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let (stop, cookies) = (stop.clone(), cookies.clone());
        let (cabinet, login) = (gateway.url("/reports/"), gateway.own("/login"));
        load.spawn(async move {
            let http = client();
            let mut answered = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let url = if worker % 2 == 0 { &cabinet } else { &login };
                let response = http
                    .get(url)
                    .header("cookie", &cookies)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{url}: {e}"));
                assert_eq!(response.status(), 200, "{url}");
                response.bytes().await.unwrap();
                answered += 1;
            }
            answered
        });
    }
    for round in 0..10 {
        let organization = format!("ТОВ «Версія {round}»");
        gateway.write(&format!(
            "{CABINET_ROUTE}[ui.branding]\norganization = \"{organization}\"\n{{diia}}"
        ));
        assert!(gateway.reload().await.contains("applied"));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut answered = 0;
    while let Some(worker) = load.join_next().await {
        answered += worker.expect("every request answered 200");
    }
    assert!(
        answered > 100,
        "the load ran through the reloads: {answered}"
    );
    assert!(gateway.login_page().await.contains("ТОВ «Версія 9»"));
}

/// `kepgate reload --pid`, run without the gateway's file or environment: it must check what
/// the gateway itself reads.
fn kepgate_reload(pid: u32) -> std::process::Output {
    kepgate_bin()
        .args(["reload", "--pid", &pid.to_string()])
        .output()
        .unwrap()
}

#[tokio::test]
async fn kepgate_reload_checks_first_then_signals_the_gateway_or_says_why_not() {
    let gateway = LiveGateway::start("{diia}").await;
    gateway
        .write("[ui.branding]\norganization = \"ТОВ «Друга»\"\nlogo_file = \"/nonexistent.svg\"\n");
    let before = gateway.reloads_logged();
    let refused = kepgate_reload(gateway.pid());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{said}");
    assert!(
        said.contains("logo_file") && said.contains("not asked to reload"),
        "{said}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(gateway.reloads_logged(), before, "no signal was sent");

    gateway.write("[ui.branding]\norganization = \"ТОВ «Друга»\"\n{diia}");
    let done = kepgate_reload(gateway.pid());
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(gateway.reloaded_after(before).await.contains("applied"));
    assert!(gateway.login_page().await.contains("ТОВ «Друга»"));

    // Not a gateway: this test's own process is left alone.
    let other = kepgate_reload(std::process::id());
    let said = String::from_utf8_lossy(&other.stderr);
    assert!(!other.status.success());
    assert!(said.contains("is not `kepgate serve`"), "{said}");

    // Nor a shell that calls itself `kepgate serve`: the command line is the process's to write.
    let planted = KillOnDrop(
        std::process::Command::new("bash")
            .args(["-c", "exec -a kepgate sh -c 'sleep 30; :' serve"])
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    while !std::fs::read(format!("/proc/{}/cmdline", planted.0.id()))
        .unwrap_or_default()
        .starts_with(b"kepgate\0")
    {
        assert!(started.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let fooled = kepgate_reload(planted.0.id());
    let said = String::from_utf8_lossy(&fooled.stderr);
    assert!(!fooled.status.success(), "{said}");
    assert!(said.contains("but runs"), "{said}");
    assert!(planted.0.id() > 0);
}

#[tokio::test]
async fn a_reload_asked_while_the_gateway_starts_is_applied_once_it_serves() {
    // The migrations wait for a lock this test holds: the gateway has read its file, but does
    // not serve yet.
    let (url, _) = fresh_database_url();
    let migrated = kepgate_bin()
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(migrated.status.success());
    let db = sqlx::PgPool::connect(&url).await.unwrap();
    let mut lock = db.begin().await.unwrap();
    sqlx::query("LOCK TABLE _sqlx_migrations IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let gateway =
        LiveGateway::spawned("[ui.branding]\norganization = \"ТОВ «Перша»\"\n{diia}", url).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    gateway.write("[ui.branding]\norganization = \"ТОВ «Друга»\"\n{diia}");
    let sent = std::process::Command::new("kill")
        .args(["-s", "HUP", &gateway.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    lock.commit().await.unwrap();
    db.close().await;
    gateway.wait_ready().await;
    gateway.reloaded_after(0).await;
    assert!(gateway.login_page().await.contains("ТОВ «Друга»"));
}
