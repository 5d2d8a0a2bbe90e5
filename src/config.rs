//! Configuration: one TOML file plus `KEPGATE_…` environment overrides (and `DATABASE_URL`).
//!
//! Every key has a documented default (see README and `kepgate.example.toml`), so an empty file
//! is a valid development configuration. Unknown keys are errors: a typo must not silently fall
//! back to a default on a security gateway.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::language::Lang;

/// Prefix of every environment override: `KEPGATE_SERVER__LISTEN` sets `server.listen`.
pub const ENV_PREFIX: &str = "KEPGATE_";
/// Environment variables with our prefix that are not configuration keys.
pub const ENV_NOT_KEYS: &[&str] = &["CONFIG"];
/// Variables of kepgate's other commands (`KEPGATE_EMULATOR_LISTEN`, `KEPGATE_DEMO_…`) and of
/// its tests: not gateway configuration, so never read as keys.
pub const ENV_OTHER_PREFIXES: &[&str] = &["EMULATOR_", "CABINET_", "DEMO_", "TEST_"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub server: ServerSettings,
    #[serde(default)]
    pub database: DatabaseSettings,
    #[serde(default)]
    pub metrics: MetricsSettings,
    #[serde(default)]
    pub ui: UiSettings,
    #[serde(default)]
    pub log: LogSettings,
    #[serde(default)]
    pub trust: TrustSettings,
    #[serde(default)]
    pub login: LoginSettings,
    /// Where signed-in users go: path prefix → upstream, by route name (the name is the
    /// assertion's `aud`). Without routes, a signed-in user sees kepgate's own "who am I" page.
    #[serde(default)]
    pub routes: BTreeMap<String, RouteSettings>,
    #[serde(default)]
    pub identity: IdentitySettings,
    #[serde(default)]
    pub proxy: ProxySettings,
    #[serde(default)]
    pub session: SessionSettings,
    /// Providers in the «Провайдер» list, by id (the id appears in callback URLs).
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderSettings>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginSettings {
    /// Login starts allowed per client address per minute (then 429). The address is the peer's,
    /// or the client's from `X-Forwarded-For` when the peer is one of `proxy.trusted_proxies`.
    pub start_rate_per_minute: u32,
    /// Login starts running at once on one replica (database writes and the provider call);
    /// beyond it a start gets 503 «too many logins right now».
    pub max_starts_in_flight: u32,
    /// Unexpired pending logins across all replicas; beyond it a start gets the same 503. Bounds
    /// what a flood from many addresses can put in the database. Each replica counts at most once
    /// a second (plus its own starts since), so other replicas' starts of that second may overshoot.
    pub max_pending: u32,
    /// After a login is confirmed, how long the browser has to complete it, in seconds.
    #[serde(with = "seconds")]
    pub complete_within: Duration,
    /// What the QR code and the link button hold: `rotating` (a short kepgate link that changes
    /// every `qr_rotate_seconds`, QRLJacking defence) or `direct` (the provider's deeplink, for
    /// deployments whose `public_base_url` phones cannot reach).
    pub qr_mode: QrMode,
    /// Seconds between two rotating links on the waiting page.
    pub qr_rotate_seconds: u64,
    /// Seconds a rotating link stays usable after it was shown (scan and tap time included).
    #[serde(with = "seconds")]
    pub qr_link_max_age: Duration,
    /// Before the provider app, the phone sees who asks, from where, and picks the verification
    /// code shown on the computer (rotating mode only).
    pub phone_check: bool,
    /// A link opened by the browser that started the login (same phone) goes straight to the
    /// provider app, skipping the checks that only make sense across two devices.
    pub same_device_shortcut: bool,
    /// Key of the rotating links' MAC, the same on every replica (at least 32 characters).
    /// Unset: one is generated once and kept in the database.
    pub qr_link_key: Option<SecretString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QrMode {
    Rotating,
    Direct,
}

impl Default for LoginSettings {
    fn default() -> Self {
        Self {
            start_rate_per_minute: 10,
            max_starts_in_flight: 32,
            max_pending: 10_000,
            complete_within: Duration::from_secs(120),
            qr_mode: QrMode::Rotating,
            qr_rotate_seconds: 2,
            qr_link_max_age: Duration::from_secs(10),
            phone_check: true,
            same_device_shortcut: true,
            qr_link_key: None,
        }
    }
}

/// One cabinet route.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSettings {
    /// Path prefix this route serves (`/` for the cabinet itself, `/static/` …). The longest
    /// matching prefix wins.
    pub prefix: String,
    /// The upstream's base URL (http://host:port). The request path is kept as it is.
    pub upstream: Url,
    /// Serve without a session (static assets, say). Identity headers are still stripped.
    #[serde(default)]
    pub public: bool,
    /// Keep the client's Host header instead of the upstream's.
    #[serde(default)]
    pub preserve_host: bool,
    /// Let the upstream's own Cache-Control through; otherwise authenticated responses are
    /// marked `no-store` (shared office PCs).
    #[serde(default)]
    pub allow_caching: bool,
    /// Seconds to connect to the upstream.
    #[serde(default = "default_connect_timeout", with = "seconds")]
    pub connect_timeout: Duration,
    /// Seconds until the upstream's response headers (then 504).
    #[serde(default = "default_response_timeout", with = "seconds")]
    pub response_timeout: Duration,
    /// Seconds a streamed body may stay silent in either direction before it is cut.
    #[serde(default = "default_idle_timeout", with = "seconds")]
    pub idle_timeout: Duration,
    /// Access policy; a route with any list set admits only matching users.
    #[serde(default)]
    pub allow: AccessPolicy,
}

fn default_connect_timeout() -> Duration {
    Duration::from_secs(5)
}
fn default_response_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_idle_timeout() -> Duration {
    Duration::from_secs(300)
}

/// Who may use a route. Empty = every signed-in user. Otherwise a user is admitted when
/// (their РНОКПП or ЄДРПОУ is listed, if either list is set) and (their provider is listed, if
/// that list is set). Keys with a company (ЄДРПОУ in the certificate) match `edrpou`, so one
/// entry admits a company's own key and all its employees' keys.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessPolicy {
    pub rnokpp: Vec<String>,
    pub edrpou: Vec<String>,
    pub providers: Vec<String>,
}

