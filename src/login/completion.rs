//! Completing a confirmed login in the browser that started it (a new session).

use std::net::IpAddr;

use axum::extract::{Path, State};
use axum::http::header::{SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use uuid::Uuid;

use super::context::LoginContext;
use super::form::{binding_cookie, binding_hash};
use super::pending::{self, PendingLogin, PendingLoginId, PendingState};
use super::waiting::{Shown, render_wait};
use crate::http::client_addr::ClientAddr;
use crate::http::cookies::{self, CookieKind};
use crate::http::csrf::{CsrfForm, TokenOnly};
use crate::http::error::AppError;
use crate::http::pages::{PageChrome, no_store};
use crate::http::pages::{header_value, see_other};
use crate::http::session_cookie::SessionCookie;
use crate::return_path::ReturnPath;
use crate::session;

// ---------- completion ----------

pub async fn complete_form(
    State(state): State<LoginContext>,
    Path(id): Path<Uuid>,
    ClientAddr(client): ClientAddr,
    request_parts: axum::http::request::Parts,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, AppError> {
    let headers = &request_parts.headers;
    match complete(&state, headers, client, id).await? {
        Completed::Done {
            return_path,
            cookies,
        } => signed_in(&return_path, &cookies),
        // Not (yet) completable: show where it stands (the no-JavaScript "continue" path).
        Completed::NotYet(login) => {
            let status = if login.state == PendingState::Pending {
                StatusCode::OK
            } else {
                StatusCode::CONFLICT
            };
            render_wait(
                &state,
                PageChrome::from_parts(&request_parts, &state.web.settings),
                headers,
                &login,
                status,
                Shown::NotCompletable,
            )
        }
    }
}

/// The browser, signed in, sent on to where it was going with its new cookies.
pub(super) fn signed_in(
    return_path: &ReturnPath,
    cookies: &[String],
) -> Result<Response, AppError> {
    let mut response = see_other(return_path.as_str())?;
    for cookie in cookies {
        response
            .headers_mut()
            .append(SET_COOKIE, header_value(cookie)?);
    }
    no_store(&mut response);
    Ok(response)
}

pub(super) enum Completed {
    Done {
        return_path: ReturnPath,
        cookies: Vec<String>,
    },
    NotYet(Box<PendingLogin>),
}

pub(super) async fn complete(
    state: &LoginContext,
    headers: &HeaderMap,
    client_ip: IpAddr,
    id: Uuid,
) -> Result<Completed, AppError> {
    let hash = binding_hash(headers, state, PendingLoginId(id)).ok_or(AppError::Forbidden)?;
    let now = state.web.clock.now();
    let within = time::Duration::try_from(state.web.settings.login.complete_within)
        .unwrap_or(time::Duration::minutes(2));
    let timeouts = &state.web.settings.session;
    let absolute = session::duration(timeouts.absolute_timeout);
    let user_agent = headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect::<String>());
    let opening = session::NewSession {
        pending_login_id: id,
        binding_hash: &hash,
        client_ip: Some(client_ip),
        user_agent: user_agent.as_deref(),
        now,
        complete_within: within,
        expires_at: now + absolute,
        idle_timeout: session::duration(timeouts.idle_timeout),
        shared_pc_idle_timeout: session::duration(timeouts.shared_pc_idle_timeout),
    };
    let consumed = session::open(&state.web.db, &opening).await?;
    let Some(consumed) = consumed else {
        // Another browser (wrong binding) learns nothing; the starting browser sees the state.
        let Some(login) = pending::find_owned(&state.web.db, PendingLoginId(id), &hash).await?
        else {
            tracing::warn!(login = %id, "completion attempted from another browser");
            metrics::counter!("kepgate_login_completions_refused_total", "reason" => "other_browser").increment(1);
            return Err(AppError::Forbidden);
        };
        metrics::counter!("kepgate_login_completions_refused_total", "reason" => login.state.as_str()).increment(1);
        return Ok(Completed::NotYet(Box::new(login)));
    };
    // A session this browser still holds (someone else's, on a shared PC) ends with the new
    // sign-in rather than staying valid behind the new cookie until its idle timeout.
    let previous = SessionCookie::read(headers, &state.web.settings.server);
    if let Some(previous) = previous.token() {
        state
            .web
            .sessions
            .end(session::Whom::Token(previous), session::EndedBy::Logout)
            .await?;
    }
    tracing::info!(login = %id, session = %consumed.id, provider = %consumed.provider, "signed in");
    metrics::counter!("kepgate_logins_completed_total", "provider" => consumed.provider.clone())
        .increment(1);
    let server = &state.web.settings.server;
    // On a shared computer the cookie dies with the browser; elsewhere it may outlive a browser
    // restart up to the absolute timeout. Either way the server-side timeouts are what count.
    let max_age = (!consumed.shared_pc).then(|| absolute.whole_seconds());
    Ok(Completed::Done {
        return_path: consumed.return_path,
        cookies: vec![
            SessionCookie::set(server, &consumed.token, max_age),
            // This login's binding is spent; other tabs' logins keep theirs.
            match binding_cookie(headers, server).without(PendingLoginId(id)) {
                rest if rest.is_empty() => cookies::clear(server, CookieKind::LoginBinding),
                rest => cookies::set(server, CookieKind::LoginBinding, &rest.value(), None),
            },
        ],
    })
}
