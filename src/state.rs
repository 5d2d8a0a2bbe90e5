//! What every handler can reach.

use std::sync::Arc;

use sqlx::PgPool;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::provider::Providers;
use crate::signature::TrustList;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: PgPool,
    pub clock: SharedClock,
    pub providers: Providers,
    /// Trusted qualified CAs, from `trust.files` only.
    pub trust: Arc<TrustList>,
}