impl AccessPolicy {
    pub fn is_open(&self) -> bool {
        self.rnokpp.is_empty() && self.edrpou.is_empty() && self.providers.is_empty()
    }
}

/// The identity kepgate hands to the cabinet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentitySettings {
    /// Every client header starting with this prefix is removed from every request.
    pub header_prefix: String,
    pub subject_header: String,
    /// UTF-8, percent-encoded (RFC 3986) so Ukrainian names travel in plain ASCII.
    pub name_header: String,
    pub rnokpp_header: String,
    pub edrpou_header: String,
    pub organization_header: String,
    pub provider_header: String,
    pub cert_serial_header: String,
    pub session_header: String,
    /// A short-lived ES256 JWT with all claims; keys at `{prefix}/jwks.json`.
    pub assertion_header: String,
    #[serde(with = "seconds")]
    pub assertion_ttl: Duration,
    /// PEM (PKCS#8) P-256 key for the assertion. Unset: one is generated and kept in the
    /// database, so every replica signs with the same key.
    pub assertion_key_file: Option<PathBuf>,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            header_prefix: "x-kepgate-".to_owned(),
            subject_header: "x-kepgate-subject".to_owned(),
            name_header: "x-kepgate-name".to_owned(),
            rnokpp_header: "x-kepgate-rnokpp".to_owned(),
            edrpou_header: "x-kepgate-edrpou".to_owned(),
            organization_header: "x-kepgate-organization".to_owned(),
            provider_header: "x-kepgate-provider".to_owned(),
            cert_serial_header: "x-kepgate-cert-serial".to_owned(),
            session_header: "x-kepgate-session".to_owned(),
            assertion_header: "x-kepgate-assertion".to_owned(),
            assertion_ttl: Duration::from_secs(60),
            assertion_key_file: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// Seconds without a request after which a session ends (sliding).
    #[serde(with = "seconds")]
    pub idle_timeout: Duration,
    /// Seconds after login at which a session ends whatever the activity.
    #[serde(with = "seconds")]
    pub absolute_timeout: Duration,
    /// The idle timeout of a login from a «public / shared computer».
    #[serde(with = "seconds")]
    pub shared_pc_idle_timeout: Duration,
    /// Whether the «shared computer» box on the login page starts ticked.
    pub shared_pc_default: bool,
    /// At most one `last_seen_at` write per session per this many seconds (per replica): the
    /// idle timeout slides without a database write on every request.
    #[serde(with = "seconds")]
    pub last_seen_write_interval: Duration,
    /// Seconds a replica trusts its in-process copy of a session without asking the database.
    /// Revocations arrive by LISTEN/NOTIFY at once; this bounds the time when that channel is down.
    #[serde(with = "seconds")]
    pub cache_ttl: Duration,
    /// Days the login history is kept; older rows are deleted by every replica, hourly.
    pub history_retention_days: u32,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(15 * 60),
            absolute_timeout: Duration::from_secs(8 * 60 * 60),
            shared_pc_idle_timeout: Duration::from_secs(5 * 60),
            shared_pc_default: false,
            last_seen_write_interval: Duration::from_secs(60),
            cache_ttl: Duration::from_secs(10),
            history_retention_days: 180,
        }
    }
}

