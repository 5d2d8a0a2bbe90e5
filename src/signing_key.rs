//! The gateway's one signing key (ES256, P-256): the identity assertion for the cabinet and the
//! OpenID Connect ID tokens are signed with it, and `{prefix}/jwks.json` publishes its public
//! half. From `identity.assertion_key_file`, or shared by every replica through the database
//! (created by the first replica that needs it).

use anyhow::Context;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::config::IdentitySettings;

pub struct SigningKey {
    kid: String,
    /// Parsed once: parsing a PKCS#8 key computes its public point, which cost as much as the
    /// signature itself when jsonwebtoken did it for every token.
    key: EcdsaKeyPair,
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
            key: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.as_bytes())
                .map_err(|e| anyhow::anyhow!("loading the assertion key: {e}"))?,
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
        // What jsonwebtoken::encode makes: base64url(header).base64url(claims).base64url(r‖s).
        let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?));
        let signature = self
            .key
            .sign(&SystemRandom::new(), token.as_bytes())
            .map_err(|e| anyhow::anyhow!("signing a token: {e}"))?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature.as_ref()));
        Ok(token)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Claims {
        sub: String,
        exp: i64,
    }

    /// The tokens are what jsonwebtoken reads back with the public key: header, claims, ES256.
    #[test]
    fn tokens_verify_with_the_published_key() {
        let secret = p256::SecretKey::from_slice(&[7; 32]).unwrap();
        let key = SigningKey::from_secret(&secret).unwrap();
        let claims = Claims {
            sub: "Шевченко".into(),
            exp: 4_000_000_000,
        };
        for _ in 0..2 {
            let token = key.sign("logout+jwt", &claims).unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.alg, Algorithm::ES256);
            assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
            assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
            let read: Claims = key
                .verify(&token, &Validation::new(Algorithm::ES256))
                .unwrap();
            assert_eq!(read, claims);
            // A changed claim breaks the signature.
            let mut parts: Vec<&str> = token.split('.').collect();
            let other = URL_SAFE_NO_PAD.encode(br#"{"sub":"x","exp":4000000000}"#);
            parts[1] = &other;
            assert!(
                key.verify::<Claims>(&parts.join("."), &Validation::new(Algorithm::ES256))
                    .is_err()
            );
        }
    }
}
