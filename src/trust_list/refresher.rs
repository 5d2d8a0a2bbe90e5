//! The background task that keeps the national list current: at start, on schedule (with
//! jitter), when asked ([`NationalTrust::refresh_now`]) and when the sources change
//! ([`NationalTrust::reconfigure`]) it downloads both sources, checks them and offers the result
//! to the database; whenever another replica stores a list, it reads it. A failed or suspicious
//! download keeps the list in force, logged and counted
//! (`kepgate_trust_list_refresh_total{outcome}`).

use std::time::Duration;

use sqlx::PgPool;
use tokio::time::Instant;

use super::check::{self, CheckedList};
use super::fetch::{self, FetchError};
use super::handle::NationalTrust;
use super::store::{self, Offered};
use crate::clock::SharedClock;
use crate::config::TrustSources;

/// After a failed download, the next try comes sooner than the schedule (but not at once).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(300);

/// Runs until the application ends it.
pub async fn run(national: NationalTrust, db: PgPool, clock: SharedClock) {
    // Side by side: a slow source must not keep another replica's list waiting.
    tokio::join!(
        keep_downloading(&national, &db, &clock),
        follow_other_replicas(&national, &db)
    );
}

/// Whenever another replica stores a list, it is read and put in force here.
async fn follow_other_replicas(national: &NationalTrust, db: &PgPool) {
    loop {
        national.reload_requested().await;
        load_in_force(national, db).await;
    }
}

async fn keep_downloading(national: &NationalTrust, db: &PgPool, clock: &SharedClock) {
    let mut sources = national.sources();
    let mut current = sources.borrow_and_update().clone();
    let mut next_fetch = Instant::now();
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(next_fetch), if current.is_some() => {
                next_fetch = Instant::now() + refresh(national, db, clock, current.as_ref()).await;
            }
            () = national.refresh_requested() => {
                next_fetch = Instant::now() + refresh(national, db, clock, current.as_ref()).await;
            }
            changed = sources.changed() => {
                if changed.is_err() {
                    return;
                }
                current = sources.borrow_and_update().clone();
                if current.is_none() {
                    national.withdraw();
                }
                next_fetch = Instant::now();
            }
        }
    }
}

/// Reads the list in force from the database into `national` (at start, and when another
/// replica announces one). Without sources configured nothing is read: a list stored under an
/// earlier configuration is not trusted.
pub async fn load_in_force(national: &NationalTrust, db: &PgPool) {
    if !national.has_sources() {
        return;
    }
    match store::in_force(db).await {
        Ok(Some(record)) => {
            let (id, since) = (record.id, record.in_force_since);
            if national.put_in_force(record) {
                tracing::info!(id, in_force_since = %since, certificates = national.in_force().list.len(), "national trust list in force, read from the database");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "the national trust list in force could not be read"),
    }
}

/// One download, check and offer; returns how long until the next.
async fn refresh(
    national: &NationalTrust,
    db: &PgPool,
    clock: &SharedClock,
    sources: Option<&TrustSources>,
) -> Duration {
    let Some(sources) = sources else {
        return Duration::from_secs(3600);
    };
    let outcome = refresh_once(national, db, clock, sources).await;
    metrics::counter!("kepgate_trust_list_refresh_total", "outcome" => outcome).increment(1);
    national.attempted();
    let failed = !matches!(outcome, "stored" | "unchanged");
    let interval = if failed {
        sources.refresh_interval.min(RETRY_AFTER_FAILURE)
    } else {
        sources.refresh_interval
    };
    jittered(interval, random_unit())
}

async fn refresh_once(
    national: &NationalTrust,
    db: &PgPool,
    clock: &SharedClock,
    sources: &TrustSources,
) -> &'static str {
    let checked = match download_and_check(sources, clock).await {
        Ok(checked) => checked,
        Err((outcome, reason)) => {
            tracing::warn!(outcome, reason = %reason, "national trust list: the download is not used; the list in force stays");
            return outcome;
        }
    };
    for reason in check::SkipReason::ALL.map(check::SkipReason::as_str) {
        let count = checked.skipped.get(reason).copied().unwrap_or(0);
        metrics::gauge!("kepgate_trust_list_skipped", "reason" => reason).set(count as f64);
    }
    let offered = store::offer(db, &checked, sources, clock.now(), sources.max_gone_percent).await;
    match offered {
        Ok(Offered::Stored(record)) => {
            tracing::info!(
                id = record.id,
                certificates = record.certificates.len(),
                skipped = ?checked.skipped,
                "national trust list: a new list is in force on every replica"
            );
            national.put_in_force(record);
            "stored"
        }
        Ok(Offered::Unchanged(record)) => {
            national.put_in_force(record);
            "unchanged"
        }
        Ok(Offered::Replaced { by }) => {
            tracing::warn!(
                in_force = by,
                "national trust list: the download is a list already replaced (a stale mirror or cache?); the list in force stays"
            );
            "stale"
        }
        Ok(Offered::TooManyGone { gone, in_force }) => {
            tracing::warn!(
                gone,
                in_force,
                max_gone_percent = sources.max_gone_percent,
                "national trust list: the download lacks too many of the CAs in force; the list in force stays"
            );
            "too_many_gone"
        }
        Err(e) => {
            tracing::warn!(error = %e, "national trust list: the database could not be reached; the list in force stays");
            "database_error"
        }
    }
}

async fn download_and_check(
    sources: &TrustSources,
    clock: &SharedClock,
) -> Result<CheckedList, (&'static str, String)> {
    let fetch_failed = |e: FetchError| (e.outcome(), e.to_string());
    let client = fetch::client(sources).map_err(|e| ("unreachable", format!("{e:#}")))?;
    let (bundle, providers) = tokio::try_join!(
        fetch::download(&client, &sources.bundle_url, sources.max_bytes),
        fetch::download(&client, &sources.providers_url, sources.max_bytes),
    )
    .map_err(fetch_failed)?;
    let now = clock.now();
    // Parsing 600-odd certificates is CPU work: off the async workers.
    tokio::task::spawn_blocking(move || check::check(&bundle, &providers, now))
        .await
        .map_err(|e| ("unparseable", e.to_string()))?
        .map_err(|e| (e.outcome(), e.to_string()))
}

/// `interval` ±10 %, by `unit` in [0, 1).
fn jittered(interval: Duration, unit: f64) -> Duration {
    interval.mul_f64(0.9 + 0.2 * unit.clamp(0.0, 1.0))
}

/// A uniform number in [0, 1) for the jitter (not a secret).
fn random_unit() -> f64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_stays_within_ten_per_cent_of_the_interval() {
        let six_hours = Duration::from_secs(6 * 3600);
        assert_eq!(jittered(six_hours, 0.0), six_hours.mul_f64(0.9));
        assert_eq!(jittered(six_hours, 0.5), six_hours);
        assert!(jittered(six_hours, 0.999_999) < six_hours.mul_f64(1.1));
    }
}
