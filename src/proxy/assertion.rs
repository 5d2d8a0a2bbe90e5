//! The signed identity assertion for the cabinet: a short-lived ES256 JWT (`aud` = route),
//! signed with the gateway's key ([`SigningKey`]), whose public half is published at
//! `{prefix}/jwks.json`. Headers alone can be forged by anyone who reaches the cabinet directly;
//! the assertion cannot.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::config::IdentitySettings;
use crate::session::Session;
use crate::signing_key::SigningKey;

/// Claims of the assertion; all identity values in plain UTF-8.
#[derive(Debug, Serialize, Deserialize)]
pub struct AssertionClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub name: String,
    pub rnokpp: Option<String>,
    pub edrpou: Option<String>,
    pub organization: Option<String>,
    pub provider: String,
    /// The provider's display name («Дія.Підпис»), for showing; `provider` is what to decide on.
    pub provider_name: String,
    pub cert_serial: String,
    pub cert_issuer: String,
    pub sid: String,
}

pub struct AssertionSigner {
    key: Arc<SigningKey>,
    ttl: time::Duration,
    issuer: String,
    /// Signed assertions by (session, route), reused while at least half their life is left:
    /// an ECDSA signature per proxied request was the largest cost on the proxy's hot path.
    recent: Mutex<HashMap<(Uuid, String), (String, i64)>>,
    /// Display names by provider id (`providers.<id>.display_name`).
    provider_names: HashMap<String, String>,
}

/// Bound on cached assertions; the cache is simply emptied when it fills.
const RECENT_LIMIT: usize = 50_000;

impl AssertionSigner {
    pub fn new(key: Arc<SigningKey>, settings: &IdentitySettings, issuer: &str) -> Self {
        Self {
            key,
            ttl: time::Duration::try_from(settings.assertion_ttl)
                .unwrap_or(time::Duration::minutes(1)),
            issuer: issuer.to_owned(),
            recent: Mutex::new(HashMap::new()),
            provider_names: HashMap::new(),
        }
    }

    /// The providers' display names, for the `provider_name` claim.
    pub fn with_provider_names(mut self, names: HashMap<String, String>) -> Self {
        self.provider_names = names;
        self
    }

    pub fn jwks(&self) -> &serde_json::Value {
        self.key.jwks()
    }

    pub fn sign(
        &self,
        session: &Session,
        audience: &str,
        now: OffsetDateTime,
    ) -> anyhow::Result<String> {
        let key = (session.id, audience.to_owned());
        let fresh_enough = now.unix_timestamp() - self.ttl.whole_seconds() / 2;
        if let Ok(recent) = self.recent.lock()
            && let Some((token, issued)) = recent.get(&key)
            && *issued >= fresh_enough
            && *issued <= now.unix_timestamp()
        {
            return Ok(token.clone());
        }
        let token = self.sign_new(session, audience, now)?;
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() >= RECENT_LIMIT {
                recent.clear();
            }
            recent.insert(key, (token.clone(), now.unix_timestamp()));
        }
        Ok(token)
    }

    fn sign_new(
        &self,
        session: &Session,
        audience: &str,
        now: OffsetDateTime,
    ) -> anyhow::Result<String> {
        let identity = &session.identity;
        let claims = AssertionClaims {
            iss: self.issuer.clone(),
            aud: audience.to_owned(),
            sub: session.subject(),
            iat: now.unix_timestamp(),
            exp: (now + self.ttl).unix_timestamp(),
            name: identity.full_name.clone(),
            rnokpp: identity.rnokpp.as_ref().map(|r| r.to_string()),
            edrpou: identity.edrpou.as_ref().map(|e| e.to_string()),
            organization: identity.organization.clone(),
            provider: session.provider.clone(),
            provider_name: self
                .provider_names
                .get(&session.provider)
                .cloned()
                .unwrap_or_else(|| session.provider.clone()),
            cert_serial: identity.cert_serial_hex.clone(),
            cert_issuer: identity.issuer.clone(),
            sid: session.id.to_string(),
        };
        self.key.sign("JWT", &claims)
    }
}
