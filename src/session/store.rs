//! Creating sessions and finding the one a request's cookie opens.

use std::net::IpAddr;
use std::sync::Arc;

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::cache::{self, SessionCache};
use super::record::{Authentication, Session};
use super::revocation::{RevokedBy, Whom, revoke};
use super::token::SessionToken;
use crate::auth_method::AuthMethod;
use crate::clock::SharedClock;
use crate::config::SessionSettings;
use crate::identity::SignerIdentity;

/// What the store could not do.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("no randomness for a session token: {0}")]
    Randomness(getrandom::Error),
}

pub struct NewSession<'a> {
    pub provider: &'a str,
    pub identity: &'a SignerIdentity,
    pub auth_method: AuthMethod,
    /// The pending login this session came from.
    pub pending_login_id: Uuid,
    pub client_ip: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
    pub now: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub idle_timeout: time::Duration,
    pub shared_pc: bool,
}

pub async fn create(
    tx: &mut sqlx::PgConnection,
    new: &NewSession<'_>,
) -> Result<(Uuid, SessionToken), SessionError> {
    let token = SessionToken::generate().map_err(SessionError::Randomness)?;
    let id = Uuid::new_v4();
    let identity =
        serde_json::to_value(new.identity).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    // The configuration check keeps idle timeouts far below i32::MAX seconds.
    let idle_seconds = i32::try_from(new.idle_timeout.whole_seconds()).unwrap_or(i32::MAX);
    sqlx::query!(
        r#"INSERT INTO sessions
             (id, token_hash, pending_login_id, provider, identity, rnokpp, edrpou, client_ip, user_agent,
              created_at, last_seen_at, expires_at, idle_timeout_seconds, shared_pc, auth_method)
           VALUES ($1, $2, $3, $4, $5, $6, $7, ($8::text)::inet, $9, $10, $10, $11, $12, $13, $14)"#,
        id,
        token.hash(),
        new.pending_login_id,
        new.provider,
        identity,
        new.identity.rnokpp.as_ref().map(|r| r.as_str()),
        new.identity.edrpou.as_ref().map(|e| e.as_str()),
        new.client_ip.map(|ip| ip.to_string()),
        new.user_agent,
        new.now,
        new.expires_at,
        idle_seconds,
        new.shared_pc,
        new.auth_method.as_str(),
    )
    .execute(tx)
    .await?;
    Ok((id, token))
}

