//! `GET|POST {prefix}/oidc/userinfo` (Core §5.3): the claims of the access token's scope, while
//! the token and the person's session both live.

use axum::Json;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::claims;
use super::context::OidcContext;
use super::store;
use crate::http::error::AppError;
use crate::session::{self, SessionKey};

pub async fn userinfo(
    State(oidc): State<OidcContext>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let in_header = super::authorization_header::credentials(&headers, "Bearer").map(str::to_owned);
    // RFC 6750 §2.2: or in a POSTed form (never in the query: it would end up in logs).
    let in_body = headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes()
                .starts_with(b"application/x-www-form-urlencoded")
        })
        .then(|| {
            url::form_urlencoded::parse(&body)
                .find(|(k, _)| k == "access_token")
                .map(|(_, v)| v.into_owned())
        })
        .flatten();
    let token = match (in_header, in_body) {
        (Some(token), None) | (None, Some(token)) => token,
        // RFC 6750 §3.1: a request without any authentication learns no error code.
        (None, None) => return Ok(bearer_challenge(StatusCode::UNAUTHORIZED, None)),
        // Two ways at once (§2): a malformed request.
        (Some(_), Some(_)) => {
            return Ok(bearer_challenge(
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
            ));
        }
    };
    let token = token.as_str();
    let now = oidc.web.clock.now();
    let Some(granted) = store::find_access_token(&oidc.web.db, token, now).await? else {
        return Ok(bearer_challenge(
            StatusCode::UNAUTHORIZED,
            Some("invalid_token"),
        ));
    };
    // Uncached: the cache is keyed by the browser's cookie, which the client's request does not
    // carry, and an access token must not outlive its session's end on any replica.
    let session = SessionKey::Id(granted.session_id);
    let (Some(client), Some(session)) = (
        oidc.clients.get(&granted.client_id),
        session::find_uncached(&oidc.web.db, session, now).await?,
    ) else {
        return Ok(bearer_challenge(
            StatusCode::UNAUTHORIZED,
            Some("invalid_token"),
        ));
    };
    let mut answer = claims::scoped(&session, &granted.scope);
    answer.insert(
        "sub".to_owned(),
        json!(claims::subject(&session, client, &oidc.pairwise_key)),
    );
    let mut response = Json(answer).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// RFC 6750 §3: `WWW-Authenticate: Bearer`, with the error code when there is one.
fn bearer_challenge(status: StatusCode, error: Option<&'static str>) -> Response {
    let (mut response, challenge) = match error {
        Some(error) => (
            (status, Json(json!({ "error": error }))).into_response(),
            format!("Bearer realm=\"kepgate\", error=\"{error}\""),
        ),
        None => (
            status.into_response(),
            "Bearer realm=\"kepgate\"".to_owned(),
        ),
    };
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    response
}
