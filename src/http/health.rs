//! Probes for orchestrators: `healthz` says the process serves, `readyz` that it can do its job.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::error::AppError;
use crate::state::AppState;

/// How long a probe (or a page's check) waits for the database: the pool's acquire timeout,
/// at most 2 s, so an orchestrator's probe timeout is never the one that fires.
fn probe_limit(state: &AppState) -> Duration {
    state
        .settings
        .database
        .acquire_timeout
        .min(Duration::from_secs(2))
}

/// For pages that run no query of their own (the login page, the redirect to it): 503 while
/// the database is away, rather than a login form that cannot work. While the LISTEN connection
/// is up the database counts as reachable (its loss is noticed at once); only otherwise does
/// one `SELECT 1` decide, so the check costs nothing in normal operation.
pub async fn database_reachable(state: &AppState) -> Result<(), AppError> {
    if state.login_events.listening() {
        return Ok(());
    }
    match tokio::time::timeout(probe_limit(state), crate::database::check(&state.db)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(AppError::from(e)),
        Err(_) => Err(AppError::DatabaseUnavailable(sqlx::Error::PoolTimedOut)),
    }
}

pub async fn healthz() -> Response {
    (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response()
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    match crate::database::ping(&state.db, probe_limit(&state)).await {
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
