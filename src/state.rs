//! What every handler can reach.

use std::sync::Arc;

use sqlx::PgPool;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::login::events::LoginEvents;
use crate::login::qr_link::QrLinks;
use crate::provider::Providers;
use crate::proxy::CabinetRoutes;
use crate::proxy::assertion::AssertionSigner;
use crate::session::SessionCache;
use crate::signature::TrustList;

/// Cloned for every request (each middleware and extractor takes its own copy), so one `Arc`:
/// cloning the fields one by one showed up in the proxy's profile (bench/proxy_throughput.sh),
/// the providers' map with it.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl AppState {
    pub fn new(inner: AppStateInner) -> Self {
        AppState(Arc::new(inner))
    }

    /// Replaces the clock while the state is not shared yet (right after it is built; tests move
    /// time by hand). Returns false, changing nothing, once it is shared.
    pub fn replace_clock(&mut self, clock: SharedClock) -> bool {
        Arc::get_mut(&mut self.0)
            .map(|inner| inner.clock = clock)
            .is_some()
    }
}

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// Clone: a test may build a variant of a running gateway's state.
#[derive(Clone)]
pub struct AppStateInner {
    pub settings: Arc<Settings>,
    pub db: PgPool,
    pub clock: SharedClock,
    pub providers: Providers,
    /// Trusted qualified CAs, from `trust.files` only.
    pub trust: Arc<TrustList>,
    /// Wakes this replica's waiting browsers when their pending login changes.
    pub login_events: LoginEvents,
    /// This replica's recently seen sessions (evicted on revocation, on any replica).
    pub sessions: SessionCache,
    /// Login starts per client address.
    pub start_limiter: Arc<StartLimiter>,
    /// Login starts running at once on this replica (`login.max_starts_in_flight`).
    pub start_slots: Arc<tokio::sync::Semaphore>,
    /// Logins waiting, counted at most once a second (the `login.max_pending` bound).
    pub waiting_logins: Arc<crate::login::start::WaitingLogins>,
    /// Where signed-in users are proxied.
    pub routes: CabinetRoutes,
    /// Signs the identity assertion for the cabinet.
    pub assertions: Arc<AssertionSigner>,
    /// Makes and checks the rotating QR links (one key on every replica).
    pub qr_links: Arc<QrLinks>,
    /// The identity headers' names, parsed once.
    pub identity_headers: crate::proxy::headers::IdentityHeaders,
    /// Set when the server starts draining (SIGTERM).
    pub draining: Draining,
}

/// Set once the server stops accepting connections and drains: responses that would never end
/// by themselves (the login's SSE streams) end now, cleanly, so their connections close within
/// the grace period and the browsers reconnect, through the load balancer, to another replica.
#[derive(Clone)]
pub struct Draining(Arc<tokio::sync::watch::Sender<bool>>);

impl Default for Draining {
    fn default() -> Self {
        Draining(Arc::new(tokio::sync::watch::channel(false).0))
    }
}

impl Draining {
    pub fn start(&self) {
        self.0.send_replace(true);
    }

    pub fn watch(&self) -> DrainingWatch {
        DrainingWatch(self.0.subscribe())
    }
}

pub struct DrainingWatch(tokio::sync::watch::Receiver<bool>);

impl DrainingWatch {
    /// Resolves once draining has started (at once if it has).
    pub async fn started(&mut self) {
        // The guard `wait_for` returns is not Send: dropped here, never held across an await.
        let _ = self.0.wait_for(|d| *d).await.map(|_| ());
    }
}

pub type StartLimiter = governor::DefaultKeyedRateLimiter<std::net::IpAddr>;

pub fn start_limiter(per_minute: u32) -> StartLimiter {
    let per_minute = std::num::NonZeroU32::new(per_minute).unwrap_or(std::num::NonZeroU32::MIN);
    governor::RateLimiter::keyed(governor::Quota::per_minute(per_minute))
}
