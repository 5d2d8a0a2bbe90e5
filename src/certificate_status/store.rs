//! The shared cache of checked answers (`certificate_status`, migration 0006).

use sqlx::PgPool;
use time::OffsetDateTime;

use super::status::CertificateStatus;

/// Which certificate: its issuer's key hash and its serial number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CertificateKey {
    pub issuer_key_sha256: Vec<u8>,
    pub serial: Vec<u8>,
}

/// A cached answer still to be reused at `now`.
pub(crate) async fn reusable(
    db: &PgPool,
    key: &CertificateKey,
    now: OffsetDateTime,
) -> Result<Option<CertificateStatus>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT status, revoked_at, revocation_reason, source
           FROM certificate_status
           WHERE issuer_key_sha256 = $1 AND serial = $2 AND reuse_until > $3"#,
        key.issuer_key_sha256,
        key.serial,
        now
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| match (r.status.as_str(), r.revoked_at) {
        ("revoked", Some(at)) => CertificateStatus::Revoked {
            at,
            reason: r.revocation_reason.and_then(|c| u8::try_from(c).ok()),
            source: r.source,
        },
        _ => CertificateStatus::Good { source: r.source },
    }))
}

/// Keeps an answer for every replica; a newer check replaces an older one.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn keep(
    db: &PgPool,
    key: &CertificateKey,
    status: &CertificateStatus,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    checked_at: OffsetDateTime,
    reuse_until: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let (state, revoked_at, reason, source) = match status {
        CertificateStatus::Good { source } => ("good", None, None, source),
        CertificateStatus::Revoked { at, reason, source } => {
            ("revoked", Some(*at), reason.map(i16::from), source)
        }
    };
    sqlx::query!(
        r#"INSERT INTO certificate_status
               (issuer_key_sha256, serial, status, revoked_at, revocation_reason, source,
                this_update, next_update, checked_at, reuse_until)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (issuer_key_sha256, serial) DO UPDATE
           SET status = EXCLUDED.status, revoked_at = EXCLUDED.revoked_at,
               revocation_reason = EXCLUDED.revocation_reason, source = EXCLUDED.source,
               this_update = EXCLUDED.this_update, next_update = EXCLUDED.next_update,
               checked_at = EXCLUDED.checked_at, reuse_until = EXCLUDED.reuse_until
           WHERE certificate_status.checked_at <= EXCLUDED.checked_at"#,
        key.issuer_key_sha256,
        key.serial,
        state,
        revoked_at,
        reason,
        source,
        this_update,
        next_update,
        checked_at,
        reuse_until
    )
    .execute(db)
    .await?;
    Ok(())
}
