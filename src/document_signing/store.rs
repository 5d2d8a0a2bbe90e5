//! The `signing_requests` and `signing_files` tables. Every state change is one statement
//! guarded by the current state and announced on [`NOTIFY_CHANNEL`] in the same statement, so
//! a duplicate callback, a replay or a race with the expiry changes nothing.

use std::net::IpAddr;

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::request::{FileName, FileToSign, NOTIFY_CHANNEL, ReturnTo, SigningId, SigningState};
use crate::identity::SignerIdentity;
use crate::provider::SignAlgorithm;

/// Who started a request: the cabinet's page in the browser, the cabinet's backend with the
/// person's assertion, or an OpenID client with an access token of the `sign` scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartedBy {
    Browser,
    Cabinet,
    OidcClient(String),
}

impl StartedBy {
    pub fn as_str(&self) -> &'static str {
        match self {
            StartedBy::Browser => "browser",
            StartedBy::Cabinet => "cabinet",
            StartedBy::OidcClient(_) => "oidc_client",
        }
    }

    pub fn client_id(&self) -> Option<&str> {
        match self {
            StartedBy::OidcClient(id) => Some(id),
            _ => None,
        }
    }
}

pub struct NewSigning<'a> {
    pub id: SigningId,
    pub session_id: Uuid,
    pub subject: &'a str,
    pub person_name: &'a str,
    pub provider: &'a str,
    pub request_id: &'a str,
    pub algorithm: SignAlgorithm,
    pub started_by: StartedBy,
    pub return_to: &'a ReturnTo,
    pub deeplink: Option<&'a str>,
    pub client_ip: IpAddr,
    pub files: &'a [FileToSign],
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A signing request as stored, with its files in order.
#[derive(Debug, Clone)]
pub struct SigningRequest {
    pub id: SigningId,
    pub session_id: Uuid,
    pub subject: String,
    pub person_name: String,
    pub provider: String,
    pub request_id: String,
    pub algorithm: SignAlgorithm,
    pub return_to: ReturnTo,
    pub deeplink: Option<String>,
    pub state: SigningState,
    pub reason: Option<String>,
    pub signer: Option<SignerIdentity>,
    pub signature_algorithm: Option<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub signed_at: Option<OffsetDateTime>,
    pub signatures_deleted_at: Option<OffsetDateTime>,
    pub files: Vec<StoredFile>,
}

#[derive(Debug, Clone)]
pub struct StoredFile {
    pub name: FileName,
    pub size: Option<u64>,
    pub hash: [u8; 32],
    pub signature: Option<Vec<u8>>,
}

impl SigningRequest {
    /// Pending past its expiry counts as expired before the sweeper has marked it.
    pub fn state_at(&self, now: OffsetDateTime) -> SigningState {
        if self.state == SigningState::Pending && self.expires_at <= now {
            SigningState::Expired
        } else {
            self.state
        }
    }
}

