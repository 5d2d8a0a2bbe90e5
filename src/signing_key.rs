//! The gateway's signing keys. ES256 (P-256) signs the identity assertion for the cabinet and
//! the ID tokens of OpenID clients that ask for ES256; with the OpenID Provider on, RS256 (an RSA
//! key, signed with aws-lc) signs the other clients' ID tokens. `{prefix}/jwks.json` publishes
//! both public halves. From `identity.assertion_key_file` and `oidc.rsa_key_file`, or shared by
//! every replica through the database (created by the first replica that needs them).

use anyhow::Context;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::config::{IdentitySettings, OidcSettings, SigningAlg};

pub struct SigningKey {
    es256: PublishedKey<EcdsaKeyPair>,
    /// Only with the OpenID Provider on.
    rs256: Option<PublishedKey<RsaKeyPair>>,
    jwks: serde_json::Value,
    /// SHA-256 of the ES256 private key: the root of secrets derived from it
    /// ([`Self::derived_secret`]).
    secret_digest: [u8; 32],
}

/// A private key, parsed once (parsing a PKCS#8 key computes its public point, which cost as
/// much as the signature itself when jsonwebtoken did it for every token), with its public half.
struct PublishedKey<K> {
    kid: String,
    key: K,
    public: DecodingKey,
    jwk: serde_json::Value,
}

/// Sizes of RSA key kepgate signs with: 2048 bits is the floor of NIST SP 800-57 until 2030.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

impl SigningKey {
    pub async fn load(
        db: &PgPool,
        identity: &IdentitySettings,
        oidc: &OidcSettings,
        now: OffsetDateTime,
    ) -> anyhow::Result<Self> {
        let secret = match &identity.assertion_key_file {
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
            None => shared_ec_key(db, now).await?,
        };
        let rs256 = match (oidc.enabled, &oidc.rsa_key_file) {
            (false, _) => None,
            (true, Some(path)) => Some(rsa_key_from_file(path)?),
            (true, None) => Some(shared_rsa_key(db, now).await?),
        };
        Self::from_keys(&secret, rs256)
    }

    /// A key of its own, for unit tests that sign.
    #[cfg(test)]
    pub fn random_for_tests() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("randomness");
        bytes[0] = 1; // far below the group order
        let secret = p256::SecretKey::from_slice(&bytes).expect("a valid scalar");
        Self::from_keys(&secret, None).expect("a usable key")
    }

    fn from_keys(secret: &p256::SecretKey, rsa: Option<RsaKeyPair>) -> anyhow::Result<Self> {
        let der = secret
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("encoding the assertion key: {e}"))?;
        let es256 = es256_key(secret, der.as_bytes())?;
        let rs256 = rsa.map(rs256_key).transpose()?;
        let mut keys = vec![es256.jwk.clone()];
        keys.extend(rs256.as_ref().map(|k| k.jwk.clone()));
        Ok(Self {
            es256,
            rs256,
            jwks: serde_json::json!({ "keys": keys }),
            secret_digest: Sha256::digest(der.as_bytes()).into(),
        })
    }

    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    /// The algorithms this key set signs with, RS256 first (discovery's list).
    pub fn algorithms(&self) -> Vec<&'static str> {
        let mut names = vec![];
        if self.rs256.is_some() {
            names.push(SigningAlg::Rs256.name());
        }
        names.push(SigningAlg::Es256.name());
        names
    }

    /// The claims of a token one of these keys signed, of JWS type `typ` (a token of another
    /// type, such as the assertion presented as an ID token, is refused), with an algorithm
    /// among `validation`'s and the key its header names.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        validation: &Validation,
    ) -> jsonwebtoken::errors::Result<T> {
        use jsonwebtoken::errors::ErrorKind;
        let header = jsonwebtoken::decode_header(token)?;
        if header.typ.as_deref() != Some(typ) {
            return Err(ErrorKind::InvalidToken.into());
        }
        let (kid, public) = match header.alg {
            Algorithm::ES256 => (&self.es256.kid, &self.es256.public),
            Algorithm::RS256 => match &self.rs256 {
                Some(key) => (&key.kid, &key.public),
                None => return Err(ErrorKind::InvalidAlgorithm.into()),
            },
            _ => return Err(ErrorKind::InvalidAlgorithm.into()),
        };
        if header.kid.as_ref() != Some(kid) || !validation.algorithms.contains(&header.alg) {
            return Err(ErrorKind::InvalidAlgorithm.into());
        }
        // One algorithm, the key's: jsonwebtoken refuses a key of another family in the list.
        let mut validation = validation.clone();
        validation.algorithms = vec![header.alg];
        jsonwebtoken::decode(token, public, &validation).map(|data| data.claims)
    }

    /// A secret of its own for `purpose`, the same on every replica (they share the key), and
    /// unknown to anyone without the private key.
    pub fn derived_secret(&self, purpose: &str) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(self.secret_digest);
        hash.update(purpose.as_bytes());
        hash.finalize().into()
    }

    /// A compact JWS of `claims` with `alg`, `kid` and `typ` as given (`JWT` for an ID token, or
    /// a more specific type such as `logout+jwt`).
    pub fn sign<T: Serialize>(
        &self,
        alg: SigningAlg,
        typ: &str,
        claims: &T,
    ) -> anyhow::Result<String> {
        let (algorithm, kid) = match (alg, &self.rs256) {
            (SigningAlg::Es256, _) => (Algorithm::ES256, &self.es256.kid),
            (SigningAlg::Rs256, Some(key)) => (Algorithm::RS256, &key.kid),
            (SigningAlg::Rs256, None) => anyhow::bail!("no RS256 key: the OpenID Provider is off"),
        };
        let mut header = Header::new(algorithm);
        header.kid = Some(kid.clone());
        header.typ = Some(typ.to_owned());
        // What jsonwebtoken::encode makes: base64url(header).base64url(claims).base64url(sig).
        let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?));
        let signature = match (alg, &self.rs256) {
            (SigningAlg::Rs256, Some(key)) => {
                let mut signature = vec![0; key.key.public_modulus_len()];
                key.key
                    .sign(
                        &RSA_PKCS1_SHA256,
                        &SystemRandom::new(),
                        token.as_bytes(),
                        &mut signature,
                    )
                    .map_err(|e| anyhow::anyhow!("signing a token: {e}"))?;
                signature
            }
            _ => self
                .es256
                .key
                .sign(&SystemRandom::new(), token.as_bytes())
                .map_err(|e| anyhow::anyhow!("signing a token: {e}"))?
                .as_ref()
                .to_vec(),
        };
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(token)
    }
}

