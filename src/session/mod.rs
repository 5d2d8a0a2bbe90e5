//! Signed-in browsers. The cookie holds a random token; the database holds only its SHA-256,
//! so a leaked table hands out no live sessions. A new session (new id, new token) is created
//! at every login: nothing from before the login survives it (no session fixation).

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::identity::SignerIdentity;
use crate::login::pending::PendingLoginId;

/// The secret a browser presents; never stored, never logged.
pub struct SessionToken(String);

impl SessionToken {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(SessionToken(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Only well-formed tokens are looked up (43 base64url characters).
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == 43 && URL_SAFE_NO_PAD.decode(raw).is_ok_and(|b| b.len() == 32))
            .then(|| SessionToken(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(REDACTED)")
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    pub provider: String,
    pub identity: SignerIdentity,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

pub struct NewSession<'a> {
    pub provider: &'a str,
    pub identity: &'a SignerIdentity,
    pub pending_login_id: PendingLoginId,
    pub client_ip: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
    pub now: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

pub async fn create(
    tx: &mut sqlx::PgConnection,
    new: &NewSession<'_>,
) -> Result<(Uuid, SessionToken), sqlx::Error> {
    let token = SessionToken::generate()
        .map_err(|e| sqlx::Error::Protocol(format!("no randomness: {e}")))?;
    let id = Uuid::new_v4();
    let identity =
        serde_json::to_value(new.identity).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query!(
        r#"INSERT INTO sessions
             (id, token_hash, pending_login_id, provider, identity, rnokpp, edrpou, client_ip, user_agent,
              created_at, last_seen_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, ($8::text)::inet, $9, $10, $10, $11)"#,
        id,
        token.hash(),
        new.pending_login_id.0,
        new.provider,
        identity,
        new.identity.rnokpp.as_ref().map(|r| r.as_str()),
        new.identity.edrpou.as_ref().map(|e| e.as_str()),
        new.client_ip.map(|ip| ip.to_string()),
        new.user_agent,
        new.now,
        new.expires_at,
    )
    .execute(tx)
    .await?;
    Ok((id, token))
}

/// The live session for a token: not revoked, not expired.
pub async fn find(
    db: &PgPool,
    token: &SessionToken,
    now: OffsetDateTime,
) -> Result<Option<Session>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT id, provider, identity, created_at, expires_at FROM sessions
           WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2"#,
        token.hash(),
        now
    )
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(|r| {
        Some(Session {
            id: r.id,
            provider: r.provider,
            identity: serde_json::from_value(r.identity).ok()?,
            created_at: r.created_at,
            expires_at: r.expires_at,
        })
    }))
}

/// Logout: the session ends server-side, whatever the browser keeps.
pub async fn revoke(
    db: &PgPool,
    token: &SessionToken,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        token.hash(),
        now
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
