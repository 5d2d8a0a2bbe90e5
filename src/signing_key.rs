//! The gateway's one signing key (ES256, P-256): the identity assertion for the cabinet and the
//! OpenID Connect ID tokens are signed with it, and `{prefix}/jwks.json` publishes its public
//! half. From `identity.assertion_key_file`, or shared by every replica through the database
//! (created by the first replica that needs it).

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::config::IdentitySettings;

pub struct SigningKey {
    kid: String,
    key: EncodingKey,
    public: DecodingKey,
    jwks: serde_json::Value,
    /// SHA-256 of the private key: the root of secrets derived from it ([`Self::derived_secret`]).
    secret_digest: [u8; 32],
}

impl SigningKey {
    pub async fn load(
        db: &PgPool,
        settings: &IdentitySettings,
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
        Self::from_secret(&secret)
    }

    /// A key of its own, for unit tests that sign.
    #[cfg(test)]
    pub fn random_for_tests() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("randomness");
        bytes[0] = 1; // far below the group order
        let secret = p256::SecretKey::from_slice(&bytes).expect("a valid scalar");
        Self::from_secret(&secret).expect("a usable key")
    }

    fn from_secret(secret: &p256::SecretKey) -> anyhow::Result<Self> {
        let der = secret
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("encoding the assertion key: {e}"))?;
        let point = secret.public_key().to_sec1_bytes();
        // SEC1 uncompressed: 0x04 || x (32) || y (32).
        anyhow::ensure!(point.len() == 65, "unexpected public key encoding");
        let kid = hex(&Sha256::digest(&point)[..8]);
        let (x, y) = (
            URL_SAFE_NO_PAD.encode(&point[1..33]),
            URL_SAFE_NO_PAD.encode(&point[33..65]),
        );
        let jwks = serde_json::json!({
            "keys": [{
                "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
                "x": x, "y": y,
            }]
        });
        Ok(Self {
            kid,
            key: EncodingKey::from_ec_der(der.as_bytes()),
            public: DecodingKey::from_ec_components(&x, &y)?,
            jwks,
            secret_digest: Sha256::digest(der.as_bytes()).into(),
        })
    }

    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    /// The claims of a token this key signed (`validation` says what else must hold).
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        validation: &Validation,
    ) -> jsonwebtoken::errors::Result<T> {
        jsonwebtoken::decode(token, &self.public, validation).map(|data| data.claims)
    }

    /// A secret of its own for `purpose`, the same on every replica (they share the key), and
    /// unknown to anyone without the private key.
    pub fn derived_secret(&self, purpose: &str) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(self.secret_digest);
        hash.update(purpose.as_bytes());
        hash.finalize().into()
    }

    /// A compact JWS (ES256, `kid` set) of `claims`, with `typ` as given (`JWT`, or a more
    /// specific type such as `logout+jwt`).
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_owned());
        Ok(jsonwebtoken::encode(&header, claims, &self.key)?)
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

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
