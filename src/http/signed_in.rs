//! Who is signed in: [`CurrentSession`] for pages that need a session (without one the browser
//! goes to the login page and comes back), [`CabinetSession`] for the cabinet's space (where API
//! clients get 401 instead, [`sign_in_required`]), [`MaybeSession`] for pages that show either,
//! and [`SessionCookie`] for handlers that act on the cookie's token itself (logout). Whether a
//! request has no live session is decided once, in `live_session`, for both extractors that need
//! one.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::{ACCEPT, REFERER};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::context::Web;
use super::error::AppError;
use super::session_cookie::SessionCookie;
use crate::config::ServerSettings;
use crate::return_path::ReturnPath;
use crate::session::{Authentication, Session};

/// The request's live session. Without one: 503 while the database is away, else a redirect to
/// the login page ("your session ended" when the cookie no longer opens one), coming back to
/// this page, or for a form post to the page the form was on.
pub struct CurrentSession(pub Arc<Session>);

/// What the request's cookie amounts to, whatever it is.
pub struct MaybeSession(pub Authentication);

/// The request's live session in the cabinet's space. Without one: 503 while the database is
/// away, else [`sign_in_required`].
pub struct CabinetSession(pub Arc<Session>);

/// A request without a live session; `expired` when its cookie had one that ended (the login
/// page says "your session ended").
struct NoLiveSession {
    expired: bool,
}

/// The one decision of "no live session", for whatever a request's cookie amounts to: the
/// session, or — once the database is known to be reachable (else 503, rather than a login page
/// that cannot work) — why there is none.
async fn live_session(
    web: &Web,
    authentication: Authentication,
) -> Result<Result<Arc<Session>, NoLiveSession>, AppError> {
    let expired = match authentication {
        Authentication::Authenticated(session) => return Ok(Ok(session)),
        Authentication::Expired => true,
        Authentication::None => false,
    };
    web.database_reachable().await?;
    Ok(Err(NoLiveSession { expired }))
}

/// The request's session as [`live_session`] decides it.
async fn decide(web: &Web, parts: &Parts) -> Result<Result<Arc<Session>, NoLiveSession>, Response> {
    let authentication = web
        .authenticate(&parts.headers)
        .await
        .map_err(IntoResponse::into_response)?;
    live_session(web, authentication)
        .await
        .map_err(IntoResponse::into_response)
}

impl<S> FromRequestParts<S> for CurrentSession
where
    Web: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let web = Web::from_ref(state);
        let NoLiveSession { expired } = match decide(&web, parts).await? {
            Ok(session) => return Ok(CurrentSession(session)),
            Err(none) => none,
        };
        let server = &web.settings.server;
        let back = if parts.method == Method::GET {
            here(parts)
        } else {
            form_page(parts, server)
        };
        Err(
            super::pages::see_other(&login_location(server, &back, expired))
                .unwrap_or_else(IntoResponse::into_response),
        )
    }
}

impl<S> FromRequestParts<S> for CabinetSession
where
    Web: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let web = Web::from_ref(state);
        match decide(&web, parts).await? {
            Ok(session) => Ok(CabinetSession(session)),
            Err(NoLiveSession { expired }) => {
                Err(sign_in_required(&web.settings.server, parts, expired))
            }
        }
    }
}

/// The session cookie as it came, for handlers that act on its token (logout ends its session).
impl<S> FromRequestParts<S> for SessionCookie
where
    Web: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let web = Web::from_ref(state);
        Ok(SessionCookie::read(&parts.headers, &web.settings.server))
    }
}

impl<S> FromRequestParts<S> for MaybeSession
where
    Web: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let web = Web::from_ref(state);
        match web.authenticate(&parts.headers).await {
            Ok(authentication) => Ok(MaybeSession(authentication)),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// A request in the cabinet's space without a (live) session: browsers asking for a page go to
/// the login page (saying so when their session ended), everything else gets 401.
pub fn sign_in_required(server: &ServerSettings, parts: &Parts, expired: bool) -> Response {
    let accepts_html = parts
        .headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if parts.method == Method::GET && accepts_html {
        return super::pages::see_other(&login_location(server, &here(parts), expired))
            .unwrap_or_else(IntoResponse::into_response);
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

/// Where a browser without a (live) session goes: the login page, keeping the return path, with
/// "your session ended" when it had a session cookie that no longer works.
pub fn login_location(server: &ServerSettings, rd: &ReturnPath, expired: bool) -> String {
    let rd: String = url::form_urlencoded::byte_serialize(rd.as_str().as_bytes()).collect();
    if expired {
        format!("{}?notice=expired&rd={rd}", server.path("/login"))
    } else {
        format!("{}?rd={rd}", server.path("/login"))
    }
}

fn here(parts: &Parts) -> ReturnPath {
    ReturnPath::parse_or_root(Some(super::canonical_path::requested(parts)))
}

/// The page a form was posted from: the `Referer` when it is one of ours (the pages send it
/// same-origin only), else the root.
fn form_page(parts: &Parts, server: &ServerSettings) -> ReturnPath {
    let ours = [server.base_url.origin(), server.public_base_url().origin()];
    parts
        .headers
        .get(REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| url::Url::parse(v).ok())
        .filter(|url| ours.contains(&url.origin()))
        .and_then(|url| {
            let path = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            };
            ReturnPath::parse(&path).ok()
        })
        .unwrap_or_else(ReturnPath::root)
}