/// A session row as stored, whatever its state.
struct Stored {
    session: Session,
    last_seen_at: OffsetDateTime,
    revoked: bool,
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

async fn load(db: &PgPool, token_hash: &[u8]) -> Result<Option<Stored>, sqlx::Error> {
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

/// The live session with this id (not revoked, not past either timeout): what an OpenID Connect
/// code or access token was issued for.
pub async fn find_by_id(
    db: &PgPool,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<Option<Session>, sqlx::Error> {
    let row = sqlx::query_as!(
        SessionRow,
        r#"SELECT id, provider, identity, auth_method, created_at, expires_at, last_seen_at,
                  idle_timeout_seconds, shared_pc, revoked_at IS NOT NULL AS "revoked!"
           FROM sessions WHERE id = $1"#,
        id,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(SessionRow::parse).and_then(|stored| {
        (!stored.revoked && live(&stored.session, stored.last_seen_at, now))
            .then_some(stored.session)
    }))
}

/// The live session for a token (not revoked, not past either timeout), straight from the
/// database: for callers that must not see a cached copy.
pub async fn find(
    db: &PgPool,
    token: &SessionToken,
    now: OffsetDateTime,
) -> Result<Option<Session>, sqlx::Error> {
    Ok(load(db, &token.hash()).await?.and_then(|stored| {
        (!stored.revoked && live(&stored.session, stored.last_seen_at, now))
            .then_some(stored.session)
    }))
}

fn live(session: &Session, last_seen: OffsetDateTime, now: OffsetDateTime) -> bool {
    now < session.expires_at && now < last_seen + session.idle_timeout
}

/// The sessions as a request sees them: the database, this replica's cache of it, the clock.
#[derive(Clone)]
pub struct SessionStore {
    db: PgPool,
    clock: SharedClock,
    cache: SessionCache,
    cache_ttl: time::Duration,
    last_seen_write_interval: time::Duration,
}

impl SessionStore {
    pub fn new(db: PgPool, clock: SharedClock, settings: &SessionSettings) -> Self {
        SessionStore {
            db,
            clock,
            cache: SessionCache::default(),
            cache_ttl: duration(settings.cache_ttl),
            last_seen_write_interval: duration(settings.last_seen_write_interval),
        }
    }

    /// This replica's cache: evicted by revocation notices, watched by open tunnels.
    pub fn cache(&self) -> &SessionCache {
        &self.cache
    }

    /// The session of a request's cookie value, checked on every request: the in-process
    /// cache (bounded by `session.cache_ttl`, evicted by revocation notices), the absolute and
    /// idle timeouts, and `last_seen_at` written at most once per
    /// `session.last_seen_write_interval` per replica.
    pub async fn authenticate(&self, cookie: Option<&str>) -> Result<Authentication, sqlx::Error> {
        // A cleared cookie some clients still send as empty is no session rather than an ended one.
        let Some(raw) = cookie.filter(|raw| !raw.is_empty()) else {
            return Ok(Authentication::None);
        };
        let Some(token) = SessionToken::parse(raw) else {
            return Ok(Authentication::Expired);
        };
        let cache_ttl = self.cache_ttl;
        let write_interval = self.last_seen_write_interval;
        let now = self.clock.now();
        let hash = token.hash();
        let cache = &self.cache;

        let cached = cache.get(&hash);
        let mut entry = match cached {
            Some(entry) if now >= entry.fetched_at && now < entry.fetched_at + cache_ttl => entry,
            earlier => {
                let epoch = cache.epoch();
                let Some(stored) = load(&self.db, &hash).await? else {
                    cache.remove(&hash);
                    return Ok(Authentication::Expired);
                };
                if stored.revoked {
                    cache.remove(&hash);
                    return Ok(Authentication::Expired);
                }
                // The database's last_seen_at may lag this replica's by up to the write interval.
                let last_seen = earlier.as_ref().map_or(stored.last_seen_at, |e| {
                    e.last_seen.max(stored.last_seen_at)
                });
                let entry = cache::Entry {
                    session: Arc::new(stored.session),
                    fetched_at: now,
                    last_seen,
                    last_written: stored.last_seen_at,
                };
                cache.put(hash.clone(), entry.clone(), epoch, now, cache_ttl);
                entry
            }
        };
        if !live(&entry.session, entry.last_seen, now) {
            cache.remove(&hash);
            metrics::counter!("kepgate_sessions_timed_out_total").increment(1);
            return Ok(Authentication::Expired);
        }
        entry.last_seen = entry.last_seen.max(now);
        if now - entry.last_written >= write_interval {
            let epoch = cache.epoch();
            let still_open = sqlx::query_scalar!(
                r#"UPDATE sessions SET last_seen_at = GREATEST(last_seen_at, $2)
               WHERE id = $1 AND revoked_at IS NULL RETURNING id"#,
                entry.session.id,
                now
            )
            .fetch_optional(&self.db)
            .await?;
            if still_open.is_none() {
                cache.remove(&hash);
                return Ok(Authentication::Expired);
            }
            metrics::counter!("kepgate_session_last_seen_writes_total").increment(1);
            entry.last_written = now;
            cache.put(hash, entry.clone(), epoch, now, cache_ttl);
        } else {
            cache.touch(&hash, now);
        }
        Ok(Authentication::Authenticated(entry.session))
    }

    /// Revokes (see [`revoke`]) and evicts from this replica's cache at once, before the notice
    /// comes back over LISTEN; other replicas evict when it reaches them.
    pub async fn end(&self, whom: Whom<'_>, by: RevokedBy) -> Result<Vec<Uuid>, sqlx::Error> {
        let ids = revoke(&self.db, whom, by, self.clock.now()).await?;
        for id in &ids {
            self.cache.evict(*id);
        }
        Ok(ids)
    }
}

/// A configured duration as `time`'s, saturating (the configuration check bounds them).
pub fn duration(d: std::time::Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}
