//! What the login's handlers reach: the web layer's context and the login's own parts.

use std::sync::Arc;

use super::events::LoginEvents;
use super::limits::{StartLimiter, WaitingLogins};
use super::qr_link::QrLinks;
use crate::certificate_status::StatusPolicy;
use crate::http::Web;
use crate::provider::Providers;
use crate::signature::TrustList;
use crate::trust_list::NationalTrust;

/// Cloned for every login request: one `Arc`.
#[derive(Clone)]
pub struct LoginContext(Arc<LoginParts>);

pub struct LoginParts {
    pub web: Web,
    pub providers: Providers,
    /// Trusted qualified CAs from `trust.files`; verification takes them together with the
    /// national list in force ([`NationalTrust::joined_with`]).
    pub trust: Arc<TrustList>,
    /// The national list in force (`[trust.sources]`), kept current in the background.
    pub national_trust: NationalTrust,
    /// Asks the CA about a signer's certificate, under `trust.revocation`.
    pub certificate_status: Arc<StatusPolicy>,
    /// Wakes this replica's waiting browsers when their pending login changes.
    pub login_events: LoginEvents,
    /// Login starts per client address.
    pub start_limiter: StartLimiter,
    /// Login starts running at once on this replica (`login.max_starts_in_flight`).
    pub start_slots: tokio::sync::Semaphore,
    /// Logins waiting, counted at most once a second (the `login.max_pending` bound).
    pub waiting_logins: WaitingLogins,
    /// Makes and checks the rotating QR links (one key on every replica).
    pub qr_links: QrLinks,
}

impl LoginContext {
    pub fn new(parts: LoginParts) -> Self {
        LoginContext(Arc::new(parts))
    }
}

impl std::ops::Deref for LoginContext {
    type Target = LoginParts;

    fn deref(&self) -> &LoginParts {
        &self.0
    }
}
