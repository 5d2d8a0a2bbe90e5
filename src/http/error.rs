//! One error type for every handler, and the pages (uk/en, with the request id) shown for it.
//!
//! Handlers return [`AppError`]; its `IntoResponse` logs the cause and leaves only a marker on an
//! empty response. [`render_error_pages`] (a middleware that sees the request) turns the marker,
//! and the bare statuses tower-http layers produce (408, 413), into an HTML or JSON body. The
//! cause never reaches the user: a 500 says only "internal error" and the request id.

use askama::Template;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::FromUpstream;
use super::context::Web;
use super::pages::PageChrome;
use super::request_id::RequestId;
use crate::language::Texts;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("forbidden")]
    Forbidden,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("too many requests")]
    TooManyRequests,
    /// The global bound on logins being started or waiting is reached (a flood from many
    /// addresses): 503, so the database stays there for signed-in users.
    #[error("too many logins in progress")]
    TooManyLogins,
    /// The client's request body stopped arriving (proxied requests).
    #[error("the request body stalled")]
    RequestTimeout,
    #[error("the cabinet (upstream) is unreachable")]
    UpstreamUnavailable,
    #[error("the cabinet (upstream) did not answer in time")]
    UpstreamTimeout,
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(#[source] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        if crate::database::is_unavailable(&error) {
            AppError::DatabaseUnavailable(error)
        } else {
            AppError::Internal(anyhow::Error::new(error).context("database query failed"))
        }
    }
}

impl From<crate::session::SessionError> for AppError {
    fn from(error: crate::session::SessionError) -> Self {
        match error {
            crate::session::SessionError::Database(e) => AppError::from(e),
            e @ crate::session::SessionError::Randomness(_) => {
                AppError::Internal(anyhow::Error::new(e))
            }
        }
    }
}

/// What kind of error page to render; travels in the response extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    BadRequest,
    Forbidden,
    PayloadTooLarge,
    Timeout,
    TooManyRequests,
    TooManyLogins,
    Unavailable,
    BadGateway,
    Internal,
}

impl ErrorKind {
    fn from_status(status: StatusCode) -> Option<Self> {
        Some(match status {
            StatusCode::NOT_FOUND => ErrorKind::NotFound,
            StatusCode::BAD_REQUEST
            | StatusCode::UNPROCESSABLE_ENTITY
            | StatusCode::METHOD_NOT_ALLOWED => ErrorKind::BadRequest,
            StatusCode::FORBIDDEN => ErrorKind::Forbidden,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorKind::PayloadTooLarge,
            StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => ErrorKind::Timeout,
            StatusCode::TOO_MANY_REQUESTS => ErrorKind::TooManyRequests,
            StatusCode::SERVICE_UNAVAILABLE => ErrorKind::Unavailable,
            StatusCode::BAD_GATEWAY => ErrorKind::BadGateway,
            s if s.is_server_error() => ErrorKind::Internal,
            _ => return None,
        })
    }

    /// Stable machine-readable code for the JSON form.
    fn code(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::Timeout => "timeout",
            ErrorKind::TooManyRequests => "too_many_requests",
            ErrorKind::TooManyLogins => "too_many_logins",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::BadGateway => "bad_gateway",
            ErrorKind::Internal => "internal",
        }
    }

    fn texts(self, t: &'static Texts) -> (&'static str, &'static str) {
        match self {
            ErrorKind::NotFound => (t.not_found_title, t.not_found_body),
            ErrorKind::BadRequest => (t.bad_request_title, t.bad_request_body),
            ErrorKind::Forbidden => (t.forbidden_title, t.forbidden_body),
            ErrorKind::PayloadTooLarge => (t.too_large_title, t.too_large_body),
            ErrorKind::Timeout => (t.timeout_title, t.timeout_body),
            ErrorKind::TooManyRequests => (t.too_many_title, t.too_many_body),
            ErrorKind::TooManyLogins => (t.busy_title, t.busy_body),
            ErrorKind::Unavailable => (t.unavailable_title, t.unavailable_body),
            ErrorKind::BadGateway => (t.bad_gateway_title, t.bad_gateway_body),
            ErrorKind::Internal => (t.internal_title, t.internal_body),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, kind) = match &self {
            AppError::NotFound => (StatusCode::NOT_FOUND, ErrorKind::NotFound),
            AppError::BadRequest(reason) => {
                tracing::info!(%reason, "bad request");
                (StatusCode::BAD_REQUEST, ErrorKind::BadRequest)
            }
            AppError::Forbidden => (StatusCode::FORBIDDEN, ErrorKind::Forbidden),
            AppError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, ErrorKind::BadRequest),
            AppError::TooManyRequests => {
                (StatusCode::TOO_MANY_REQUESTS, ErrorKind::TooManyRequests)
            }
            AppError::TooManyLogins => (StatusCode::SERVICE_UNAVAILABLE, ErrorKind::TooManyLogins),
            AppError::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, ErrorKind::Timeout),
            AppError::UpstreamUnavailable => (StatusCode::BAD_GATEWAY, ErrorKind::BadGateway),
            AppError::UpstreamTimeout => (StatusCode::GATEWAY_TIMEOUT, ErrorKind::Timeout),
            AppError::DatabaseUnavailable(cause) => {
                tracing::error!(error = %cause, "database unavailable");
                (StatusCode::SERVICE_UNAVAILABLE, ErrorKind::Unavailable)
            }
            AppError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, ErrorKind::Internal)
            }
        };
        let mut response = status.into_response();
        if kind == ErrorKind::Unavailable {
            // Browsers ignore it, but API clients and monitors learn when to ask again.
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response.extensions_mut().insert(kind);
        response
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: PageChrome,
    title: &'a str,
    body: &'a str,
    request_id: &'a str,
    status: u16,
}

