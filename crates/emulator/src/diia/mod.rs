//! The Diia.Signature emulator: what newcomers and tests run instead of the real provider.
//!
//! A separate HTTP server with in-memory state. It serves Diia's partner ("acquirer") API with
//! the JSON of its own reading of Diia's format (`wire.rs`), a phone page at the deeplink where a
//! person confirms or declines, and on an answer POSTs Diia's multipart callback to the partner,
//! signed with keys of its own test CA ([`kepgate_signature::test_ca`]). Scripts and load tests
//! can answer without a browser through the `/emulator/` control routes.

mod api;
mod callback;
mod control;
mod identities;
mod phone;
mod state;
#[cfg(test)]
mod tests;
mod wire;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS};
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use url::Url;

pub use identities::TestIdentity;
use kepgate_signature::test_ca::TestCaError;
use state::Shared;

use crate::clock;

/// Diia's SDKs cache the session token for 2 h, so that is what the emulator grants.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(2 * 60 * 60);
pub const DEFAULT_ACQUIRER_TOKEN: &str = "emulator-acquirer-token";
pub const DEFAULT_SERVICE_NAME: &str = "Дія.Підпис · емулятор";

#[derive(Clone)]
pub struct EmulatorSettings {
    pub listen: SocketAddr,
    /// Deeplinks and the phone page's links are built on it (a trailing `/` is added if missing).
    pub public_base_url: Url,
    /// Where callbacks are POSTed. Diia registers this per partner, not per request.
    pub partner_callback_url: Url,
    /// The secret in the token path, `GET /api/v1/auth/acquirer/{acquirer_token}`.
    pub acquirer_token: String,
    /// If set, token requests must carry `Authorization: Basic <this>`.
    pub auth_acquirer_token: Option<String>,
    pub token_ttl: Duration,
    /// Keeps the CA and the identity keys across restarts (`None`: a new CA every start).
    pub state_dir: Option<PathBuf>,
    /// Shown in the phone page's title.
    pub service_name: String,
}

impl EmulatorSettings {
    /// Settings for a local run: everything but the addresses at its default.
    pub fn new(listen: SocketAddr, public_base_url: Url, partner_callback_url: Url) -> Self {
        EmulatorSettings {
            listen,
            public_base_url,
            partner_callback_url,
            acquirer_token: DEFAULT_ACQUIRER_TOKEN.to_owned(),
            auth_acquirer_token: None,
            token_ttl: DEFAULT_TOKEN_TTL,
            state_dir: None,
            service_name: DEFAULT_SERVICE_NAME.to_owned(),
        }
    }
}

impl fmt::Debug for EmulatorSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorSettings")
            .field("listen", &self.listen)
            .field("public_base_url", &self.public_base_url.as_str())
            .field("partner_callback_url", &self.partner_callback_url.as_str())
            .field("acquirer_token", &"REDACTED")
            .field(
                "auth_acquirer_token",
                &self.auth_acquirer_token.as_ref().map(|_| "REDACTED"),
            )
            .field("token_ttl", &self.token_ttl)
            .field("state_dir", &self.state_dir)
            .field("service_name", &self.service_name)
            .finish()
    }
}

/// Command-line flags of `kepgate emulator` (each also from `KEPGATE_EMULATOR_…`).
#[derive(Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Socket the emulator listens on.
    #[arg(
        long,
        env = "KEPGATE_EMULATOR_LISTEN",
        default_value = "127.0.0.1:8090"
    )]
    pub listen: SocketAddr,
    /// Address phones open (deeplinks point here); default http://<listen>/.
    #[arg(long, env = "KEPGATE_EMULATOR_PUBLIC_BASE_URL")]
    pub public_base_url: Option<Url>,
    /// The gateway's Diia callback URL, where signed answers are POSTed.
    #[arg(long, env = "KEPGATE_EMULATOR_PARTNER_CALLBACK_URL")]
    pub partner_callback_url: Url,
    /// Acquirer token the gateway must use to get a session token.
    #[arg(
        long,
        env = "KEPGATE_EMULATOR_ACQUIRER_TOKEN",
        default_value = DEFAULT_ACQUIRER_TOKEN,
        hide_env_values = true
    )]
    pub acquirer_token: String,
    /// If set, token requests must carry `Authorization: Basic <this>`.
    #[arg(
        long,
        env = "KEPGATE_EMULATOR_AUTH_ACQUIRER_TOKEN",
        hide_env_values = true
    )]
    pub auth_acquirer_token: Option<String>,
    /// Directory keeping the test CA and identity keys across restarts (default: in memory).
    #[arg(long, env = "KEPGATE_EMULATOR_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Session token lifetime in seconds.
    #[arg(long, env = "KEPGATE_EMULATOR_TOKEN_TTL", default_value_t = DEFAULT_TOKEN_TTL.as_secs())]
    pub token_ttl: u64,
}