impl IdentitySettings {
    /// Every header name kepgate sets for the cabinet, for stripping client copies.
    pub fn header_names(&self) -> [&str; 9] {
        [
            &self.subject_header,
            &self.name_header,
            &self.rnokpp_header,
            &self.edrpou_header,
            &self.organization_header,
            &self.provider_header,
            &self.cert_serial_header,
            &self.session_header,
            &self.assertion_header,
        ]
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProxySettings {
    /// Front proxies / load balancers whose X-Forwarded-* and Forwarded headers are believed.
    /// From anyone else those headers are replaced.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Origins besides our own from which WebSocket handshakes are accepted.
    pub websocket_origins: Vec<String>,
    /// Pass client headers with `_` in their name to the cabinet (nginx's
    /// `underscores_in_headers`). Off: they are dropped, because servers that read `_` as `-`
    /// (WSGI, CGI, Rack) would take `x_kepgate_rnokpp` for an identity header. Names that fold
    /// into an identity or forwarding header are dropped either way.
    pub underscores_in_headers: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustSettings {
    /// Trusted qualified CAs: PEM files and/or PKCS#7 bundles such as the national
    /// `CACertificates.p7b`. Nothing is trusted by default — not even the emulator's CA.
    pub files: Vec<PathBuf>,
}

/// One provider; `kind` picks the adapter.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ProviderSettings {
    Diia(DiiaSettings),
}

impl ProviderSettings {
    pub fn common(&self) -> &ProviderCommon {
        match self {
            ProviderSettings::Diia(d) => &d.common,
        }
    }
}

/// What every provider has, whatever its kind.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderCommon {
    /// Name in the «Провайдер» dropdown (Ukrainian) and its English form.
    pub display_name: String,
    pub display_name_en: Option<String>,
    /// Position in the dropdown (smaller first, then by id).
    #[serde(default)]
    pub order: i32,
    /// Secret path segment of this provider's callback URL:
    /// `{public_base_url}{route_prefix}/callback/{id}/{callback_secret}`. At least 32 characters.
    pub callback_secret: SecretString,
    /// When set, callbacks are accepted only from these addresses (CIDR or single IPs).
    #[serde(default)]
    pub callback_allowed_ips: Vec<ipnet::IpNet>,
    /// How long a pending login waits for the user, in seconds.
    #[serde(default = "default_request_ttl", with = "seconds")]
    pub request_ttl: Duration,
    /// Time limit of one HTTP call to the provider, in seconds.
    #[serde(default = "default_http_timeout", with = "seconds")]
    pub http_timeout: Duration,
    /// Extra attempts after a 5xx or a connection error (never after a 4xx).
    #[serde(default = "default_http_retries")]
    pub http_retries: u32,
}

impl ProviderCommon {
    pub fn callback_secret_str(&self) -> &str {
        self.callback_secret.expose_secret()
    }
}

fn default_request_ttl() -> Duration {
    Duration::from_secs(180)
}
fn default_http_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_http_retries() -> u32 {
    2
}

/// Diia.Signature partner API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiiaSettings {
    #[serde(flatten)]
    pub common: ProviderCommon,
    /// `https://api2.diia.gov.ua` (production) or `https://api2s.diia.gov.ua` (test).
    pub api_base_url: Url,
    /// The acquirer token Diia issued to the partner.
    pub acquirer_token: SecretString,
    /// Optional `auth_acquirer_token` sent as `Authorization: Basic …` when asking for a session.
    pub auth_acquirer_token: Option<SecretString>,
    /// Created once by `kepgate diia setup`, which prints them.
    pub branch_id: Option<String>,
    pub offer_id: Option<String>,
    /// What `kepgate diia setup` registers (the name people see in Diia).
    #[serde(default)]
    pub setup: DiiaSetupSettings,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiiaSetupSettings {
    pub branch_name: String,
    pub email: String,
    pub region: String,
    pub district: String,
    pub location: String,
    pub street: String,
    pub house: String,
    pub custom_full_name: String,
    pub custom_full_address: String,
    pub offer_name: String,
}

impl Default for DiiaSetupSettings {
    fn default() -> Self {
        Self {
            branch_name: "kepgate".to_owned(),
            email: "admin@example.ua".to_owned(),
            region: "Київська обл.".to_owned(),
            district: "Київ".to_owned(),
            location: "м. Київ".to_owned(),
            street: "вул. Хрещатик".to_owned(),
            house: "1".to_owned(),
            custom_full_name: "kepgate".to_owned(),
            custom_full_address: "м. Київ, вул. Хрещатик, 1".to_owned(),
            offer_name: "Вхід до кабінету".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Socket the gateway listens on.
    pub listen: SocketAddr,
    /// The address users browse (intranet name). Used for absolute links shown to the desktop.
    pub base_url: Url,
    /// The address providers call back and phones open; may be the only part exposed to the
    /// internet. Defaults to `base_url`.
    pub public_base_url: Option<Url>,
    /// All of kepgate's own routes live under this path; everything else is the cabinet's.
    pub route_prefix: String,
    /// Per-request time limit for kepgate's own routes.
    #[serde(with = "seconds")]
    pub request_timeout: Duration,
    /// Largest request body kepgate's own routes accept (the cabinet's routes stream any size).
    pub body_limit_bytes: usize,
    /// Time a client has to send a request's headers, from its first byte; then the connection
    /// is closed (slow-loris).
    #[serde(with = "seconds")]
    pub header_read_timeout: Duration,
    /// How long in-flight requests may take to finish after SIGTERM.
    #[serde(with = "seconds")]
    pub shutdown_grace: Duration,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            base_url: Url::parse("http://127.0.0.1:8080/").unwrap_or_else(|_| unreachable!()),
            public_base_url: None,
            route_prefix: "/.kepgate".to_owned(),
            request_timeout: Duration::from_secs(30),
            body_limit_bytes: 64 * 1024,
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

impl ServerSettings {
    pub fn public_base_url(&self) -> &Url {
        self.public_base_url.as_ref().unwrap_or(&self.base_url)
    }

    /// `route_prefix` joined with a path below it: `path("/healthz")` → `/.kepgate/healthz`.
    pub fn path(&self, below: &str) -> String {
        format!("{}{}", self.route_prefix, below)
    }
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// PostgreSQL URL; also read from `DATABASE_URL`. Holds a password, so it is a secret.
    pub url: SecretString,
    pub max_connections: u32,
    #[serde(with = "seconds")]
    pub acquire_timeout: Duration,
    /// Create the database on start when it does not exist (needs CREATEDB rights).
    pub create_if_missing: bool,
    /// Apply pending migrations on start (`kepgate migrate` does it explicitly).
    pub migrate_on_start: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: SecretString::from("postgres://postgres@127.0.0.1:5432/kepgate"),
            max_connections: 20,
            acquire_timeout: Duration::from_secs(3),
            create_if_missing: true,
            migrate_on_start: true,
        }
    }
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redacted_url(self.url.expose_secret()))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("create_if_missing", &self.create_if_missing)
            .field("migrate_on_start", &self.migrate_on_start)
            .finish()
    }
}

