//! The JSON a provider's callback is answered with when it is refused or cannot be recorded,
//! counted by outcome (`kepgate_callbacks_total`).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub fn answer(status: StatusCode, reason: &str, message: &str, provider: &str) -> Response {
    metrics::counter!("kepgate_callbacks_total", "provider" => provider.to_owned(), "outcome" => reason.to_owned())
        .increment(1);
    (
        status,
        Json(json!({ "success": false, "reason": reason, "message": message })),
    )
        .into_response()
}
