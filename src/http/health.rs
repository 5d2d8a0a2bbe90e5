//! Probes for orchestrators: `healthz` says the process serves, `readyz` that it can do its job.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::context::Web;

pub async fn healthz() -> Response {
    (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response()
}

pub async fn readyz(State(web): State<Web>) -> Response {
    if web.stopping.is_announced() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "stopping" })),
        )
            .into_response();
    }
    match web.database_ready().await {
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
