//! The bounds a flood of login starts meets: starts per client address, starts running at once,
//! logins waiting.

use sqlx::PgPool;
use time::OffsetDateTime;

pub type StartLimiter = governor::DefaultKeyedRateLimiter<std::net::IpAddr>;

pub fn start_limiter(per_minute: u32) -> StartLimiter {
    let per_minute = std::num::NonZeroU32::new(per_minute).unwrap_or(std::num::NonZeroU32::MIN);
    governor::RateLimiter::keyed(governor::Quota::per_minute(per_minute))
}

/// How many logins are waiting, for the `login.max_pending` bound: read from the database at
/// most once a second per replica (by the injected clock), plus the starts this replica made
/// since. Counting is O(rows) up to the bound; done on every start, it made each start of a flood
/// costlier for the database the bound is there to protect (and slowed bench/sse_waiters.sh's
/// 10,000 starts down by half).
#[derive(Default)]
pub struct WaitingLogins(std::sync::Mutex<Option<(OffsetDateTime, i64)>>);

impl WaitingLogins {
    const FRESH_FOR: time::Duration = time::Duration::seconds(1);

    pub(super) async fn count(
        &self,
        db: &PgPool,
        now: OffsetDateTime,
        limit: i64,
    ) -> Result<i64, sqlx::Error> {
        let cached = self.0.lock().ok().and_then(|cached| *cached);
        if let Some((at, waiting)) = cached
            && now >= at
            && now - at < Self::FRESH_FOR
        {
            return Ok(waiting);
        }
        let waiting = count_waiting(db, now, limit).await?;
        if let Ok(mut cached) = self.0.lock() {
            *cached = Some((now, waiting));
        }
        Ok(waiting)
    }

    pub(super) fn started_one(&self) {
        if let Ok(mut cached) = self.0.lock()
            && let Some((_, waiting)) = cached.as_mut()
        {
            *waiting += 1;
        }
    }
}

/// Unexpired pending logins, counted up to `limit` (the partial index on `expires_at` keeps this
/// cheap however large a flood grew the table).
async fn count_waiting(db: &PgPool, now: OffsetDateTime, limit: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM (SELECT 1 FROM pending_logins
             WHERE state = 'pending' AND expires_at > $1 LIMIT $2) AS waiting"#,
        now,
        limit
    )
    .fetch_one(db)
    .await
}
