//! Who is signed in: [`CurrentSession`] for pages that need a session (without one the browser
//! goes to the login page and comes back), [`MaybeSession`] for pages that show either, and
//! [`sign_in_required`] for the cabinet's space, where API clients get 401 instead.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::{ACCEPT, REFERER};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::context::Web;
use crate::config::ServerSettings;
use crate::return_path::ReturnPath;
use crate::session::{Authentication, Session};

/// The request's live session. Without one: 503 while the database is away, else a redirect to
/// the login page ("your session ended" when the cookie no longer opens one), coming back to
/// this page, or for a form post to the page the form was on.
pub struct CurrentSession(pub Arc<Session>);

/// What the request's cookie amounts to, whatever it is.
pub struct MaybeSession(pub Authentication);

impl<S> FromRequestParts<S> for CurrentSession
where
    Web: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let web = Web::from_ref(state);
        let expired = match web.authenticate(&parts.headers).await {
            Ok(Authentication::Authenticated(session)) => return Ok(CurrentSession(session)),
            Ok(Authentication::Expired) => true,
            Ok(Authentication::None) => false,
            Err(e) => return Err(e.into_response()),
        };
        if let Err(e) = web.database_reachable().await {
            return Err(e.into_response());
        }
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
