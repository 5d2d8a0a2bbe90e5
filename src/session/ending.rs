//! Ending sessions before their time, on every replica: the `UPDATE` and a `NOTIFY` per
//! session on [`CHANNEL`] commit together; each replica's one LISTEN connection (see
//! `crate::notifications`) evicts the session from its cache as the notice arrives.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::identity::{Edrpou, Rnokpp};

/// PostgreSQL channel announcing revoked sessions (payload: the session id).
pub const CHANNEL: &str = "kepgate_session_revoked";

/// Who ended the session; recorded in `sessions.revoked_reason` and the login history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    /// The browser's own «Вийти».
    Logout,
    /// The user, from another of their sessions (`/me`).
    User,
    /// An administrator (`kepgate sessions revoke`).
    Admin,
    /// The CA revoked the certificate the session was opened with.
    CertificateRevoked,
}

impl EndedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            EndedBy::Logout => "logout",
            EndedBy::User => "user",
            EndedBy::Admin => "admin",
            EndedBy::CertificateRevoked => "certificate_revoked",
        }
    }
}

/// Which open sessions to end.
#[derive(Debug, Clone)]
pub enum Whom<'a> {
    /// The session of this token (logout).
    Token(&'a super::token::SessionToken),
    /// One session by id.
    Id(Uuid),
    /// One session by id, only if it belongs to this person (a user ending another session).
    IdOfPerson(Uuid, &'a Rnokpp),
    /// Every session of a person.
    Person(&'a Rnokpp),
    /// Every session of anyone signed in for a company.
    Company(&'a Edrpou),
    /// Every session opened with one of these certificates of one CA: serials as in the
    /// identity, the CA told by its key (`SignerIdentity::issuer_key_sha256`) — two CAs may
    /// share a name (a re-keyed CA). A session whose identity holds no key (opened before
    /// kepgate kept it, or through id.gov.ua, which does not tell it) is matched by the CA's
    /// name as before, as is every session when the key is not known here: that errs on the
    /// side of ending a session.
    Certificates {
        serials_hex: &'a [String],
        issuer: &'a str,
        issuer_key_sha256: Option<&'a str>,
    },
}

/// A client of an ended session to send a back-channel logout to: the `sid` it knows the
/// session by.
pub struct ClientToTell {
    pub session_id: Uuid,
    pub client_id: String,
    pub sid: String,
}

/// Ends the matching open sessions and announces each; returns their ids.
pub async fn end(
    db: &PgPool,
    whom: Whom<'_>,
    by: EndedBy,
    now: OffsetDateTime,
) -> Result<Vec<Uuid>, sqlx::Error> {
    // One statement per case (not `$n IS NULL OR …`): each uses its own index.
    let by = by.as_str();
    let ids = match whom {
        Whom::Token(token) => by_token(db, now, by, &token.hash()).await?,
        Whom::Id(id) => by_id(db, now, by, id).await?,
        Whom::IdOfPerson(id, rnokpp) => by_id_of_person(db, now, by, id, rnokpp).await?,
        Whom::Person(rnokpp) => of_person(db, now, by, rnokpp).await?,
        Whom::Certificates {
            serials_hex,
            issuer,
            issuer_key_sha256,
        } => with_certificates(db, now, by, serials_hex, issuer, issuer_key_sha256).await?,
        Whom::Company(edrpou) => of_company(db, now, by, edrpou).await?,
    };
    if !ids.is_empty() {
        metrics::counter!("kepgate_sessions_revoked_total", "by" => by).increment(ids.len() as u64);
    }
    Ok(ids)
}

/// The session of a token (logout).
async fn by_token(
    db: &PgPool,
    now: OffsetDateTime,
    by: &str,
    token_hash: &[u8],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"WITH r AS (UPDATE sessions SET revoked_at = $1, revoked_reason = $2
                              WHERE token_hash = $4 AND revoked_at IS NULL RETURNING id)
                   SELECT id AS "id!" FROM r WHERE pg_notify($3, id::text) IS NOT NULL"#,
        now,
        by,
        CHANNEL,
        token_hash,
    )
    .fetch_all(db)
    .await
}

/// One session by id.
async fn by_id(
    db: &PgPool,
    now: OffsetDateTime,
    by: &str,
    id: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"WITH r AS (UPDATE sessions SET revoked_at = $1, revoked_reason = $2
                              WHERE id = $4 AND revoked_at IS NULL RETURNING id)
                   SELECT id AS "id!" FROM r WHERE pg_notify($3, id::text) IS NOT NULL"#,
        now,
        by,
        CHANNEL,
        id,
    )
    .fetch_all(db)
    .await
}

