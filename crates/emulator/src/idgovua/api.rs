//! The calls a relying party's server makes: `/get-access-token`, `/get-user-info` and
//! `/get-user-logout`, each by GET or POST with the parameters anywhere (`params.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::params::{Params, collect};
use super::people::user_info;
use super::state::{Session, Shared, deadline, random_hex};
use super::wire::{ApiError, ErrorCode, LogoutResponse, TokenResponse};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/get-access-token", get(token).post(token))
        .route("/get-user-info", get(info).post(info))
        .route("/get-user-logout", get(logout).post(logout))
}

/// A JSON answer that no cache keeps (it carries tokens or personal data).
fn no_store(body: impl Serialize) -> Response {
    ([(CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// Records the request, then reads its parameters.
fn read(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Params, ApiError> {
    let (record, params) = collect(method, uri, headers, body);
    shared.lock().record(record);
    params
}

/// The faults of `POST /emulator/faults`: first the delay, then the failure.
async fn misbehave(shared: &Shared) -> Result<(), ApiError> {
    let faults = shared.lock().faults;
    if faults.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.delay_ms)).await;
    }
    match faults
        .fail_status
        .and_then(|s| StatusCode::from_u16(s).ok())
    {
        Some(status) => Err(ApiError::new(
            ErrorCode::InjectedFault,
            format!("Емульований збій: відповідь {status}"),
        )
        .with_status(status)),
        None => Ok(()),
    }
}

/// Comparison that does not stop at the first differing byte (client secrets).
fn same_secret(a: &str, b: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()).into()
}

/// An optional parameter: absent and empty are the same.
fn optional<'a>(params: &'a Params, name: &str) -> Result<Option<&'a str>, ApiError> {
    Ok(params.get(name)?.filter(|v| !v.trim().is_empty()))
}

fn internal(e: getrandom::Error) -> ApiError {
    ApiError::internal(format!("Немає випадкових чисел: {e}"))
}

/// `/get-access-token`: `grant_type=authorization_code`, `client_id`, `client_secret`, `code`,
/// optionally `redirect_uri` → `{"access_token", "token_type", "expires_in", "refresh_token",
/// "user_id"}`.
async fn token(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = read(&shared, &method, &uri, &headers, &body);
    if let Err(e) = misbehave(&shared).await {
        return e.into_response();
    }
    match params.and_then(|p| exchange(&shared, &p)) {
        Ok(answer) => no_store(answer),
        Err(e) => e.into_response(),
    }
}

fn exchange(shared: &Shared, params: &Params) -> Result<TokenResponse, ApiError> {
    let grant_type = params.require("grant_type")?;
    if grant_type != "authorization_code" {
        // refresh_token included: no public source shows the real service honouring it.
        return Err(ApiError::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type «{grant_type}» не підтримується; очікується authorization_code"),
        ));
    }
    let client_id = params.require("client_id")?;
    let client_secret = params.require("client_secret")?;
    let code = params.require("code")?;
    let redirect_uri = optional(params, "redirect_uri")?;
    let client = shared
        .settings
        .client(client_id)
        .filter(|c| same_secret(client_secret, &c.client_secret))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidClient,
                "Невідомий client_id або неправильний client_secret",
            )
        })?;
    let access_token = random_hex(32).map_err(internal)?;
    let refresh_token = random_hex(32).map_err(internal)?;
    let now = Instant::now();
    let mut inner = shared.lock();
    let invalid = |why: &str| ApiError::new(ErrorCode::InvalidCode, why);
    let grant = inner
        .codes
        .get_mut(code)
        .filter(|g| g.client_id == client.client_id)
        .ok_or_else(|| invalid("Код авторизації не знайдено"))?;
    if grant.expires_at <= now {
        return Err(invalid("Строк дії коду авторизації минув"));
    }
    if grant.used {
        // RFC 6749 §4.1.2: a replayed code revokes what it was exchanged for.
        inner.tokens.retain(|_, s| s.code != code);
        return Err(invalid(
            "Код авторизації вже використано; видані за ним маркери відкликано",
        ));
    }
    if let Some(uri) = redirect_uri
        && uri != grant.redirect_uri
    {
        return Err(ApiError::new(
            ErrorCode::RedirectUriMismatch,
            "redirect_uri не збігається з адресою, для якої видано код",
        ));
    }
    grant.used = true;
    let (identity, method, age) = (grant.identity, grant.method, now - grant.issued_at);
    let user_id = inner.next_user_id.to_string();
    inner.next_user_id += 1;
    inner.prune(now);
    inner.tokens.insert(
        access_token.clone(),
        Session {
            user_id: user_id.clone(),
            client_id: client.client_id.clone(),
            identity,
            method,
            code: code.to_owned(),
            expires_at: deadline(now, shared.settings.token_ttl),
        },
    );
    tracing::info!(%client_id, %user_id, ?age, "id.gov.ua emulator: code exchanged");
    Ok(TokenResponse {
        access_token,
        token_type: "bearer",
        expires_in: shared.settings.token_ttl.as_secs(),
        refresh_token,
        user_id,
    })
}

