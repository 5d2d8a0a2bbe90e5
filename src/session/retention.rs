//! What the retention (`session.history_retention_days`) lets go: the login history and the
//! sessions that ended before it.

use sqlx::PgPool;
use time::OffsetDateTime;

/// Deletes history older than the retention, and sessions that ended before it (their rows
/// serve no login any more). Safe on every replica at once.
pub async fn delete_history_and_sessions_before(
    db: &PgPool,
    before: OffsetDateTime,
) -> Result<(u64, u64), sqlx::Error> {
    let history = sqlx::query!("DELETE FROM login_history WHERE at < $1", before)
        .execute(db)
        .await?
        .rows_affected();
    let sessions = sqlx::query!(
        "DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1",
        before
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok((history, sessions))
}
