//! What the OpenID Provider's endpoints reach: the web layer's context and the provider's parts.

use std::sync::Arc;

use super::clients::OidcClients;
use super::reauthentication::Markers;
use crate::http::Web;
use crate::signing_key::SigningKey;

#[derive(Clone)]
pub struct OidcContext(Arc<OidcParts>);

pub struct OidcParts {
    pub web: Web,
    pub clients: OidcClients,
    /// Signs ID tokens and logout tokens: the key of the assertion, published at jwks.json.
    pub key: Arc<SigningKey>,
    /// `server.base_url` without its trailing `/`: `iss` of every token.
    pub issuer: String,
    /// Keys the pairwise subjects (`OidcClientSettings::pairwise_subject`).
    pub pairwise_key: [u8; 32],
    /// For back-channel logout: short timeouts, no redirects.
    pub http: reqwest::Client,
}

impl OidcContext {
    pub fn new(parts: OidcParts) -> Self {
        OidcContext(Arc::new(parts))
    }
}

impl std::ops::Deref for OidcContext {
    type Target = OidcParts;

    fn deref(&self) -> &OidcParts {
        &self.0
    }
}

impl OidcParts {
    /// `{prefix}/oidc/{below}` as a full URL on `server.base_url`.
    pub fn endpoint(&self, below: &str) -> String {
        let server = &self.web.settings.server;
        format!(
            "{}{}",
            server.base_url.as_str().trim_end_matches('/'),
            server.path(below)
        )
    }

    /// Makes and checks the "signed in again" markers of `prompt=login` and `max_age`.
    pub fn reauthentication_markers(&self) -> anyhow::Result<Markers> {
        Ok(Markers::new(
            self.key.derived_secret("oidc reauthentication"),
            time::Duration::try_from(self.web.settings.oidc.reauthentication_ttl)?,
        ))
    }
}
