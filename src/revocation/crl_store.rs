//! The shared CRLs (`revocation_lists` and `revoked_certificates`, migration 0007): which
//! distribution points exist, which replica downloads which next, and what each verified list
//! revokes.

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::signature::crl::CheckedCrl;

/// CRLReason removeFromCRL: in a delta list, "no longer revoked" (RFC 5280 §5.3.1).
pub(crate) const REMOVE_FROM_CRL: u8 = 8;

/// A distribution point named by a certificate of the CA `issuer_der`.
pub(crate) struct ListSource<'a> {
    pub url: &'a str,
    pub is_delta: bool,
}

/// Makes the lists known to every replica; those already known keep their schedule unless
/// another CA key now names them (a CA re-keyed under the same address): then the list is
/// verified against that key and says nothing until its next download, which is now.
pub(crate) async fn register(
    db: &PgPool,
    sources: &[ListSource<'_>],
    issuer_der: &[u8],
    issuer_key_sha256: &[u8],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let urls: Vec<String> = sources.iter().map(|s| s.url.to_owned()).collect();
    let deltas: Vec<bool> = sources.iter().map(|s| s.is_delta).collect();
    sqlx::query!(
        r#"INSERT INTO revocation_lists (url, issuer_der, issuer_key_sha256, is_delta, due_at)
           SELECT url, $3, $4, is_delta, $5 FROM UNNEST($1::text[], $2::bool[]) AS s(url, is_delta)
           ON CONFLICT (url) DO UPDATE
           SET issuer_der = EXCLUDED.issuer_der, issuer_key_sha256 = EXCLUDED.issuer_key_sha256,
               due_at = EXCLUDED.due_at, this_update = NULL, next_update = NULL
           WHERE revocation_lists.issuer_key_sha256 <> EXCLUDED.issuer_key_sha256"#,
        &urls,
        &deltas,
        issuer_der,
        issuer_key_sha256,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A list this replica is to download now.
pub(crate) struct Claimed {
    pub url: String,
    pub issuer_der: Vec<u8>,
    pub issuer_key_sha256: Vec<u8>,
}

/// Takes up to `limit` lists that are due, moving them to `lease_until` so that other replicas
/// leave them alone meanwhile (a replica that dies holding them only delays them).
pub(crate) async fn claim_due(
    db: &PgPool,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    sqlx::query_as!(
        Claimed,
        r#"UPDATE revocation_lists SET due_at = $2
           WHERE url IN (SELECT url FROM revocation_lists WHERE due_at <= $1
                         ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED)
           RETURNING url, issuer_der, issuer_key_sha256"#,
        now,
        lease_until,
        limit
    )
    .fetch_all(db)
    .await
}

/// Stores a verified list in place of the one before and marks the cached OCSP answers it
/// contradicts. False when the stored list is newer (an older one was served again).
pub(crate) async fn save(
    db: &PgPool,
    claimed: &Claimed,
    crl: &CheckedCrl,
    now: OffsetDateTime,
    due_at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let updated = sqlx::query!(
        r#"UPDATE revocation_lists
           SET this_update = $2, next_update = $3, crl_number = $4, delta_base = $5,
               fetched_at = $6, due_at = $7, failures = 0, last_error = NULL
           WHERE url = $1 AND (this_update IS NULL OR this_update <= $2)"#,
        claimed.url,
        crl.this_update,
        crl.next_update,
        crl.number,
        crl.delta_base,
        now,
        due_at
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Ok(false);
    }
    let mut serials = Vec::with_capacity(crl.revoked.len());
    let mut times = Vec::with_capacity(crl.revoked.len());
    // -1 for "no reason given": sqlx's checked arrays carry no NULL elements.
    let mut reasons = Vec::with_capacity(crl.revoked.len());
    for (serial, entry) in &crl.revoked {
        serials.push(serial.clone());
        times.push(entry.at);
        reasons.push(entry.reason.map_or(-1, i16::from));
    }
    sqlx::query!(
        "DELETE FROM revoked_certificates WHERE list_url = $1",
        claimed.url
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"INSERT INTO revoked_certificates (list_url, serial, revoked_at, reason)
           SELECT $1, serial, revoked_at, NULLIF(reason, -1)
           FROM UNNEST($2::bytea[], $3::timestamptz[], $4::int2[]) AS e(serial, revoked_at, reason)"#,
        claimed.url,
        &serials,
        &times,
        &reasons
    )
    .execute(&mut *tx)
    .await?;
    // A good answer cached from OCSP must not outlive the CA's later word.
    sqlx::query!(
        r#"UPDATE certificate_status c
           SET status = 'revoked', revoked_at = e.revoked_at, revocation_reason = NULLIF(e.reason, -1),
               source = 'crl ' || $2, checked_at = $3
           FROM UNNEST($4::bytea[], $5::timestamptz[], $6::int2[]) AS e(serial, revoked_at, reason)
           WHERE c.issuer_key_sha256 = $1 AND c.serial = e.serial AND c.status = 'good'
             AND e.reason IS DISTINCT FROM $7"#,
        claimed.issuer_key_sha256,
        claimed.url,
        now,
        &serials,
        &times,
        &reasons,
        i16::from(REMOVE_FROM_CRL)
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Records a failed download or check; the list is tried again at `due_at`.
pub(crate) async fn failed(
    db: &PgPool,
    url: &str,
    error: &str,
    due_at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE revocation_lists SET failures = failures + 1, last_error = $2, due_at = $3
           WHERE url = $1"#,
        url,
        error,
        due_at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A stored list still in force, and what it says about one serial.
pub(crate) struct ListWord {
    pub url: String,
    pub is_delta: bool,
    pub this_update: OffsetDateTime,
    /// Set when the list names the serial.
    pub revoked_at: Option<OffsetDateTime>,
    pub reason: Option<i16>,
}

/// What the lists of the CA with key hash `issuer_key_sha256` still in force at `now` say
/// about `serial`.
pub(crate) async fn words_about(
    db: &PgPool,
    issuer_key_sha256: &[u8],
    serial: &[u8],
    now: OffsetDateTime,
) -> Result<Vec<ListWord>, sqlx::Error> {
    sqlx::query_as!(
        ListWord,
        r#"SELECT l.url, l.is_delta, l.this_update AS "this_update!",
                  r.revoked_at AS "revoked_at?", r.reason AS "reason?"
           FROM revocation_lists l
           LEFT JOIN revoked_certificates r ON r.list_url = l.url AND r.serial = $2
           WHERE l.issuer_key_sha256 = $1 AND l.this_update IS NOT NULL
             AND (l.next_update IS NULL OR l.next_update > $3)"#,
        issuer_key_sha256,
        serial,
        now
    )
    .fetch_all(db)
    .await
}
