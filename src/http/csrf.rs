//! CSRF for kepgate's own forms: a double-submit token in a `__Host-` SameSite=Strict cookie
//! (a sibling subdomain cannot plant it), compared in constant time with the form field, plus
//! an Origin check when the browser sends one.

use axum::Form;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::HeaderMap;
use axum::http::header::ORIGIN;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::context::Web;
use super::cookies::{self, CookieKind};
use super::error::AppError;
use crate::config::ServerSettings;

/// The token for the page being rendered: the browser's existing one, or a new one to set.
pub struct CsrfToken {
    pub value: String,
    /// `Set-Cookie` to send when the token is new.
    pub set_cookie: Option<String>,
}

pub fn issue(headers: &HeaderMap, server: &ServerSettings) -> Result<CsrfToken, getrandom::Error> {
    if let Some(existing) =
        cookies::get(headers, server, CookieKind::Csrf).filter(|v| well_formed(v))
    {
        return Ok(CsrfToken {
            value: existing,
            set_cookie: None,
        });
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let value = URL_SAFE_NO_PAD.encode(bytes);
    let set_cookie = Some(cookies::set(server, CookieKind::Csrf, &value, None));
    Ok(CsrfToken { value, set_cookie })
}

/// True when the submitted token matches the cookie and the Origin (if any) is ours.
pub fn verify(headers: &HeaderMap, server: &ServerSettings, submitted: &str) -> bool {
    let Some(cookie) = cookies::get(headers, server, CookieKind::Csrf) else {
        return false;
    };
    if !well_formed(&cookie) || !bool::from(cookie.as_bytes().ct_eq(submitted.as_bytes())) {
        return false;
    }
    origin_allowed(headers, server)
}

/// A form of kepgate's whose CSRF token (and Origin) checked out: a handler that takes one never
/// sees a forged post. A token that does not match is a 403; a form that does not parse, the
/// usual 400/422.
pub struct CsrfForm<T>(pub T);

/// A form that carries kepgate's CSRF token in its `csrf` field.
pub trait WithCsrfToken {
    fn csrf_token(&self) -> &str;
}

/// A form with nothing but the token (logout, ending sessions, completing a login).
#[derive(Deserialize)]
pub struct TokenOnly {
    csrf: String,
}

impl WithCsrfToken for TokenOnly {
    fn csrf_token(&self) -> &str {
        &self.csrf
    }
}

impl<S, T> FromRequest<S> for CsrfForm<T>
where
    Web: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned + WithCsrfToken + Send,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let headers = request.headers().clone();
        let Form(form) = Form::<T>::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !verify(
            &headers,
            &Web::from_ref(state).settings.server,
            form.csrf_token(),
        ) {
            return Err(AppError::Forbidden.into_response());
        }
        Ok(CsrfForm(form))
    }
}

/// A present Origin must be one of our own; absent (old browsers, same-origin GET→POST in some
/// engines) is left to the token.
pub fn origin_allowed(headers: &HeaderMap, server: &ServerSettings) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let ours = [server.base_url.origin(), server.public_base_url().origin()];
    url::Url::parse(origin).is_ok_and(|o| ours.contains(&o.origin()))
}

fn well_formed(v: &str) -> bool {
    v.len() == 43
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
