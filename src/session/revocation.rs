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
pub enum RevokedBy {
    /// The browser's own «Вийти».
    Logout,
    /// The user, from another of their sessions (`/me`).
    User,
    /// An administrator (`kepgate sessions revoke`).
    Admin,
    /// The CA revoked the certificate the session was opened with.
    CertificateRevoked,
}

impl RevokedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokedBy::Logout => "logout",
            RevokedBy::User => "user",
            RevokedBy::Admin => "admin",
            RevokedBy::CertificateRevoked => "certificate_revoked",
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

/// Ends the matching open sessions and announces each; returns their ids.
pub async fn revoke(
    db: &PgPool,
    whom: Whom<'_>,
    by: RevokedBy,
    now: OffsetDateTime,
) -> Result<Vec<Uuid>, sqlx::Error> {
    // One statement per case (not `$n IS NULL OR …`): each uses its own index.
    let by = by.as_str();
    let ids = match whom {
        Whom::Token(token) => {
            sqlx::query_scalar!(
                r#"WITH r AS (UPDATE sessions SET revoked_at = $1, revoked_reason = $2
                              WHERE token_hash = $4 AND revoked_at IS NULL RETURNING id)
                   SELECT id AS "id!" FROM r WHERE pg_notify($3, id::text) IS NOT NULL"#,
                now,
                by,
                CHANNEL,
                token.hash(),
            )
            .fetch_all(db)
            .await?
        }
        Whom::Id(id) => {
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
            .await?
        }
        Whom::IdOfPerson(id, rnokpp) => {
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
            .await?
        }
        Whom::Person(rnokpp) => {
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
            .await?
        }
        Whom::Certificates {
            serials_hex,
            issuer,
            issuer_key_sha256,
        } => {
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
            .await?
        }
        Whom::Company(edrpou) => {
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
            .await?
        }
    };
    if !ids.is_empty() {
        metrics::counter!("kepgate_sessions_revoked_total", "by" => by).increment(ids.len() as u64);
    }
    Ok(ids)
}
