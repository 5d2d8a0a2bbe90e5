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

#[derive(Clone)]
pub struct AppState {
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
    /// Where signed-in users are proxied.
    pub routes: CabinetRoutes,
    /// Signs the identity assertion for the cabinet.
    pub assertions: Arc<AssertionSigner>,
    /// Makes and checks the rotating QR links (one key on every replica).
    pub qr_links: Arc<QrLinks>,
}

pub type StartLimiter = governor::DefaultKeyedRateLimiter<std::net::IpAddr>;

pub fn start_limiter(per_minute: u32) -> StartLimiter {
    let per_minute = std::num::NonZeroU32::new(per_minute).unwrap_or(std::num::NonZeroU32::MIN);
    governor::RateLimiter::keyed(governor::Quota::per_minute(per_minute))
}
