//! `GET {prefix}/login/return/{provider}`: a redirect provider (id.gov.ua) sends the browser
//! back here with `code` and `state`, or with `error`.
//!
//! Trust comes from the server-side exchange, not from the address: the `state` finds the
//! pending login only by its hash; the login must be this browser's (its binding cookie), of
//! this provider, still pending and unexpired; only then is the code exchanged, once. A forged
//! state finds nothing; another browser's return is refused before its code is spent; a
//! replayed one finds its login no longer pending and changes nothing. Two returns of the same
//! login at once (a reload, a double click) spend the code once: the first claims the login in
//! one guarded statement, the second waits for its outcome.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tracing::Instrument;

use super::binding::BrowserBinding;
use super::browser::started_here;
use super::completion::{Completed, complete, signed_in};
use super::context::LoginContext;
use super::outcome::{Outcome, Reason};
use super::pending::{self, PendingLogin};
use super::state::{PendingLoginId, PendingState};
use super::waiting::{Shown, WaitingParts, render_wait};
use crate::http::Web;
use crate::http::client_addr::Client;
use crate::http::csrf::CsrfToken;
use crate::http::error::AppError;
use crate::http::pages::{PageChrome, see_other_no_store};
use crate::provider::{IdentifyError, Provider, RequestId};

#[derive(Deserialize)]
pub struct ReturnQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The browser that comes back, and the page it may be shown.
pub struct Returning {
    browser: BrowserBinding,
    client: Client,
    headers: HeaderMap,
    chrome: PageChrome,
    csrf: CsrfToken,
}

impl<S> FromRequestParts<S> for Returning
where
    Web: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Ok(client) = Client::from_request_parts(parts, state).await;
        let Ok(browser) = BrowserBinding::from_request_parts(parts, state).await;
        let Ok(chrome) = PageChrome::from_request_parts(parts, state).await;
        Ok(Returning {
            browser,
            client,
            headers: parts.headers.clone(),
            chrome,
            csrf: CsrfToken::from_request_parts(parts, state).await?,
        })
    }
}

pub async fn come_back(
    State(state): State<LoginContext>,
    Path(provider_id): Path<String>,
    returning: Returning,
    Query(query): Query<ReturnQuery>,
) -> Result<Response, AppError> {
    let provider = state
        .providers
        .get(&provider_id)
        .filter(|p| p.sends_browser_away())
        .ok_or(AppError::NotFound)?;
    let login = this_browsers_login(&state, provider, &returning.browser, &query).await?;
    let db = &state.web.db;
    let now = state.web.clock.now();
    if login.state_at(now) != PendingState::Pending {
        if login.state_at(now) == PendingState::Expired && login.state == PendingState::Pending {
            pending::expire(db, login.id, now).await?;
        }
        refused("not_pending");
        let login = pending::find(db, login.id)
            .await?
            .ok_or(AppError::NotFound)?;
        return wait_page(
            &state,
            returning,
            &login,
            StatusCode::CONFLICT,
            Shown::NotCompletable,
        );
    }
    let returned = match (&query.error, &query.code) {
        (Some(error), _) => Err(error),
        (None, Some(code)) => Ok(code),
        (None, None) => {
            refused("no_code");
            return Err(AppError::BadRequest(
                "the provider sent neither a code nor an error".to_owned(),
            ));
        }
    };
    // One return per login spends the code: a reload or a double click while id.gov.ua is slow
    // sends the same code again, and id.gov.ua's refusal of the second use would otherwise
    // fail the login before the first one finishes.
    if !pending::claim_return(db, login.id, now).await? {
        refused("duplicate");
        tracing::info!(login = %login.id, "a second return of the same login waits for the first");
        let wait = provider.common().http_timeout * 3 + Duration::from_secs(1);
        return finish_duplicate(&state, returning, login.id, wait).await;
    }
    let status = match returned {
        Err(error) => {
            tracing::info!(login = %login.id, error = %printable(error),
                description = %printable(query.error_description.as_deref().unwrap_or("")),
                "the provider sent the browser back without a code");
            let reason = Reason::CancelledAtProvider(printable(error));
            pending::record_outcome(db, login.id, &Outcome::Rejected { reason }, now).await?;
            StatusCode::OK
        }
        Ok(code) => {
            // A task of its own: the browser may go away (a reload) while id.gov.ua answers,
            // and the spent code's outcome must still be recorded for the request that waits.
            let exchange = tokio::spawn(
                exchange_code(provider.clone(), code.clone(), db.clone(), login.id, now)
                    .instrument(tracing::Span::current()),
            );
            exchange
                .await
                .map_err(|e| anyhow::anyhow!("the code exchange stopped: {e}"))??
        }
    };
    finish(&state, returning, login.id, status).await
}

