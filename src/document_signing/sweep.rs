//! What every replica runs for signing beside serving: overdue requests expired (their pages
//! hear it through the notice), and signatures past their keeping deleted while the request
//! stays as the audit.

use std::time::Duration;

use sqlx::PgPool;

use super::store;
use crate::clock::SharedClock;
use crate::config::SigningSettings;

/// Expires overdue requests every 15 s. The page's stream also says so at the deadline itself;
/// this only tidies the rows nobody watches.
pub async fn expire_overdue(db: PgPool, clock: SharedClock) {
    crate::periodic::every(Duration::from_secs(15), || async {
        match store::expire_overdue(&db, clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(expired = n, "signing requests expired"),
            Err(e) => tracing::warn!(error = %e, "sweeping expired signing requests failed"),
        }
    })
    .await
}

/// Deletes signatures fetched more than `keep_after_fetch` ago, or never fetched and older than
/// `keep_unfetched`; and the audit past the history's retention.
pub async fn delete_old(
    db: &PgPool,
    clock: &SharedClock,
    settings: &SigningSettings,
    history_retention: time::Duration,
) {
    let now = clock.now();
    let keep = |d: Duration| time::Duration::try_from(d).unwrap_or(time::Duration::MAX);
    match store::delete_old_signatures(
        db,
        now - keep(settings.keep_after_fetch),
        now - keep(settings.keep_unfetched),
        now,
    )
    .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(requests = n, "signatures past their keeping deleted"),
        Err(e) => tracing::warn!(error = %e, "deleting old signatures failed"),
    }
    match store::delete_before(db, now - history_retention).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(requests = n, "old signing audit pruned"),
        Err(e) => tracing::warn!(error = %e, "pruning the signing audit failed"),
    }
}
