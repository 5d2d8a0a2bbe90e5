//! What the signing feature's handlers reach: the web layer's context and signing's own parts.

use std::sync::Arc;

use crate::certificate_status::StatusPolicy;
use crate::http::Web;
use crate::notifications::watchers::Watchers;
use crate::oidc::OidcContext;
use crate::provider::Providers;
use crate::signature::TrustList;
use crate::signing_key::SigningKey;
use crate::trust_list::NationalTrust;

/// Cloned for every signing request: one `Arc`.
#[derive(Clone)]
pub struct SigningContext(Arc<SigningParts>);

pub struct SigningParts {
    pub web: Web,
    pub providers: Providers,
    /// The same trusted CAs and certificate-status policy as the login's.
    pub trust: Arc<TrustList>,
    pub national_trust: NationalTrust,
    pub certificate_status: Arc<StatusPolicy>,
    /// Verifies the cabinet's assertion and signs the result for it.
    pub key: Arc<SigningKey>,
    /// The assertion's and the result's `iss`: `server.base_url`.
    pub issuer: String,
    /// Wakes this replica's signing pages when their request changes.
    pub watchers: Watchers,
    /// With the OpenID Provider on: its clients and subjects, for clients that sign.
    pub oidc: Option<OidcContext>,
}

impl SigningContext {
    pub fn new(parts: SigningParts) -> Self {
        SigningContext(Arc::new(parts))
    }
}

impl std::ops::Deref for SigningContext {
    type Target = SigningParts;

    fn deref(&self) -> &SigningParts {
        &self.0
    }
}
