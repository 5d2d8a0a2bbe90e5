//! Probes for orchestrators: `healthz` says the process serves, `readyz` that it can do its job.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

pub async fn healthz() -> Response {
    (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response()
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let limit = state
        .settings
        .database
        .acquire_timeout
        .min(Duration::from_secs(2));
    match crate::database::ping(&state.db, limit).await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": "ok" })),
        )
            .into_response(),
        Err(cause) => {
            tracing::warn!(%cause, "not ready: database unreachable");
            metrics::counter!("kepgate_readiness_failures_total").increment(1);
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "unreachable" })),
            )
                .into_response()
        }
    }
}
