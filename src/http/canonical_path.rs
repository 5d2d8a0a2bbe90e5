//! The request's path in canonical form, before routing: the router, the proxy's routes and
//! policies, forward-auth and the upstream all see the same spelling. And the request's Host
//! unambiguous (RFC 9112 §3.2): an HTTP/1.1 request without one, with two, or with an
//! absolute-form target naming another is refused, so no later step reads a different host
//! than another. HTTP/2's `:authority` is that Host.

use axum::extract::{OriginalUri, Request};
use axum::http::header::HOST;
use axum::http::uri::PathAndQuery;
use axum::http::{Uri, Version};
use axum::response::{IntoResponse, Response};

use crate::canonical_path::{CanonicalPath, PathError};
use crate::http::error::AppError;

/// Why a request is refused with 400 once it reaches the error pages (so the refusal has the
/// request id and the user's language).
#[derive(Debug, Clone)]
struct Refused(String);

/// Rewrites the request URI to origin-form with the canonical path (the query as it came), and
/// leaves the [`CanonicalPath`] in the extensions for the proxy's decisions.
pub fn canonicalize(mut request: Request) -> Request {
    host_from_authority(&mut request);
    if let Err(reason) = one_host(&request) {
        request.extensions_mut().insert(Refused(reason.to_owned()));
        return request;
    }
    let uri = request.uri();
    let path = match CanonicalPath::parse(uri.path()) {
        Ok(path) => path,
        Err(e) => {
            request.extensions_mut().insert(Refused(e.to_string()));
            return request;
        }
    };
    if path.as_str() != uri.path() || uri.scheme().is_some() || uri.authority().is_some() {
        let rewritten = match uri.query() {
            Some(query) => format!("{path}?{query}"),
            None => path.as_str().to_owned(),
        };
        match PathAndQuery::try_from(rewritten).map(Uri::from) {
            Ok(uri) => *request.uri_mut() = uri,
            Err(_) => {
                // Cannot happen for a canonical path and a query that parsed before; refused
                // rather than routed on a path that was not checked.
                request
                    .extensions_mut()
                    .insert(Refused(PathError::ControlCharacter.to_string()));
                return request;
            }
        }
    }
    request.extensions_mut().insert(path);
    // What the pages link back to: routers nested under the prefix see the path without it.
    let target = OriginalUri(request.uri().clone());
    request.extensions_mut().insert(target);
    request
}

/// The path and query the client asked for, canonical, whichever router looks at the request.
pub fn requested(parts: &axum::http::request::Parts) -> &str {
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    uri.path_and_query().map_or("/", |pq| pq.as_str())
}

/// An HTTP/2 request names its host in `:authority` (RFC 9113 §8.3.1), which arrives as the
/// URI's authority; it becomes the Host header, so every later step reads the host in one place
/// whichever protocol the browser spoke. A Host sent beside it must agree ([`one_host`]).
fn host_from_authority(request: &mut Request) {
    if request.version() != Version::HTTP_2 || request.headers().contains_key(HOST) {
        return;
    }
    let authority = request
        .uri()
        .authority()
        .and_then(|a| axum::http::HeaderValue::from_str(a.as_str()).ok());
    if let Some(authority) = authority {
        request.headers_mut().insert(HOST, authority);
    }
}

/// Exactly one Host in HTTP/1.1, agreeing with an absolute-form target's authority.
fn one_host(request: &Request) -> Result<(), &'static str> {
    let mut hosts = request.headers().get_all(HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        return Err("more than one Host header");
    }
    if let Some(authority) = request.uri().authority() {
        let same = host.is_some_and(|h| {
            h.as_bytes()
                .eq_ignore_ascii_case(authority.as_str().as_bytes())
        });
        if !same {
            return Err("the request target names another host than Host");
        }
    }
    if host.is_none() && request.version() == Version::HTTP_11 {
        return Err("no Host header");
    }
    Ok(())
}

/// 400 for a path that [`canonicalize`] refused, whatever route it would have reached.
pub fn refusal(request: &Request) -> Option<Response> {
    request
        .extensions()
        .get::<Refused>()
        .map(|Refused(reason)| AppError::BadRequest(reason.clone()).into_response())
}

/// The request's canonical path, taken out of its extensions (set by [`canonicalize`]; parsed
/// again where a request did not pass through it).
pub fn take(request: &mut Request) -> Result<CanonicalPath, PathError> {
    match request.extensions_mut().remove::<CanonicalPath>() {
        Some(path) => Ok(path),
        None => CanonicalPath::parse(request.uri().path()),
    }
}
