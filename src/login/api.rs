//! The same steps as JSON, for scripts and other front ends: start and complete.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::completion::{Completed, complete};
use super::context::LoginContext;
use super::form::{BeginError, begin, provider_error_text};
use crate::http::client_addr::ClientAddr;
use crate::http::csrf;
use crate::http::error::AppError;
use crate::http::pages::header_value;
use crate::language::Lang;
use crate::provider::ProviderStart;
use crate::return_path::ReturnPath;

// ---------- JSON API ----------

#[derive(Deserialize)]
pub struct ApiStart {
    provider: String,
    #[serde(default)]
    user_hint: Option<String>,
    #[serde(default)]
    return_path: Option<String>,
    /// «Public / shared computer»; `session.shared_pc_default` when absent.
    #[serde(default)]
    shared_pc: Option<bool>,
}

/// `POST {prefix}/api/login`: JSON in, JSON out. CSRF: a cross-site form cannot send
/// `Content-Type: application/json` without a CORS preflight we never allow; Origin is checked.
pub async fn api_start(
    State(state): State<LoginContext>,
    ClientAddr(client): ClientAddr,
    request_parts: axum::http::request::Parts,
    Json(body): Json<ApiStart>,
) -> Result<Response, AppError> {
    let headers = &request_parts.headers;
    let server = &state.web.settings.server;
    if !csrf::origin_allowed(headers, server) {
        return Err(AppError::Forbidden);
    }
    let rd = match body.return_path.as_deref() {
        Some(raw) => ReturnPath::parse(raw).map_err(|e| AppError::BadRequest(e.to_string()))?,
        None => ReturnPath::root(),
    };
    match begin(
        &state,
        headers,
        client,
        &body.provider,
        body.user_hint,
        rd,
        body.shared_pc
            .unwrap_or(state.web.settings.session.shared_pc_default),
    )
    .await
    {
        Ok((started, cookie)) => {
            let id = started.id;
            // The same link the waiting page shows: rotating (follow `event: qr`) or direct.
            let shown_link = started.link().map(|deeplink| {
                super::qr_link::shown_link(
                    &state.qr_links,
                    &state.web.settings,
                    (id, started.created_at),
                    deeplink.as_str(),
                    state.web.clock.now(),
                )
            });
            let mut response = (
                StatusCode::CREATED,
                Json(json!({
                    "id": id,
                    "link": shown_link,
                    "show_qr": matches!(&started.next, ProviderStart::OnPhone(s) if s.show_qr),
                    "pushed_to_phone": matches!(&started.next, ProviderStart::OnPhone(s) if s.pushed_to_phone),
                    "qr_url": started.link().map(|_| server.path(&format!("/login/qr/{id}"))),
                    // A redirect provider: send the browser there; it comes back signed in.
                    "redirect": match &started.next {
                        ProviderStart::Redirect { to } => Some(to.as_str()),
                        ProviderStart::OnPhone(_) => None,
                    },
                    "expires_at": started.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                    "events_url": server.path(&format!("/login/events/{id}")),
                    "complete_url": server.path(&format!("/api/login/{id}/complete")),
                })),
            )
                .into_response();
            response
                .headers_mut()
                .append(SET_COOKIE, header_value(&cookie)?);
            Ok(response)
        }
        Err(BeginError::Provider(e)) => {
            // In the client's language, like every other error kepgate shows.
            let t =
                Lang::from_parts(&request_parts, state.web.settings.ui.default_language).texts();
            Ok((
                StatusCode::BAD_GATEWAY,
                Json(json!({ "error": e.code(), "message": provider_error_text(&e, t) })),
            )
                .into_response())
        }
        Err(BeginError::App(e)) => Err(e),
    }
}

pub async fn api_complete(
    State(state): State<LoginContext>,
    Path(id): Path<Uuid>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if !csrf::origin_allowed(&headers, &state.web.settings.server)
        || !headers
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
    {
        return Err(AppError::Forbidden);
    }
    match complete(&state, &headers, client, id).await? {
        Completed::Done {
            return_path,
            cookies,
        } => {
            let mut response = Json(json!({ "return_path": return_path.as_str() })).into_response();
            for cookie in cookies {
                response
                    .headers_mut()
                    .append(SET_COOKIE, header_value(&cookie)?);
            }
            Ok(response)
        }
        Completed::NotYet(login) => Ok((
            StatusCode::CONFLICT,
            Json(json!({ "error": "not_completable", "state": login.state.as_str() })),
        )
            .into_response()),
    }
}
