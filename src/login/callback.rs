//! A provider's callback about a login (the endpoint is `crate::provider_callback`'s).
//!
//! Trust comes from the signature, not from the caller: the p7s must be valid, over exactly the
//! hash we sent for this pending login, by a certificate chaining to a configured trusted CA.
//! The answer `{"success": true}` is sent once the result is durably recorded (committed).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use tracing::Instrument;

use super::context::LoginContext;
use super::outcome::{Outcome, Reason};
use super::pending;
use super::state::PendingState;
use crate::http::callback_answer::answer;
use crate::provider::{CallbackResult, HashAlgorithm, Provider, ProviderCallback, RequestHash};
use crate::signature::{TrustList, VerifiedSignature, verify_auth_signature};
use crate::trace_context;

/// Clock skew allowed between the phone's signing time and our own.
const SKEW: Duration = Duration::minutes(5);

/// A decoded login callback (`crate::provider_callback` checked who sent it and decoded it): the pending
/// login it is about, judged and recorded once.
pub async fn handle(
    state: &LoginContext,
    provider: &Provider,
    callback: ProviderCallback,
) -> Result<Response, sqlx::Error> {
    let id = provider.id();
    let Some(login) = pending::find_by_request_hash(&state.web.db, &callback.request_hash).await?
    else {
        tracing::warn!(provider = %id, "callback for an unknown request");
        return Ok(answer(
            StatusCode::NOT_FOUND,
            "unknown_request",
            "no pending login for this request",
            id,
        ));
    };
    if login.provider != id {
        tracing::warn!(provider = %id, login = %login.id, "callback arrived on another provider's endpoint");
        return Ok(answer(
            StatusCode::NOT_FOUND,
            "unknown_request",
            "no pending login for this request",
            id,
        ));
    }
    // The provider's request is one of its own; what it does to the login belongs to the
    // login's trace.
    let span = tracing::info_span!(
        "login.callback",
        provider = %id,
        login = %login.id,
        trace_id = tracing::field::Empty
    );
    if trace_context::traces_on() {
        let traceparent = pending::traceparent(&state.web.db, login.id).await?;
        trace_context::join(&span, traceparent.as_deref(), None);
    }
    settle(state, provider, login, callback)
        .instrument(span)
        .await
}

/// The callback of a pending login known to be this provider's: judged and recorded once.
async fn settle(
    state: &LoginContext,
    provider: &Provider,
    login: pending::PendingLogin,
    callback: ProviderCallback,
) -> Result<Response, sqlx::Error> {
    let id = provider.id();
    let now = state.web.clock.now();
    // The sweeper may have marked it expired before this late callback arrived: still "expired".
    if login.state_at(now) == PendingState::Expired {
        if login.state == PendingState::Pending {
            pending::expire(&state.web.db, login.id, now).await?;
        }
        return Ok(answer(
            StatusCode::GONE,
            "expired",
            "the login request has expired",
            id,
        ));
    }
    if login.state != PendingState::Pending {
        // Duplicate or replay: the first answer stands; nothing changes.
        tracing::info!(provider = %id, login = %login.id, state = login.state.as_str(), "repeated callback ignored");
        metrics::counter!("kepgate_callbacks_total", "provider" => id.to_owned(), "outcome" => "duplicate").increment(1);
        return Ok((
            StatusCode::OK,
            Json(json!({ "success": true, "state": login.state.as_str() })),
        )
            .into_response());
    }

    record(state, provider, &login, callback, now).await
}

