//! Forward-auth mode: nginx `auth_request`, Traefik ForwardAuth and Caddy `forward_auth` ask
//! `GET {prefix}/auth` whether a request may pass; 200 carries the identity headers for the
//! front proxy to copy upstream, 401 means "send the user to the login page".
//!
//! The original URI (for the route's policy and the return path) is read from
//! `X-Original-URI` (nginx) or `X-Forwarded-Uri` (Traefik, Caddy) — only when the caller is one
//! of `proxy.trusted_proxies`; anyone else is judged against the `/` route.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::context::ProxyContext;
use super::headers;
use crate::canonical_path::CanonicalPath;
use crate::http::error::AppError;
use crate::return_path::ReturnPath;

#[derive(Deserialize)]
pub struct AuthQuery {
    /// `redirect`: answer 302 to the login page instead of 401 (Traefik/Caddy show the
    /// forward-auth response to the user as is; nginx needs 401 and its own `error_page`).
    mode: Option<String>,
}

pub async fn check(
    State(state): State<ProxyContext>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<AuthQuery>,
    request: Request,
) -> Result<Response, AppError> {
    let (parts, _) = request.into_parts();
    let trusted = state
        .web
        .settings
        .proxy
        .trusted_proxies
        .iter()
        .any(|net| net.contains(&peer.ip()));
    let Some(original) = original_uri(&parts.headers, trusted) else {
        // Traefik and Caddy pass every client header on to this check and set only
        // X-Forwarded-Uri: a client's own X-Original-URI must not choose the path judged.
        tracing::warn!("forward-auth: X-Original-URI and X-Forwarded-Uri disagree; refused");
        return Ok(bare(StatusCode::FORBIDDEN));
    };
    // Front proxies pass the client's headers to this check: one that poses as an identity
    // header (in any spelling) would reach the cabinet beside ours, so the request stops here.
    if headers::has_identity_header(&parts.headers, &state.identity_headers) {
        tracing::warn!("forward-auth: the client sent an identity header; refused");
        return Ok(bare(StatusCode::FORBIDDEN));
    }
    let Some((path, return_path)) = judged_path(original) else {
        tracing::info!("forward-auth: an original URI that cannot be made canonical; refused");
        return Ok(bare(StatusCode::FORBIDDEN));
    };
    // kepgate's own space is never the cabinet's, whichever route would match it.
    if state.web.settings.server.reserves(path.for_decisions()) {
        tracing::info!("forward-auth: an original URI in kepgate's reserved prefix; refused");
        return Ok(bare(StatusCode::FORBIDDEN));
    }
    let route = state.routes.find(path.for_decisions());
    if route.is_some_and(|r| r.settings.public) {
        return Ok(StatusCode::OK.into_response());
    }
    // With routes configured, a path none of them serves is nobody's: refused, as the proxy
    // answers 404 there, rather than admitted with an assertion for a default audience.
    if route.is_none() && !state.routes.is_empty() {
        return Ok(bare(StatusCode::FORBIDDEN));
    }
    let Some(session) = state.web.authenticate(&parts.headers).await?.session() else {
        let redirect = query.mode.as_deref() == Some("redirect");
        return Ok(sign_in_answer(
            &state.web.settings.server,
            &return_path,
            redirect,
        ));
    };
    let audience = route.map(|r| r.name.as_str()).unwrap_or("cabinet");
    if let Some(route) = route
        && !session.admitted_by(&route.settings.allow)
    {
        return Ok(bare(StatusCode::FORBIDDEN));
    }
    let stamp = state
        .assertions
        .stamp(&session, audience, state.web.clock.now())
        .map_err(AppError::Internal)?;
    let mut response = StatusCode::OK.into_response();
    stamp.apply(response.headers_mut());
    response
        .headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    response.extensions_mut().insert(crate::http::FromUpstream);
    Ok(response)
}

/// The path the decision is made on, canonical as in the proxy, and where the login returns to.
/// A shape that cannot be made canonical is refused with 403 by the caller, not 400: nginx turns
/// any answer of an auth_request other than 2xx, 401 and 403 into a 500.
fn judged_path(original: &str) -> Option<(CanonicalPath, ReturnPath)> {
    let (raw_path, uri_query) = match original.split_once('?') {
        Some((path, q)) => (path, Some(q)),
        None => (original, None),
    };
    let path = CanonicalPath::parse(raw_path).ok()?;
    let return_path = ReturnPath::parse_or_root(Some(&match uri_query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    }));
    Some((path, return_path))
}

/// The original request URI from a trusted front proxy (`/` from anyone else); `None` when the
/// headers that can carry it (or two copies of one) disagree.
fn original_uri(headers: &axum::http::HeaderMap, trusted: bool) -> Option<&str> {
    if !trusted {
        return Some("/");
    }
    let mut found: Option<&str> = None;
    for name in ["x-original-uri", "x-forwarded-uri"] {
        for value in headers.get_all(name) {
            let value = value.to_str().ok()?;
            match found {
                Some(seen) if seen != value => return None,
                _ => found = Some(value),
            }
        }
    }
    Some(found.unwrap_or("/"))
}

/// A status without a page of ours: the front proxy decides what the user sees.
fn bare(status: StatusCode) -> Response {
    let mut response = status.into_response();
    response.extensions_mut().insert(crate::http::FromUpstream);
    response
}

/// No session: 401 for nginx (its `error_page` sends the browser on), or with `mode=redirect`
/// a 302 that Traefik and Caddy show as is; the login page's address either way.
fn sign_in_answer(
    server: &crate::config::ServerSettings,
    return_path: &ReturnPath,
    redirect: bool,
) -> Response {
    let mut response = if redirect {
        StatusCode::FOUND.into_response()
    } else {
        StatusCode::UNAUTHORIZED.into_response()
    };
    let login = crate::http::signed_in::login_location(server, return_path, false);
    if let Ok(value) = HeaderValue::from_str(&login) {
        response.headers_mut().insert(LOCATION, value);
    }
    // A bare status: the front proxy decides what the user sees.
    response.extensions_mut().insert(crate::http::FromUpstream);
    response
}

/// Public keys, readable from any origin (a browser-only OpenID client verifies ID tokens too).
pub async fn jwks(State(state): State<ProxyContext>) -> Response {
    (
        [
            ("content-type", "application/json"),
            ("cache-control", "public, max-age=300"),
            ("access-control-allow-origin", "*"),
        ],
        state.assertions.jwks().to_string(),
    )
        .into_response()
}
