//! Finding the session a request's cookie opens, through this replica's cache, and ending
//! sessions with the cache told at once.

use std::sync::Arc;

use sqlx::PgPool;
use uuid::Uuid;

use super::cache::{self, SessionCache};
use super::ending::{self, EndedBy, Whom};
use super::lookup::{live, load};
use super::record::Authentication;
use super::token::SessionToken;
use crate::clock::SharedClock;
use crate::config::SessionSettings;

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

    /// The same store (and cache) under other `session` settings: a reload.
    pub fn with_settings(&self, settings: &SessionSettings) -> Self {
        SessionStore {
            db: self.db.clone(),
            clock: self.clock.clone(),
            cache: self.cache.clone(),
            cache_ttl: duration(settings.cache_ttl),
            last_seen_write_interval: duration(settings.last_seen_write_interval),
        }
    }

    /// This replica's cache: evicted by revocation notices, watched by open tunnels.
    pub fn cache(&self) -> &SessionCache {
        &self.cache
    }

    /// The session of a request's token (the web layer reads it from the cookie), checked on
    /// every request: the in-process cache (bounded by `session.cache_ttl`, evicted by
    /// revocation notices), the absolute and idle timeouts, and `last_seen_at` written at most
    /// once per `session.last_seen_write_interval` per replica.
    pub async fn authenticate(&self, token: &SessionToken) -> Result<Authentication, sqlx::Error> {
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

    /// Ends (see [`ending::end`]) and evicts from this replica's cache at once, before the notice
    /// comes back over LISTEN; other replicas evict when it reaches them.
    pub async fn end(&self, whom: Whom<'_>, by: EndedBy) -> Result<Vec<Uuid>, sqlx::Error> {
        let ids = ending::end(&self.db, whom, by, self.clock.now()).await?;
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
