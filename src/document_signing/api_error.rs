//! The signing API's errors as the cabinet reads them: JSON `{"error": <code>, "message":
//! <text>}` with a 4xx status. Whatever is not the caller's to fix goes through the one error
//! pipeline instead ([`AppError`]: an opaque 500 or 503, the cause in the log).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::error::AppError;

#[derive(Debug)]
pub enum ApiError {
    Refused {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    App(AppError),
}

impl ApiError {
    pub fn refused(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Refused {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::refused(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found() -> Self {
        Self::refused(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such signing request for this person",
        )
    }
}

impl ApiError {
    /// For a page rather than the API: the error page of the same kind.
    pub fn into_app_error(self) -> AppError {
        match self {
            ApiError::Refused { status, .. } if status == StatusCode::TOO_MANY_REQUESTS => {
                AppError::TooManyRequests
            }
            ApiError::Refused { message, .. } => AppError::BadRequest(message),
            ApiError::App(e) => e,
        }
    }
}

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError::App(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Refused {
                status,
                code,
                message,
            } => (status, Json(json!({ "error": code, "message": message }))).into_response(),
            ApiError::App(e) => e.into_response(),
        }
    }
}
