//! The sections of the configuration file and their documented defaults.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use super::http2::Http2Settings;
use super::policy::AccessPolicy;
use crate::language::Lang;
use crate::provider::KepgateAddress;
use crate::provider::registry::settings::ProviderSettings;
use crate::whole_seconds;

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `[server]`: where the gateway listens, the addresses people and providers use, and the
    /// limits of every connection.
    #[serde(default)]
    pub server: ServerSettings,
    /// `[database]`: the PostgreSQL database every replica shares.
    #[serde(default)]
    pub database: DatabaseSettings,
    /// `[metrics]`: Prometheus metrics on a socket of their own.
    #[serde(default)]
    pub metrics: MetricsSettings,
    /// `[ui]`: the pages' language, time zone, name and the organisation's look.
    #[serde(default)]
    pub ui: UiSettings,
    /// `[log]`: what is logged, how, and OpenTelemetry traces.
    #[serde(default)]
    pub log: LogSettings,
    /// `[trust]`: the qualified CAs whose certificates are accepted, and how their status is
    /// checked.
    #[serde(default)]
    pub trust: TrustSettings,
    /// `[login]`: the «Хмарне сховище» login's limits and its defences against QR relay.
    #[serde(default)]
    pub login: LoginSettings,
    /// Where signed-in users go: path prefix → upstream, by route name (the name is the
    /// assertion's `aud`). Without routes, a signed-in user sees kepgate's own "who am I" page.
    #[serde(default)]
    pub routes: BTreeMap<String, RouteSettings>,
    /// `[identity]`: the headers that carry the signed-in person to the cabinet, and the signed
    /// assertion.
    #[serde(default)]
    pub identity: IdentitySettings,
    /// `[proxy]`: whom kepgate believes about the client, and what passes to the cabinet.
    #[serde(default)]
    pub proxy: ProxySettings,
    /// `[session]`: how long a session lasts and how replicas share it.
    #[serde(default)]
    pub session: SessionSettings,
    /// Providers in the «Провайдер» list, by id (the id appears in callback URLs).
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderSettings>,
    /// kepgate as an OpenID Provider.
    #[serde(default)]
    pub oidc: super::oidc::OidcSettings,
    /// `[signing]`: documents signed with the person's cloud key at the cabinet's request
    /// (docs/signing.md).
    #[serde(default)]
    pub signing: SigningSettings,
}

/// `[signing]`: documents signed with the person's cloud key at the cabinet's request
/// (docs/signing.md).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SigningSettings {
    /// Files one signing request may hold.
    pub max_files: usize,
    /// The largest file whose bytes kepgate hashes itself (a file sent as its hash has no
    /// limit). The signing API accepts a body of about 4/3 of `max_files` such files.
    pub max_file_bytes: usize,
    /// Seconds the person has to confirm on the phone.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub request_ttl: Duration,
    /// Seconds the signatures stay in the database after the cabinet first fetched them.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub keep_after_fetch: Duration,
    /// Seconds the signatures stay when the cabinet never fetches them.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub keep_unfetched: Duration,
}

impl Default for SigningSettings {
    fn default() -> Self {
        Self {
            max_files: 20,
            max_file_bytes: 5 * 1024 * 1024,
            request_ttl: Duration::from_secs(300),
            keep_after_fetch: Duration::from_secs(60 * 60),
            keep_unfetched: Duration::from_secs(7 * 24 * 60 * 60),
        }
    }
}

