//! The emulator's HTTP server: binds, checks its settings, and serves the login page, the
//! relying-party API and the control routes.

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use super::settings::IdGovUaSettings;
use super::state::Shared;
use super::{api, authorize, control};
use crate::diia::EmulatorError;

pub struct IdGovUaEmulator {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl IdGovUaEmulator {
    /// Binds `settings.listen` after checking the settings.
    pub async fn build(settings: IdGovUaSettings) -> Result<IdGovUaEmulator, EmulatorError> {
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| EmulatorError::Bind {
                    addr: settings.listen,
                    source,
                })?;
        Self::build_on(settings, listener)
    }

    /// Like [`IdGovUaEmulator::build`] on a listener bound by the caller (tests bind port 0).
    pub fn build_on(
        mut settings: IdGovUaSettings,
        listener: TcpListener,
    ) -> Result<IdGovUaEmulator, EmulatorError> {
        let config = |key, reason: String| EmulatorError::Config { key, reason };
        if !matches!(settings.public_base_url.scheme(), "http" | "https") {
            return Err(config(
                "public_base_url",
                format!("{} is not an http(s) URL", settings.public_base_url),
            ));
        }
        // The form's action is `{path}authorize`.
        if !settings.public_base_url.path().ends_with('/') {
            let path = format!("{}/", settings.public_base_url.path());
            settings.public_base_url.set_path(&path);
        }
        if settings.clients.is_empty() {
            return Err(config("clients", "no client is registered".to_owned()));
        }
        let mut ids = HashSet::new();
        for c in &settings.clients {
            if c.client_id.is_empty() || c.client_secret.is_empty() {
                return Err(config(
                    "clients",
                    "a client_id or client_secret is empty".to_owned(),
                ));
            }
            if !ids.insert(c.client_id.as_str()) {
                return Err(config(
                    "clients",
                    format!("client_id {} is registered twice", c.client_id),
                ));
            }
            if c.redirect_uri.fragment().is_some() {
                return Err(config(
                    "clients",
                    format!("redirect_uri {} has a fragment", c.redirect_uri),
                ));
            }
        }
        Ok(IdGovUaEmulator {
            listener,
            shared: Arc::new(Shared::new(settings)),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn settings(&self) -> &IdGovUaSettings {
        &self.shared.settings
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.listener.local_addr()?;
        tracing::info!(
            %addr,
            public_base_url = %self.shared.settings.public_base_url,
            clients = self.shared.settings.clients.len(),
            "id.gov.ua emulator listening"
        );
        axum::serve(self.listener, router(self.shared))
            .with_graceful_shutdown(shutdown)
            .await
            .context("the id.gov.ua emulator's HTTP server failed")
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(authorize::routes())
        .merge(api::routes())
        .merge(control::routes())
        .fallback(api::not_found)
        .with_state(shared)
        // Outermost of the app's layers, so axum's own refusals (405, 413) come out as JSON too.
        .layer(axum::middleware::map_response(api::errors_as_json))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(TraceLayer::new_for_http())
}
