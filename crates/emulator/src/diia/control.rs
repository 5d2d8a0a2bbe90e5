//! Emulator-only routes under `/emulator/`: what tests, scripts and load tests use to steer it
//! (answer as the phone, expire tokens, fetch the CA, inject faults).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::api::{ApiError, parse_json};
use super::callback::{AnswerError, answer};
use super::identities::TestIdentity;
use super::state::{Answer, Faults, RequestView, Shared};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/emulator/tokens/expire", post(expire_tokens))
        .route("/emulator/ca.pem", get(ca_pem))
        .route("/emulator/requests", get(list_requests))
        .route("/emulator/requests/{n}", get(get_request))
        .route("/emulator/requests/{n}/confirm", post(confirm))
        .route("/emulator/requests/{n}/decline", post(decline))
        .route("/emulator/faults", get(get_faults).post(set_faults))
        .route("/emulator/faults/held", get(held_requests))
        .route("/emulator/static/phone.css", get(stylesheet))
}

/// `POST /emulator/tokens/expire`: every session token issued so far stops working.
async fn expire_tokens(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let mut inner = shared.lock();
    let expired = inner.tokens.len();
    inner.tokens.clear();
    Json(json!({ "expired": expired }))
}

/// `GET /emulator/ca.pem`: the certificate a gateway must trust for emulated logins.
async fn ca_pem(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(CONTENT_TYPE, "application/x-pem-file")],
        shared.ca_pem.clone(),
    )
        .into_response()
}

pub(crate) fn parse_n(n: &str) -> Result<u64, ApiError> {
    n.parse()
        .map_err(|_| ApiError::not_found("no such request"))
}

async fn list_requests(State(shared): State<Arc<Shared>>) -> Json<Vec<RequestView>> {
    Json(shared.lock().requests.values().map(|r| r.view()).collect())
}

async fn get_request(
    State(shared): State<Arc<Shared>>,
    Path(n): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    let n = parse_n(&n)?;
    shared
        .lock()
        .requests
        .get(&n)
        .map(|r| Json(r.view()))
        .ok_or_else(|| ApiError::not_found("no such request"))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    #[serde(default)]
    identity: TestIdentity,
}

/// `POST /emulator/requests/{n}/confirm` `{"identity": "person"|"director"}` (body optional).
async fn confirm(
    State(shared): State<Arc<Shared>>,
    Path(n): Path<String>,
    body: Bytes,
) -> Response {
    let body: ConfirmBody = if body.iter().all(u8::is_ascii_whitespace) {
        ConfirmBody::default()
    } else {
        match parse_json(&body) {
            Ok(b) => b,
            Err(e) => return e.into_response(),
        }
    };
    answer_json(&shared, &n, Answer::Confirm(body.identity)).await
}

/// `POST /emulator/requests/{n}/decline`.
async fn decline(State(shared): State<Arc<Shared>>, Path(n): Path<String>) -> Response {
    answer_json(&shared, &n, Answer::Decline).await
}

/// Answers and reports the request afterwards, including what the partner said.
async fn answer_json(shared: &Shared, n: &str, what: Answer) -> Response {
    let n = match parse_n(n) {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    match answer(shared, n, what).await {
        Ok(view) => Json(view).into_response(),
        Err(AnswerError::NotFound) => ApiError::not_found("no such request").into_response(),
        Err(AnswerError::AlreadyAnswered(view)) => (
            StatusCode::CONFLICT,
            Json(json!({
                "message": "this request has already been answered",
                "request": view,
            })),
        )
            .into_response(),
    }
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> Json<Faults> {
    Json(shared.lock().faults)
}

/// `GET /emulator/faults/held`: how many dynamic requests the `slow` fault holds now.
async fn held_requests(State(shared): State<Arc<Shared>>) -> Json<usize> {
    Json(
        shared
            .held_requests
            .load(std::sync::atomic::Ordering::SeqCst),
    )
}

/// `POST /emulator/faults` `{"dynamic": "ok"|"error500"|"slow"|"garbage", "slowMs"?}`.
async fn set_faults(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<Faults>, ApiError> {
    let faults: Faults = parse_json(&body)?;
    shared.lock().faults = faults;
    tracing::info!(?faults, "emulator faults set");
    Ok(Json(faults))
}

/// Compiled in, like the gateway's stylesheet: the emulator needs no files at run time.
async fn stylesheet() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/emulator-phone.css"),
    )
}