impl SigningSettings {
    /// The signing API's body limit: every file's bytes in base64, and room for the rest.
    pub fn body_limit_bytes(&self) -> usize {
        self.max_files
            .saturating_mul(self.max_file_bytes.div_ceil(3).saturating_mul(4))
            .saturating_add(64 * 1024)
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LoginSettings {
    /// Login starts allowed per client address per minute (then a 429 page). The address is the peer's,
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
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub complete_within: Duration,
    /// What the QR code and the link button hold: `rotating` (a short kepgate link that changes
    /// every `qr_rotate_seconds`, QRLJacking defence) or `direct` (the provider's deeplink, for
    /// deployments whose `public_base_url` phones cannot reach).
    pub qr_mode: QrMode,
    /// Seconds between two rotating links on the waiting page (1–30).
    pub qr_rotate_seconds: u64,
    /// Seconds a rotating link stays usable after it was shown (scan and tap time included; at
    /// least `qr_rotate_seconds`, at most 60).
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub qr_link_max_age: Duration,
    /// Before the provider app, the phone sees who asks, from where, and picks the verification
    /// code shown on the computer (rotating mode only).
    pub phone_check: bool,
    /// A link opened by the browser that started the login (same phone) goes straight to the
    /// provider app, skipping the checks that only make sense across two devices.
    pub same_device_shortcut: bool,
    /// Key of the rotating links' MAC, the same on every replica (at least 32 characters).
    /// Unset: one is generated once and kept in the database. Never logged, never sent to a
    /// browser.
    #[schemars(with = "Option<String>")]
    pub qr_link_key: Option<SecretString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum QrMode {
    /// A short kepgate link on `public_base_url` that changes every `qr_rotate_seconds` (the QR
    /// relay defence).
    Rotating,
    /// The provider's deeplink, for deployments whose `public_base_url` phones cannot reach;
    /// gives the QR relay defence up (a copied QR code stays good for minutes).
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
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteSettings {
    /// Path prefix this route serves (`/` for the cabinet itself, `/static/` …). The longest
    /// matching prefix wins.
    pub prefix: String,
    /// The upstream's base URL (`http://host:port` or `https://host:port`). The request path is
    /// kept as it is.
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
    /// Seconds to connect to the upstream: the TCP connection and, for https, the TLS handshake.
    #[serde(default = "default_connect_timeout", with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub connect_timeout: Duration,
    /// Seconds until the upstream's response headers (then 504).
    #[serde(default = "default_response_timeout", with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub response_timeout: Duration,
    /// Seconds a streamed body may stay silent in either direction before it is cut.
    #[serde(default = "default_idle_timeout", with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub idle_timeout: Duration,
    /// Access policy; a route with any list set admits only matching users.
    #[serde(default)]
    pub allow: AccessPolicy,
    /// For an https:// upstream: whom to trust, and kepgate's own certificate if it asks.
    #[serde(default)]
    pub tls: UpstreamTls,
}

/// `routes.<name>.tls`: an https upstream is always verified (its certificate chain to a trusted
/// CA, and its name: SNI and the check use the upstream URL's host).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamTls {
    /// PEM CA certificates to trust instead of the system's (an internal CA).
    pub ca_file: Option<PathBuf>,
    /// PEM certificate chain and PKCS#8/PKCS#1/SEC1 key kepgate presents when the upstream asks
    /// for a client certificate (mutual TLS).
    pub client_cert_file: Option<PathBuf>,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1) of `client_cert_file`.
    pub client_key_file: Option<PathBuf>,
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

/// The identity kepgate hands to the cabinet.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct IdentitySettings {
    /// Every client header starting with this prefix is removed from every request.
    pub header_prefix: String,
    /// The person's stable subject: `rnokpp:<РНОКПП>`, or `cert:<issuer hash>:<serial>` for a
    /// key without one.
    pub subject_header: String,
    /// UTF-8, percent-encoded (RFC 3986) so Ukrainian names travel in plain ASCII.
    pub name_header: String,
    /// The person's РНОКПП (tax number), from the qualified certificate.
    pub rnokpp_header: String,
    /// The company's ЄДРПОУ, when the certificate carries one.
    pub edrpou_header: String,
    /// The company's name, when the certificate carries one (percent-encoded UTF-8).
    pub organization_header: String,
    /// The provider id (`providers.<id>`) the person signed in with.
    pub provider_header: String,
    /// The signing certificate's serial number, in hex.
    pub cert_serial_header: String,
    /// The kepgate session's id.
    pub session_header: String,
    /// How the person signed in: `kep`, `dig_sign`, `diia_id`, `bank_id`.
    pub auth_method_header: String,
    /// A short-lived ES256 JWT with all claims; keys at `{prefix}/jwks.json`.
    pub assertion_header: String,
    /// Seconds the signed assertion is valid.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub assertion_ttl: Duration,
    /// PEM (PKCS#8) P-256 key for the assertion. Unset: one is generated and kept in the
    /// database, so every replica signs with the same key. Public keys at
    /// `{route_prefix}/jwks.json`.
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
            auth_method_header: "x-kepgate-auth-method".to_owned(),
            assertion_header: "x-kepgate-assertion".to_owned(),
            assertion_ttl: Duration::from_secs(60),
            assertion_key_file: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// Seconds without a request after which a session ends (sliding).
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub idle_timeout: Duration,
    /// Seconds after login at which a session ends whatever the activity.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub absolute_timeout: Duration,
    /// The idle timeout of a login from a «public / shared computer» (at most `idle_timeout`).
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub shared_pc_idle_timeout: Duration,
    /// Whether the «shared computer» box on the login page starts ticked.
    pub shared_pc_default: bool,
    /// At most one `last_seen_at` write per session per this many seconds (per replica): the
    /// idle timeout slides without a database write on every request (at most half of
    /// `shared_pc_idle_timeout`).
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub last_seen_write_interval: Duration,
    /// Seconds a replica trusts its in-process copy of a session without asking the database.
    /// Revocations arrive by LISTEN/NOTIFY at once; this bounds the time when that channel is down.
    /// 0: ask the database at every request.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub cache_ttl: Duration,
    /// Days the login history, ended sessions and the signing audit are kept; older rows are
    /// deleted by every replica, hourly.
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
    pub fn header_names(&self) -> [&str; 10] {
        [
            &self.subject_header,
            &self.name_header,
            &self.rnokpp_header,
            &self.edrpou_header,
            &self.organization_header,
            &self.provider_header,
            &self.cert_serial_header,
            &self.session_header,
            &self.auth_method_header,
            &self.assertion_header,
        ]
    }
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ProxySettings {
    /// Front proxies / load balancers (CIDRs or single addresses) whose X-Forwarded-*,
    /// Forwarded and X-Original-URI headers are believed.
    /// From anyone else those headers are replaced.
    #[schemars(with = "Vec<String>")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Origins besides our own from which WebSocket handshakes are accepted.
    pub websocket_origins: Vec<String>,
    /// Pass client headers with `_` in their name to the cabinet (nginx's
    /// `underscores_in_headers`). Off: they are dropped, because servers that read `_` as `-`
    /// (WSGI, CGI, Rack) would take `x_kepgate_rnokpp` for an identity header. Names that fold
    /// into an identity or forwarding header are dropped either way.
    pub underscores_in_headers: bool,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TrustSettings {
    /// Trusted qualified CAs: PEM files and/or PKCS#7 bundles such as the national
    /// `CACertificates.p7b`. Nothing is trusted by default — not even the emulator's CA.
    pub files: Vec<PathBuf>,
    /// The national CA list (`CAs.json`): OCSP addresses by the issuing CA's CN, for
    /// certificates that name no responder themselves (`check-config` counts them).
    pub ca_list: Option<PathBuf>,
    /// Whether a login needs its certificate's status from the CA (OCSP).
    pub revocation: RevocationMode,
    /// One attempt at a responder: connect, send, read.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub revocation_timeout: Duration,
    /// Further attempts at a responder that could not be reached (at most 3).
    pub revocation_retries: u32,
    /// Clock difference tolerated between a responder and us.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub revocation_skew: Duration,
    /// The longest an answer is reused (by every replica), whatever its nextUpdate says; 0: every
    /// login asks the responder.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub revocation_cache_max: Duration,
    /// The longest a stored CRL goes without a new download (earlier when its nextUpdate nears).
    /// Revoking a key ends its open sessions within about this long.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub crl_refresh: Duration,
    /// `[trust.sources]`: the national list, downloaded and kept current beside `files`.
    pub sources: Option<TrustSources>,
}

/// Where the national trust list is published and how it is fetched (`crate::trust_list`).
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustSources {
    /// The qualified providers' CA certificates, a PKCS#7 bundle (`CACertificates.p7b`).
    pub bundle_url: Url,
    /// The JSON list of qualified providers (`CAs.json`): which CAs of the bundle are qualified.
    pub providers_url: Url,
    /// CA certificates (PEM) the sources' HTTPS is checked against besides the system's: an
    /// internal mirror with a private CA.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Plain http:// sources allowed: a mirror on loopback or a test stand only.
    #[serde(default)]
    pub allow_http: bool,
    /// How often the sources are fetched (and at start, and when asked); each wait is this
    /// ±10 %, so replicas do not all fetch at once.
    #[serde(default = "TrustSources::default_refresh", with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub refresh_interval: Duration,
    /// One download's time limit.
    #[serde(default = "TrustSources::default_timeout", with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub timeout: Duration,
    /// The largest body either source may send; a larger one is refused.
    #[serde(default = "TrustSources::default_max_bytes")]
    pub max_bytes: usize,
    /// A new list without more than this share (per cent) of the CAs in force is refused as
    /// suspicious; the list in force stays.
    #[serde(default = "TrustSources::default_max_gone_percent")]
    pub max_gone_percent: u8,
}

impl TrustSources {
    fn default_refresh() -> Duration {
        Duration::from_secs(6 * 3600)
    }
    fn default_timeout() -> Duration {
        Duration::from_secs(60)
    }
    fn default_max_bytes() -> usize {
        16 * 1024 * 1024
    }
    fn default_max_gone_percent() -> u8 {
        20
    }
}

impl Default for TrustSettings {
    fn default() -> Self {
        Self {
            files: Vec::new(),
            ca_list: None,
            revocation: RevocationMode::Require,
            revocation_timeout: Duration::from_secs(3),
            revocation_retries: 1,
            revocation_skew: Duration::from_secs(300),
            revocation_cache_max: Duration::from_secs(3600),
            crl_refresh: Duration::from_secs(900),
            sources: None,
        }
    }
}

/// What a login needs to know about its certificate's status.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RevocationMode {
    /// A good status from the CA, or no login.
    Require,
    /// Revoked or a wrong answer refuses; a CA that cannot be reached lets the login through
    /// (logged and counted).
    Prefer,
    /// Not asked. For the demo and tests only; `check-config` warns.
    Off,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Socket the gateway listens on.
    pub listen: SocketAddr,
    /// The address users browse (intranet name). Used for absolute links shown to the desktop,
    /// and the OpenID Provider's issuer.
    pub base_url: Url,
    /// The address providers call back and phones open. Defaults to `base_url`. On an intranet
    /// gateway it may be the only address exposed to the internet, and only for the providers'
    /// callbacks (`{route_prefix}/callback/`) and, with `login.qr_mode = "rotating"`, the
    /// phones' pages (`{route_prefix}/q/`, with `/static/` and `/language/`).
    pub public_base_url: Option<Url>,
    /// All of kepgate's own routes live under this path; everything else is the cabinet's.
    pub route_prefix: String,
    /// Seconds a request to kepgate's own routes may take (then 408).
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub request_timeout: Duration,
    /// Largest request body kepgate's own routes accept (then 413); the cabinet's routes stream
    /// any size to the upstream, which decides what it accepts.
    pub body_limit_bytes: usize,
    /// Time a client has to send a request's headers, from its first byte; then the connection
    /// is closed (slow-loris). Also a TLS handshake's limit, and an HTTP/2 connection's from the
    /// handshake to its first request.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub header_read_timeout: Duration,
    /// After SIGTERM, how long the replica still serves everything while `/readyz` says 503, so
    /// that the load balancer's health check takes it out before it stops accepting (longer than
    /// its health check takes to notice; at most 60).
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub shutdown_delay: Duration,
    /// How long in-flight requests may take to finish after SIGTERM (and the delay).
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub shutdown_grace: Duration,
    /// HTTPS served by kepgate itself, so browsers can reach it without a TLS terminator;
    /// `base_url` must then be `https://`. Off: plain HTTP/1.1 behind a TLS terminator.
    pub tls: Option<ServerTls>,
    /// HTTP/2's bounds (`[server.http2]`), where `[server.tls]` offers it.
    pub http2: Http2Settings,
    /// Connections one client address may hold open at once (HTTP/1.1 and HTTP/2 alike,
    /// counted when accepted; IPv6 by /64); one more is closed at once. The address is the TCP
    /// peer's, so `proxy.trusted_proxies` are exempt; raise it for an office behind one NAT
    /// address. 0: no cap.
    pub max_connections_per_address: usize,
}

/// `[server.tls]`: the certificate browsers see. TLS 1.2 and 1.3; HTTP/2 and HTTP/1.1 offered by
/// ALPN. The files are read again on SIGHUP and whenever their contents change (checked every
/// `watch_interval`), so a renewed certificate is served without a restart.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerTls {
    /// PEM: the server certificate first, then the intermediates.
    pub cert_file: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of that certificate.
    pub key_file: PathBuf,
    /// How often the two files are compared with what is served; a changed pair is served from
    /// the next handshake. 0: only on SIGHUP.
    #[serde(with = "whole_seconds", default = "default_tls_watch_interval")]
    #[schemars(with = "u64")]
    pub watch_interval: Duration,
    /// Offer HTTP/2 (`h2`) by ALPN beside HTTP/1.1.
    #[serde(default = "default_true")]
    pub http2: bool,
}

fn default_tls_watch_interval() -> Duration {
    Duration::from_secs(30)
}

fn default_true() -> bool {
    true
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
            shutdown_delay: Duration::ZERO,
            shutdown_grace: Duration::from_secs(20),
            tls: None,
            http2: Http2Settings::default(),
            max_connections_per_address: 256,
        }
    }
}

