//! The emulator's HTTP server: binds, loads or creates its keys, and serves the partner API, the
//! control routes and the phone page.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS};
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use super::error::EmulatorError;
use super::settings::EmulatorSettings;
use super::state::Shared;
use super::{api, control, identities, phone, revocation_http};
use crate::clock;

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
        let keys = identities::load_or_create(
            settings.state_dir.as_deref(),
            &settings.public_base_url,
            now,
        )?;
        if let Some(path) = &settings.ca_cert_file {
            // Certificates only: anyone may read them.
            identities::write_replacing(path, &keys.ca_pem, 0o644)?;
        }
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

    /// The state, for tests that check what a request recorded.
    #[cfg(test)]
    pub(crate) fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
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
        .merge(revocation_http::routes(shared.clone()))
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
