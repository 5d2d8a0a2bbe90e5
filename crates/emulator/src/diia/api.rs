//! Diia's partner API as the acquirer SDKs call it: same paths, same JSON.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::state::{
    Action, Branch, DynamicFault, FileToSign, HeldRequest, Offer, PhoneRequest, Progress, Shared,
    SignAlgo, random_hex,
};
use super::wire::{
    BRANCH_PATH, BranchRequest, DeeplinkResponse, DynamicOfferRequest, ErrorResponse,
    HashedFilesSigning, IdResponse, OfferRequest, Scopes, TokenResponse,
};
use crate::clock;

/// The path of the deeplink (and of the phone page), relative to `public_base_url`.
pub(crate) const DEEPLINK_PREFIX: &str = "acquirers/offer-request/dynamic/";

pub(crate) fn routes(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    // Branch ids share one parameter name: the router refuses different names at one segment.
    let protected = Router::new()
        .route(BRANCH_PATH, post(create_branch))
        .route(
            "/api/v2/acquirers/branch/{id}",
            get(get_branch).put(update_branch).delete(delete_branch),
        )
        .route("/api/v2/acquirers/branches", get(list_branches))
        .route("/api/v1/acquirers/branch/{id}/offer", post(create_offer))
        .route("/api/v1/acquirers/branch/{id}/offers", get(list_offers))
        .route(
            "/api/v1/acquirers/branch/{id}/offer/{offer_id}",
            delete(delete_offer),
        )
        .route(
            "/api/v2/acquirers/branch/{id}/offer-request/dynamic",
            post(create_dynamic_request),
        )
        .route_layer(from_fn_with_state(shared, require_bearer));
    Router::new()
        .route("/api/v1/auth/acquirer/{acquirer_token}", get(issue_token))
        .merge(protected)
        // Outermost, so axum's own refusals (405, 413) come out in Diia's shape too.
        .layer(axum::middleware::map_response(errors_as_json))
}

/// An answer in Diia's error shape, `{"name", "message", "code"}` ([`ErrorResponse`]).
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

/// The error class names of Diia's Node back end, by status.
fn error_name(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "BadRequestError",
        StatusCode::UNAUTHORIZED => "UnauthorizedError",
        StatusCode::FORBIDDEN => "AccessDeniedError",
        StatusCode::NOT_FOUND => "NotFoundError",
        StatusCode::METHOD_NOT_ALLOWED => "MethodNotAllowedError",
        StatusCode::PAYLOAD_TOO_LARGE => "PayloadTooLargeError",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UnsupportedMediaTypeError",
        s if s.is_server_error() => "InternalServerError",
        _ => "ApiError",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorResponse {
                name: error_name(self.status),
                message: self.message,
                code: self.status.as_u16(),
            }),
        )
            .into_response()
    }
}

/// Rewrites any error answer that is not JSON yet (axum's plain 405, 413, …) into Diia's shape.
async fn errors_as_json(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let message = status.canonical_reason().unwrap_or("error").to_owned();
    let mut answer = ApiError::new(status, message).into_response();
    // 405 must keep its Allow header.
    for (name, value) in response.headers() {
        if name != CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("no such route on the Diia emulator")
}

/// Bodies are parsed by hand so that malformed JSON gets Diia's 400 in its error shape rather
/// than axum's plain-text 415/422.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

/// [`parse_json`] of a partner API body. Every SDK declares `application/json`; another declared
/// type is refused with 415 in Diia's shape.
fn parse_json_request<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, ApiError> {
    let declared = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if let Some(mime) = declared
        && mime != "application/json"
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type must be application/json, got {mime:?}"),
        ));
    }
    parse_json(body)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Every partner call but the token one needs a live session token, else 401 (the adapter's
/// cue to fetch a new token and retry once).
async fn require_bearer(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let valid = bearer(request.headers()).is_some_and(|token| {
        shared
            .lock()
            .tokens
            .get(token)
            .is_some_and(|expires| *expires > Instant::now())
    });
    if !valid {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing, unknown or expired session token",
        )
        .into_response();
    }
    next.run(request).await
}

