//! Pending logins: one row per login attempt; every state change is one guarded statement (the
//! last, consuming a confirmed login, together with the session it opens: `session::open`).

use std::net::IpAddr;

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

// The login's vocabulary, where the integration tests have always found it.
pub use super::outcome::Outcome;
pub use super::state::{NOTIFY_CHANNEL, PendingLoginId, PendingState};

use super::outcome::Reason;
use crate::auth_method::AuthMethod;
use crate::identity::SignerIdentity;
use crate::provider::RequestHash;
use crate::return_path::ReturnPath;

/// The state an outcome moves a pending login to.
fn state_after(outcome: &Outcome) -> PendingState {
    match outcome {
        Outcome::Confirmed(_) | Outcome::Identified { .. } => PendingState::Confirmed,
        Outcome::Rejected { .. } => PendingState::Rejected,
        Outcome::Failed { .. } => PendingState::Failed,
    }
}

#[derive(Debug, Clone)]
pub struct PendingLogin {
    pub id: PendingLoginId,
    pub provider: String,
    pub request_hash: RequestHash,
    pub state: PendingState,
    pub deeplink: Option<String>,
    pub identity: Option<SignerIdentity>,
    pub outcome_reason: Option<Reason>,
    pub return_path: ReturnPath,
    /// The address of the browser that started it (shown on the phone).
    pub client_ip: Option<IpAddr>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// The hash of the starting browser's binding nonce (see [`PendingLogin::started_by`]).
    binding_hash: Vec<u8>,
}

impl PendingLogin {
    /// Is this browser (by the hash of its binding nonce) the one that started the login?
    /// Read with the row, so the check costs no query of its own.
    pub fn started_by(&self, binding_hash: &[u8]) -> bool {
        self.binding_hash == binding_hash
    }

    /// The state at `now`: a pending login past its expiry is expired, whether or not the
    /// sweeper has written that yet.
    pub fn state_at(&self, now: OffsetDateTime) -> PendingState {
        if self.state == PendingState::Pending && self.expires_at <= now {
            PendingState::Expired
        } else {
            self.state
        }
    }
}

pub struct NewPendingLogin<'a> {
    pub id: PendingLoginId,
    pub provider: &'a str,
    pub user_hint: Option<&'a str>,
    pub request_hash: &'a RequestHash,
    pub binding_hash: &'a [u8],
    pub return_path: &'a ReturnPath,
    pub client_ip: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
    pub shared_pc: bool,
    /// The provider's link for the phone, known before the row is written (start.rs).
    pub deeplink: Option<&'a str>,
    pub now: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// The login's trace (W3C `traceparent`), with traces on.
    pub traceparent: Option<&'a str>,
}

pub async fn insert(db: &PgPool, new: &NewPendingLogin<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO pending_logins
             (id, provider, user_hint, request_hash, binding_hash, return_path, client_ip, user_agent,
              created_at, expires_at, updated_at, shared_pc, deeplink, traceparent)
           VALUES ($1, $2, $3, $4, $5, $6, ($7::text)::inet, $8, $9, $10, $9, $11, $12, $13)"#,
        new.id.0,
        new.provider,
        new.user_hint,
        new.request_hash.as_str(),
        new.binding_hash,
        new.return_path.as_str(),
        new.client_ip.map(|ip| ip.to_string()),
        new.user_agent,
        new.now,
        new.expires_at,
        new.shared_pc,
        new.deeplink,
        new.traceparent,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The trace a login belongs to (W3C `traceparent` of its root span), kept at its start; read
/// by the callback and the completion only with traces on.
pub async fn traceparent(db: &PgPool, id: PendingLoginId) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query_scalar!("SELECT traceparent FROM pending_logins WHERE id = $1", id.0)
        .fetch_optional(db)
        .await?;
    Ok(row.flatten())
}

/// A row as stored; [`PendingLogin`] is the parsed form.
struct PendingRow {
    id: Uuid,
    provider: String,
    request_hash: String,
    state: String,
    deeplink: Option<String>,
    identity: Option<serde_json::Value>,
    outcome_reason: Option<String>,
    return_path: String,
    client_ip: Option<String>,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    binding_hash: Vec<u8>,
}

