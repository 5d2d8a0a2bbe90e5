//! The secret of the pairwise subjects (`claims::subject`): kept in PostgreSQL (`oidc_secrets`),
//! the same on every replica, and no longer a function of the signing key, so that rotating the
//! key leaves every pairwise `sub` as it was.
//!
//! Before, the subjects were keyed with `SigningKey::derived_secret(LEGACY_PURPOSE)`. The first
//! start of this version stores exactly that value, from the key in use then: a deployment keeps
//! the subjects it has handed out, and from then on the key can change without them. (kepgate
//! cannot tell whether a deployment has handed any out; a new one starts from its new key's
//! derivation, which is as secret as that key.)

use anyhow::Context;
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::signing_key::SigningKey;

/// What the subjects were keyed with when the secret was derived from the signing key.
const LEGACY_PURPOSE: &str = "oidc pairwise subject";
const ID: &str = "pairwise";

/// The stored secret, stored first (by whichever replica comes first) if there is none.
pub async fn load(db: &PgPool, key: &SigningKey, now: OffsetDateTime) -> anyhow::Result<[u8; 32]> {
    let read = || {
        sqlx::query_scalar!("SELECT secret FROM oidc_secrets WHERE id = $1", ID).fetch_optional(db)
    };
    let stored = match read().await? {
        Some(stored) => stored,
        None => {
            sqlx::query!(
                "INSERT INTO oidc_secrets (id, secret, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO NOTHING",
                ID,
                key.derived_secret(LEGACY_PURPOSE).to_vec(),
                now,
            )
            .execute(db)
            .await?;
            read()
                .await?
                .context("the pairwise secret vanished from oidc_secrets")?
        }
    };
    stored
        .try_into()
        .map_err(|_| anyhow::anyhow!("the stored pairwise secret is not 32 bytes"))
}