/// The pending login the return's `state` names, of this provider, started in this browser.
async fn this_browsers_login(
    state: &LoginContext,
    provider: &Provider,
    browser: &BrowserBinding,
    query: &ReturnQuery,
) -> Result<PendingLogin, AppError> {
    let Some(request_id) = query.state.as_deref().and_then(RequestId::from_state) else {
        refused("bad_state");
        return Err(AppError::BadRequest(
            "this return address carries no login of kepgate's".to_owned(),
        ));
    };
    let Some(login) =
        pending::find_by_request_hash(&state.web.db, &request_id.hash(provider.hash_algorithm()))
            .await?
            .filter(|l| l.provider == provider.id())
    else {
        refused("unknown_state");
        return Err(AppError::NotFound);
    };
    if !started_here(browser, &login) {
        tracing::warn!(login = %login.id, "a return from the provider in another browser");
        refused("other_browser");
        return Err(AppError::Forbidden);
    }
    Ok(login)
}

fn refused(reason: &'static str) {
    metrics::counter!("kepgate_login_returns_refused_total", "reason" => reason).increment(1);
}

/// The login completed in this request, or where it stands: signed in by the other return of
/// the same login (whose answer carried the cookie), or declined, refused or still waiting, which
/// the waiting page tells with a new start.
async fn finish(
    state: &LoginContext,
    returning: Returning,
    id: PendingLoginId,
    status: StatusCode,
) -> Result<Response, AppError> {
    let Returning {
        browser,
        client,
        headers,
        ..
    } = &returning;
    match complete(&state.web, headers, browser, id, client).await? {
        Completed::Done {
            return_path,
            cookies,
        } => signed_in(&return_path, &cookies),
        Completed::NotYet(login) if login.state == PendingState::Consumed => {
            see_other_no_store(login.return_path.as_str())
        }
        Completed::NotYet(login) => wait_page(state, returning, &login, status, Shown::Waiting),
    }
}

fn wait_page(
    state: &LoginContext,
    returning: Returning,
    login: &PendingLogin,
    status: StatusCode,
    shown: Shown,
) -> Result<Response, AppError> {
    let parts = WaitingParts {
        web: &state.web,
        providers: &state.providers,
        qr_links: &state.qr_links,
    };
    let page = render_wait(&parts, returning.chrome, &returning.csrf, login, shown)?;
    Ok(page.status(status).into_response())
}

/// The code exchanged for who the person is, and the login's outcome recorded; the page's
/// status for a login that ends here without a session.
async fn exchange_code(
    provider: Arc<Provider>,
    code: String,
    db: sqlx::PgPool,
    login: PendingLoginId,
    now: time::OffsetDateTime,
) -> Result<StatusCode, sqlx::Error> {
    let (outcome, status) = match provider.identify(&code).await {
        Ok(who) => (
            Outcome::Identified {
                identity: Box::new(who.identity),
                method: who.method,
            },
            StatusCode::OK,
        ),
        Err(e) => {
            let reason = Reason::parse(&e.reason());
            let status = match &e {
                IdentifyError::Provider(_) => StatusCode::BAD_GATEWAY,
                IdentifyError::ClientRefused(_) => {
                    tracing::error!(%login, provider = provider.id(), error = %e,
                        "id.gov.ua refused kepgate's own client: check providers.<id>.client_id, \
                         client_secret and the redirect URI registered with it");
                    StatusCode::BAD_GATEWAY
                }
                IdentifyError::CodeRefused(_) => StatusCode::CONFLICT,
                IdentifyError::NoIdentity | IdentifyError::UnusableName(_) => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                IdentifyError::MethodNotAllowed { .. } => StatusCode::FORBIDDEN,
            };
            tracing::warn!(%login, %reason, error = %e, "the provider's code told nobody");
            (Outcome::Failed { reason }, status)
        }
    };
    pending::record_outcome(&db, login, &outcome, now).await?;
    Ok(status)
}

/// A return whose login another return claimed: waits (up to `wait`) for that one's outcome,
/// then completes in this request if the other did not (its browser went away: a reload, and
/// with it that request), or shows where the login stands.
async fn finish_duplicate(
    state: &LoginContext,
    returning: Returning,
    id: PendingLoginId,
    wait: Duration,
) -> Result<Response, AppError> {
    let mut changes = state.login_events.subscribe(id);
    let deadline = tokio::time::Instant::now() + wait;
    // The stored state the wait ended on: still pending (the other return went away) or not.
    let stored = loop {
        let login = pending::find(&state.web.db, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let now = state.web.clock.now();
        if login.state_at(now) != PendingState::Pending || tokio::time::Instant::now() >= deadline {
            break login.state;
        }
        // A notice wakes this at once; the tick covers a replica whose LISTEN is down.
        let tick = (tokio::time::Instant::now() + Duration::from_millis(250)).min(deadline);
        let _ = tokio::time::timeout_at(tick, changes.changes.changed()).await;
    };
    let status = if stored == PendingState::Pending {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    finish(state, returning, id, status).await
}

/// At most 64 characters of what the provider said, without control characters: it goes into
/// logs and the history, and anyone can put anything into a return address.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(64).collect()
}