/// Writes the request unless its session already has `max_pending` waiting (`false` then).
/// The count and the insert hold the session's lock: requests asked at once cannot all pass
/// a count made before any of them was written.
pub async fn insert(
    db: &PgPool,
    new: &NewSigning<'_>,
    max_pending: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtext('kepgate_signing_session'), hashtext($1::text))",
        new.session_id.to_string()
    )
    .execute(&mut *tx)
    .await?;
    let pending = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM signing_requests
           WHERE session_id = $1 AND state = 'pending' AND expires_at > $2"#,
        new.session_id,
        new.created_at
    )
    .fetch_one(&mut *tx)
    .await?;
    if pending >= max_pending {
        return Ok(false);
    }
    sqlx::query!(
        r#"INSERT INTO signing_requests
             (id, session_id, subject, person_name, provider, request_id, algorithm, started_by,
              return_to, deeplink, client_ip, created_at, expires_at, updated_at, client_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::inet, $12, $13, $12, $14)"#,
        new.id.0,
        new.session_id,
        new.subject,
        new.person_name,
        new.provider,
        new.request_id,
        new.algorithm.as_str(),
        new.started_by.as_str(),
        new.return_to.as_str(),
        new.deeplink,
        new.client_ip.to_string(),
        new.created_at,
        new.expires_at,
        new.started_by.client_id(),
    )
    .execute(&mut *tx)
    .await?;
    let names: Vec<String> = new
        .files
        .iter()
        .map(|f| f.name.as_str().to_owned())
        .collect();
    let sizes: Vec<Option<i64>> = new
        .files
        .iter()
        .map(|f| f.size.map(|s| i64::try_from(s).unwrap_or(i64::MAX)))
        .collect();
    let hashes: Vec<Vec<u8>> = new.files.iter().map(|f| f.hash.to_vec()).collect();
    sqlx::query!(
        r#"INSERT INTO signing_files (signing_id, position, name, size, hash)
           SELECT $1, f.ord::int - 1, f.name, f.size, f.hash
           FROM UNNEST($2::text[], $3::bigint[], $4::bytea[]) WITH ORDINALITY AS f(name, size, hash, ord)"#,
        new.id.0,
        &names,
        &sizes as &[Option<i64>],
        &hashes,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

pub async fn find(db: &PgPool, id: SigningId) -> Result<Option<SigningRequest>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT id, session_id, subject, person_name, provider, request_id, algorithm,
                  return_to, deeplink, state, reason, signer, signature_algorithm,
                  created_at, expires_at, signed_at, signatures_deleted_at
           FROM signing_requests WHERE id = $1"#,
        id.0
    )
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let files = sqlx::query!(
        r#"SELECT name, size, hash, signature FROM signing_files
           WHERE signing_id = $1 ORDER BY position"#,
        id.0
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|f| {
        Ok(StoredFile {
            name: FileName::parse(&f.name).map_err(|e| corrupt(e.to_owned()))?,
            size: f.size.and_then(|s| u64::try_from(s).ok()),
            hash: f
                .hash
                .try_into()
                .map_err(|_| corrupt("a file hash is not 32 bytes".to_owned()))?,
            signature: f.signature,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Some(SigningRequest {
        id: SigningId(row.id),
        session_id: row.session_id,
        subject: row.subject,
        person_name: row.person_name,
        provider: row.provider,
        request_id: row.request_id,
        algorithm: SignAlgorithm::parse(&row.algorithm)
            .ok_or_else(|| corrupt(format!("algorithm {:?}", row.algorithm)))?,
        return_to: ReturnTo::parse_stored(&row.return_to)
            .ok_or_else(|| corrupt("a stored return address".to_owned()))?,
        deeplink: row.deeplink,
        state: SigningState::parse(&row.state)
            .ok_or_else(|| corrupt(format!("state {:?}", row.state)))?,
        reason: row.reason,
        signer: row
            .signer
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| corrupt(format!("signer: {e}")))?,
        signature_algorithm: row.signature_algorithm,
        created_at: row.created_at,
        expires_at: row.expires_at,
        signed_at: row.signed_at,
        signatures_deleted_at: row.signatures_deleted_at,
        files,
    }))
}

/// The request `id` (as a path gives it) when it is `session_id`'s; `None` for any other, so
/// another session's request cannot be told from none.
pub async fn find_of_session(
    db: &PgPool,
    id: &str,
    session_id: Uuid,
) -> Result<Option<SigningRequest>, sqlx::Error> {
    let Some(id) = SigningId::parse(id) else {
        return Ok(None);
    };
    Ok(find(db, id).await?.filter(|r| r.session_id == session_id))
}

fn corrupt(what: String) -> sqlx::Error {
    sqlx::Error::Decode(format!("signing_requests: {what}").into())
}

/// The id of the request the provider was sent `request_id` for.
pub async fn find_by_request_id(
    db: &PgPool,
    request_id: &str,
) -> Result<Option<SigningId>, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM signing_requests WHERE request_id = $1",
        request_id
    )
    .fetch_optional(db)
    .await?
    .map(SigningId))
}

