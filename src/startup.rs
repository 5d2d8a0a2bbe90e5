//! Building and running the server: `Application::build` binds (port 0 in tests), `run` serves
//! until the shutdown future resolves, then drains in-flight requests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::app::{AppState, OfflineParts, Reloader};
use crate::clock::{SharedClock, SystemClock};
use crate::config::{Settings, SettingsSource};
use crate::database;
use crate::http;
use crate::http::layers::MAX_REQUEST_HEADER_BYTES;
use crate::server::reload::Hangup;
use crate::server::service_manager::{Notification, notify};
use crate::server::tls::ServerCertificate;
use crate::server::{self, CurrentRouter, Http2Bounds, Listening, PerAddress};

pub struct Application {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    /// With `[server.tls]`: the certificate served, read again on SIGHUP or when it changes.
    certificate: Option<Arc<ServerCertificate>>,
    state: AppState,
    /// Where a reload reads the configuration again; `None`: built in code, not reloaded.
    source: Option<SettingsSource>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.server.listen)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on server.listen = {}",
                    settings.server.listen
                )
            })?;
        Self::build_on(settings, listener).await
    }

    /// Like [`Application::build`] on a listener bound by the caller (tests bind port 0 first so
    /// they can put the real port into `base_url`).
    pub async fn build_on(settings: Settings, listener: TcpListener) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, listener, Arc::new(SystemClock)).await
    }

    /// Like [`Application::build_on`] with another clock (tests move time by hand).
    pub async fn build_with_clock(
        settings: Settings,
        listener: TcpListener,
        clock: SharedClock,
    ) -> anyhow::Result<Self> {
        // Before the database: whatever cannot be built from the files stops the start first.
        let offline = OfflineParts::load(&settings, clock.clone())?;
        let certificate = offline.certificate.clone();
        let db = database::connect(&settings.database).await?;
        if settings.database.migrate_on_start {
            database::migrate(&db).await?;
        }
        let metrics_listener = if settings.metrics.enabled {
            http::metrics::recorder();
            Some(
                TcpListener::bind(settings.metrics.listen)
                    .await
                    .with_context(|| {
                        format!(
                            "cannot listen on metrics.listen = {}",
                            settings.metrics.listen
                        )
                    })?,
            )
        } else {
            None
        };
        let state = AppState::build(settings, db, clock, offline).await?;
        Ok(Self {
            listener,
            metrics_listener,
            certificate,
            state,
            source: None,
        })
    }

    /// SIGHUP reads the configuration again from `source` (`kepgate serve` passes the file and
    /// environment it read at start).
    pub fn reloading_from(mut self, source: SettingsSource) -> Self {
        self.source = Some(source);
        self
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // First: a SIGHUP from here on reloads, and never ends the gateway.
        let hangup = Hangup::install();
        let mut background = crate::app::spawn_lasting(&self.state);
        let (app, swap) = CurrentRouter::new(crate::app::router(self.state.clone()));
        let mut reloader = Reloader::start(
            self.source.clone(),
            self.state.clone(),
            swap,
            self.certificate.clone(),
        )?;
        let addr = self.listener.local_addr()?;
        let settings = &self.state.web.settings;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let listening = self.listening(stop_rx.clone())?;
        tracing::info!(%addr, prefix = %settings.server.route_prefix, tls = listening.tls.is_some(), "kepgate listening");
        let status = format!(
            "serving on {addr}{}",
            if listening.tls.is_some() {
                " (https)"
            } else {
                ""
            }
        );
        let mut reloads_end = stop_rx.clone();
        let ready_again = status.clone();
        let reloads = tokio::spawn(async move {
            tokio::select! {
                () = hangup.handle(ready_again, &mut reloader) => {},
                _ = reloads_end.wait_for(|s| *s) => {},
            }
            reloader
        });
        if let Some(listener) = self.metrics_listener {
            let mut stop = stop_rx.clone();
            tracing::info!(addr = %listener.local_addr()?, "metrics listening");
            let metrics_app = Router::new().route("/metrics", get(http::metrics::render));
            tokio::spawn(async move {
                let served = axum::serve(listener, metrics_app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|s| *s).await;
                    })
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "metrics server failed");
                }
            });
        }

        let grace = settings.server.shutdown_grace;
        let delay = settings.server.shutdown_delay;
        let draining = self.state.web.draining.clone();
        let stopping = self.state.web.stopping.clone();
        let mut stopped = stop_rx.clone();
        // Listening, migrated, the database reachable: what `/readyz` answers 200 to. A
        // connection made before `serve` below first polls the listener waits in its backlog.
        notify(&Notification::Ready { status });
        let server = server::serve(self.listener, app, listening, async move {
            shutdown.await;
            stopping.announce();
            notify(&Notification::Stopping);
            if !delay.is_zero() {
                tracing::info!(
                    ?delay,
                    "shutting down: not ready, still serving until the load balancer notices"
                );
                tokio::time::sleep(delay).await;
            }
            tracing::info!("shutting down: draining in-flight requests");
            draining.start();
            let _ = stop_tx.send(true);
        });
        // In-flight requests get `shutdown_grace` to finish; then we stop regardless.
        tokio::select! {
            () = server => {},
            _ = async {
                let _ = stopped.wait_for(|s| *s).await;
                tokio::time::sleep(grace).await;
            } => tracing::warn!("shutdown grace period over; closing remaining connections"),
        }
        // The background work ends with the server, and the database connections are given
        // back now rather than when the process exits: PostgreSQL sees clean goodbyes, and a
        // process that runs gateways one after another (the tests) does not pile them up.
        background.shutdown().await;
        if let Ok(reloader) = reloads.await {
            reloader.stop().await;
        }
        let _ = tokio::time::timeout(grace, self.state.web.db.close()).await;
        Ok(())
    }

    /// How connections are served; with TLS, also starts watching the certificate's files.
    fn listening(&self, mut stop: tokio::sync::watch::Receiver<bool>) -> anyhow::Result<Listening> {
        let server = &self.state.web.settings.server;
        let tls = match (&self.certificate, &server.tls) {
            (Some(certificate), Some(tls)) => {
                let watching = server::tls::watch(certificate.clone(), tls.watch_interval);
                tokio::spawn(async move {
                    tokio::select! {
                        () = watching => {},
                        _ = stop.wait_for(|s| *s) => {},
                    }
                });
                let config = certificate.server_config(tls.http2)?;
                Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
            }
            _ => None,
        };
        Ok(Listening {
            header_read_timeout: server.header_read_timeout,
            tls,
            http2: Http2Bounds {
                settings: server.http2.clone(),
                first_request_timeout: server.header_read_timeout,
                // The same bound as HTTP/1.1's 431; h2 refuses a larger block before decoding
                // all of it.
                max_header_list_size: MAX_REQUEST_HEADER_BYTES as u32,
            },
            per_address: PerAddress::new(
                server.max_connections_per_address,
                self.state.web.settings.proxy.trusted_proxies.clone(),
            ),
        })
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
