//! Reading a session row: for the cached [`super::SessionStore::authenticate`], and straight from
//! the database for the few callers that must not trust a replica's cached copy.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::record::Session;
use super::token::SessionToken;
use crate::auth_method::AuthMethod;

/// A session row as stored, whatever its state.
pub(super) struct Stored {
    pub session: Session,
    pub last_seen_at: OffsetDateTime,
    pub revoked: bool,
}

/// A session row as selected; [`Stored`] is the parsed form.
struct SessionRow {
    id: Uuid,
    provider: String,
    identity: serde_json::Value,
    auth_method: Option<String>,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    last_seen_at: OffsetDateTime,
    idle_timeout_seconds: i32,
    shared_pc: bool,
    revoked: bool,
}

impl SessionRow {
    /// `None` for an identity that does not parse (edited by hand): never trusted.
    fn parse(self) -> Option<Stored> {
        Some(Stored {
            session: Session {
                id: self.id,
                provider: self.provider,
                identity: serde_json::from_value(self.identity).ok()?,
                auth_method: self.auth_method.as_deref().and_then(AuthMethod::parse),
                created_at: self.created_at,
                expires_at: self.expires_at,
                idle_timeout: time::Duration::seconds(i64::from(self.idle_timeout_seconds)),
                shared_pc: self.shared_pc,
            },
            last_seen_at: self.last_seen_at,
            revoked: self.revoked,
        })
    }
}

pub(super) async fn load(db: &PgPool, token_hash: &[u8]) -> Result<Option<Stored>, sqlx::Error> {
    let row = sqlx::query_as!(
        SessionRow,
        r#"SELECT id, provider, identity, auth_method, created_at, expires_at, last_seen_at,
                  idle_timeout_seconds, shared_pc, revoked_at IS NOT NULL AS "revoked!"
           FROM sessions WHERE token_hash = $1"#,
        token_hash,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(SessionRow::parse))
}

/// Which session an uncached lookup means.
#[derive(Debug, Clone, Copy)]
pub enum SessionKey<'a> {
    /// The one a browser's cookie holds.
    Token(&'a SessionToken),
    /// The one an OpenID Connect code or token was issued for.
    Id(Uuid),
}

/// The live session (not revoked, not past either timeout), straight from the database, not
/// from this replica's cache: a cached copy may be up to `session.cache_ttl` behind a revocation
/// announced while this replica's LISTEN connection was down. Each caller says why it cannot
/// take that risk; a request's own session goes through [`super::SessionStore::authenticate`].
pub async fn find_uncached(
    db: &PgPool,
    key: SessionKey<'_>,
    now: OffsetDateTime,
) -> Result<Option<Session>, sqlx::Error> {
    let stored = match key {
        SessionKey::Token(token) => load(db, &token.hash()).await?,
        SessionKey::Id(id) => load_by_id(db, id).await?,
    };
    Ok(stored.and_then(|stored| {
        (!stored.revoked && live(&stored.session, stored.last_seen_at, now))
            .then_some(stored.session)
    }))
}

async fn load_by_id(db: &PgPool, id: Uuid) -> Result<Option<Stored>, sqlx::Error> {
    let row = sqlx::query_as!(
        SessionRow,
        r#"SELECT id, provider, identity, auth_method, created_at, expires_at, last_seen_at,
                  idle_timeout_seconds, shared_pc, revoked_at IS NOT NULL AS "revoked!"
           FROM sessions WHERE id = $1"#,
        id,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(SessionRow::parse))
}

/// Within both the absolute and the idle timeout.
pub(super) fn live(session: &Session, last_seen: OffsetDateTime, now: OffsetDateTime) -> bool {
    now < session.expires_at && now < last_seen + session.idle_timeout
}
