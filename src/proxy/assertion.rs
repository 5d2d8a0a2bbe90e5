//! The signed identity assertion for the cabinet: a short-lived ES256 JWT (`aud` = route),
//! with the public key published at `{prefix}/jwks.json`. Headers alone can be forged by anyone
//! who reaches the cabinet directly; the assertion cannot.

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::config::IdentitySettings;
use crate::session::Session;

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
    kid: String,
    key: EncodingKey,
    jwks: serde_json::Value,
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
    /// The key from `identity.assertion_key_file`, or the one shared in the database
    /// (created by the first replica that needs it).
    pub async fn load(
        db: &PgPool,
        settings: &IdentitySettings,
        issuer: &str,
        now: OffsetDateTime,
    ) -> anyhow::Result<Self> {
        let secret = match &settings.assertion_key_file {
            Some(path) => {
                let pem = std::fs::read_to_string(path).with_context(|| {
                    format!(
                        "identity.assertion_key_file: cannot read {}",
                        path.display()
                    )
                })?;
                p256::SecretKey::from_pkcs8_pem(&pem).map_err(|e| {
                    anyhow::anyhow!("identity.assertion_key_file: not a PKCS#8 P-256 key: {e}")
                })?
            }
            None => shared_key(db, now).await?,
        };
        Self::from_secret(&secret, settings, issuer)
    }

    fn from_secret(
        secret: &p256::SecretKey,
        settings: &IdentitySettings,
        issuer: &str,
    ) -> anyhow::Result<Self> {
        let der = secret
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("encoding the assertion key: {e}"))?;
        let point = secret.public_key().to_sec1_bytes();
        // SEC1 uncompressed: 0x04 || x (32) || y (32).
        anyhow::ensure!(point.len() == 65, "unexpected public key encoding");
        let kid = hex(&Sha256::digest(&point)[..8]);
        let jwks = serde_json::json!({
            "keys": [{
                "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            }]
        });
        Ok(Self {
            kid,
            key: EncodingKey::from_ec_der(der.as_bytes()),
            jwks,
            ttl: time::Duration::try_from(settings.assertion_ttl)
                .unwrap_or(time::Duration::minutes(1)),
            issuer: issuer.to_owned(),
            recent: Mutex::new(HashMap::new()),
            provider_names: HashMap::new(),
        })
    }

    /// The providers' display names, for the `provider_name` claim.
    pub fn with_provider_names(mut self, names: HashMap<String, String>) -> Self {
        self.provider_names = names;
        self
    }

    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
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
            sub: subject(session),
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
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.key)?)
    }
}

/// The stable subject: `rnokpp:<number>` for people, else the certificate (issuer + serial).
pub fn subject(session: &Session) -> String {
    let identity = &session.identity;
    match &identity.rnokpp {
        Some(r) => format!("rnokpp:{r}"),
        None => format!(
            "cert:{}:{}",
            hex(&Sha256::digest(identity.issuer.as_bytes())[..8]),
            identity.cert_serial_hex
        ),
    }
}

async fn shared_key(db: &PgPool, now: OffsetDateTime) -> anyhow::Result<p256::SecretKey> {
    let generated = <p256::SecretKey as p256::elliptic_curve::Generate>::try_generate()
        .map_err(|e| anyhow::anyhow!("generating the assertion key: {e}"))?;
    let der = generated
        .to_pkcs8_der()
        .map_err(|e| anyhow::anyhow!("encoding the assertion key: {e}"))?;
    let kid = hex(&Sha256::digest(generated.public_key().to_sec1_bytes())[..8]);
    // Several replicas may start at once: the first insert wins, everyone reads the winner.
    sqlx::query!(
        "INSERT INTO assertion_keys (id, kid, private_key, created_at) VALUES ('default', $1, $2, $3)
         ON CONFLICT (id) DO NOTHING",
        kid,
        der.as_bytes(),
        now
    )
    .execute(db)
    .await?;
    let stored = sqlx::query_scalar!("SELECT private_key FROM assertion_keys WHERE id = 'default'")
        .fetch_one(db)
        .await?;
    p256::SecretKey::from_pkcs8_der(&stored)
        .map_err(|e| anyhow::anyhow!("the stored assertion key is damaged: {e}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