/// Comparison that does not stop at the first differing byte (the tokens are secrets).
fn same_secret(a: &str, b: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()).into()
}

/// `GET /api/v1/auth/acquirer/{acquirer_token}` → `{"token"}`.
async fn issue_token(
    State(shared): State<Arc<Shared>>,
    Path(acquirer_token): Path<String>,
    headers: HeaderMap,
) -> Result<Json<TokenResponse>, ApiError> {
    let settings = &shared.settings;
    if let Some(expected) = &settings.auth_acquirer_token {
        let given = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .map(str::trim);
        if !given.is_some_and(|g| same_secret(g, expected)) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Authorization: Basic <auth_acquirer_token> is missing or wrong",
            ));
        }
    }
    if !same_secret(&acquirer_token, &settings.acquirer_token) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "unknown acquirer token",
        ));
    }
    let token = random_hex(32).map_err(|e| ApiError::internal(e.to_string()))?;
    let now = Instant::now();
    // A TTL too large for Instant (absurd configuration) is treated as "never expires" in
    // practice: ten years.
    let expires = now
        .checked_add(settings.token_ttl)
        .or_else(|| now.checked_add(Duration::from_secs(10 * 365 * 24 * 3600)))
        .unwrap_or(now);
    let mut inner = shared.lock();
    // Forget expired tokens so a long-running emulator does not grow without bound.
    inner.tokens.retain(|_, exp| *exp > now);
    inner.tokens.insert(token.clone(), expires);
    Ok(Json(TokenResponse { token }))
}

/// A required text field: absent, `null` and blank are all "required".
fn require_text<'a>(field: &str, value: &'a Option<String>) -> Result<&'a str, ApiError> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ApiError::bad_request(format!("{field} is required"))),
    }
}

/// The emulator serves Diia.Signature only: a branch or offer must ask for logins, for signing
/// file hashes, or both.
fn diia_id_scope(scopes: &Scopes) -> bool {
    scopes.has_auth() || scopes.has_signing()
}

const DIIA_ID_SCOPE_REQUIRED: &str =
    "scopes.diiaId must contain \"auth\" or \"hashedFilesSigning\"";

/// An optional text field: absent or `null` is fine, but given it must say something.
fn optional_text(field: &str, value: &Option<String>) -> Result<(), ApiError> {
    match value {
        Some(v) if v.trim().is_empty() => Err(ApiError::bad_request(format!(
            "{field} must not be empty when given"
        ))),
        _ => Ok(()),
    }
}