/// The live session of `access_token`, which must have been issued with `user_id`.
fn session<'a>(
    sessions: &'a std::collections::HashMap<String, Session>,
    params: &Params,
    now: Instant,
) -> Result<&'a Session, ApiError> {
    let access_token = params.require("access_token")?;
    let user_id = params.require("user_id")?;
    let session = sessions
        .get(access_token)
        .filter(|s| s.expires_at > now)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidToken,
                "Маркер доступу недійсний, прострочений або користувач вийшов",
            )
        })?;
    if session.user_id != user_id {
        return Err(ApiError::new(
            ErrorCode::UserIdMismatch,
            "user_id не відповідає маркеру доступу",
        ));
    }
    Ok(session)
}

/// `/get-user-info`: `access_token`, `user_id`, `fields` (comma-separated; absent: every field,
/// as diklz, which sends none, receives), `cert` → a flat object of strings with `auth_type`.
async fn info(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = read(&shared, &method, &uri, &headers, &body);
    if let Err(e) = misbehave(&shared).await {
        return e.into_response();
    }
    match params.and_then(|p| user_info_of(&shared, &p)) {
        Ok(answer) => no_store(answer),
        Err(e) => e.into_response(),
    }
}

fn user_info_of(
    shared: &Shared,
    params: &Params,
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let inner = shared.lock();
    let session = session(&inner.tokens, params, Instant::now())?;
    if optional(params, "cert")?.is_some() {
        return Err(ApiError::new(
            ErrorCode::EncryptionNotSupported,
            "Емулятор не шифрує дані користувача (encryptedUserInfo): надішліть запит без cert, щоб отримати їх відкритим JSON",
        ));
    }
    let fields = optional(params, "fields")?;
    let requested: Option<Vec<&str>> =
        fields.map(|f| f.split(',').map(str::trim).collect::<Vec<_>>());
    let mut info = user_info(session.identity, session.method, requested.as_deref());
    for (name, value) in &inner.user_info_overrides {
        if let Some(answered) = info.get_mut(name) {
            *answered = serde_json::Value::from(value.as_str());
        }
    }
    Ok(info)
}

/// `/get-user-logout`: `access_token`, `user_id` → the token stops working.
async fn logout(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match read(&shared, &method, &uri, &headers, &body) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let delay_ms = shared.lock().faults.logout_delay_ms;
    if delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    }
    let mut inner = shared.lock();
    let (token, user_id, client_id) = match session(&inner.tokens, &params, Instant::now()) {
        Ok(s) => (
            params
                .require("access_token")
                .unwrap_or_default()
                .to_owned(),
            s.user_id.clone(),
            s.client_id.clone(),
        ),
        Err(e) => return e.into_response(),
    };
    inner.tokens.remove(&token);
    drop(inner);
    tracing::info!(%client_id, %user_id, "id.gov.ua emulator: logged out");
    no_store(LogoutResponse {
        error: ErrorCode::Ok.as_str(),
        error_description: format!("Дані користувача із ID = {user_id} видалено успішно"),
    })
}

/// Rewrites an error answer that is neither JSON nor one of the emulator's pages (axum's plain
/// 405, 413, …) into the JSON error shape.
pub(crate) async fn errors_as_json(response: Response) -> Response {
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let ours =
        content_type.starts_with("application/json") || content_type.starts_with("text/html");
    if !(status.is_client_error() || status.is_server_error()) || ours {
        return response;
    }
    let code = match status {
        StatusCode::BAD_REQUEST
        | StatusCode::PAYLOAD_TOO_LARGE
        | StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::BadRequest,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::NoRoute,
    };
    let reason = status.canonical_reason().unwrap_or("error");
    let mut answer = ApiError::new(code, format!("{} {reason}", status.as_u16()))
        .with_status(status)
        .into_response();
    // 405 keeps its Allow header.
    for (name, value) in response.headers() {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NoRoute,
        "Немає такого маршруту в емуляторі id.gov.ua",
    )
    .with_status(StatusCode::NOT_FOUND)
}
