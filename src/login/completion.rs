//! Completing a confirmed login in the browser that started it (a new session).
//! The handlers that complete are `waiting_handlers::complete_form` and `api::api_complete`.

use axum::http::HeaderMap;
use axum::http::header::SET_COOKIE;
use axum::response::Response;
use tracing::Instrument;

use super::binding::BrowserBinding;
use super::pending::{self, PendingLogin};
use super::state::PendingLoginId;
use crate::http::Web;
use crate::http::client_addr::Client;
use crate::http::error::AppError;
use crate::http::pages::{header_value, no_store, see_other};
use crate::http::session_cookie::SessionCookie;
use crate::return_path::ReturnPath;
use crate::session;
use crate::trace_context;

/// The browser, signed in, sent on to where it was going with its new cookies.
pub fn signed_in(return_path: &ReturnPath, cookies: &[String]) -> Result<Response, AppError> {
    let mut response = see_other(return_path.as_str())?;
    for cookie in cookies {
        response
            .headers_mut()
            .append(SET_COOKIE, header_value(cookie)?);
    }
    no_store(&mut response);
    Ok(response)
}

pub enum Completed {
    Done {
        return_path: ReturnPath,
        cookies: Vec<String>,
    },
    NotYet(Box<PendingLogin>),
}

/// Completes the login `id` if this browser started it and it is confirmed: a new session.
/// Refused (403) when this browser did not start it.
pub async fn complete(
    web: &Web,
    headers: &HeaderMap,
    browser: &BrowserBinding,
    id: PendingLoginId,
    client: &Client,
) -> Result<Completed, AppError> {
    let hash = browser.hash_for(id).ok_or(AppError::Forbidden)?;
    // The browser's request is one of its own; the session it opens belongs to the login's trace.
    let span = tracing::info_span!(
        "login.completion",
        login = %id,
        trace_id = tracing::field::Empty
    );
    if trace_context::traces_on() {
        let traceparent = pending::traceparent(&web.db, id).await?;
        trace_context::join(&span, traceparent.as_deref(), None);
    }
    open_session(web, headers, browser, id, client, &hash)
        .instrument(span)
        .await
}

/// [`complete`] once the browser's binding for `id` is known (`hash`).
async fn open_session(
    web: &Web,
    headers: &HeaderMap,
    browser: &BrowserBinding,
    id: PendingLoginId,
    client: &Client,
    hash: &[u8; 32],
) -> Result<Completed, AppError> {
    let now = web.clock.now();
    let within = time::Duration::try_from(web.settings.login.complete_within)
        .unwrap_or(time::Duration::minutes(2));
    let timeouts = &web.settings.session;
    let absolute = session::duration(timeouts.absolute_timeout);
    let opening = session::NewSession {
        pending_login_id: id.0,
        binding_hash: hash,
        client_ip: Some(client.addr),
        user_agent: client.user_agent.as_deref(),
        now,
        complete_within: within,
        expires_at: now + absolute,
        idle_timeout: session::duration(timeouts.idle_timeout),
        shared_pc_idle_timeout: session::duration(timeouts.shared_pc_idle_timeout),
    };
    let consumed = session::open(&web.db, &opening).await?;
    let Some(consumed) = consumed else {
        // Another browser (wrong binding) learns nothing; the starting browser sees the state.
        let Some(login) = pending::find_owned(&web.db, id, hash).await? else {
            tracing::warn!(login = %id, "completion attempted from another browser");
            metrics::counter!("kepgate_login_completions_refused_total", "reason" => "other_browser").increment(1);
            return Err(AppError::Forbidden);
        };
        metrics::counter!("kepgate_login_completions_refused_total", "reason" => login.state.as_str()).increment(1);
        return Ok(Completed::NotYet(Box::new(login)));
    };
    // A session this browser still holds (someone else's, on a shared PC) ends with the new
    // sign-in rather than staying valid behind the new cookie until its idle timeout.
    let previous = SessionCookie::read(headers, &web.settings.server);
    if let Some(previous) = previous.token() {
        web.sessions
            .end(session::Whom::Token(previous), session::EndedBy::Logout)
            .await?;
    }
    tracing::info!(login = %id, session = %consumed.id, provider = %consumed.provider, "signed in");
    metrics::counter!("kepgate_logins_completed_total", "provider" => consumed.provider.clone())
        .increment(1);
    let server = &web.settings.server;
    // On a shared computer the cookie dies with the browser; elsewhere it may outlive a browser
    // restart up to the absolute timeout. Either way the server-side timeouts are what count.
    let max_age = (!consumed.shared_pc).then(|| absolute.whole_seconds());
    Ok(Completed::Done {
        return_path: consumed.return_path,
        cookies: vec![
            SessionCookie::set(server, &consumed.token, max_age),
            // This login's binding is spent; other tabs' logins keep theirs.
            browser.set_without(server, id),
        ],
    })
}
