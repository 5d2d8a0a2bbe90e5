//! The request's path in canonical form, before routing: the router, the proxy's routes and
//! policies, forward-auth and the upstream all see the same spelling.

use axum::extract::Request;
use axum::http::Uri;
use axum::http::uri::PathAndQuery;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::canonical_path::{CanonicalPath, PathError};
use crate::http::error::AppError;

/// A path that could not be made canonical; the request is refused with 400 once it reaches the
/// error pages (so the refusal has the request id and the user's language).
#[derive(Debug, Clone, Copy)]
struct RefusedPath(PathError);

/// Rewrites the request URI to origin-form with the canonical path (the query as it came), and
/// leaves the [`CanonicalPath`] in the extensions for the proxy's decisions.
pub fn canonicalize(mut request: Request) -> Request {
    let uri = request.uri();
    let path = match CanonicalPath::parse(uri.path()) {
        Ok(path) => path,
        Err(e) => {
            request.extensions_mut().insert(RefusedPath(e));
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
                    .insert(RefusedPath(PathError::ControlCharacter));
                return request;
            }
        }
    }
    request.extensions_mut().insert(path);
    request
}

/// 400 for a path that [`canonicalize`] refused, whatever route it would have reached.
pub async fn refuse_non_canonical(request: Request, next: Next) -> Response {
    match request.extensions().get::<RefusedPath>() {
        Some(RefusedPath(e)) => AppError::BadRequest(e.to_string()).into_response(),
        None => next.run(request).await,
    }
}

/// The request's canonical path, taken out of its extensions (set by [`canonicalize`]; parsed
/// again where a request did not pass through it).
pub fn take(request: &mut Request) -> Result<CanonicalPath, PathError> {
    match request.extensions_mut().remove::<CanonicalPath>() {
        Some(path) => Ok(path),
        None => CanonicalPath::parse(request.uri().path()),
    }
}