/// Renders an error body for kepgate's own responses that have none.
pub async fn render_error_pages(State(web): State<Web>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let wants_json = wants_json(&parts);
    // Only what an error page needs is kept (cheap clones); the page frame itself is built only
    // when there is an error to show, not on every request (the proxy's hot path runs here too).
    let uri = parts.uri.clone();
    let mut page_headers = axum::http::HeaderMap::new();
    for name in [
        axum::http::header::COOKIE,
        axum::http::header::ACCEPT_LANGUAGE,
    ] {
        for value in parts.headers.get_all(&name) {
            page_headers.append(name.clone(), value.clone());
        }
    }
    let request_id = parts
        .extensions
        .get::<RequestId>()
        .map(|id| id.0.clone())
        .unwrap_or_default();
    let response = next.run(Request::from_parts(parts, body)).await;

    let status = response.status();
    if response.extensions().get::<FromUpstream>().is_some() {
        return response;
    }
    let marked = response.extensions().get::<ErrorKind>().copied();
    // Framework rejections (tower-http limits and timeouts, axum extractor errors) come bare or
    // as text/plain; kepgate's own handlers never answer errors that way, so those get a page.
    let is_bare = response
        .headers()
        .get(CONTENT_TYPE)
        .is_none_or(|ct| ct.as_bytes().starts_with(b"text/plain"));
    let kind = marked.or_else(|| {
        (is_bare && (status.is_client_error() || status.is_server_error()))
            .then(|| ErrorKind::from_status(status))
            .flatten()
    });
    let Some(kind) = kind else { return response };

    let (mut page_parts, ()) = Request::builder()
        .uri(uri)
        .body(())
        .unwrap_or_default()
        .into_parts();
    page_parts.headers = page_headers;
    let chrome = PageChrome::from_parts(&page_parts, &web.settings);
    let (title, text) = kind.texts(chrome.t);
    let mut rendered = if wants_json {
        Json(json!({ "error": kind.code(), "message": title, "request_id": request_id }))
            .into_response()
    } else {
        let page = ErrorPage {
            chrome,
            title,
            body: text,
            request_id: &request_id,
            status: status.as_u16(),
        };
        match page.render() {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "rendering the error page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    };
    *rendered.status_mut() = status;
    // Keep headers the original response set (Retry-After, Allow, …), but not its length.
    // Nor its encoding: the body is replaced by an uncompressed page, and a `gzip` label left
    // from a compressed framework rejection made browsers show a decoding error.
    let (mut parts, _original_body) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.remove(axum::http::header::CONTENT_ENCODING);
    for (name, value) in rendered.headers() {
        parts.headers.insert(name, value.clone());
    }
    parts
        .headers
        .insert("cache-control", HeaderValue::from_static("no-store"));
    Response::from_parts(parts, rendered.into_body())
}

/// JSON for API clients (Accept names JSON before HTML), HTML for browsers.
fn wants_json(parts: &axum::http::request::Parts) -> bool {
    let accept = parts
        .headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json_at = accept.find("application/json");
    let html_at = accept.find("text/html");
    match (json_at, html_at) {
        (Some(j), Some(h)) => j < h,
        (Some(_), None) => true,
        _ => false,
    }
}