/// A database URL fit for logs: the password replaced, the rest kept for diagnosis.
pub fn redacted_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("REDACTED"));
            }
            url.to_string()
        }
        Err(_) => "<unparseable url>".to_owned(),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Prometheus `/metrics` is served on its own socket so it is never exposed with the gateway.
    /// Set `enabled = false` to turn it off.
    pub enabled: bool,
    pub listen: SocketAddr,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 9464)),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiSettings {
    /// Language when neither the switch cookie nor Accept-Language decides.
    pub default_language: Lang,
    /// Shown in page titles and, later, on the phone.
    pub service_name: String,
}

impl Default for UiSettings {
    fn default() -> Self {
        Self {
            default_language: Lang::Uk,
            service_name: "kepgate".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `tracing` filter, e.g. `info,kepgate=debug`. `RUST_LOG` wins when set.
    pub filter: String,
    pub format: LogFormat,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            filter: "info".to_owned(),
            format: LogFormat::Text,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Which built-in defaults sit under the file and the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defaults {
    Production,
    /// `kepgate demo`: its own database, so trying the demo never touches a real one.
    Demo,
}

/// A configuration problem, worded for the person editing the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("{0}")]
    Invalid(String),
}

impl Settings {
    /// Loads defaults ← file (if given) ← `KEPGATE_…` ← `DATABASE_URL`, then checks the values.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with(file, true, Defaults::Production)
    }

    /// `read_env = false` ignores the process environment (unit tests run in parallel and must
    /// not see each other's variables; the CLI tests cover the environment in a real process).
    pub fn load_with(
        file: Option<&Path>,
        read_env: bool,
        defaults: Defaults,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if defaults == Defaults::Demo {
            figment = figment.merge(Serialized::default(
                "database.url",
                "postgres://postgres@127.0.0.1:5432/kepgate_demo",
            ));
        }
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::MissingFile(path.to_owned()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        if read_env {
            figment = figment
                .merge(
                    Env::prefixed(ENV_PREFIX)
                        .ignore(ENV_NOT_KEYS)
                        .filter(|key| {
                            let key = key.as_str().to_ascii_uppercase();
                            !ENV_OTHER_PREFIXES.iter().any(|p| key.starts_with(p))
                        })
                        .split("__"),
                )
                .merge(
                    Env::raw()
                        .only(&["DATABASE_URL"])
                        .map(|_| "database.url".into()),
                );
        }
        let settings: Settings = figment.extract().map_err(describe_figment_error)?;
        settings.check()?;
        Ok(settings)
    }

    /// Rules that serde's types alone cannot say.
    fn check(&self) -> Result<(), ConfigError> {
        let prefix = &self.server.route_prefix;
        if !prefix.starts_with('/') || prefix.ends_with('/') || prefix.len() < 2 {
            return Err(ConfigError::Invalid(format!(
                "server.route_prefix: {prefix:?} must start with '/' and not end with '/' (for example \"/.kepgate\")"
            )));
        }
        let canonical = crate::canonical_path::CanonicalPath::parse(prefix);
        if prefix.contains(['?', '#', ' ', '{', '}', '*'])
            || canonical.as_ref().map(|p| p.for_decisions()) != Ok(prefix.as_str())
        {
            return Err(ConfigError::Invalid(format!(
                "server.route_prefix: {prefix:?} may contain only plain path characters"
            )));
        }
        for (key, url) in [
            ("server.base_url", Some(&self.server.base_url)),
            (
                "server.public_base_url",
                self.server.public_base_url.as_ref(),
            ),
        ] {
            if let Some(url) = url
                && !matches!(url.scheme(), "http" | "https")
            {
                return Err(ConfigError::Invalid(format!(
                    "{key}: {url} must be an http:// or https:// URL"
                )));
            }
        }
        let db = self.database.url.expose_secret();
        match Url::parse(db) {
            Ok(url) if matches!(url.scheme(), "postgres" | "postgresql") => {}
            _ => {
                return Err(ConfigError::Invalid(format!(
                    "database.url (or DATABASE_URL): {} is not a postgres:// URL",
                    redacted_url(db)
                )));
            }
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::Invalid(
                "database.max_connections: must be at least 1".to_owned(),
            ));
        }
        for (id, provider) in &self.providers {
            if id.is_empty()
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(ConfigError::Invalid(format!(
                    "providers.{id}: a provider id may contain only a-z, 0-9 and '-' (it appears in URLs)"
                )));
            }
            let common = provider.common();
            if common.callback_secret.expose_secret().len() < 32 {
                return Err(ConfigError::Invalid(format!(
                    "providers.{id}.callback_secret: must be at least 32 characters (generate one with `openssl rand -hex 32`)"
                )));
            }
            if !common
                .callback_secret
                .expose_secret()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(ConfigError::Invalid(format!(
                    "providers.{id}.callback_secret: use only letters, digits, '-' and '_' (it is a URL path segment)"
                )));
            }
            if common.request_ttl.is_zero() || common.request_ttl > Duration::from_secs(900) {
                return Err(ConfigError::Invalid(format!(
                    "providers.{id}.request_ttl: must be between 1 and 900 seconds"
                )));
            }
            if common.http_timeout.is_zero() {
                return Err(ConfigError::Invalid(format!(
                    "providers.{id}.http_timeout: must be at least 1 second"
                )));
            }
            // A login start may wait for two calls (session token, then the request): both must
            // fit in the page's own time limit, or the user sees "did not finish in time"
            // instead of the provider's message, and the pending login is never marked failed.
            if common.http_timeout * 2 >= self.server.request_timeout {
                return Err(ConfigError::Invalid(format!(
                    "providers.{id}.http_timeout: must be less than half of server.request_timeout ({} s)",
                    self.server.request_timeout.as_secs()
                )));
            }
            match provider {
                ProviderSettings::Diia(diia) => {
                    if !matches!(diia.api_base_url.scheme(), "http" | "https") {
                        return Err(ConfigError::Invalid(format!(
                            "providers.{id}.api_base_url: {} must be an http(s) URL",
                            diia.api_base_url
                        )));
                    }
                }
            }
        }
        for (name, route) in &self.routes {
            if !route.prefix.starts_with('/') {
                return Err(ConfigError::Invalid(format!(
                    "routes.{name}.prefix: {:?} must start with '/'",
                    route.prefix
                )));
            }
            // Requests are matched in canonical form, so a prefix in any other form would
            // never match (or match something else than it says).
            let canonical = crate::canonical_path::CanonicalPath::parse(&route.prefix);
            if canonical.as_ref().map(|p| p.for_decisions()) != Ok(route.prefix.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "routes.{name}.prefix: {:?} is not a canonical path (no '.', '..', '//', ';' parameters, percent-encoding of plain characters or lower-case hex)",
                    route.prefix
                )));
            }
            if route.prefix.starts_with(&self.server.route_prefix) {
                return Err(ConfigError::Invalid(format!(
                    "routes.{name}.prefix: {:?} is inside kepgate's reserved {}",
                    route.prefix, self.server.route_prefix
                )));
            }
            if !matches!(route.upstream.scheme(), "http") || route.upstream.host().is_none() {
                return Err(ConfigError::Invalid(format!(
                    "routes.{name}.upstream: {} must be an http://host:port URL (TLS to the upstream is not supported yet)",
                    route.upstream
                )));
            }
            if route.public && !route.allow.is_open() {
                return Err(ConfigError::Invalid(format!(
                    "routes.{name}: a public route cannot have an access policy (allow.*)"
                )));
            }
            for code in &route.allow.rnokpp {
                crate::identity::Rnokpp::parse(code).map_err(|e| {
                    ConfigError::Invalid(format!("routes.{name}.allow.rnokpp: {e}"))
                })?;
            }
            for code in &route.allow.edrpou {
                crate::identity::Edrpou::parse(code).map_err(|e| {
                    ConfigError::Invalid(format!("routes.{name}.allow.edrpou: {e}"))
                })?;
            }
            for provider in &route.allow.providers {
                if !self.providers.contains_key(provider) {
                    return Err(ConfigError::Invalid(format!(
                        "routes.{name}.allow.providers: no provider {provider:?} is configured"
                    )));
                }
            }
        }
        let identity = &self.identity;
        for header in identity
            .header_names()
            .into_iter()
            .chain([identity.header_prefix.as_str()])
        {
            if header.is_empty()
                || !header
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(ConfigError::Invalid(format!(
                    "identity: header name {header:?} must be lower-case letters, digits and '-'"
                )));
            }
        }
        if self.login.max_starts_in_flight == 0 || self.login.max_pending == 0 {
            return Err(ConfigError::Invalid(
                "login.max_starts_in_flight and login.max_pending: must be at least 1".to_owned(),
            ));
        }
        if self.login.start_rate_per_minute == 0 {
            return Err(ConfigError::Invalid(
                "login.start_rate_per_minute: must be at least 1".to_owned(),
            ));
        }
        self.check_session()?;
        self.check_qr()?;
        if self.server.header_read_timeout.is_zero() {
            return Err(ConfigError::Invalid(
                "server.header_read_timeout: must be at least 1 second".to_owned(),
            ));
        }
        if self.server.body_limit_bytes == 0 {
            return Err(ConfigError::Invalid(
                "server.body_limit_bytes: must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }
}

impl Settings {
    fn check_qr(&self) -> Result<(), ConfigError> {
        let l = &self.login;
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if !(1..=30).contains(&l.qr_rotate_seconds) {
            return invalid("login.qr_rotate_seconds: must be between 1 and 30");
        }
        // A link must outlive at least one rotation, or a code on the screen could already be
        // refused; a minute is far more than scanning takes.
        if l.qr_link_max_age < Duration::from_secs(l.qr_rotate_seconds)
            || l.qr_link_max_age > Duration::from_secs(60)
        {
            return invalid(
                "login.qr_link_max_age: must be at least login.qr_rotate_seconds and at most 60 seconds",
            );
        }
        if let Some(key) = &l.qr_link_key
            && key.expose_secret().len() < 32
        {
            return invalid(
                "login.qr_link_key: must be at least 32 characters (generate one with `openssl rand -hex 32`)",
            );
        }
        Ok(())
    }

    fn check_session(&self) -> Result<(), ConfigError> {
        let s = &self.session;
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        // i32 seconds in the database (sessions.idle_timeout_seconds): 24 days is plenty.
        let max = Duration::from_secs(i32::MAX as u64);
        if s.idle_timeout.is_zero() || s.idle_timeout > max {
            return invalid("session.idle_timeout: must be at least 1 second");
        }
        if s.absolute_timeout.is_zero() || s.absolute_timeout > Duration::from_secs(366 * 86400) {
            return invalid("session.absolute_timeout: must be between 1 second and 366 days");
        }
        if s.idle_timeout > s.absolute_timeout {
            return invalid(
                "session.idle_timeout: must not be longer than session.absolute_timeout",
            );
        }
        if s.shared_pc_idle_timeout.is_zero() || s.shared_pc_idle_timeout > s.idle_timeout {
            return invalid(
                "session.shared_pc_idle_timeout: must be at least 1 second and not longer than session.idle_timeout",
            );
        }
        // A session must not idle out between two writes of its last activity.
        if s.last_seen_write_interval.is_zero()
            || s.last_seen_write_interval * 2 > s.shared_pc_idle_timeout
        {
            return invalid(
                "session.last_seen_write_interval: must be at least 1 second and at most half of session.shared_pc_idle_timeout",
            );
        }
        if s.cache_ttl > Duration::from_secs(300) {
            return invalid(
                "session.cache_ttl: must be at most 300 seconds (0 turns the cache off)",
            );
        }
        if s.history_retention_days == 0 {
            return invalid("session.history_retention_days: must be at least 1");
        }
        Ok(())
    }
}

/// figment's errors already know the key path and where the value came from (file or the exact
/// environment variable); we report every one of them, one per line, in that order.
fn describe_figment_error(error: figment::Error) -> ConfigError {
    let lines: Vec<String> = error
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                "(top level)".to_owned()
            } else {
                e.path.join(".")
            };
            let source = match &e.metadata {
                Some(meta) => match &meta.source {
                    Some(file) => format!(" (in {file})"),
                    // The environment providers: name the exact variable the value came from.
                    None if meta.name.contains(ENV_PREFIX) => format!(
                        " (from environment variable {ENV_PREFIX}{})",
                        e.path.join("__").to_ascii_uppercase()
                    ),
                    None if meta.name.contains("environment") => {
                        " (from environment variable DATABASE_URL)".to_owned()
                    }
                    None => format!(" ({})", meta.name),
                },
                None => String::new(),
            };
            format!("{key}: {}{source}", e.kind)
        })
        .collect();
    ConfigError::Invalid(lines.join("\n"))
}