fn es256_key(secret: &p256::SecretKey, der: &[u8]) -> anyhow::Result<PublishedKey<EcdsaKeyPair>> {
    let point = secret.public_key().to_sec1_bytes();
    // SEC1 uncompressed: 0x04 || x (32) || y (32).
    anyhow::ensure!(point.len() == 65, "unexpected public key encoding");
    let kid = base16ct::lower::encode_string(&Sha256::digest(&point)[..8]);
    let (x, y) = (
        URL_SAFE_NO_PAD.encode(&point[1..33]),
        URL_SAFE_NO_PAD.encode(&point[33..65]),
    );
    Ok(PublishedKey {
        jwk: serde_json::json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
            "x": x, "y": y,
        }),
        kid,
        key: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
            .map_err(|e| anyhow::anyhow!("loading the assertion key: {e}"))?,
        public: DecodingKey::from_ec_components(&x, &y)?,
    })
}

fn rs256_key(key: RsaKeyPair) -> anyhow::Result<PublishedKey<RsaKeyPair>> {
    let bits = key.public_modulus_len() * 8;
    anyhow::ensure!(
        RSA_BITS.contains(&bits),
        "an RSA key of {bits} bits: 2048 to 4096 expected"
    );
    let public = key.public_key();
    let (n, e) = (
        public.modulus().big_endian_without_leading_zero(),
        public.exponent().big_endian_without_leading_zero(),
    );
    let mut hash = Sha256::new();
    hash.update(n);
    hash.update(e);
    let kid = base16ct::lower::encode_string(&hash.finalize()[..8]);
    let (n, e) = (URL_SAFE_NO_PAD.encode(n), URL_SAFE_NO_PAD.encode(e));
    Ok(PublishedKey {
        jwk: serde_json::json!({
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": n, "e": e,
        }),
        kid,
        public: DecodingKey::from_rsa_components(&n, &e)?,
        key,
    })
}

/// `oidc.rsa_key_file`: PEM, PKCS#8 (`PRIVATE KEY`, what `openssl genpkey` writes) or PKCS#1
/// (`RSA PRIVATE KEY`).
fn rsa_key_from_file(path: &std::path::Path) -> anyhow::Result<RsaKeyPair> {
    let context = || format!("oidc.rsa_key_file {}", path.display());
    let pem =
        std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", context()))?;
    let (label, der) = p256::pkcs8::der::pem::decode_vec(pem.trim().as_bytes())
        .map_err(|e| anyhow::anyhow!("{}: not PEM: {e}", context()))?;
    let key = match label {
        "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
        other => anyhow::bail!("{}: a {other:?}, not an RSA private key", context()),
    }
    .map_err(|e| anyhow::anyhow!("{}: not an RSA private key: {e}", context()))?;
    let bits = key.public_modulus_len() * 8;
    anyhow::ensure!(
        RSA_BITS.contains(&bits),
        "{}: {bits} bits; 2048 to 4096 expected",
        context()
    );
    Ok(key)
}