impl PendingRow {
    /// `None` for a row that does not parse (edited by hand): treated as absent, never trusted.
    fn parse(self) -> Option<PendingLogin> {
        Some(PendingLogin {
            id: PendingLoginId(self.id),
            provider: self.provider,
            request_hash: RequestHash::parse(&self.request_hash)?,
            state: PendingState::parse(&self.state)?,
            deeplink: self.deeplink,
            identity: self.identity.and_then(|v| serde_json::from_value(v).ok()),
            outcome_reason: self.outcome_reason.as_deref().map(Reason::parse),
            return_path: ReturnPath::parse_or_root(Some(&self.return_path)),
            client_ip: self.client_ip.and_then(|ip| ip.parse().ok()),
            created_at: self.created_at,
            expires_at: self.expires_at,
            binding_hash: self.binding_hash,
        })
    }
}

pub async fn find_by_request_hash(
    db: &PgPool,
    hash: &RequestHash,
) -> Result<Option<PendingLogin>, sqlx::Error> {
    let row = sqlx::query_as!(
        PendingRow,
        r#"SELECT id, provider, request_hash, state, deeplink, identity, outcome_reason, return_path,
                  host(client_ip) AS "client_ip?", created_at, expires_at, binding_hash
           FROM pending_logins WHERE request_hash = $1"#,
        hash.as_str()
    )
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(PendingRow::parse))
}

pub async fn find(db: &PgPool, id: PendingLoginId) -> Result<Option<PendingLogin>, sqlx::Error> {
    let row = sqlx::query_as!(
        PendingRow,
        r#"SELECT id, provider, request_hash, state, deeplink, identity, outcome_reason, return_path,
                  host(client_ip) AS "client_ip?", created_at, expires_at, binding_hash
           FROM pending_logins WHERE id = $1"#,
        id.0
    )
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(PendingRow::parse))
}

/// The login, only if the browser whose binding nonce hashes to `binding_hash` started it; one
/// query, so a waiting browser's check and its first read are the same round trip.
pub async fn find_owned(
    db: &PgPool,
    id: PendingLoginId,
    binding_hash: &[u8],
) -> Result<Option<PendingLogin>, sqlx::Error> {
    let row = sqlx::query_as!(
        PendingRow,
        r#"SELECT id, provider, request_hash, state, deeplink, identity, outcome_reason, return_path,
                  host(client_ip) AS "client_ip?", created_at, expires_at, binding_hash
           FROM pending_logins WHERE id = $1 AND binding_hash = $2"#,
        id.0,
        binding_hash
    )
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(PendingRow::parse))
}

/// `pending → confirmed | rejected | failed`, only while pending and not expired, and announced
/// on [`NOTIFY_CHANNEL`] in the same transaction. `None`: nothing changed (late,
/// duplicate, replayed or unknown), and nothing was announced.
pub async fn record_outcome(
    db: &PgPool,
    id: PendingLoginId,
    outcome: &Outcome,
    now: OffsetDateTime,
) -> Result<Option<PendingState>, sqlx::Error> {
    let stored = |identity: &SignerIdentity| {
        serde_json::to_value(identity).map_err(|e| sqlx::Error::Encode(Box::new(e)))
    };
    let (identity, reason, method) = match outcome {
        // The signature kepgate verified itself.
        Outcome::Confirmed(identity) => (Some(stored(identity)?), None, Some(AuthMethod::Kep)),
        Outcome::Identified { identity, method } => (
            Some(stored(identity)?),
            Some(Reason::IdentifiedBy(method.to_string()).to_string()),
            Some(*method),
        ),
        Outcome::Rejected { reason } | Outcome::Failed { reason } => {
            (None, Some(reason.to_string()), None)
        }
    };
    // One statement: the change and its NOTIFY commit together (NOTIFY is sent only at commit,
    // and only when a row changed), in one round trip instead of BEGIN/UPDATE/NOTIFY/COMMIT.
    let changed = sqlx::query_scalar!(
        r#"WITH changed AS (
             UPDATE pending_logins
             SET state = $2, identity = $3, outcome_reason = $4, updated_at = $5, auth_method = $7
             WHERE id = $1 AND state = 'pending' AND expires_at > $5
             RETURNING id, state)
           SELECT state FROM changed, LATERAL (SELECT pg_notify($6, changed.id::text)) AS announced"#,
        id.0,
        state_after(outcome).as_str(),
        identity,
        reason,
        now,
        NOTIFY_CHANNEL,
        method.map(AuthMethod::as_str),
    )
    .fetch_optional(db)
    .await?;
    Ok(changed.as_deref().and_then(PendingState::parse))
}