/// `local@domain` with no spaces: enough to catch a field filled with something else (the
/// Python SDK's model asks 6 to 100 characters and nothing more).
fn looks_like_email(value: &str) -> bool {
    let value = value.trim();
    match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !value.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn validate_branch(b: &BranchRequest) -> Result<(), ApiError> {
    for (field, value) in [
        ("name", &b.name),
        ("location", &b.location),
        ("street", &b.street),
        ("house", &b.house),
    ] {
        require_text(field, value)?;
    }
    for (field, value) in [
        ("email", &b.email),
        ("region", &b.region),
        ("district", &b.district),
    ] {
        optional_text(field, value)?;
    }
    if b.email.as_deref().is_some_and(|e| !looks_like_email(e)) {
        return Err(ApiError::bad_request("email is not an e-mail address"));
    }
    if !b.delivery_types.iter().flatten().any(|t| t == "api") {
        return Err(ApiError::bad_request(
            "deliveryTypes must contain \"api\" (the emulator delivers by callback only)",
        ));
    }
    if b.offer_request_type.as_deref() != Some("dynamic") {
        return Err(ApiError::bad_request(
            "offerRequestType must be \"dynamic\"",
        ));
    }
    if !b.scopes.as_ref().is_some_and(diia_id_scope) {
        return Err(ApiError::bad_request(DIIA_ID_SCOPE_REQUIRED));
    }
    Ok(())
}

/// `POST /api/v2/acquirers/branch` → `{"_id"}`.
async fn create_branch(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IdResponse>, ApiError> {
    let request: BranchRequest = parse_json_request(&headers, &body)?;
    validate_branch(&request)?;
    let id = random_hex(12).map_err(|e| ApiError::internal(e.to_string()))?;
    shared.lock().branches.push(Branch {
        id: id.clone(),
        request,
    });
    Ok(Json(IdResponse { id }))
}

/// A stored body as the SDKs read it back: the fields as written plus `_id`.
fn with_id(request: &impl serde::Serialize, id: &str) -> serde_json::Value {
    let mut value = serde_json::to_value(request).unwrap_or_else(|_| json!({}));
    if let Some(map) = value.as_object_mut() {
        map.insert("_id".to_owned(), json!(id));
    }
    value
}

fn branch_json(b: &Branch) -> serde_json::Value {
    with_id(&b.request, &b.id)
}

/// `GET /api/v2/acquirers/branch/{id}` → the branch with its `_id`.
async fn get_branch(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let inner = shared.lock();
    let branch = inner
        .branch(&id)
        .ok_or_else(|| ApiError::not_found("branch not found"))?;
    Ok(Json(branch_json(branch)))
}

/// `PUT /api/v2/acquirers/branch/{id}` replaces the branch's fields → `{"_id"}`.
async fn update_branch(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IdResponse>, ApiError> {
    let request: BranchRequest = parse_json_request(&headers, &body)?;
    validate_branch(&request)?;
    let mut inner = shared.lock();
    let branch = inner
        .branches
        .iter_mut()
        .find(|b| b.id == id)
        .ok_or_else(|| ApiError::not_found("branch not found"))?;
    branch.request = request;
    Ok(Json(IdResponse { id }))
}

/// `DELETE /api/v2/acquirers/branch/{id}` → `{"success": true}`; its offers go with it.
async fn delete_branch(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut inner = shared.lock();
    let before = inner.branches.len();
    inner.branches.retain(|b| b.id != id);
    if inner.branches.len() == before {
        return Err(ApiError::not_found("branch not found"));
    }
    inner.offers.retain(|o| o.branch_id != id);
    Ok(Json(json!({ "success": true })))
}

/// `?skip&limit`, each optional and possibly empty: the .NET SDK writes `skip=&limit=` when the
/// caller passes none (`queryString.Add("skip", skip.ToString())` of a null `long?`).
struct Page {
    skip: usize,
    limit: usize,
}

impl Page {
    fn read(query: &HashMap<String, String>) -> Result<Page, ApiError> {
        let number = |key: &str, default: usize| match query.get(key).map(|v| v.trim()) {
            None | Some("") => Ok(default),
            Some(v) => v.parse::<usize>().map_err(|_| {
                ApiError::bad_request(format!("{key} must be a non-negative integer, got {v:?}"))
            }),
        };
        Ok(Page {
            skip: number("skip", 0)?,
            limit: number("limit", 100)?,
        })
    }
}

/// `GET /api/v2/acquirers/branches?skip&limit` → `{"total", "branches"}`.
async fn list_branches(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let page = Page::read(&query)?;
    let inner = shared.lock();
    let branches: Vec<_> = inner
        .branches
        .iter()
        .skip(page.skip)
        .take(page.limit)
        .map(branch_json)
        .collect();
    Ok(Json(
        json!({ "total": inner.branches.len(), "branches": branches }),
    ))
}

/// `GET /api/v1/acquirers/branch/{branchId}/offers?skip&limit` → `{"total", "offers"}`, in
/// creation order.
async fn list_offers(
    State(shared): State<Arc<Shared>>,
    Path(branch_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let page = Page::read(&query)?;
    let inner = shared.lock();
    if inner.branch(&branch_id).is_none() {
        return Err(ApiError::not_found("branch not found"));
    }
    let all: Vec<_> = inner
        .offers
        .iter()
        .filter(|o| o.branch_id == branch_id)
        .collect();
    let offers: Vec<_> = all
        .iter()
        .skip(page.skip)
        .take(page.limit)
        .map(|o| with_id(&o.request, &o.id))
        .collect();
    Ok(Json(json!({ "total": all.len(), "offers": offers })))
}

/// `DELETE /api/v1/acquirers/branch/{branchId}/offer/{offerId}` → `{"success": true}`.
async fn delete_offer(
    State(shared): State<Arc<Shared>>,
    Path((branch_id, offer_id)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut inner = shared.lock();
    if inner.offer(&branch_id, &offer_id).is_none() {
        return Err(ApiError::not_found("offer not found in this branch"));
    }
    inner.offers.retain(|o| o.id != offer_id);
    Ok(Json(json!({ "success": true })))
}

/// `POST /api/v1/acquirers/branch/{branchId}/offer` → `{"_id"}`.
async fn create_offer(
    State(shared): State<Arc<Shared>>,
    Path(branch_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IdResponse>, ApiError> {
    let request: OfferRequest = parse_json_request(&headers, &body)?;
    require_text("name", &request.name)?;
    if !request.scopes.as_ref().is_some_and(diia_id_scope) {
        return Err(ApiError::bad_request(DIIA_ID_SCOPE_REQUIRED));
    }
    let id = random_hex(12).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut inner = shared.lock();
    if inner.branch(&branch_id).is_none() {
        return Err(ApiError::not_found("branch not found"));
    }
    inner.offers.push(Offer {
        id: id.clone(),
        branch_id,
        request,
    });
    Ok(Json(IdResponse { id }))
}

/// `POST /api/v2/acquirers/branch/{branchId}/offer-request/dynamic` → `{"deeplink"}`.
async fn create_dynamic_request(
    State(shared): State<Arc<Shared>>,
    Path(branch_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let faults = shared.lock().faults;
    match faults.dynamic {
        DynamicFault::Ok => {}
        DynamicFault::Error500 => {
            return Err(ApiError::internal("emulated fault: internal server error"));
        }
        DynamicFault::Slow => {
            let _held = HeldRequest::new(&shared.held_requests);
            tokio::time::sleep(Duration::from_millis(faults.slow_ms)).await;
        }
        DynamicFault::Garbage => {
            return Ok((
                StatusCode::OK,
                [(CONTENT_TYPE, "text/html; charset=utf-8")],
                "<html><body>502 Bad Gateway (emulated garbage)</body></html>",
            )
                .into_response());
        }
    }

    let request: DynamicOfferRequest = parse_json_request(&headers, &body)?;
    let sign_algo = SignAlgo::from_wire(request.sign_algo.as_deref()).ok_or_else(|| {
        ApiError::bad_request(format!(
            "signAlgo must be \"DSTU\" or \"ECDSA\" (or absent for DSTU), got {:?}",
            request.sign_algo.as_deref().unwrap_or_default()
        ))
    })?;
    let signing = request
        .data
        .as_ref()
        .and_then(|d| d.hashed_files_signing.as_ref());
    let action = match signing {
        None => Action::Auth {
            hash: auth_hash(&request.request_id, sign_algo)?,
        },
        Some(signing) => {
            check_signing_request_id(&request.request_id)?;
            Action::Signing {
                files: files_to_sign(signing, sign_algo)?,
            }
        }
    };

    let mut inner = shared.lock();
    let branch = inner
        .branch(&branch_id)
        .ok_or_else(|| ApiError::not_found("branch not found"))?;
    let branch_name = branch.request.name.clone().unwrap_or_default();
    let offer = inner
        .offer(&branch_id, &request.offer_id)
        .ok_or_else(|| ApiError::not_found("offer not found in this branch"))?;
    if matches!(action, Action::Signing { .. })
        && !offer
            .request
            .scopes
            .as_ref()
            .is_some_and(Scopes::has_signing)
    {
        return Err(ApiError::bad_request(
            "this offer's scopes.diiaId lack \"hashedFilesSigning\": it cannot ask to sign files",
        ));
    }
    let offer_name = offer.request.name.clone().unwrap_or_default();
    let return_link = request
        .return_link
        .clone()
        .or_else(|| offer.request.return_link.clone());
    inner.last_n += 1;
    let n = inner.last_n;
    let kind = action.kind();
    let deeplink = shared
        .settings
        .public_base_url
        .join(&format!("{DEEPLINK_PREFIX}{n}"))
        .map_err(|e| ApiError::internal(format!("cannot build the deeplink: {e}")))?;
    inner.requests.insert(
        n,
        PhoneRequest {
            n,
            request_id: request.request_id,
            action,
            sign_algo,
            offer_name,
            branch_name,
            return_link,
            created_at: clock::now(),
            progress: Progress::Waiting,
        },
    );
    drop(inner);
    tracing::info!(n, %deeplink, ?sign_algo, ?kind, "new phone request");
    Ok(Json(DeeplinkResponse {
        deeplink: deeplink.into(),
    })
    .into_response())
}

/// An authorization's `requestId`: base64 of a 32-byte hash (GOST 34.311 and SHA-256 alike).
fn auth_hash(request_id: &str, sign_algo: SignAlgo) -> Result<Vec<u8>, ApiError> {
    BASE64
        .decode(request_id.trim())
        .ok()
        .filter(|h| h.len() == 32)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "requestId must be base64 of a 32-byte {} hash of the partner's own id",
                sign_algo.hash_name()
            ))
        })
}

/// The longest signing `requestId` accepted: ids are UUIDs in every SDK example, and it goes
/// back as a header.
const MAX_SIGNING_REQUEST_ID: usize = 128;
/// Diia's limits are undocumented; these keep the phone page and the callback bounded.
const MAX_FILES: usize = 100;
const MAX_FILE_NAME_CHARS: usize = 255;

/// A signing `requestId` is sent as is (Java `getSignDeepLink` passes it unhashed, PHP's test
/// uses a UUID) and comes back in `X-Document-Request-Trace-Id`: printable ASCII only.
fn check_signing_request_id(request_id: &str) -> Result<(), ApiError> {
    let printable = request_id.bytes().all(|b| (0x20..=0x7e).contains(&b));
    if request_id.trim().is_empty() || request_id.len() > MAX_SIGNING_REQUEST_ID || !printable {
        return Err(ApiError::bad_request(format!(
            "requestId of a signing request must be 1 to {MAX_SIGNING_REQUEST_ID} printable ASCII characters"
        )));
    }
    Ok(())
}

fn files_to_sign(
    signing: &HashedFilesSigning,
    sign_algo: SignAlgo,
) -> Result<Vec<FileToSign>, ApiError> {
    let files = signing.hashed_files.as_deref().unwrap_or_default();
    if files.is_empty() {
        return Err(ApiError::bad_request(
            "data.hashedFilesSigning.hashedFiles must name at least one file",
        ));
    }
    if files.len() > MAX_FILES {
        return Err(ApiError::bad_request(format!(
            "data.hashedFilesSigning.hashedFiles holds {} files; at most {MAX_FILES} are signed at once",
            files.len()
        )));
    }
    files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let name = file
                .file_name
                .as_deref()
                .filter(|n| !n.trim().is_empty() && n.chars().count() <= MAX_FILE_NAME_CHARS)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "hashedFiles[{i}].fileName must be 1 to {MAX_FILE_NAME_CHARS} characters"
                    ))
                })?;
            let hash = file
                .file_hash
                .as_deref()
                .and_then(|h| BASE64.decode(h).ok())
                .filter(|h| h.len() == 32)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "hashedFiles[{i}].fileHash must be base64 of the file's 32-byte {} hash",
                        sign_algo.hash_name()
                    ))
                })?;
            Ok(FileToSign {
                name: name.to_owned(),
                hash,
            })
        })
        .collect()
}
