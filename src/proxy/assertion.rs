//! The signed identity assertion for the cabinet: a short-lived ES256 JWT (`aud` = route,
//! `typ` = [`ASSERTION_TYP`]),
//! signed with the gateway's key ([`SigningKey`]), whose public half is published at
//! `{prefix}/jwks.json`. Headers alone can be forged by anyone who reaches the cabinet directly;
//! the assertion cannot.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::headers::{IdentityHeaders, percent_encode};
use crate::config::{IdentitySettings, SigningAlg};
use crate::session::Session;
use crate::signing_key::SigningKey;

/// The assertion's JWS `typ` (RFC 8725 §3.11): OpenID ID tokens are signed with the same ES256
/// key for clients that ask for ES256, and the cabinet refuses a token of another type.
pub const ASSERTION_TYP: &str = "kepgate-assertion+jwt";

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
    /// How the person signed in (`kep`, `dig_sign`, `diia_id`, `bank_id`; absent when unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<String>,
}

pub struct AssertionSigner {
    key: Arc<SigningKey>,
    ttl: time::Duration,
    issuer: String,
    /// The identity headers' names (`[identity]`).
    names: IdentityHeaders,
    /// Stamps by session, then audience, reused while at least half their assertion's life is
    /// left: an ECDSA signature and the header values built for every proxied request were the
    /// largest costs on the proxy's hot path.
    recent: Mutex<HashMap<Uuid, StampsByAudience>>,
    /// Display names by provider id (`providers.<id>.display_name`).
    provider_names: HashMap<String, String>,
}

/// A session's stamps, one per audience (a session reaches few routes).
type StampsByAudience = Vec<(String, Arc<IdentityStamp>)>;

/// What the cabinet is told about one session for one audience: the identity headers and the
/// signed assertion, ready to be set on a request (or a forward-auth answer).
#[derive(Debug)]
pub struct IdentityStamp {
    /// When the assertion was signed (unix seconds).
    issued: i64,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl IdentityStamp {
    /// Sets the identity headers, replacing any of the same names.
    pub fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
    }
}

/// Bound on cached sessions; the cache is simply emptied when it fills.
const RECENT_LIMIT: usize = 50_000;

impl AssertionSigner {
    pub fn new(
        key: Arc<SigningKey>,
        settings: &IdentitySettings,
        issuer: &str,
        names: IdentityHeaders,
    ) -> Self {
        Self {
            key,
            ttl: time::Duration::try_from(settings.assertion_ttl)
                .unwrap_or(time::Duration::minutes(1)),
            issuer: issuer.to_owned(),
            names,
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

    /// The identity headers and a fresh-enough assertion for `session` towards `audience`.
    pub fn stamp(
        &self,
        session: &Session,
        audience: &str,
        now: OffsetDateTime,
    ) -> anyhow::Result<Arc<IdentityStamp>> {
        let fresh_enough = now.unix_timestamp() - self.ttl.whole_seconds() / 2;
        let usable = |stamp: &IdentityStamp| {
            stamp.issued >= fresh_enough && stamp.issued <= now.unix_timestamp()
        };
        if let Ok(recent) = self.recent.lock()
            && let Some(stamps) = recent.get(&session.id)
            && let Some((_, stamp)) = stamps.iter().find(|(a, _)| a == audience)
            && usable(stamp)
        {
            return Ok(stamp.clone());
        }
        let assertion = self.sign_new(session, audience, now)?;
        let stamp = Arc::new(IdentityStamp {
            issued: now.unix_timestamp(),
            headers: identity_headers(&self.names, session, &assertion),
        });
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() >= RECENT_LIMIT {
                recent.clear();
            }
            let stamps = recent.entry(session.id).or_default();
            stamps.retain(|(a, _)| a != audience);
            stamps.push((audience.to_owned(), stamp.clone()));
        }
        Ok(stamp)
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
            auth_method: session.auth_method.map(|m| m.as_str().to_owned()),
        };
        self.key.sign(SigningAlg::Es256, ASSERTION_TYP, &claims)
    }
}

