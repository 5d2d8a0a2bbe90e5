//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a session is ended (its own
//! «Вийти», «end everywhere», an administrator's `kepgate sessions revoke` from another process,
//! a revoked key; a timeout is not announced), every client that got a code of it and registered a
//! `backchannel_logout_uri` receives a signed logout token. Every replica looks every two
//! seconds; a claim in PostgreSQL (`notified_at`, `SKIP LOCKED`) makes exactly one of them send
//! each notice. The notices go out at once, each in the background with a few attempts (a
//! client down for a moment is still told); a replica stopped meanwhile leaves its claimed
//! notices untold.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use super::context::OidcContext;
use crate::config::SigningAlg;
use crate::session::ending::{self, ClientToTell};

const POLL: Duration = Duration::from_secs(2);
/// Notices being delivered at once, each with its retries; a claim takes no more than there are
/// free slots, so a slow client never piles up claimed notices.
const IN_FLIGHT: usize = 32;
/// Attempts per notice, each bounded by the HTTP client's timeout (5 s), the waits between them
/// doubling from [`FIRST_BACKOFF`]: a client down for a moment is still told.
const ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

pub async fn run(oidc: OidcContext) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    crate::periodic::every(POLL, || async {
        if let Err(e) = notify_ended(&oidc, &slots).await {
            tracing::warn!(error = %e, "back-channel logout: the database could not be asked");
        }
    })
    .await
}

/// Claims what there are free slots for and delivers each notice in a task of its own: one
/// client slow or down delays no other.
async fn notify_ended(oidc: &OidcContext, slots: &Arc<Semaphore>) -> Result<(), sqlx::Error> {
    let free = slots.available_permits();
    if free == 0 {
        return Ok(());
    }
    let now = oidc.web.clock.now();
    let limit = i64::try_from(free).unwrap_or(1);
    for ended in ending::claim_clients_to_tell(&oidc.web.db, now, limit).await? {
        let Some((uri, alg)) = oidc.clients.get(&ended.client_id).and_then(|c| {
            c.backchannel_logout_uri
                .clone()
                .map(|uri| (uri, c.id_token_alg))
        }) else {
            continue;
        };
        // Only this loop takes slots, and it claimed no more than were free: no wait here.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return Ok(());
        };
        let oidc = oidc.clone();
        tokio::spawn(async move {
            deliver(&oidc, &ended, uri, alg, now).await;
            drop(slot);
        });
    }
    Ok(())
}

/// One logout token, sent until the client takes it or [`ATTEMPTS`] are spent (a refusal that
/// another attempt cannot change, a 4xx, ends it at once).
async fn deliver(
    oidc: &OidcContext,
    ended: &ClientToTell,
    uri: url::Url,
    alg: SigningAlg,
    now: OffsetDateTime,
) {
    let (client, session) = (&ended.client_id, &ended.session_id);
    let token = match logout_token(oidc, ended, alg, now) {
        Ok(token) => token,
        Err(e) => {
            tracing::warn!(%client, %session, error = %e, "back-channel logout: no token made");
            return;
        }
    };
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let outcome = post(oidc, &uri, &token).await;
        let error = match outcome {
            Ok(()) => {
                metrics::counter!("kepgate_oidc_backchannel_logouts_total", "outcome" => "sent")
                    .increment(1);
                tracing::info!(%client, %session, attempt, "back-channel logout sent");
                return;
            }
            Err(error) => error,
        };
        let last = attempt == ATTEMPTS || !error.worth_retrying();
        // The token is never logged; the address is the client's registered one.
        tracing::warn!(%client, %session, attempt, error = %error, last, "back-channel logout failed");
        if last {
            break;
        }
        tokio::time::sleep(backoff).await;
        backoff *= 2;
    }
    metrics::counter!("kepgate_oidc_backchannel_logouts_total", "outcome" => "failed").increment(1);
}

/// Signed as the client's ID tokens are (Back-Channel Logout 1.0 §2.4); the same token (the
/// same `jti`) for every attempt.
fn logout_token(
    oidc: &OidcContext,
    ended: &ClientToTell,
    alg: SigningAlg,
    now: OffsetDateTime,
) -> anyhow::Result<String> {
    let jti = super::store::random_value()?;
    oidc.key.sign(
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
    )
}

#[derive(Debug, thiserror::Error)]
enum PostError {
    #[error("{0}")]
    Unreachable(reqwest::Error),
    #[error("the client answered HTTP {0}")]
    Answered(u16),
}

impl PostError {
    /// Not a 4xx other than a timeout or "too many": the client may take it another time.
    fn worth_retrying(&self) -> bool {
        match self {
            PostError::Unreachable(_) => true,
            PostError::Answered(status) => {
                !(400..500).contains(status) || [408, 429].contains(status)
            }
        }
    }
}

async fn post(oidc: &OidcContext, uri: &url::Url, token: &str) -> Result<(), PostError> {
    let response = oidc
        .http
        .post(uri.clone())
        .form(&[("logout_token", token)])
        .send()
        .await
        .map_err(|e| PostError::Unreachable(e.without_url()))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(PostError::Answered(status.as_u16()))
    }
}
