//! The login history: every step of every login attempt (started, confirmed, declined, expired,
//! refused, completed, logout, revoked, suspicious). Rows are written by database triggers on
//! `pending_logins` and `sessions` (migration 0002), in the same transaction as the change they
//! describe; here they are read, and the one event no trigger sees is written (`retention.rs`
//! deletes the old ones).

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::identity::Rnokpp;

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub event: String,
    pub provider: String,
    pub pending_login_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub rnokpp: Option<String>,
    pub edrpou: Option<String>,
    pub full_name: Option<String>,
    pub reason: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A person's own recent history, newest first (the `/me` page): one row per login. Steps
/// before the signature (`started`) carry no identity yet and so are not part of it; a
/// confirmation that its browser completed is told by the completion alone (one that was never
/// completed stays: someone confirmed a login nobody finished).
pub async fn of_person(
    db: &PgPool,
    rnokpp: &Rnokpp,
    limit: i64,
) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    sqlx::query_as!(
        HistoryEntry,
        r#"SELECT id, at, event, provider, pending_login_id, session_id, rnokpp, edrpou, full_name,
                  reason, client_ip::text AS client_ip, user_agent
           FROM login_history h WHERE rnokpp = $1
             AND NOT (event = 'confirmed' AND EXISTS (
                 SELECT 1 FROM login_history c
                 WHERE c.pending_login_id = h.pending_login_id AND c.event = 'completed'))
           ORDER BY at DESC, id DESC LIMIT $2"#,
        rnokpp.as_str(),
        limit
    )
    .fetch_all(db)
    .await
}

/// Everything since a moment, oldest first (`kepgate audit`).
pub async fn since(
    db: &PgPool,
    since: OffsetDateTime,
    limit: i64,
) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    sqlx::query_as!(
        HistoryEntry,
        r#"SELECT id, at, event, provider, pending_login_id, session_id, rnokpp, edrpou, full_name,
                  reason, client_ip::text AS client_ip, user_agent
           FROM login_history WHERE at >= $1 ORDER BY at, id LIMIT $2"#,
        since,
        limit
    )
    .fetch_all(db)
    .await
}

/// A suspicious event that changes no login (a stale or forged QR link opened somewhere): the
/// triggers cannot see it, so it is written here. `client_ip` and `user_agent` are those of the
/// device that opened the link, not of the computer that started the login.
pub struct Suspicious<'a> {
    pub pending_login_id: Uuid,
    pub provider: &'a str,
    pub reason: &'a str,
    pub client_ip: Option<std::net::IpAddr>,
    pub user_agent: Option<&'a str>,
    pub at: OffsetDateTime,
}

/// Records a suspicious event once per login and reason; `false` when it was already recorded
/// (a link opened again: one row, however many requests).
pub async fn record_suspicious(db: &PgPool, event: &Suspicious<'_>) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        r#"INSERT INTO login_history (at, event, provider, pending_login_id, reason, client_ip, user_agent)
           VALUES ($1, 'suspicious', $2, $3, $4, ($5::text)::inet, $6)
           ON CONFLICT (pending_login_id, reason) WHERE event = 'suspicious' DO NOTHING"#,
        event.at,
        event.provider,
        event.pending_login_id,
        event.reason,
        event.client_ip.map(|ip| ip.to_string()),
        event.user_agent,
    )
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}
