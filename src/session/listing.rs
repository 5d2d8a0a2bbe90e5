//! Open sessions, for the user's own page and for administrators.

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// An open session as administrators and its owner see it (never its token).
#[derive(Debug, Clone, Serialize)]
pub struct OpenSession {
    pub id: Uuid,
    pub provider: String,
    pub rnokpp: Option<String>,
    pub edrpou: Option<String>,
    pub full_name: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// As last written (at most `session.last_seen_write_interval` behind the real activity).
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub shared_pc: bool,
}

/// Open sessions: not revoked, not past the absolute or (as far as the database knows) the idle
/// timeout. Filters are optional; none lists everyone's.
pub async fn open(
    db: &PgPool,
    now: OffsetDateTime,
    rnokpp: Option<&str>,
    edrpou: Option<&str>,
) -> Result<Vec<OpenSession>, sqlx::Error> {
    sqlx::query_as!(
        OpenSession,
        r#"SELECT id, provider, rnokpp, edrpou, identity ->> 'full_name' AS full_name,
                  client_ip::text AS client_ip, user_agent, created_at, last_seen_at, expires_at, shared_pc
           FROM sessions
           WHERE revoked_at IS NULL AND expires_at > $1
             AND last_seen_at + make_interval(secs => idle_timeout_seconds) > $1
             AND ($2::text IS NULL OR rnokpp = $2)
             AND ($3::text IS NULL OR edrpou = $3)
           ORDER BY created_at DESC"#,
        now,
        rnokpp,
        edrpou
    )
    .fetch_all(db)
    .await
}
