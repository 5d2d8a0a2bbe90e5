//! `spawn_app()`: the real server on a random port, with its own fresh database.

use std::net::SocketAddr;
use std::time::Duration;

use kepgate::app::AppState;
use kepgate::config::{Defaults, Settings};
use kepgate::startup::Application;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Server part of the test database URL; each test adds its own database name.
pub fn postgres_server_url() -> String {
    std::env::var("KEPGATE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

pub fn fresh_database_url() -> (String, String) {
    // The creation time in the name lets scripts/test.sh drop only old leftovers, never the
    // databases of a test run going on at the same time; the run's tag (set by scripts/test.sh)
    // lets it drop this run's own databases when the run ends.
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let run = std::env::var("KEPGATE_TEST_RUN")
        .ok()
        .filter(|tag| tag.len() == 8 && tag.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| "adhoc000".to_owned());
    let unique = uuid::Uuid::new_v4().simple().to_string();
    // 49 characters: PostgreSQL cuts names at 63.
    let name = format!("kepgate_test_{created}_{run}_{}", &unique[..16]);
    (format!("{}/{}", postgres_server_url(), name), name)
}

pub struct TestApp {
    pub address: String,
    /// `server.route_prefix`: kepgate's own routes live below it.
    route_prefix: String,
    pub metrics_address: Option<String>,
    pub db_name: String,
    pub db: PgPool,
    pub state: AppState,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    running: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A `server.route_prefix` other than the default, for the tests that prove nothing in kepgate
/// (or in these tests) assumes `/.kepgate`.
pub const OTHER_PREFIX: &str = "/.auth";

/// Settings every test starts from: documented defaults, environment ignored.
pub fn test_settings() -> Settings {
    let mut settings =
        Settings::load_with(None, false, Defaults::Production).expect("defaults are valid");
    settings.server.shutdown_grace = Duration::from_secs(1);
    settings.metrics.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let mut settings = settings_for(&listener);
    configure(&mut settings);
    spawn_app_on(listener, settings).await
}

/// Test settings for a gateway on `listener`, with a fresh database of its own.
pub fn settings_for(listener: &TcpListener) -> Settings {
    let mut settings = test_settings();
    let (url, _) = fresh_database_url();
    settings.database.url = SecretString::from(url);
    let port = listener.local_addr().expect("addr").port();
    settings.server.listen = SocketAddr::from(([127, 0, 0, 1], port));
    settings.server.base_url = format!("http://127.0.0.1:{port}/").parse().expect("url");
    settings
}

pub async fn spawn_app_on(listener: TcpListener, settings: Settings) -> TestApp {
    spawn_app_on_with_clock(listener, settings, None).await
}

/// Like [`spawn_app_on`] with the clock replaced (tests move time by hand).
pub async fn spawn_app_on_with_clock(
    listener: TcpListener,
    settings: Settings,
    clock: Option<kepgate::clock::SharedClock>,
) -> TestApp {
    let port = listener.local_addr().expect("addr").port();
    let route_prefix = settings.server.route_prefix.clone();
    let db_name = settings
        .database
        .url
        .expose_secret()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    // With `[server.tls]` the chain file ends with the test CA: the tests' client trusts it.
    let tls_chain = settings.server.tls.as_ref().map(|t| t.cert_file.clone());
    let app = match clock {
        Some(clock) => Application::build_with_clock(settings, listener, clock).await,
        None => Application::build_on(settings, listener).await,
    }
    .expect("application builds");
    let metrics_address = app.metrics_addr().map(|a| format!("http://{a}"));
    let scheme = settings_scheme(app.state());
    let state = app.state().clone();
    let db = state.web.db.clone();
    let (tx, rx) = oneshot::channel();
    let running = tokio::spawn(app.run(async move {
        let _ = rx.await;
    }));
    TestApp {
        address: format!("{scheme}://127.0.0.1:{port}"),
        route_prefix,
        metrics_address,
        db_name,
        db,
        state,
        client: client_trusting(tls_chain.as_deref()),
        shutdown: Some(tx),
        running: Some(running),
    }
}

/// A client that shows redirects instead of following them, as a test must see them.
pub fn client() -> reqwest::Client {
    client_trusting(None)
}

/// [`client`], also trusting the PEM certificates in `ca_file` (a gateway on HTTPS).
pub fn client_trusting(ca_file: Option<&std::path::Path>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20));
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).expect("CA file");
        builder = builder.tls_certs_merge(reqwest::Certificate::from_pem_bundle(&pem).unwrap());
    }
    builder.build().expect("client")
}

fn settings_scheme(state: &AppState) -> &'static str {
    if state.web.settings.server.tls.is_some() {
        "https"
    } else {
        "http"
    }
}

impl TestApp {
    /// Graceful stop (SIGTERM-like); returns once the server has let go of its port.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(running) = self.running.take() {
            let _ = running.await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// `server.route_prefix` as configured, say `/.kepgate`.
    pub fn prefix(&self) -> &str {
        &self.route_prefix
    }

    /// The path of one of kepgate's own routes: `own_path("/login")` → `/.kepgate/login`.
    pub fn own_path(&self, below: &str) -> String {
        format!("{}{below}", self.route_prefix)
    }

    /// The URL of one of kepgate's own routes: `own("/login")` → `http://127.0.0.1:…/.kepgate/login`.
    pub fn own(&self, below: &str) -> String {
        self.url(&self.own_path(below))
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// Runs SQL as the superuser on the server (outside the app's pool): for faults.
    pub async fn admin(&self, sql: &str) {
        let mut conn = PgConnection::connect(&format!("{}/postgres", postgres_server_url()))
            .await
            .expect("admin connection");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut conn)
            .await
            .expect("admin sql");
    }
}

impl TestApp {
    /// The database goes away under the running gateway without stopping the shared server:
    /// new connections are refused, and every open one (the pool's, the LISTEN connection) is
    /// terminated, as when PostgreSQL restarts or fails over.
    pub async fn cut_database(&self) {
        // Two round trips: in one, both statements would share an implicit transaction, and the
        // terminated connections could reconnect before the refusal is committed.
        self.admin(&format!(
            "ALTER DATABASE {} ALLOW_CONNECTIONS false",
            self.db_name
        ))
        .await;
        self.admin(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
            self.db_name
        ))
        .await;
    }

    /// The database is back (the gateway is not restarted).
    pub async fn restore_database(&self) {
        self.admin(&format!(
            "ALTER DATABASE {} ALLOW_CONNECTIONS true",
            self.db_name
        ))
        .await;
    }
}

pub fn assert_redirect_to(response: &reqwest::Response, location: &str) {
    assert!(
        response.status().is_redirection(),
        "expected a redirect, got {}",
        response.status()
    );
    assert_eq!(response.headers()["location"], location);
}

/// The kepgate binary built for this test run.
pub fn kepgate_bin() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kepgate"));
    // A clean environment: only what a test sets, so the developer's shell cannot leak in.
    cmd.env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    cmd
}

/// The repository's root: scripts, fixtures and docs the tests read.
pub fn repository() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The path a `scripts/ensure-*.sh` prints: a pinned tool, fetched on first use into `target/`.
pub fn ensured_tool(script: &str) -> std::path::PathBuf {
    let out = std::process::Command::new(repository().join(script))
        .output()
        .unwrap_or_else(|e| panic!("{script} runs: {e}"));
    assert!(
        out.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// What a gateway's `/metrics` at `address` (`http://host:port`) shows now.
pub async fn metrics_text(address: &str) -> String {
    client()
        .get(format!("{address}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
