//! Building and running the server: `Application::build` binds (port 0 in tests), `run` serves
//! until the shutdown future resolves, then drains in-flight requests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::app::AppState;
use crate::clock::{SharedClock, SystemClock};
use crate::config::Settings;
use crate::database;
use crate::http;
use crate::signature::{LoadReport, TrustList};

pub struct Application {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    state: AppState,
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
        let trust = load_trust_list(&settings.trust.files)?;
        let state = AppState::build(settings, db, clock, trust).await?;
        Ok(Self {
            listener,
            metrics_listener,
            state,
        })
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
        crate::app::spawn_background(&self.state)?;
        let app = crate::app::router(self.state.clone());
        let addr = self.listener.local_addr()?;
        let settings = &self.state.web.settings;
        tracing::info!(%addr, prefix = %settings.server.route_prefix, "kepgate listening");

        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
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
        let header_read_timeout = settings.server.header_read_timeout;
        let mut stopped = stop_rx.clone();
        let server = serve(self.listener, app, header_read_timeout, async move {
            shutdown.await;
            stopping.announce();
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
        Ok(())
    }
}

/// The gateway's HTTP/1 server: axum's own `serve` with a header read timeout. `axum::serve`
/// gives hyper no timer, so hyper's header timeout never fires there and a client sending its
/// headers a byte at a time (slow-loris) holds a connection and a task for ever. Here the
/// timeout runs from the first byte of a request's head and is not reset by further bytes.
async fn serve(
    listener: TcpListener,
    app: Router,
    header_read_timeout: std::time::Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    // Every connection task holds a receiver of `closed`; all dropped = all drained.
    let (closed_tx, closed_rx) = tokio::sync::watch::channel(());
    let (drain_tx, drain_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app.clone().map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request.map(axum::body::Body::new)
            },
        );
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout);
        let mut drain = drain_rx.clone();
        let closed = closed_rx.clone();
        tokio::spawn(async move {
            let connection = builder
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                () = async {
                    // The guard `wait_for` returns must not live across the drain below.
                    let _ = drain.wait_for(|d| *d).await;
                } => {
                    // Finish the request in flight, take no new one on this connection.
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.as_mut().await;
                }
            }
            drop(closed);
        });
    }
    drop(listener);
    let _ = drain_tx.send(true);
    drop(closed_rx);
    closed_tx.closed().await;
}

/// Loads every trust file (PEM or PKCS#7), logging what each contained by algorithm and curve,
/// and what was skipped or cannot verify anything.
pub fn load_trust_list(files: &[std::path::PathBuf]) -> anyhow::Result<TrustList> {
    Ok(load_trust_files(files)?.0)
}

/// As [`load_trust_list`], also returning each file's report (for `check-config`).
pub fn load_trust_files(
    files: &[std::path::PathBuf],
) -> anyhow::Result<(TrustList, Vec<(std::path::PathBuf, LoadReport)>)> {
    let mut all = TrustList::new();
    let mut reports = Vec::new();
    for path in files {
        let bytes = std::fs::read(path)
            .with_context(|| format!("trust.files: cannot read {}", path.display()))?;
        let (list, report) = TrustList::from_bytes(&bytes).with_context(|| {
            format!(
                "trust.files: {} is neither PEM nor a PKCS#7 bundle",
                path.display()
            )
        })?;
        tracing::info!(
            file = %path.display(),
            loaded = report.loaded,
            dstu4145 = report.dstu4145_le + report.dstu4145_be,
            ecdsa = report.ecdsa,
            rsa = report.rsa,
            duplicates = report.duplicates,
            skipped = report.skipped.len(),
            unusable = report.unusable_keys.len(),
            "trust list loaded: {}",
            report.summary()
        );
        for skipped in &report.skipped {
            tracing::warn!(file = %path.display(), index = skipped.index, reason = %skipped.reason, "trust list entry skipped");
        }
        for unusable in &report.unusable_keys {
            tracing::warn!(file = %path.display(), index = unusable.index, reason = %unusable.reason, "trust list entry loaded, but its key cannot verify signatures");
        }
        all.merge(list);
        reports.push((path.clone(), report));
    }
    Ok((all, reports))
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
