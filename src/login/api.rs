//! The JSON API's completion, for scripts and other front ends (its start is
//! `start::api_start`, next to the form's).

use axum::Json;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::browser::ThisBrowsersLogin;
use super::completion::{Completed, complete};
use super::context::LoginContext;
use crate::http::client_addr::Client;
use crate::http::csrf;
use crate::http::error::AppError;
use crate::http::pages::header_value;

/// `POST {prefix}/api/login/{id}/complete`.
pub async fn api_complete(
    State(state): State<LoginContext>,
    login: ThisBrowsersLogin,
    client: Client,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if !csrf::origin_allowed(&headers, &state.web.settings.server)
        || !headers
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
    {
        return Err(AppError::Forbidden);
    }
    match complete(&state.web, &headers, &login.browser, login.id, &client).await? {
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