/// Claims the return from a redirect provider for one request, before its single-use code is
/// sent anywhere: only while the login is pending, unexpired and unclaimed. `false`: another
/// return of the same login (a reload, a double click) claimed it first, or it is no longer
/// pending; that request must not spend the code again.
pub async fn claim_return(
    db: &PgPool,
    id: PendingLoginId,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query_scalar!(
        r#"UPDATE pending_logins SET code_claimed_at = $2
           WHERE id = $1 AND state = 'pending' AND expires_at > $2 AND code_claimed_at IS NULL
           RETURNING id"#,
        id.0,
        now,
    )
    .fetch_optional(db)
    .await?;
    Ok(claimed.is_some())
}

/// `pending → failed` when the provider could not even start the request.
pub async fn mark_start_failed(
    db: &PgPool,
    id: PendingLoginId,
    reason: Reason,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    record_outcome(db, id, &Outcome::Failed { reason }, now).await?;
    Ok(())
}

/// `pending → expired` for one login whose time is up (callbacks arriving late use it).
pub async fn expire(
    db: &PgPool,
    id: PendingLoginId,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    // As in `record_outcome`: change and announcement in one statement.
    let changed = sqlx::query_scalar!(
        r#"WITH changed AS (
             UPDATE pending_logins SET state = 'expired', updated_at = $2
             WHERE id = $1 AND state = 'pending' AND expires_at <= $2
             RETURNING id)
           SELECT changed.id FROM changed, LATERAL (SELECT pg_notify($3, changed.id::text)) AS announced"#,
        id.0,
        now,
        NOTIFY_CHANNEL,
    )
    .fetch_optional(db)
    .await?;
    Ok(changed.is_some())
}

/// Sweeper: every pending login past its expiry becomes `expired`, announced. Safe to run on
/// every replica at once: each row changes exactly once.
pub async fn expire_overdue(db: &PgPool, now: OffsetDateTime) -> Result<u64, sqlx::Error> {
    let expired = sqlx::query_scalar!(
        r#"WITH expired AS (
             UPDATE pending_logins SET state = 'expired', updated_at = $2
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

/// `pending | confirmed → failed` (`provider_removed`) for every login of a provider the
/// configuration no longer has (a reload took it out), announced: its browser says so at once
/// instead of waiting for an answer that cannot be accepted, and a login the provider confirmed
/// just before can no longer open a session. How many.
pub async fn fail_waiting_on_removed(
    db: &PgPool,
    providers: &[String],
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let failed = sqlx::query_scalar!(
        r#"WITH failed AS (
             UPDATE pending_logins
             SET state = 'failed', outcome_reason = $3, updated_at = $2
             WHERE (state = 'pending' AND expires_at > $2 OR state = 'confirmed')
               AND provider = ANY($4)
             RETURNING id)
           SELECT count(pg_notify($1, id::text)) AS "count!" FROM failed"#,
        NOTIFY_CHANNEL,
        now,
        Reason::ProviderRemoved.to_string(),
        providers,
    )
    .fetch_one(db)
    .await?;
    Ok(failed as u64)
}

/// Every replica ends overdue pending logins (their browsers hear it through the notice).
pub async fn sweep_overdue(db: PgPool, clock: crate::clock::SharedClock) {
    crate::periodic::every(std::time::Duration::from_secs(15), || async {
        match expire_overdue(&db, clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(expired = n, "pending logins expired"),
            Err(e) => tracing::warn!(error = %e, "sweeping expired pending logins failed"),
        }
    })
    .await
}