/// Records the verified signatures, once: `false` when the request was no longer pending (a
/// duplicate callback, or the expiry won the race).
pub async fn record_signed(
    db: &PgPool,
    id: SigningId,
    signer: &SignerIdentity,
    signature_algorithm: &str,
    signatures: &[Vec<u8>],
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let signer = serde_json::to_value(signer).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut tx = db.begin().await?;
    let changed = sqlx::query_scalar!(
        r#"WITH changed AS (
             UPDATE signing_requests
             SET state = 'signed', signer = $2, signature_algorithm = $3, signed_at = $4,
                 updated_at = $4
             WHERE id = $1 AND state = 'pending' AND expires_at > $4
             RETURNING id)
           SELECT changed.id FROM changed, LATERAL (SELECT pg_notify($5, changed.id::text)) AS announced"#,
        id.0,
        signer,
        signature_algorithm,
        now,
        NOTIFY_CHANNEL,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if changed.is_none() {
        return Ok(false);
    }
    sqlx::query!(
        r#"UPDATE signing_files SET signature = s.signature
           FROM UNNEST($2::bytea[]) WITH ORDINALITY AS s(signature, ord)
           WHERE signing_id = $1 AND position = s.ord::int - 1"#,
        id.0,
        signatures,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Ends a pending request as declined or failed with `reason`, once; `signer` names who
/// signed when the signature was refused for being someone else's (the audit keeps it).
pub async fn record_refusal(
    db: &PgPool,
    id: SigningId,
    state: SigningState,
    reason: &str,
    signer: Option<&SignerIdentity>,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let signer = signer
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let changed = sqlx::query_scalar!(
        r#"WITH changed AS (
             UPDATE signing_requests SET state = $2, reason = $3, signer = $4, updated_at = $5
             WHERE id = $1 AND state = 'pending' AND expires_at > $5
             RETURNING id)
           SELECT changed.id FROM changed, LATERAL (SELECT pg_notify($6, changed.id::text)) AS announced"#,
        id.0,
        state.as_str(),
        reason,
        signer,
        now,
        NOTIFY_CHANNEL,
    )
    .fetch_optional(db)
    .await?;
    Ok(changed.is_some())
}

/// Every pending request past its expiry becomes `expired`, announced. Safe on every replica
/// at once: each row changes exactly once.
pub async fn expire_overdue(db: &PgPool, now: OffsetDateTime) -> Result<u64, sqlx::Error> {
    let expired = sqlx::query_scalar!(
        r#"WITH expired AS (
             UPDATE signing_requests SET state = 'expired', reason = 'expired', updated_at = $2
             WHERE state = 'pending' AND expires_at <= $2
             RETURNING id)
           SELECT count(pg_notify($1, id::text)) AS "count!" FROM expired"#,
        NOTIFY_CHANNEL,
        now
    )
    .fetch_one(db)
    .await?;
    Ok(expired as u64)
}

/// The cabinet fetched the result: the first fetch starts `signing.keep_after_fetch`.
pub async fn mark_fetched(
    db: &PgPool,
    id: SigningId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE signing_requests SET fetched_at = $2 WHERE id = $1 AND fetched_at IS NULL",
        id.0,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes the signatures fetched before `fetched_before` or never fetched and signed before
/// `unfetched_before`; the request stays, as the audit of who signed what and when.
pub async fn delete_old_signatures(
    db: &PgPool,
    fetched_before: OffsetDateTime,
    unfetched_before: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query_scalar!(
        r#"WITH due AS (
             UPDATE signing_requests SET signatures_deleted_at = $3
             WHERE signatures_deleted_at IS NULL AND state = 'signed'
               AND (fetched_at < $1 OR (fetched_at IS NULL AND signed_at < $2))
             RETURNING id),
           cleared AS (
             UPDATE signing_files SET signature = NULL
             WHERE signing_id IN (SELECT id FROM due) RETURNING 1)
           SELECT count(*) AS "count!" FROM due"#,
        fetched_before,
        unfetched_before,
        now,
    )
    .fetch_one(db)
    .await?;
    Ok(deleted as u64)
}

/// The audit past the history's retention (`session.history_retention_days`).
pub async fn delete_before(db: &PgPool, cutoff: OffsetDateTime) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query!("DELETE FROM signing_requests WHERE created_at < $1", cutoff)
            .execute(db)
            .await?
            .rows_affected(),
    )
}

/// One line of a person's signing history.
pub struct HistoryEntry {
    pub created_at: OffsetDateTime,
    pub state: String,
    pub reason: Option<String>,
    pub provider: String,
    pub files: Vec<String>,
}

/// The person's latest signing requests, newest first.
pub async fn history(
    db: &PgPool,
    subject: &str,
    limit: i64,
) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT r.created_at, r.state, r.reason, r.provider,
                  ARRAY(SELECT name FROM signing_files f WHERE f.signing_id = r.id
                        ORDER BY position) AS "files!"
           FROM signing_requests r WHERE r.subject = $1
           ORDER BY r.created_at DESC LIMIT $2"#,
        subject,
        limit
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| HistoryEntry {
        created_at: r.created_at,
        state: r.state,
        reason: r.reason,
        provider: r.provider,
        files: r.files,
    })
    .collect())
}

/// The session's requests still waiting.
pub async fn pending_for_session(
    db: &PgPool,
    session_id: Uuid,
    now: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM signing_requests
           WHERE session_id = $1 AND state = 'pending' AND expires_at > $2"#,
        session_id,
        now
    )
    .fetch_one(db)
    .await
}
