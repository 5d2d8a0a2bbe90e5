//! Emulator-only routes under `/emulator/`, for tests and scripts: faults of the token and
//! user-info calls, user-info values of a test's choosing, expiring codes and tokens, and what
//! clients sent.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::params::RecordedRequest;
use super::state::{Faults, Shared};
use super::wire::{ApiError, ErrorCode};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/emulator/faults",
            get(get_faults).post(set_faults).delete(clear_faults),
        )
        .route(
            "/emulator/requests",
            get(list_requests).delete(clear_requests),
        )
        .route(
            "/emulator/user-info",
            post(set_user_info_overrides).delete(clear_user_info_overrides),
        )
        .route("/emulator/codes/expire", post(expire_codes))
        .route("/emulator/tokens/expire", post(expire_tokens))
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> Json<Faults> {
    Json(shared.lock().faults)
}

/// `POST /emulator/faults` `{"delay_ms": 0, "fail_status": 503, "logout_delay_ms": 0}` (each
/// optional).
async fn set_faults(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<Faults>, ApiError> {
    let faults: Faults = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(ErrorCode::BadRequest, format!("Некоректний JSON: {e}")))?;
    if let Some(status) = faults.fail_status
        && !(400..=599).contains(&status)
    {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "fail_status має бути кодом помилки HTTP (400–599)",
        ));
    }
    shared.lock().faults = faults;
    tracing::info!(?faults, "id.gov.ua emulator faults set");
    Ok(Json(faults))
}

/// `DELETE /emulator/faults`: back to normal.
async fn clear_faults(State(shared): State<Arc<Shared>>) -> Json<Faults> {
    let faults = Faults::default();
    shared.lock().faults = faults;
    Json(faults)
}

/// `POST /emulator/user-info` `{"subjectcn": "…", "o": "…"}`: every later user-info answer
/// carries these values in those fields (when they are asked for), whoever signed in; any text
/// at all, so a test can send what a hostile or broken id.gov.ua would.
async fn set_user_info_overrides(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<BTreeMap<String, String>>, ApiError> {
    let overrides: BTreeMap<String, String> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("Очікується JSON-об'єкт рядків: {e}"),
        )
    })?;
    shared.lock().user_info_overrides = overrides.clone();
    Ok(Json(overrides))
}

/// `DELETE /emulator/user-info`: the people's own values again.
async fn clear_user_info_overrides(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let cleared = std::mem::take(&mut shared.lock().user_info_overrides).len();
    Json(json!({ "cleared": cleared }))
}

/// `GET /emulator/requests`: the last token, user-info and logout requests, oldest first,
/// with parameter names only.
async fn list_requests(State(shared): State<Arc<Shared>>) -> Json<Vec<RecordedRequest>> {
    Json(shared.lock().requests.iter().cloned().collect())
}

async fn clear_requests(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let mut inner = shared.lock();
    let cleared = inner.requests.len();
    inner.requests.clear();
    Json(json!({ "cleared": cleared }))
}

/// `POST /emulator/codes/expire`: every code issued so far is past its lifetime.
async fn expire_codes(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let now = Instant::now();
    let mut inner = shared.lock();
    for grant in inner.codes.values_mut() {
        grant.expires_at = grant.expires_at.min(now);
    }
    Json(json!({ "expired": inner.codes.len() }))
}

/// `POST /emulator/tokens/expire`: every access token issued so far stops working.
async fn expire_tokens(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let mut inner = shared.lock();
    let expired = inner.tokens.len();
    inner.tokens.clear();
    Json(json!({ "expired": expired }))
}