impl<'a> From<&'a ServerSettings> for KepgateAddress<'a> {
    fn from(server: &'a ServerSettings) -> Self {
        KepgateAddress {
            base_url: &server.base_url,
            public_base_url: server.public_base_url(),
            route_prefix: &server.route_prefix,
        }
    }
}

impl ServerSettings {
    /// Where kepgate is reached, as the providers name it.
    pub fn kepgate_address(&self) -> KepgateAddress<'_> {
        self.into()
    }

    pub fn public_base_url(&self) -> &Url {
        self.public_base_url.as_ref().unwrap_or(&self.base_url)
    }

    /// `route_prefix` joined with a path below it: `path("/healthz")` → `/.kepgate/healthz`.
    pub fn path(&self, below: &str) -> String {
        format!("{}{}", self.route_prefix, below)
    }

    /// Is `path` (canonical, as decisions are made on it) kepgate's reserved space: the prefix
    /// itself, with a trailing slash, or anything below it? Never the cabinet's, whatever the
    /// routes say. Compared case-sensitively, as every path is (RFC 3986 §6.2.2.1).
    pub fn reserves(&self, path: &str) -> bool {
        path.strip_prefix(self.route_prefix.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

#[derive(Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// PostgreSQL URL; also read from `DATABASE_URL`. Holds a password, so it is a secret:
    /// never logged, the password redacted in diagnostics.
    #[schemars(with = "String", extend("default" = "postgres://postgres@127.0.0.1:5432/kepgate"))]
    pub url: SecretString,
    /// The connection pool's size on each replica.
    pub max_connections: u32,
    /// Seconds to wait for a free connection before answering 503.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
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
            // libpq also takes the password as a parameter (`?password=…`), and the client
            // key's passphrase likewise.
            if url.query().is_some() {
                let pairs: Vec<(String, String)> = url
                    .query_pairs()
                    .map(|(k, v)| {
                        let secret = matches!(k.as_ref(), "password" | "sslpassword");
                        let v = if secret { "REDACTED".into() } else { v };
                        (k.into_owned(), v.into_owned())
                    })
                    .collect();
                url.query_pairs_mut().clear().extend_pairs(pairs);
            }
            url.to_string()
        }
        Err(_) => "<unparseable url>".to_owned(),
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Prometheus `/metrics` is served on its own socket so it is never exposed with the gateway.
    /// Set `enabled = false` to turn it off.
    pub enabled: bool,
    /// The metrics socket, apart from the gateway's.
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

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct UiSettings {
    /// Language when neither the switch cookie nor Accept-Language decides.
    pub default_language: Lang,
    /// Shown in page titles and on the phone check.
    pub service_name: String,
    /// The time zone pages give times in (an IANA name): sessions, history, the phone check.
    /// kepgate carries its own time zone database.
    pub time_zone: String,
    /// The organisation's own look on every page (`[ui.branding]`); the default look without it.
    pub branding: BrandingSettings,
    /// A folder of the organisation's own page templates and files (docs/pages.md): a page
    /// named like a built-in one (`login.html`, …) replaces it; `assets/` is served under
    /// `{prefix}/static/site/`. Regular files only: a link, FIFO or device inside stops the
    /// start (the folder itself may be a link); a replaced page that does not render stops it too.
    pub pages_dir: Option<PathBuf>,
}

/// What makes the pages the organisation's: its name and logo in the top bar, its colour on
/// buttons and links, whom to ask for help, a line of its own at the bottom. Each text in
/// Ukrainian, with an optional English one (`…_en`; the Ukrainian one otherwise).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BrandingSettings {
    /// The organisation's name in the top bar (Ukrainian).
    pub organization: Option<String>,
    /// The organisation's name in English (the Ukrainian one otherwise).
    pub organization_en: Option<String>,
    /// PNG, SVG, JPEG or WebP, at most 256 KiB, a regular file (not a link); shown 32 px high
    /// beside the name, served at `{route_prefix}/static/logo`.
    pub logo_file: Option<PathBuf>,
    /// `#rrggbb` (or `#rgb`) for buttons, links and focus rings; it must read on white
    /// (contrast at least 4.5:1, or it is refused).
    pub accent_color: Option<String>,
    /// Whom to ask, e.g. "Служба підтримки, вн. 1234", and where (`mailto:`, `tel:` or https).
    pub support: Option<String>,
    /// `support` in English.
    pub support_en: Option<String>,
    /// Where `support` links to: `mailto:`, `tel:` or an http(s) URL.
    pub support_url: Option<String>,
    /// A line of the organisation's own at the bottom of every page (Ukrainian).
    pub footer: Option<String>,
    /// `footer` in English.
    pub footer_en: Option<String>,
}