async fn shared_ec_key(db: &PgPool, now: OffsetDateTime) -> anyhow::Result<p256::SecretKey> {
    let stored = shared_key(db, "default", now, || {
        let generated = <p256::SecretKey as p256::elliptic_curve::Generate>::try_generate()
            .map_err(|e| anyhow::anyhow!("generating the assertion key: {e}"))?;
        let der = generated
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("encoding the assertion key: {e}"))?;
        let kid = base16ct::lower::encode_string(
            &Sha256::digest(generated.public_key().to_sec1_bytes())[..8],
        );
        Ok((kid, der.as_bytes().to_vec()))
    })
    .await?;
    p256::SecretKey::from_pkcs8_der(&stored)
        .map_err(|e| anyhow::anyhow!("the stored assertion key is damaged: {e}"))
}

async fn shared_rsa_key(db: &PgPool, now: OffsetDateTime) -> anyhow::Result<RsaKeyPair> {
    let stored = shared_key(db, "rs256", now, || {
        let generated = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|e| anyhow::anyhow!("generating the RS256 key: {e}"))?;
        let der = generated
            .as_der()
            .map_err(|e| anyhow::anyhow!("encoding the RS256 key: {e}"))?;
        let kid = rs256_key(RsaKeyPair::from_pkcs8(der.as_ref())?)?.kid;
        Ok((kid, der.as_ref().to_vec()))
    })
    .await?;
    RsaKeyPair::from_pkcs8(&stored)
        .map_err(|e| anyhow::anyhow!("the stored RS256 key is damaged: {e}"))
}

/// The PKCS#8 DER of the key `id` in `assertion_keys`, made by `generate` if there is none yet.
async fn shared_key(
    db: &PgPool,
    id: &str,
    now: OffsetDateTime,
    generate: impl FnOnce() -> anyhow::Result<(String, Vec<u8>)>,
) -> anyhow::Result<Vec<u8>> {
    let read = || {
        sqlx::query_scalar!("SELECT private_key FROM assertion_keys WHERE id = $1", id)
            .fetch_optional(db)
    };
    if let Some(stored) = read().await? {
        return Ok(stored);
    }
    let (kid, der) = generate()?;
    // Several replicas may start at once: the first insert wins, everyone reads the winner.
    sqlx::query!(
        "INSERT INTO assertion_keys (id, kid, private_key, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO NOTHING",
        id,
        kid,
        der,
        now
    )
    .execute(db)
    .await?;
    read()
        .await?
        .with_context(|| format!("the key {id:?} vanished from assertion_keys"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Claims {
        sub: String,
        exp: i64,
    }

    /// The tokens are what jsonwebtoken reads back with the public key: header, claims, ES256
    /// and RS256, each with its own `kid`; a token of another `typ` is refused.
    #[test]
    fn tokens_verify_with_the_published_key() {
        let secret = p256::SecretKey::from_slice(&[7; 32]).unwrap();
        let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let key = SigningKey::from_keys(&secret, Some(rsa)).unwrap();
        assert_eq!(key.algorithms(), ["RS256", "ES256"]);
        let claims = Claims {
            sub: "Шевченко".into(),
            exp: 4_000_000_000,
        };
        let both = {
            let mut v = Validation::new(Algorithm::ES256);
            v.algorithms = vec![Algorithm::ES256, Algorithm::RS256];
            v
        };
        for (alg, algorithm, kid) in [
            (SigningAlg::Es256, Algorithm::ES256, key.es256.kid.clone()),
            (
                SigningAlg::Rs256,
                Algorithm::RS256,
                key.rs256.as_ref().unwrap().kid.clone(),
            ),
        ] {
            let token = key.sign(alg, "logout+jwt", &claims).unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.alg, algorithm);
            assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
            assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
            let read: Claims = key.verify(&token, "logout+jwt", &both).unwrap();
            assert_eq!(read, claims);
            assert!(key.verify::<Claims>(&token, "JWT", &both).is_err());
            // Only the algorithms the caller allows.
            let other = if algorithm == Algorithm::ES256 {
                Algorithm::RS256
            } else {
                Algorithm::ES256
            };
            assert!(
                key.verify::<Claims>(&token, "logout+jwt", &Validation::new(other))
                    .is_err()
            );
            // A changed claim breaks the signature.
            let mut parts: Vec<&str> = token.split('.').collect();
            let changed = URL_SAFE_NO_PAD.encode(br#"{"sub":"x","exp":4000000000}"#);
            parts[1] = &changed;
            assert!(
                key.verify::<Claims>(&parts.join("."), "logout+jwt", &both)
                    .is_err()
            );
        }
        let jwks = key.jwks()["keys"].as_array().unwrap();
        assert_eq!(jwks.len(), 2);
        assert_eq!(jwks[1]["kty"], "RSA");
        assert_eq!(jwks[1]["e"], "AQAB");
        let n = URL_SAFE_NO_PAD
            .decode(jwks[1]["n"].as_str().unwrap())
            .unwrap();
        assert_eq!(n.len(), 256, "2048 bits");
    }
}
