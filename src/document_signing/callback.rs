//! A provider's callback about a signing request (the endpoint is `crate::provider_callback`'s): the
//! request it names, still pending and its session still live, then every signature verified
//! (`verify.rs`), the certificate's status asked, and the outcome recorded once. A refusal is
//! recorded too, with who signed when that is known: the audit shows who tried.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::context::SigningContext;
use super::refusal::Refusal;
use super::request::SigningState;
use super::store::{self, SigningRequest};
use super::verify::{Asked, Refused, verdict};
use crate::http::callback_answer::answer;
use crate::identity::SignerIdentity;
use crate::provider::{Provider, SigningCallback, SigningResult};
use crate::session::{SessionKey, find_uncached};

pub async fn handle(
    state: &SigningContext,
    provider: &Provider,
    callback: SigningCallback,
) -> Result<Response, sqlx::Error> {
    let provider_id = provider.id();
    let db = &state.web.db;
    let request = match store::find_by_request_id(db, &callback.request_id).await? {
        Some(id) => store::find(db, id).await?,
        None => None,
    };
    let Some(request) = request.filter(|r| r.provider == provider_id) else {
        tracing::warn!(provider = %provider_id, "signing callback for an unknown request");
        return Ok(answer(
            StatusCode::NOT_FOUND,
            "unknown_request",
            "no signing request for this id",
            provider_id,
        ));
    };
    let now = state.web.clock.now();
    match request.state_at(now) {
        SigningState::Pending => {}
        SigningState::Expired => {
            if request.state == SigningState::Pending {
                store::expire_overdue(db, now).await?;
            }
            return Ok(answer(
                StatusCode::GONE,
                "expired",
                "the signing request has expired",
                provider_id,
            ));
        }
        done => {
            // Duplicate or replay: the first answer stands; nothing changes.
            tracing::info!(provider = %provider_id, signing = %request.id, state = done.as_str(), "repeated signing callback ignored");
            metrics::counter!("kepgate_callbacks_total", "provider" => provider_id.to_owned(), "outcome" => "duplicate").increment(1);
            return Ok((
                StatusCode::OK,
                Json(json!({ "success": true, "state": done.as_str() })),
            )
                .into_response());
        }
    }
    let judged = judge(state, &request, callback.result).await?;
    record(state, provider_id, &request, judged).await
}

/// What the callback decides about a pending request.
enum Judged {
    Signed(super::verify::Verified),
    Refused(Refused),
}

async fn judge(
    state: &SigningContext,
    request: &SigningRequest,
    result: SigningResult,
) -> Result<Judged, sqlx::Error> {
    let refused = |refusal| {
        Judged::Refused(Refused {
            refusal,
            signer: None,
        })
    };
    let items = match result {
        SigningResult::Declined { .. } => return Ok(refused(Refusal::Declined)),
        SigningResult::Signed(items) => items,
    };
    let now = state.web.clock.now();
    // The signer must be the session's person: a session that ended has nobody to sign for.
    if find_uncached(&state.web.db, SessionKey::Id(request.session_id), now)
        .await?
        .is_none()
    {
        return Ok(refused(Refusal::SessionEnded));
    }
    let asked = Asked {
        files: request.files.clone(),
        algorithm: request.algorithm,
        subject: request.subject.clone(),
        created_at: request.created_at,
    };
    // CPU-bound (a DSTU 4145 verification per file, up to `signing.max_files`): off the
    // async workers.
    let trust = state.national_trust.joined_with(&state.trust);
    let verdict = tokio::task::spawn_blocking(move || verdict(items, &asked, &trust, now)).await;
    let verified = match verdict {
        Ok(Ok(verified)) => verified,
        Ok(Err(refused)) => return Ok(Judged::Refused(refused)),
        Err(e) => {
            tracing::error!(error = %e, "signature verification did not finish");
            return Ok(refused(Refusal::InvalidSignature(
                "verification_failed".to_owned(),
            )));
        }
    };
    match state
        .certificate_status
        .check(&verified.first, &state.web.sessions)
        .await
    {
        Ok(()) => Ok(Judged::Signed(verified)),
        Err(refusal) => Ok(Judged::Refused(Refused {
            refusal: Refusal::from_status(refusal),
            signer: Some(Box::new(verified.first.identity.clone())),
        })),
    }
}

async fn record(
    state: &SigningContext,
    provider_id: &str,
    request: &SigningRequest,
    judged: Judged,
) -> Result<Response, sqlx::Error> {
    let db = &state.web.db;
    let now = state.web.clock.now();
    let (changed, outcome) = match &judged {
        Judged::Signed(verified) => (
            store::record_signed(
                db,
                request.id,
                &verified.first.identity,
                verified.first.signature_algorithm,
                &verified.signatures,
                now,
            )
            .await?,
            SigningState::Signed,
        ),
        Judged::Refused(refused) => {
            let state = if refused.refusal == Refusal::Declined {
                SigningState::Declined
            } else {
                SigningState::Failed
            };
            let signer: Option<&SignerIdentity> = refused.signer.as_deref();
            (
                store::record_refusal(db, request.id, state, refused.refusal.code(), signer, now)
                    .await?,
                state,
            )
        }
    };
    let label = if changed {
        outcome.as_str()
    } else {
        "duplicate"
    };
    metrics::counter!("kepgate_callbacks_total", "provider" => provider_id.to_owned(), "outcome" => label).increment(1);
    metrics::counter!("kepgate_signing_requests_total", "outcome" => label).increment(1);
    if !changed {
        // Lost a race with another callback or the expiry: the first result stands.
        return Ok((StatusCode::OK, Json(json!({ "success": true }))).into_response());
    }
    Ok(match judged {
        Judged::Signed(verified) => {
            tracing::info!(signing = %request.id, serial = %verified.first.identity.cert_serial_hex, files = request.files.len(), "documents signed");
            (
                StatusCode::OK,
                Json(json!({ "success": true, "state": "signed" })),
            )
                .into_response()
        }
        Judged::Refused(refused) if refused.refusal == Refusal::Declined => (
            StatusCode::OK,
            Json(json!({ "success": true, "state": "declined" })),
        )
            .into_response(),
        Judged::Refused(refused) => {
            tracing::warn!(signing = %request.id, reason = refused.refusal.code(), signer = ?refused.signer.as_ref().map(|s| &s.cert_serial_hex), "signature refused");
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "success": false, "reason": refused.refusal.code() })),
            )
                .into_response()
        }
    })
}
