//! One error type for every handler. Its `IntoResponse` logs the cause and leaves only a marker
//! ([`ErrorKind`]) on an empty response; `error_pages` turns the marker into the page. The
//! cause never reaches the user: a 500 says only "internal error" and the request id.

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

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

/// The system's random source failed (a token, a nonce, a key could not be made): a 500, the
/// cause in the log only.
impl From<getrandom::Error> for AppError {
    fn from(error: getrandom::Error) -> Self {
        AppError::Internal(anyhow::anyhow!("no randomness: {error}"))
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
    pub(super) fn from_status(status: StatusCode) -> Option<Self> {
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
    pub(super) fn code(self) -> &'static str {
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

    pub(super) fn texts(self, t: &'static Texts) -> (&'static str, &'static str) {
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
