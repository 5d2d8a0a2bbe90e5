//! What every response passes through: the security headers (never on the cabinet's own
//! responses), the request's span, the bound on header size, the 404 of the own routes.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

use super::error::AppError;
use super::request_id::{self, REQUEST_ID_HEADER, RequestId};

/// Marks a response that came from the upstream (or is meant for a front proxy as it is):
/// kepgate's error pages and security headers never replace it.
#[derive(Debug, Clone, Copy)]
pub struct FromUpstream;

/// Content-Security-Policy of every page kepgate renders: no inline script, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// [`CSP`] for a page whose form may lead elsewhere: browsers apply `form-action` to the
/// redirect that answers the form too, so the login page names the redirect providers' origins
/// (id.gov.ua) its «Увійти через…» button is sent on to.
pub fn csp_with_form_targets(origins: &[String]) -> String {
    let mut targets = String::from("form-action 'self'");
    for origin in origins {
        targets.push(' ');
        targets.push_str(origin);
    }
    CSP.replace("form-action 'self'", &targets)
}

/// The span logs the route template, never the raw URI: paths and queries can carry secrets
/// (the provider callback's secret segment, return paths with tokens).
pub fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("unmatched");
    let id = request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.as_str())
        .unwrap_or("");
    // `trace_id` is recorded where the request's trace is known (with traces on), so every
    // line of the request names its trace.
    tracing::info_span!(
        "request",
        method = method_label(request.method()),
        route,
        request_id = id,
        trace_id = tracing::field::Empty
    )
}

/// The method as a log field and span attribute: a client may send any token up to hyper's
/// bound (64 KiB), which would then be copied into every line and exported span of the request.
fn method_label(method: &axum::http::Method) -> &str {
    const LONGEST_KNOWN: usize = "VERSION-CONTROL".len();
    if method.as_str().len() <= LONGEST_KNOWN {
        method.as_str()
    } else {
        "other"
    }
}

pub fn header_if_missing(
    name: &'static str,
    value: &'static str,
) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    )
}

/// The security headers of the own routes, also on what kepgate renders in the cabinet's space
/// (error pages such as 502/504, "not allowed", the login redirect, 431). Never on the cabinet's
/// own responses: a CSP of ours would break its pages.
fn add_security_headers_unless_upstream(response: &mut Response) {
    if response.extensions().get::<FromUpstream>().is_some() {
        return;
    }
    use axum::http::header::{
        CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
    };
    let headers = response.headers_mut();
    // Standard names, not strings: a `&str` name is parsed again on every response.
    for (name, value) in [
        (CONTENT_SECURITY_POLICY, CSP),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (X_FRAME_OPTIONS, "DENY"),
        (REFERRER_POLICY, "same-origin"),
    ] {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
}

/// Request headers beyond this many bytes get a 431 (nginx's default is 4 × 8 KiB). hyper's own
/// limit is about 400 KiB, which would pass a 100 KiB header on to the cabinet.
pub const MAX_REQUEST_HEADER_BYTES: usize = 32 * 1024;

/// Refuses oversized request headers before anything is routed or proxied, with
/// `Connection: close` so no byte after them is read as a request. (Framing conflicts never get
/// here: hyper refuses two different `Content-Length`s, and with `Transfer-Encoding` it drops
/// `Content-Length`, reads the chunks and closes the connection, as RFC 9112 §6.1 allows.)
fn refuse_oversized_headers(request: &Request) -> Option<Response> {
    let headers = request.headers();
    let size: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > MAX_REQUEST_HEADER_BYTES {
        tracing::warn!(size, "request headers too large");
        return Some(
            (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                [(
                    axum::http::header::CONNECTION,
                    HeaderValue::from_static("close"),
                )],
            )
                .into_response(),
        );
    }
    None
}

/// The outermost layer: the request's id (in every log line, error page and answer), the bound
/// on header size, and the security headers of kepgate's own responses. One layer rather than
/// three: each layer cost every proxied request a boxed future and a service clone.
pub async fn front_door(mut request: Request, next: Next) -> Response {
    let request_id = request_id::assign(&mut request);
    let mut response = match refuse_oversized_headers(&request) {
        Some(refused) => refused,
        None => next.run(request).await,
    };
    add_security_headers_unless_upstream(&mut response);
    if let Some(id) = request_id {
        response.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    response
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}
