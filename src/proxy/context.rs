//! What the proxy and forward-auth reach: the web layer's context and the proxy's own parts.

use std::sync::Arc;

use super::assertion::AssertionSigner;
use super::headers::IdentityHeaders;
use super::routes::CabinetRoutes;
use crate::http::Web;
use crate::provider::ProviderNames;

/// Cloned for every proxied request: one `Arc`.
#[derive(Clone)]
pub struct ProxyContext(Arc<ProxyParts>);

pub struct ProxyParts {
    pub web: Web,
    /// Where signed-in users are proxied.
    pub routes: CabinetRoutes,
    /// Signs the identity assertion for the cabinet.
    pub assertions: AssertionSigner,
    /// The identity headers' names, parsed once.
    pub identity_headers: IdentityHeaders,
    /// Names of the providers, for the signed-in page.
    pub provider_names: ProviderNames,
}

impl ProxyContext {
    pub fn new(parts: ProxyParts) -> Self {
        ProxyContext(Arc::new(parts))
    }
}

impl std::ops::Deref for ProxyContext {
    type Target = ProxyParts;

    fn deref(&self) -> &ProxyParts {
        &self.0
    }
}
