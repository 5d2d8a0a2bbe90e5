//! The list in force, in PostgreSQL: every replica trusts the same CAs. A replica that downloads
//! a good new list stores it and announces it (`NOTIFY`); the others read it from here, as does a
//! replica that starts while the sources cannot be reached.

use std::collections::BTreeMap;

use sqlx::PgPool;
use time::OffsetDateTime;

use super::check::CheckedList;
use crate::config::TrustSources;
use crate::signature::TrustList;

/// The channel a new list in force is announced on (payload: its id).
pub const NOTIFY_CHANNEL: &str = "kepgate_trust_list";

/// Replicas that download at the same moment take turns: the second finds the first's list.
const ADVISORY_LOCK: i64 = 0x6b65_7074_7275_7374; // "keptrust"

/// Rows kept besides the one in force.
const KEPT_ROWS: i64 = 10;

/// One stored list, as read back.
#[derive(Clone, Debug)]
pub struct StoredList {
    pub id: i64,
    pub certificates: Vec<Vec<u8>>,
    pub sha256: Vec<u8>,
    pub bundle_url: String,
    pub providers_url: String,
    pub bundle_entries: i32,
    pub skipped: BTreeMap<String, i64>,
    pub in_force_since: OffsetDateTime,
    pub checked_at: OffsetDateTime,
}

impl StoredList {
    /// Its certificates as trust anchors (each was checked before it was stored).
    pub fn trust_list(&self) -> TrustList {
        let mut list = TrustList::new();
        for der in &self.certificates {
            if let Err(e) = list.add_der(der) {
                tracing::warn!(id = self.id, error = %e, "a stored trust list certificate does not parse");
            }
        }
        list
    }
}

/// What offering a checked download did.
#[derive(Debug)]
pub enum Offered {
    /// It is the list in force now.
    Stored(StoredList),
    /// The list in force is the same set.
    Unchanged(StoredList),
    /// Too many of the CAs of the list in force, or of a list stored before it (still valid),
    /// are missing from it: refused.
    TooManyGone { gone: usize, in_force: usize },
    /// It is a list already replaced (a lagging mirror's or cache's copy): refused.
    Replaced { by: i64 },
}

/// The newest list, if any was ever stored.
pub async fn in_force<'e>(
    db: impl sqlx::PgExecutor<'e>,
) -> Result<Option<StoredList>, sqlx::Error> {
    Ok(stored_newest_first(db, 1).await?.into_iter().next())
}

/// Up to `limit` stored lists, the one in force first.
async fn stored_newest_first<'e>(
    db: impl sqlx::PgExecutor<'e>,
    limit: i64,
) -> Result<Vec<StoredList>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id, certificates, sha256, bundle_url, providers_url, bundle_entries, skipped,
                  in_force_since, checked_at
           FROM national_trust_lists ORDER BY id DESC LIMIT $1"#,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| StoredList {
            id: r.id,
            certificates: r.certificates,
            sha256: r.sha256,
            bundle_url: r.bundle_url,
            providers_url: r.providers_url,
            bundle_entries: r.bundle_entries,
            skipped: serde_json::from_value(r.skipped).unwrap_or_default(),
            in_force_since: r.in_force_since,
            checked_at: r.checked_at,
        })
        .collect())
}

/// Stores `checked` as the list in force unless it is the same as the one in force or drops
/// more than `max_gone_percent` of its CAs still valid at `now`; in one transaction under an
/// advisory lock, so replicas offering at once neither store twice nor judge against a list
/// that is being replaced.
pub async fn offer(
    db: &PgPool,
    checked: &CheckedList,
    sources: &TrustSources,
    now: OffsetDateTime,
    max_gone_percent: u8,
) -> Result<Offered, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query_scalar!(
        r#"SELECT pg_advisory_xact_lock($1) IS NULL AS "locked!""#,
        ADVISORY_LOCK
    )
    .fetch_one(&mut *tx)
    .await?;
    let stored = stored_newest_first(&mut *tx, KEPT_ROWS + 1).await?;
    if let Some(current) = stored.first().cloned() {
        if current.sha256 == checked.sha256 {
            sqlx::query!(
                "UPDATE national_trust_lists SET checked_at = $2 WHERE id = $1",
                current.id,
                now
            )
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(Offered::Unchanged(current));
        }
        // The same set as a list replaced since: what a lagging mirror serves, which would
        // bring back what the newer list removed.
        if stored[1..].iter().any(|old| old.sha256 == checked.sha256) {
            return Ok(Offered::Replaced { by: current.id });
        }
        // Against every list kept, not only the one in force: a source that takes a little
        // less than the limit each time must not drain the list over a few refreshes.
        for earlier in &stored {
            let (gone, valid) = gone_from(earlier, checked, now);
            // gone / valid > max / 100, in integers.
            if valid > 0 && gone * 100 > valid * usize::from(max_gone_percent) {
                return Ok(Offered::TooManyGone {
                    gone,
                    in_force: valid,
                });
            }
        }
    }
    let skipped = serde_json::to_value(&checked.skipped).unwrap_or_default();
    let id = sqlx::query_scalar!(
        r#"INSERT INTO national_trust_lists
               (certificates, sha256, bundle_url, providers_url, bundle_entries, skipped,
                in_force_since, checked_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
           RETURNING id"#,
        &checked.certificates[..],
        &checked.sha256[..],
        sources.bundle_url.as_str(),
        sources.providers_url.as_str(),
        i32::try_from(checked.bundle_entries).unwrap_or(i32::MAX),
        skipped,
        now,
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM national_trust_lists WHERE id <= $1",
        id - KEPT_ROWS
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query_scalar!(
        r#"SELECT pg_notify($1, $2) IS NULL AS "sent!""#,
        NOTIFY_CHANNEL,
        id.to_string()
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Offered::Stored(StoredList {
        id,
        certificates: checked.certificates.clone(),
        sha256: checked.sha256.to_vec(),
        bundle_url: sources.bundle_url.to_string(),
        providers_url: sources.providers_url.to_string(),
        bundle_entries: i32::try_from(checked.bundle_entries).unwrap_or(i32::MAX),
        skipped: checked
            .skipped
            .iter()
            .map(|(k, v)| ((*k).to_owned(), i64::try_from(*v).unwrap_or(i64::MAX)))
            .collect(),
        in_force_since: now,
        checked_at: now,
    }))
}

/// How many of the list in force's CAs still valid at `now` the new list lacks, of how many.
fn gone_from(current: &StoredList, checked: &CheckedList, now: OffsetDateTime) -> (usize, usize) {
    let new: std::collections::HashSet<&[u8]> =
        checked.certificates.iter().map(Vec::as_slice).collect();
    let list = current.trust_list();
    let mut valid = 0;
    let mut gone = 0;
    for (cert, der, _) in list.entries() {
        let (_, not_after) = super::check::validity(cert);
        if not_after < now {
            continue;
        }
        valid += 1;
        if !new.contains(der) {
            gone += 1;
        }
    }
    (gone, valid)
}
