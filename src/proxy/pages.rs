//! kepgate's own pages in the cabinet's space: what a browser without a (valid) session gets
//! (the login page, or 401 for non-HTML clients), and, when no `[routes]` are configured, a page
//! that shows who is signed in.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::http::csrf;
use crate::http::error::AppError;
use crate::http::pages::PageChrome;
use crate::return_path::ReturnPath;
use crate::session::{self, Authentication, Session};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "signed_in.html")]
struct SignedInPage {
    chrome: PageChrome,
    full_name: String,
    rnokpp: Option<String>,
    edrpou: Option<String>,
    organization: Option<String>,
    provider: String,
    logout_action: String,
    me_href: String,
    csrf: String,
}

/// Without configured routes, a signed-in user sees who they are (the demo before the proxy,
/// and a quick check for administrators).
pub async fn signed_in_page(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, AppError> {
    let (parts, _) = request.into_parts();
    let authentication = session::authenticate(&state, &parts.headers).await?;
    let session = match authentication {
        Authentication::Authenticated(session) => *session,
        Authentication::Expired | Authentication::None => {
            crate::http::health::database_reachable(&state).await?;
            let expired = matches!(authentication, Authentication::Expired);
            return Ok(unauthenticated(&state, &parts, expired));
        }
    };
    let chrome = PageChrome::from_parts(&parts, &state);
    let token = csrf::issue(&parts.headers, &state.settings.server)
        .map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let provider = state
        .providers
        .get(&session.provider)
        .map(|p| p.display_name(chrome.lang).to_owned())
        .unwrap_or(session.provider.clone());
    let identity = session.identity;
    let page = SignedInPage {
        full_name: identity.full_name,
        rnokpp: identity.rnokpp.map(|r| r.to_string()),
        edrpou: identity.edrpou.map(|e| e.to_string()),
        organization: identity.organization,
        provider,
        logout_action: state.settings.server.path("/logout"),
        me_href: state.settings.server.path("/me"),
        csrf: token.value,
        chrome,
    };
    let mut response = Html(page.render().map_err(anyhow::Error::new)?).into_response();
    if let Some(cookie) = token.set_cookie {
        response.headers_mut().append(
            SET_COOKIE,
            HeaderValue::from_str(&cookie).map_err(anyhow::Error::new)?,
        );
    }
    crate::http::pages::no_store(&mut response);
    Ok(response)
}

/// The request's live session; `session::authenticate` also says whether a cookie was sent
/// whose session has ended.
pub async fn current_session(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Option<Session>, AppError> {
    Ok(session::authenticate(state, headers).await?.session())
}

/// Browsers asking for a page go to the login page (saying so when their session ended);
/// everything else gets 401.
pub fn unauthenticated(
    state: &AppState,
    parts: &axum::http::request::Parts,
    expired: bool,
) -> Response {
    let accepts_html = parts
        .headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if parts.method == Method::GET && accepts_html {
        let here = parts
            .uri
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/");
        let rd = ReturnPath::parse_or_root(Some(here));
        let to = session::login_location(&state.settings.server, &rd, expired);
        let mut response = StatusCode::SEE_OTHER.into_response();
        if let Ok(value) = HeaderValue::from_str(&to) {
            response.headers_mut().insert(LOCATION, value);
        }
        return response;
    }
    let mut response = (
        StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({"error": "unauthenticated"})),
    )
        .into_response();
    response.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("KEP realm=\"kepgate\""),
    );
    response
}