/// Durations are written as whole seconds in the file: `request_timeout = 30`.
mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_configuration_is_valid_and_documented_defaults_apply() {
        let settings = Settings::load_with(None, false, Defaults::Production).unwrap();
        assert_eq!(settings.server.route_prefix, "/.kepgate");
        assert_eq!(settings.server.path("/healthz"), "/.kepgate/healthz");
        assert_eq!(
            settings.server.public_base_url().as_str(),
            "http://127.0.0.1:8080/"
        );
    }

    #[test]
    fn session_timeouts_are_checked_and_the_key_is_named() {
        let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
        assert_eq!(settings.session.idle_timeout, Duration::from_secs(900));
        assert_eq!(
            settings.session.absolute_timeout,
            Duration::from_secs(8 * 3600)
        );
        settings.session.idle_timeout = Duration::from_secs(9 * 3600);
        let e = settings.check().unwrap_err().to_string();
        assert!(e.starts_with("session.idle_timeout:"), "{e}");

        let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
        settings.session.last_seen_write_interval = Duration::from_secs(200);
        let e = settings.check().unwrap_err().to_string();
        assert!(e.starts_with("session.last_seen_write_interval:"), "{e}");

        let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
        settings.session.shared_pc_idle_timeout = Duration::from_secs(3600);
        let e = settings.check().unwrap_err().to_string();
        assert!(e.starts_with("session.shared_pc_idle_timeout:"), "{e}");

        let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
        settings.session.history_retention_days = 0;
        let e = settings.check().unwrap_err().to_string();
        assert!(e.starts_with("session.history_retention_days:"), "{e}");
    }

    #[test]
    fn qr_settings_are_checked_and_the_key_is_named() {
        let settings = Settings::load_with(None, false, Defaults::Production).unwrap();
        assert_eq!(settings.login.qr_mode, QrMode::Rotating);
        assert!(settings.login.phone_check);
        for (change, key) in [
            (
                (|s: &mut Settings| s.login.qr_rotate_seconds = 0) as fn(&mut Settings),
                "login.qr_rotate_seconds:",
            ),
            (
                |s| s.login.qr_link_max_age = Duration::from_secs(1),
                "login.qr_link_max_age:",
            ),
            (
                |s| s.login.qr_link_key = Some(SecretString::from("short")),
                "login.qr_link_key:",
            ),
        ] {
            let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
            change(&mut settings);
            let e = settings.check().unwrap_err().to_string();
            assert!(e.starts_with(key), "{e}");
            assert!(!e.contains("short"), "the key is never shown: {e}");
        }
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
        settings.database.url = SecretString::from("postgres://kep:hunter2@db:5432/kepgate");
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("postgres://kep:REDACTED@db:5432/kepgate"),
            "{shown}"
        );
    }
}