/// Judges a callback for a pending login and records the outcome, once.
async fn record(
    state: &LoginContext,
    provider: &Provider,
    login: &pending::PendingLogin,
    callback: ProviderCallback,
    now: OffsetDateTime,
) -> Result<Response, sqlx::Error> {
    let id = provider.id();
    let outcome = match verdict(
        callback.result,
        &callback.request_hash,
        provider.hash_algorithm(),
        &state.national_trust.joined_with(&state.trust),
        now,
        login.created_at,
    ) {
        Verdict::Signed(verified) => {
            match state
                .certificate_status
                .check(&verified, &state.web.sessions)
                .instrument(tracing::info_span!("certificate.status"))
                .await
            {
                Ok(()) => Outcome::Confirmed(Box::new(verified.identity)),
                Err(refusal) => Outcome::Failed {
                    reason: Reason::refused_status(refusal),
                },
            }
        }
        Verdict::Settled(outcome) => outcome,
    };
    let changed = pending::record_outcome(&state.web.db, login.id, &outcome, now).await?;
    let label = match (&outcome, changed) {
        (_, None) => "duplicate",
        (Outcome::Confirmed(_) | Outcome::Identified { .. }, _) => "confirmed",
        (Outcome::Rejected { .. }, _) => "rejected",
        (Outcome::Failed { .. }, _) => "failed",
    };
    metrics::counter!("kepgate_callbacks_total", "provider" => id.to_owned(), "outcome" => label)
        .increment(1);
    Ok(match (&outcome, changed) {
        (Outcome::Failed { reason }, Some(_)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "success": false, "reason": reason })),
        )
            .into_response(),
        (_, Some(state)) => {
            tracing::info!(provider = %id, login = %login.id, state = state.as_str(), "callback recorded");
            (
                StatusCode::OK,
                Json(json!({ "success": true, "state": state.as_str() })),
            )
                .into_response()
        }
        // Lost a race with another callback or the expiry: the first result stands.
        (_, None) => (StatusCode::OK, Json(json!({ "success": true }))).into_response(),
    })
}

/// What a decoded callback decides before the certificate's status is asked.
pub enum Verdict {
    /// A signature that passed every check of its own.
    Signed(Box<VerifiedSignature>),
    Settled(Outcome),
}

/// What a decoded callback decides, without the database: a decline rejects; a signature must
/// verify against `trust` over `request_hash`, digested with the provider's `hash_algorithm`,
/// with a signing time inside the login's window (`login_created_at` minus the skew). The
/// handler then asks the certificate's status; the `callback_decoder` fuzz target calls
/// [`judge`] on whatever the decoder accepted.
pub fn verdict(
    result: CallbackResult,
    request_hash: &RequestHash,
    hash_algorithm: HashAlgorithm,
    trust: &TrustList,
    now: OffsetDateTime,
    login_created_at: OffsetDateTime,
) -> Verdict {
    let failed = |reason: Reason| Verdict::Settled(Outcome::Failed { reason });
    match result {
        CallbackResult::Declined { reason } => Verdict::Settled(Outcome::Rejected {
            reason: Reason::Declined(reason),
        }),
        CallbackResult::Signed(p7s) => {
            match verify_auth_signature(&p7s, &request_hash.digest(), trust, now) {
                // messageDigest equals our hash whatever the signer claims to have digested it
                // with; a claim other than the algorithm we hashed with is a signer we did not
                // ask.
                Ok(verified) if verified.digest_algorithm != hash_algorithm.oid() => {
                    tracing::warn!(
                        algorithm = verified.signature_algorithm,
                        expected = %hash_algorithm.oid(),
                        "signature digest is not the request's hash algorithm"
                    );
                    failed(Reason::WrongDigestAlgorithm)
                }
                // signingTime is the signer's claim; a certificate's validity was checked at
                // that time, so it must fall inside this login's own window.
                Ok(verified)
                    if verified
                        .signing_time
                        .is_some_and(|t| t < login_created_at - SKEW) =>
                {
                    failed(Reason::SigningTimeBeforeRequest)
                }
                Ok(verified) => Verdict::Signed(Box::new(verified)),
                Err(e) => {
                    // The request span names the provider and the request id.
                    tracing::warn!(error = %e, "signature refused");
                    failed(Reason::parse(e.code()))
                }
            }
        }
    }
}

/// [`verdict`] with the certificate's status taken as good (`trust.revocation = "off"`).
pub fn judge(
    result: CallbackResult,
    request_hash: &RequestHash,
    hash_algorithm: HashAlgorithm,
    trust: &TrustList,
    now: OffsetDateTime,
    login_created_at: OffsetDateTime,
) -> Outcome {
    match verdict(
        result,
        request_hash,
        hash_algorithm,
        trust,
        now,
        login_created_at,
    ) {
        Verdict::Signed(verified) => Outcome::Confirmed(Box::new(verified.identity)),
        Verdict::Settled(outcome) => outcome,
    }
}
