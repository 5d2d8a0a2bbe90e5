//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a session is ended (its own
//! «Вийти», «end everywhere», an administrator's `kepgate sessions revoke` from another process,
//! a revoked key; a timeout is not announced), every client that got a code of it and registered a
//! `backchannel_logout_uri` receives a signed logout token. Every replica looks every two
//! seconds; a claim in PostgreSQL (`notified_at`, `SKIP LOCKED`) makes exactly one of them send
//! each notice, once.

use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::context::OidcContext;
use crate::config::SigningAlg;

const POLL: Duration = Duration::from_secs(2);
const BATCH: i64 = 32;

pub async fn run(oidc: OidcContext) {
    let mut tick = tokio::time::interval(POLL);
    loop {
        tick.tick().await;
        if let Err(e) = notify_ended(&oidc).await {
            tracing::warn!(error = %e, "back-channel logout: the database could not be asked");
        }
    }
}

struct Ended {
    session_id: Uuid,
    client_id: String,
    sid: String,
}

async fn notify_ended(oidc: &OidcContext) -> Result<(), sqlx::Error> {
    let now = oidc.web.clock.now();
    for ended in claim(&oidc.web.db, now).await? {
        let Some((uri, alg)) = oidc.clients.get(&ended.client_id).and_then(|c| {
            c.backchannel_logout_uri
                .clone()
                .map(|uri| (uri, c.id_token_alg))
        }) else {
            continue;
        };
        let sent = send(oidc, &ended, uri, alg, now).await;
        let outcome = if sent.is_ok() { "sent" } else { "failed" };
        metrics::counter!("kepgate_oidc_backchannel_logouts_total", "outcome" => outcome)
            .increment(1);
        match sent {
            Ok(()) => {
                tracing::info!(client = %ended.client_id, session = %ended.session_id, "back-channel logout sent")
            }
            Err(e) => {
                tracing::warn!(client = %ended.client_id, session = %ended.session_id, error = %e, "back-channel logout failed")
            }
        }
    }
    Ok(())
}

/// Ended sessions' clients not yet told, marked as told in the same statement.
async fn claim(db: &PgPool, now: OffsetDateTime) -> Result<Vec<Ended>, sqlx::Error> {
    sqlx::query_as!(
        Ended,
        r#"UPDATE oidc_session_clients SET notified_at = $1
           WHERE (session_id, client_id) IN (
               SELECT c.session_id, c.client_id FROM oidc_session_clients c
               JOIN sessions s ON s.id = c.session_id
               WHERE c.notified_at IS NULL AND s.revoked_at IS NOT NULL
               LIMIT $2 FOR UPDATE OF c SKIP LOCKED)
           RETURNING session_id, client_id, sid"#,
        now,
        BATCH,
    )
    .fetch_all(db)
    .await
}

async fn send(
    oidc: &OidcContext,
    ended: &Ended,
    uri: url::Url,
    alg: SigningAlg,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let jti = super::store::random_value()?;
    // Signed as the client's ID tokens are (Back-Channel Logout 1.0 §2.4).
    let token = oidc.key.sign(
        alg,
        "logout+jwt",
        &json!({
            "iss": oidc.issuer,
            "aud": ended.client_id,
            "iat": now.unix_timestamp(),
            "exp": (now + time::Duration::minutes(2)).unix_timestamp(),
            "jti": jti,
            "sid": ended.sid,
            "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        }),
    )?;
    let response = oidc
        .http
        .post(uri)
        .form(&[("logout_token", token)])
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "the client answered HTTP {}",
        response.status().as_u16()
    );
    Ok(())
}