impl fmt::Debug for EmulatorArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorArgs")
            .field("listen", &self.listen)
            .field(
                "public_base_url",
                &self.public_base_url.as_ref().map(Url::as_str),
            )
            .field("partner_callback_url", &self.partner_callback_url.as_str())
            .field("acquirer_token", &"REDACTED")
            .field(
                "auth_acquirer_token",
                &self.auth_acquirer_token.as_ref().map(|_| "REDACTED"),
            )
            .field("state_dir", &self.state_dir)
            .field("token_ttl", &self.token_ttl)
            .finish()
    }
}

impl EmulatorArgs {
    pub fn into_settings(self) -> Result<EmulatorSettings, EmulatorError> {
        let public_base_url = match self.public_base_url {
            Some(url) => url,
            None => Url::parse(&format!("http://{}/", self.listen)).map_err(|e| {
                EmulatorError::Config {
                    key: "public_base_url",
                    reason: e.to_string(),
                }
            })?,
        };
        Ok(EmulatorSettings {
            listen: self.listen,
            public_base_url,
            partner_callback_url: self.partner_callback_url,
            acquirer_token: self.acquirer_token,
            auth_acquirer_token: self.auth_acquirer_token,
            token_ttl: Duration::from_secs(self.token_ttl),
            state_dir: self.state_dir,
            service_name: DEFAULT_SERVICE_NAME.to_owned(),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid emulator setting {key}: {reason}")]
    Config { key: &'static str, reason: String },
    #[error("emulator state file {path}: {source}")]
    StateFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("test CA bundle {path} is unusable (delete it to start a new CA): {source}")]
    CaBundle {
        path: PathBuf,
        #[source]
        source: TestCaError,
    },
    #[error("test CA: {0}")]
    Ca(#[from] TestCaError),
    #[error("HTTP client for callbacks: {0}")]
    HttpClient(#[from] reqwest::Error),
}

pub struct Emulator {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl Emulator {
    /// Binds `settings.listen`, then loads or creates the CA and the test identities.
    pub async fn build(settings: EmulatorSettings) -> Result<Emulator, EmulatorError> {
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| EmulatorError::Bind {
                    addr: settings.listen,
                    source,
                })?;
        Self::build_on(settings, listener).await
    }

    /// Like [`Emulator::build`] on a listener bound by the caller (tests bind port 0 first).
    pub async fn build_on(
        mut settings: EmulatorSettings,
        listener: TcpListener,
    ) -> Result<Emulator, EmulatorError> {
        // Deeplinks are `{public_base_url}acquirers/…`: without the slash `join` would drop the
        // last path segment of the base.
        if !settings.public_base_url.path().ends_with('/') {
            let path = format!("{}/", settings.public_base_url.path());
            settings.public_base_url.set_path(&path);
        }
        for (key, url) in [
            ("public_base_url", &settings.public_base_url),
            ("partner_callback_url", &settings.partner_callback_url),
        ] {
            if !matches!(url.scheme(), "http" | "https") {
                return Err(EmulatorError::Config {
                    key,
                    reason: format!("{url} is not an http(s) URL"),
                });
            }
        }
        let now = clock::now();
        // Key generation and a few small files: quick enough to do inline at startup.
        let keys = identities::load_or_create(settings.state_dir.as_deref(), now)?;
        let shared = Shared::new(settings, keys)?;
        Ok(Emulator {
            listener,
            shared: Arc::new(shared),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The test CA certificate (PEM): the gateway must trust it to accept emulated logins.
    pub fn ca_pem(&self) -> &str {
        &self.shared.ca_pem
    }

    pub fn settings(&self) -> &EmulatorSettings {
        &self.shared.settings
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests (and their callbacks)
    /// finish.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.listener.local_addr()?;
        tracing::info!(
            %addr,
            public_base_url = %self.shared.settings.public_base_url,
            // Only the origin: the callback path carries the partner's secret segment.
            partner = %self.shared.settings.partner_callback_url.origin().ascii_serialization(),
            "Diia emulator listening"
        );
        axum::serve(self.listener, router(self.shared))
            .with_graceful_shutdown(shutdown)
            .await
            .context("the emulator's HTTP server failed")
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(api::routes(shared.clone()))
        .merge(control::routes())
        .merge(phone::routes())
        .fallback(api::not_found)
        .with_state(shared)
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(TraceLayer::new_for_http())
}