impl Default for UiSettings {
    fn default() -> Self {
        Self {
            default_language: Lang::Uk,
            service_name: "kepgate".to_owned(),
            time_zone: "Europe/Kyiv".to_owned(),
            branding: BrandingSettings::default(),
            pages_dir: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `tracing` filter, e.g. `info,kepgate=debug`. `RUST_LOG` wins when set.
    pub filter: String,
    /// `text` for people, `json` for a log collector (one object per line, with `trace_id` when
    /// traces are on).
    pub format: LogFormat,
    /// OpenTelemetry traces (`[log.traces]`), off by default.
    pub traces: TraceSettings,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            filter: "info".to_owned(),
            format: LogFormat::Text,
            traces: TraceSettings::default(),
        }
    }
}

/// `[log.traces]`: the spans of requests and logins exported over OTLP/HTTP (protobuf) to a
/// collector, in batches.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TraceSettings {
    /// Export spans to `endpoint` (read only at start).
    pub enabled: bool,
    /// The collector's OTLP/HTTP traces endpoint, the whole URL (`…/v1/traces`).
    pub endpoint: url::Url,
    /// `service.name` of the exported spans.
    pub service_name: String,
    /// The share of new traces kept, 0.0–1.0; a trusted front proxy's sampling decision is
    /// followed.
    pub sampling_ratio: f64,
}

impl Default for TraceSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            endpoint: url::Url::parse("http://127.0.0.1:4318/v1/traces")
                .unwrap_or_else(|_| unreachable!("a valid literal URL")),
            service_name: "kepgate".to_owned(),
            sampling_ratio: 1.0,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}