/// The identity headers the cabinet reads (names from `[identity]`); a value that cannot be a
/// header is left out rather than sent mangled.
fn identity_headers(
    names: &IdentityHeaders,
    session: &Session,
    assertion: &str,
) -> Vec<(HeaderName, HeaderValue)> {
    let identity = &session.identity;
    let mut headers = Vec::with_capacity(10);
    let mut put = |name: &HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.push((name.clone(), value));
        }
    };
    put(&names.subject, &session.subject());
    put(&names.name, &percent_encode(&identity.full_name));
    if let Some(r) = &identity.rnokpp {
        put(&names.rnokpp, r.as_str());
    }
    if let Some(e) = &identity.edrpou {
        put(&names.edrpou, e.as_str());
    }
    if let Some(o) = &identity.organization {
        put(&names.organization, &percent_encode(o));
    }
    put(&names.provider, &session.provider);
    put(&names.cert_serial, &identity.cert_serial_hex);
    put(&names.session, &session.id.to_string());
    if let Some(method) = session.auth_method {
        put(&names.auth_method, method.as_str());
    }
    put(&names.assertion, assertion);
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{Rnokpp, SignerIdentity};

    const NOW: OffsetDateTime = time::macros::datetime!(2026-12-06 08:00 UTC);

    fn session() -> Session {
        let now = NOW;
        Session {
            id: Uuid::new_v4(),
            provider: "diia".to_owned(),
            identity: SignerIdentity {
                full_name: "Коваленко Олена Петрівна".to_owned(),
                surname: None,
                given_name: None,
                rnokpp: Some(Rnokpp::parse("2654321099").unwrap()),
                edrpou: None,
                organization: None,
                title: None,
                cert_serial_hex: "0A1B".to_owned(),
                issuer: "CN=Test CA".to_owned(),
                issuer_cn: None,
                issuer_key_sha256: None,
                not_before: None,
                not_after: None,
            },
            auth_method: Some(crate::auth_method::AuthMethod::Kep),
            created_at: now,
            expires_at: now + time::Duration::hours(8),
            idle_timeout: time::Duration::minutes(30),
            shared_pc: false,
        }
    }

    fn claims(signer: &AssertionSigner, stamp: &IdentityStamp) -> AssertionClaims {
        let mut headers = HeaderMap::new();
        stamp.apply(&mut headers);
        let token = headers[&signer.names.assertion].to_str().unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        validation.validate_aud = false;
        validation.validate_exp = false; // a fixed time in the past; the claims are the point
        signer
            .key
            .verify(token, ASSERTION_TYP, &validation)
            .unwrap()
    }

    #[test]
    fn a_stamp_is_reused_only_for_its_own_audience_and_while_fresh() {
        let settings = IdentitySettings::default();
        let names = IdentityHeaders::from_settings(&settings).unwrap();
        let signer = AssertionSigner::new(
            Arc::new(SigningKey::random_for_tests()),
            &settings,
            "https://gate.example/",
            names,
        );
        let session = session();
        let now = NOW;

        let first = signer.stamp(&session, "cabinet", now).unwrap();
        let again = signer.stamp(&session, "cabinet", now).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "signed once, reused");
        let other = signer.stamp(&session, "reports", now).unwrap();
        assert_eq!(claims(&signer, &first).aud, "cabinet");
        assert_eq!(claims(&signer, &other).aud, "reports");
        assert_eq!(
            claims(&signer, &again).aud,
            "cabinet",
            "not replaced by another audience"
        );

        let mut headers = HeaderMap::new();
        first.apply(&mut headers);
        assert_eq!(headers[&signer.names.subject], "rnokpp:2654321099");
        assert!(
            headers[&signer.names.name]
                .to_str()
                .unwrap()
                .starts_with("%D0%9A")
        );

        let later = now + signer.ttl / 2 + time::Duration::seconds(1);
        let renewed = signer.stamp(&session, "cabinet", later).unwrap();
        assert!(
            !Arc::ptr_eq(&first, &renewed),
            "past half its life: signed again"
        );
        assert_eq!(claims(&signer, &renewed).iat, later.unix_timestamp());
    }
}
