//! `GET {prefix}/login/return/{provider}`: a redirect provider (id.gov.ua) sends the browser
//! back here with `code` and `state`, or with `error`.
//!
//! Trust comes from the server-side exchange, not from the address: the `state` finds the
//! pending login only by its hash; the login must be this browser's (its binding cookie), of
//! this provider, still pending and unexpired; only then is the code exchanged, once. A forged
//! state finds nothing; another browser's return is refused before its code is spent; a
//! replayed one finds its login no longer pending and changes nothing.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use serde::Deserialize;

use super::completion::{Completed, complete, signed_in};
use super::context::LoginContext;
use super::form::binding_hash;
use super::pending::{self, CANCELLED_AT_PROVIDER, Outcome, PendingState};
use super::waiting::{Shown, render_wait};
use crate::http::client_addr::ClientAddr;
use crate::http::error::AppError;
use crate::http::pages::PageChrome;
use crate::provider::{IdentifyError, RequestId};

#[derive(Deserialize)]
pub struct ReturnQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

pub async fn come_back(
    State(state): State<LoginContext>,
    Path(provider_id): Path<String>,
    ClientAddr(client): ClientAddr,
    parts: Parts,
    Query(query): Query<ReturnQuery>,
) -> Result<Response, AppError> {
    let refused = |reason: &'static str| {
        metrics::counter!("kepgate_login_returns_refused_total", "reason" => reason).increment(1);
    };
    let provider = state
        .providers
        .get(&provider_id)
        .filter(|p| p.sends_browser_away())
        .ok_or(AppError::NotFound)?;
    let Some(request_id) = query.state.as_deref().and_then(RequestId::from_state) else {
        refused("bad_state");
        return Err(AppError::BadRequest(
            "this return address carries no login of kepgate's".to_owned(),
        ));
    };
    let db = &state.web.db;
    let Some(login) =
        pending::find_by_request_hash(db, &request_id.hash(provider.hash_algorithm()))
            .await?
            .filter(|l| l.provider == provider.id())
    else {
        refused("unknown_state");
        return Err(AppError::NotFound);
    };
    let owned = match binding_hash(&parts.headers, &state, login.id) {
        Some(hash) => login.started_by(&hash),
        None => false,
    };
    if !owned {
        tracing::warn!(login = %login.id, "a return from the provider in another browser");
        refused("other_browser");
        return Err(AppError::Forbidden);
    }
    let chrome = PageChrome::from_parts(&parts, &state.web.settings);
    let now = state.web.clock.now();
    if login.state_at(now) != PendingState::Pending {
        if login.state_at(now) == PendingState::Expired && login.state == PendingState::Pending {
            pending::expire(db, login.id, now).await?;
        }
        refused("not_pending");
        let login = pending::find(db, login.id)
            .await?
            .ok_or(AppError::NotFound)?;
        let shown = Shown::NotCompletable;
        return render_wait(
            &state,
            chrome,
            &parts.headers,
            &login,
            StatusCode::CONFLICT,
            shown,
        );
    }
    let (outcome, status) = match (&query.error, &query.code) {
        (Some(error), _) => {
            tracing::info!(login = %login.id, error = %printable(error),
                description = %printable(query.error_description.as_deref().unwrap_or("")),
                "the provider sent the browser back without a code");
            let reason = format!("{CANCELLED_AT_PROVIDER}{}", printable(error));
            (Outcome::Rejected { reason }, StatusCode::OK)
        }
        (None, Some(code)) => match provider.identify(code).await {
            Ok(who) => (
                Outcome::Identified {
                    identity: Box::new(who.identity),
                    method: who.method,
                },
                StatusCode::OK,
            ),
            Err(e) => {
                tracing::warn!(login = %login.id, error = %e, "the provider's code told nobody");
                let status = match e {
                    IdentifyError::Provider(_) => StatusCode::BAD_GATEWAY,
                    IdentifyError::NoIdentity | IdentifyError::UnusableName(_) => {
                        StatusCode::UNPROCESSABLE_ENTITY
                    }
                };
                let reason = e.code().to_owned();
                (Outcome::Failed { reason }, status)
            }
        },
        (None, None) => {
            refused("no_code");
            return Err(AppError::BadRequest(
                "the provider sent neither a code nor an error".to_owned(),
            ));
        }
    };
    pending::record_outcome(db, login.id, &outcome, now).await?;
    match complete(&state, &parts.headers, client, login.id.0).await? {
        Completed::Done {
            return_path,
            cookies,
        } => signed_in(&return_path, &cookies),
        // Declined, refused, or lost a race: the waiting page tells which, with a new start.
        Completed::NotYet(login) => render_wait(
            &state,
            chrome,
            &parts.headers,
            &login,
            status,
            Shown::Waiting,
        ),
    }
}

/// At most 64 characters of what the provider said, without control characters: it goes into
/// logs and the history, and anyone can put anything into a return address.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(64).collect()
}