/// One session by id, only if it is this person's.
async fn by_id_of_person(
    db: &PgPool,
    now: OffsetDateTime,
    by: &str,
    id: Uuid,
    rnokpp: &Rnokpp,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"WITH r AS (UPDATE sessions SET revoked_at = $1, revoked_reason = $2
                              WHERE id = $4 AND rnokpp = $5 AND revoked_at IS NULL RETURNING id)
                   SELECT id AS "id!" FROM r WHERE pg_notify($3, id::text) IS NOT NULL"#,
        now,
        by,
        CHANNEL,
        id,
        rnokpp.as_str(),
    )
    .fetch_all(db)
    .await
}

/// Every open session of a person.
async fn of_person(
    db: &PgPool,
    now: OffsetDateTime,
    by: &str,
    rnokpp: &Rnokpp,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"WITH r AS (UPDATE sessions SET revoked_at = $1, revoked_reason = $2
                              WHERE rnokpp = $4 AND revoked_at IS NULL AND expires_at > $1 RETURNING id)
                   SELECT id AS "id!" FROM r WHERE pg_notify($3, id::text) IS NOT NULL"#,
        now,
        by,
        CHANNEL,
        rnokpp.as_str(),
    )
    .fetch_all(db)
    .await
}

/// Every open session opened with one of these certificates of one CA (see [`Whom::Certificates`]).
async fn with_certificates(
    db: &PgPool,
    now: OffsetDateTime,
    by: &str,
    serials_hex: &[String],
    issuer: &str,
    issuer_key_sha256: Option<&str>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"WITH r AS (UPDATE sessions SET revoked_at = $1, revoked_reason = $2
                              WHERE identity ->> 'cert_serial_hex' = ANY($4)
                                AND CASE WHEN identity ->> 'issuer_key_sha256' IS NULL OR $6::text IS NULL
                                         THEN identity ->> 'issuer' = $5
                                         ELSE identity ->> 'issuer_key_sha256' = $6 END
                                AND revoked_at IS NULL AND expires_at > $1 RETURNING id)
                   SELECT id AS "id!" FROM r WHERE pg_notify($3, id::text) IS NOT NULL"#,
        now,
        by,
        CHANNEL,
        serials_hex,
        issuer,
        issuer_key_sha256,
    )
    .fetch_all(db)
    .await
}

/// Every open session of anyone signed in for a company.
async fn of_company(
    db: &PgPool,
    now: OffsetDateTime,
    by: &str,
    edrpou: &Edrpou,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"WITH r AS (UPDATE sessions SET revoked_at = $1, revoked_reason = $2
                              WHERE edrpou = $4 AND revoked_at IS NULL AND expires_at > $1 RETURNING id)
                   SELECT id AS "id!" FROM r WHERE pg_notify($3, id::text) IS NOT NULL"#,
        now,
        by,
        CHANNEL,
        edrpou.as_str(),
    )
    .fetch_all(db)
    .await
}

/// Ended sessions' OpenID Connect clients not yet told (back-channel logout,
/// `oidc/backchannel.rs`), marked as told in the same statement.
pub async fn claim_clients_to_tell(
    db: &PgPool,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<ClientToTell>, sqlx::Error> {
    sqlx::query_as!(
        ClientToTell,
        r#"UPDATE oidc_session_clients SET notified_at = $1
           WHERE (session_id, client_id) IN (
               SELECT c.session_id, c.client_id FROM oidc_session_clients c
               JOIN sessions s ON s.id = c.session_id
               WHERE c.notified_at IS NULL AND s.revoked_at IS NOT NULL
               LIMIT $2 FOR UPDATE OF c SKIP LOCKED)
           RETURNING session_id, client_id, sid"#,
        now,
        limit,
    )
    .fetch_all(db)
    .await
}
