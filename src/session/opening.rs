//! Opening a session: the one way, at the completion of a confirmed login (`login/completion.rs`),
//! and the tests through it.

use std::net::IpAddr;

use time::OffsetDateTime;
use uuid::Uuid;

use super::token::SessionToken;
use crate::identity::SignerIdentity;
use crate::return_path::ReturnPath;

/// What opening a session could not do.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("no randomness for a session token: {0}")]
    Randomness(getrandom::Error),
}

/// The session a completion opens, but for what the confirmed login itself supplies (provider,
/// identity, how the person proved it, shared computer or not).
pub struct NewSession<'a> {
    /// The confirmed pending login the session opens from; it is consumed.
    pub pending_login_id: Uuid,
    /// The hash of the completing browser's binding nonce: only the browser that started the
    /// login opens its session.
    pub binding_hash: &'a [u8],
    pub client_ip: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
    pub now: OffsetDateTime,
    /// How long after its confirmation a login may still be completed (`login.complete_within`).
    pub complete_within: time::Duration,
    pub expires_at: OffsetDateTime,
    pub idle_timeout: time::Duration,
    pub shared_pc_idle_timeout: time::Duration,
}

/// A session just opened, and what the consumed login said of it.
pub struct Opened {
    pub id: Uuid,
    /// For the browser's cookie; only its hash is stored.
    pub token: SessionToken,
    pub provider: String,
    pub identity: SignerIdentity,
    pub return_path: ReturnPath,
    pub shared_pc: bool,
}

/// `confirmed → consumed`, once, and only for the browser whose binding nonce hashes to the
/// stored value, and the session opened from it (new id, new token): one statement, so one round
/// trip and one commit where BEGIN, UPDATE, INSERT and COMMIT were four (docs/benchmarks.md,
/// round 6) — which is why the pending login's consuming `UPDATE` is written here, beside the
/// session's `INSERT`. The INSERT sees only the row the guarded UPDATE changed, so a login opens
/// at most one session. Runs on whatever it is given: a pool, or the caller's transaction.
/// `None`: not this browser, not confirmed, already consumed, or too late; nothing was written.
pub async fn open(
    db: impl sqlx::PgExecutor<'_>,
    new: &NewSession<'_>,
) -> Result<Option<Opened>, SessionError> {
    let token = SessionToken::generate().map_err(SessionError::Randomness)?;
    let id = Uuid::new_v4();
    // The configuration check keeps idle timeouts far below i32::MAX seconds.
    let seconds = |d: time::Duration| i32::try_from(d.whole_seconds()).unwrap_or(i32::MAX);
    let row = sqlx::query!(
        r#"WITH consumed AS (
             UPDATE pending_logins SET state = 'consumed', updated_at = $3
             WHERE id = $1 AND binding_hash = $2 AND state = 'confirmed' AND identity IS NOT NULL
               AND GREATEST(expires_at, updated_at + $4::interval) > $3
             RETURNING provider, identity, return_path, shared_pc, auth_method),
           opened AS (
             INSERT INTO sessions
               (id, token_hash, pending_login_id, provider, identity, rnokpp, edrpou, client_ip,
                user_agent, created_at, last_seen_at, expires_at, idle_timeout_seconds, shared_pc,
                auth_method)
             SELECT $5, $6, $1, provider, identity, identity ->> 'rnokpp', identity ->> 'edrpou',
                    ($7::text)::inet, $8, $3, $3, $9,
                    CASE WHEN shared_pc THEN $10::integer ELSE $11::integer END, shared_pc,
                    auth_method
             FROM consumed
             RETURNING id)
           SELECT provider AS "provider!", identity AS "identity!", return_path AS "return_path!",
                  shared_pc AS "shared_pc!"
           FROM consumed, opened"#,
        new.pending_login_id,
        new.binding_hash,
        new.now,
        sqlx::postgres::types::PgInterval {
            months: 0,
            days: 0,
            microseconds: new.complete_within.whole_microseconds() as i64,
        },
        id,
        token.hash(),
        new.client_ip.map(|ip| ip.to_string()),
        new.user_agent,
        new.expires_at,
        seconds(new.shared_pc_idle_timeout),
        seconds(new.idle_timeout),
    )
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    // A stored identity that does not parse (edited by hand) is never trusted: the session
    // it opened reads as absent too (see `lookup.rs`), so no cookie is worth handing out.
    let identity = serde_json::from_value(row.identity).ok();
    Ok(identity.map(|identity| Opened {
        id,
        token,
        provider: row.provider,
        identity,
        return_path: ReturnPath::parse_or_root(Some(&row.return_path)),
        shared_pc: row.shared_pc,
    }))
}
