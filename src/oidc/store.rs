//! Authorization codes and access tokens in PostgreSQL, shared by every replica, stored by the
//! SHA-256 of their values. A code changes hands once: the exchange that sets `used_at` is the
//! only one that gets it.

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// A fresh random value (a code, an access token): 32 bytes as base64url, 43 characters.
pub fn random_value() -> Result<String, getrandom::Error> {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub fn value_hash(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

pub struct NewCode<'a> {
    pub code: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub session_id: Uuid,
    pub scope: &'a str,
    pub nonce: Option<&'a str>,
    pub code_challenge: Option<&'a str>,
    pub auth_time: OffsetDateTime,
    pub now: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// A fresh random `sid`, kept if this is the client's first code of the session (the first
    /// one stays: [`client_sid`]).
    pub sid: &'a str,
}

/// Stores a code, and that the client holds something of this session (for back-channel logout)
/// under the `sid` of its own it knows the session by: one value shared by every client and the
/// cabinet would let clients with pairwise subjects link their users through it.
pub async fn insert_code(db: &PgPool, new: &NewCode<'_>) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query!(
        r#"INSERT INTO oidc_codes (code_hash, client_id, redirect_uri, session_id, scope, nonce,
                                   code_challenge, auth_time, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#,
        value_hash(new.code),
        new.client_id,
        new.redirect_uri,
        new.session_id,
        new.scope,
        new.nonce,
        new.code_challenge,
        new.auth_time,
        new.now,
        new.expires_at,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"INSERT INTO oidc_session_clients (session_id, client_id, sid) VALUES ($1, $2, $3)
           ON CONFLICT (session_id, client_id) DO NOTHING"#,
        new.session_id,
        new.client_id,
        new.sid,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The `sid` a client knows `session_id` by (ID tokens, logout tokens, `id_token_hint`).
/// Sessions begun before per-client values came keep their session id as every client's.
pub async fn client_sid(
    db: &PgPool,
    session_id: Uuid,
    client_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT sid FROM oidc_session_clients WHERE session_id = $1 AND client_id = $2",
        session_id,
        client_id,
    )
    .fetch_optional(db)
    .await
}

/// What a code was issued for.
pub struct IssuedCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub session_id: Uuid,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: OffsetDateTime,
}

/// A code kepgate knows, spent or not (unspent only until it expires; spent, until it is pruned,
/// so that a late replay is still recognised), read without changing it: the exchange checks
/// the client, the redirect URI and the verifier against it before anything is spent.
pub async fn find_code(
    db: &PgPool,
    code: &str,
    now: OffsetDateTime,
) -> Result<Option<IssuedCode>, sqlx::Error> {
    sqlx::query_as!(
        IssuedCode,
        r#"SELECT client_id, redirect_uri, session_id, scope, nonce, code_challenge, auth_time
           FROM oidc_codes
           WHERE code_hash = $1 AND (used_at IS NOT NULL OR expires_at > $2)"#,
        value_hash(code),
        now,
    )
    .fetch_optional(db)
    .await
}

pub enum Spent {
    /// This exchange is the one that gets the code.
    Fresh,
    /// Already used: whatever was issued from it is revoked.
    Replayed,
    /// Unknown, or expired since it was read.
    Unknown,
}

/// `unused → used`, once, by an exchange that has checked every binding of the code. A second
/// attempt revokes the tokens issued from the code (RFC 6749 §4.1.2: the code may have been
/// stolen).
///
/// The two attempts may run at once, the first still between spending the code and inserting
/// its access token: the replay therefore marks the code first, then deletes, in statements of
/// their own, and [`insert_access_token`] inserts only while the code is unmarked, holding the
/// code's row. Either the insert comes first (the replay's mark waits for it, its delete then
/// sees the token), or the mark does (the insert finds it and adds nothing).
pub async fn spend_code(
    db: &PgPool,
    code: &str,
    now: OffsetDateTime,
) -> Result<Spent, sqlx::Error> {
    let hash = value_hash(code);
    let spent = sqlx::query!(
        r#"UPDATE oidc_codes SET used_at = $2
           WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2"#,
        hash,
        now,
    )
    .execute(db)
    .await?
    .rows_affected();
    if spent == 1 {
        return Ok(Spent::Fresh);
    }
    let replayed = sqlx::query!(
        r#"UPDATE oidc_codes SET replayed_at = COALESCE(replayed_at, $2)
           WHERE code_hash = $1 AND used_at IS NOT NULL"#,
        hash,
        now,
    )
    .execute(db)
    .await?
    .rows_affected();
    if replayed == 0 {
        return Ok(Spent::Unknown);
    }
    // A statement of its own, after the mark is committed: it sees every token inserted before.
    sqlx::query!("DELETE FROM oidc_access_tokens WHERE code_hash = $1", hash)
        .execute(db)
        .await?;
    Ok(Spent::Replayed)
}

pub struct NewAccessToken<'a> {
    pub token: &'a str,
    pub code: &'a str,
    pub client_id: &'a str,
    pub session_id: Uuid,
    pub scope: &'a str,
    pub expires_at: OffsetDateTime,
}

/// Stores the access token of a code just redeemed, unless a replay of the code has marked it
/// meanwhile (`false`: nothing stored, the exchange is refused).
pub async fn insert_access_token(
    db: &PgPool,
    new: &NewAccessToken<'_>,
) -> Result<bool, sqlx::Error> {
    // FOR SHARE: a replay's mark waits for this insert, or this insert, re-reading the row after
    // the mark, inserts nothing.
    let inserted = sqlx::query!(
        r#"INSERT INTO oidc_access_tokens (token_hash, code_hash, client_id, session_id, scope, expires_at)
           SELECT $1::bytea, code_hash, $3::text, $4::uuid, $5::text, $6::timestamptz FROM oidc_codes
           WHERE code_hash = $2 AND replayed_at IS NULL
           FOR SHARE"#,
        value_hash(new.token),
        value_hash(new.code),
        new.client_id,
        new.session_id,
        new.scope,
        new.expires_at,
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub struct AccessToken {
    pub client_id: String,
    pub session_id: Uuid,
    pub scope: String,
}

/// An unexpired access token (its session is checked by the caller).
pub async fn find_access_token(
    db: &PgPool,
    token: &str,
    now: OffsetDateTime,
) -> Result<Option<AccessToken>, sqlx::Error> {
    sqlx::query_as!(
        AccessToken,
        r#"SELECT client_id, session_id, scope FROM oidc_access_tokens
           WHERE token_hash = $1 AND expires_at > $2"#,
        value_hash(token),
        now,
    )
    .fetch_optional(db)
    .await
}

/// Codes, tokens and spent re-authentication markers past their time (a code is kept a day past
/// its expiry, so that a late replay is still recognised as one).
pub async fn prune(db: &PgPool, now: OffsetDateTime) -> Result<u64, sqlx::Error> {
    let codes = sqlx::query!(
        "DELETE FROM oidc_codes WHERE expires_at < $1::timestamptz - interval '1 day'",
        now
    )
    .execute(db)
    .await?
    .rows_affected();
    let tokens = sqlx::query!("DELETE FROM oidc_access_tokens WHERE expires_at < $1", now)
        .execute(db)
        .await?
        .rows_affected();
    let markers = super::reauthentication::prune(db, now).await?;
    Ok(codes + tokens + markers)
}
