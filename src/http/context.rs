//! What the web layer itself needs from the application: settings, the database (for the
//! outage check), the session store (for the signed-in extractors), the clock. Features keep
//! their own contexts; the application hands each its part with `FromRef`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::HeaderMap;
use sqlx::PgPool;

use super::branding::Branding;
use super::custom_pages::CustomPages;
use super::draining::{Draining, Stopping};
use super::error::AppError;
use super::local_time::DisplayZone;
use super::session_cookie::SessionCookie;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::notifications::Listening;
use crate::session::{Authentication, SessionStore};

/// Cloned for every request that asks for it: one `Arc`.
#[derive(Clone)]
pub struct Web(Arc<WebParts>);

pub struct WebParts {
    pub settings: Arc<Settings>,
    pub db: PgPool,
    pub clock: SharedClock,
    pub sessions: SessionStore,
    /// The LISTEN connection is up (see `crate::notifications`).
    pub listening: Listening,
    /// Set when the server starts draining (SIGTERM).
    pub draining: Draining,
    /// Set at SIGTERM: `/readyz` answers 503 from then on.
    pub stopping: Stopping,
    /// Set while a probe (`/readyz`, a page's check) last found the database unreachable.
    pub outage: Outage,
    /// Where the pages' times are told (`ui.time_zone`).
    pub zone: DisplayZone,
    /// The organisation's logo and colour (`ui.branding`).
    pub branding: Arc<Branding>,
    /// The organisation's own page templates and files (`ui.pages_dir`).
    pub custom_pages: Arc<CustomPages>,
}

/// The last probe's verdict, so that whichever learns of an outage first — the LISTEN
/// connection or a probe — tells every page at once.
#[derive(Clone, Default)]
pub struct Outage(Arc<AtomicBool>);

impl Outage {
    fn record(&self, reachable: bool) {
        self.0.store(!reachable, Ordering::Relaxed);
    }

    fn is_known(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl Web {
    pub fn new(parts: WebParts) -> Self {
        Web(Arc::new(parts))
    }

    /// The session of a request's cookie: the one way a request finds its session.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Authentication, AppError> {
        let cookie = SessionCookie::read(headers, &self.settings.server);
        Ok(cookie.authenticate(&self.sessions).await?)
    }

    /// For pages that run no query of their own (the login page, the redirect to it): 503
    /// while the database is away, rather than a login form that cannot work. While the LISTEN
    /// connection is up and no probe found the database gone, it counts as reachable (the loss
    /// of the connection is noticed at once); otherwise one `SELECT 1` decides, so the check
    /// costs nothing in normal operation.
    pub async fn database_reachable(&self) -> Result<(), AppError> {
        if self.listening.is_up() && !self.outage.is_known() {
            return Ok(());
        }
        let verdict = match tokio::time::timeout(
            self.probe_limit(),
            crate::database::check(&self.db),
        )
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(AppError::from(e)),
            Err(_) => Err(AppError::DatabaseUnavailable(sqlx::Error::PoolTimedOut)),
        };
        self.outage.record(verdict.is_ok());
        verdict
    }

    /// Readiness: one probe, whose verdict every page then knows.
    pub async fn database_ready(&self) -> Result<(), String> {
        let verdict = crate::database::ping(&self.db, self.probe_limit()).await;
        self.outage.record(verdict.is_ok());
        verdict
    }

    /// How long a probe (or a page's check) waits for the database: the pool's acquire
    /// timeout, at most 2 s, so an orchestrator's probe timeout is never the one that fires.
    pub fn probe_limit(&self) -> Duration {
        self.settings
            .database
            .acquire_timeout
            .min(Duration::from_secs(2))
    }
}

impl std::ops::Deref for Web {
    type Target = WebParts;

    fn deref(&self) -> &WebParts {
        &self.0
    }
}
