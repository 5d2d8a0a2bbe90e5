//! CSRF for kepgate's own forms: a double-submit token in a `__Host-` SameSite=Strict cookie
//! (a sibling subdomain cannot plant it), compared in constant time with the form field, plus
//! an Origin check when the browser sends one.
//!
//! A page never carries the cookie's secret as it is, but masked afresh for every response (a
//! random pad, and the secret XORed with it, as Django and Rails do): pages are compressed
//! together with input an attacker chooses (the echoed `rd`, the language switch's way back),
//! and a secret that repeated from response to response could be read off the compressed
//! lengths (BREACH).

use axum::Form;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::header::ORIGIN;
use axum::http::request::Parts;
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

/// The token for the page being rendered: the browser's existing secret (or a new one to set),
/// masked for this response. As an extractor it is issued for the request's page, whose
/// [`PageResponse`](super::page_response::PageResponse) then sets the cookie.
pub struct CsrfToken {
    /// What the page's forms carry in their `csrf` field: different in every response.
    pub value: String,
    /// `Set-Cookie` to send when the secret is new.
    pub set_cookie: Option<String>,
}

/// Bytes of the secret, and of the pad that masks it on a page.
const SECRET_BYTES: usize = 32;

/// The secret as the cookie holds it (43 characters of base64url).
struct CsrfSecret([u8; SECRET_BYTES]);

impl CsrfSecret {
    fn parse(cookie: &str) -> Option<CsrfSecret> {
        decode::<SECRET_BYTES>(cookie).map(CsrfSecret)
    }

    /// `pad || (pad XOR secret)`, base64url: 86 characters, none of them the same from one
    /// response to the next.
    fn masked(&self, pad: [u8; SECRET_BYTES]) -> String {
        let mut token = [0u8; 2 * SECRET_BYTES];
        token[..SECRET_BYTES].copy_from_slice(&pad);
        token[SECRET_BYTES..].copy_from_slice(&xor(&self.0, &pad));
        URL_SAFE_NO_PAD.encode(token)
    }

    /// Whether a submitted token stands for this secret: masked by a page of any replica, or
    /// as it is (a form rendered before tokens were masked, during a rolling upgrade; the bare
    /// secret never appears on a page, so accepting it tells an attacker nothing).
    fn matches(&self, submitted: &str) -> bool {
        let presented = match submitted.len() {
            MASKED_LEN => decode::<{ 2 * SECRET_BYTES }>(submitted).and_then(|token| {
                let (pad, masked) = token.split_at(SECRET_BYTES);
                Some(xor(masked.try_into().ok()?, pad.try_into().ok()?))
            }),
            SECRET_LEN => decode::<SECRET_BYTES>(submitted),
            _ => None,
        };
        presented.is_some_and(|presented| bool::from(self.0.ct_eq(&presented)))
    }
}

/// Base64url lengths of the secret and of a masked token.
const SECRET_LEN: usize = 43;
const MASKED_LEN: usize = 86;

fn xor(a: &[u8; SECRET_BYTES], b: &[u8; SECRET_BYTES]) -> [u8; SECRET_BYTES] {
    std::array::from_fn(|i| a[i] ^ b[i])
}

/// Exactly `N` bytes of unpadded base64url, or nothing.
fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()
}

pub fn issue(headers: &HeaderMap, server: &ServerSettings) -> Result<CsrfToken, getrandom::Error> {
    let mut pad = [0u8; SECRET_BYTES];
    getrandom::fill(&mut pad)?;
    if let Some(secret) =
        cookies::get(headers, server, CookieKind::Csrf).and_then(|v| CsrfSecret::parse(&v))
    {
        return Ok(CsrfToken {
            value: secret.masked(pad),
            set_cookie: None,
        });
    }
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes)?;
    let set_cookie = Some(cookies::set(
        server,
        CookieKind::Csrf,
        &URL_SAFE_NO_PAD.encode(bytes),
        None,
    ));
    Ok(CsrfToken {
        value: CsrfSecret(bytes).masked(pad),
        set_cookie,
    })
}

impl<S> FromRequestParts<S> for CsrfToken
where
    Web: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Ok(issue(
            &parts.headers,
            &Web::from_ref(state).settings.server,
        )?)
    }
}

/// True when the submitted token matches the cookie and the Origin (if any) is ours.
pub fn verify(headers: &HeaderMap, server: &ServerSettings, submitted: &str) -> bool {
    let Some(secret) =
        cookies::get(headers, server, CookieKind::Csrf).and_then(|v| CsrfSecret::parse(&v))
    else {
        return false;
    };
    secret.matches(submitted) && origin_allowed(headers, server)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pad(byte: u8) -> [u8; SECRET_BYTES] {
        [byte; SECRET_BYTES]
    }

    #[test]
    fn a_masked_token_differs_per_pad_and_stands_for_its_secret_only() {
        let secret = CsrfSecret([7; SECRET_BYTES]);
        let (one, two) = (secret.masked(pad(1)), secret.masked(pad(2)));
        assert_eq!(one.len(), MASKED_LEN);
        assert_ne!(one, two);
        assert!(secret.matches(&one) && secret.matches(&two));
        assert!(!CsrfSecret([8; SECRET_BYTES]).matches(&one));
        // The bare secret (a page rendered before masking) still counts.
        assert!(secret.matches(&URL_SAFE_NO_PAD.encode(secret.0)));
    }

    #[test]
    fn a_tampered_or_misshapen_token_is_refused() {
        let secret = CsrfSecret([7; SECRET_BYTES]);
        let token = secret.masked(pad(9));
        for at in [0, SECRET_LEN, MASKED_LEN - 2] {
            let mut bytes = token.clone().into_bytes();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            assert!(!secret.matches(&tampered), "changed at {at}");
        }
        for misshapen in [
            "",
            &token[..MASKED_LEN - 1],
            &format!("{token}A"),
            "!".repeat(86).as_str(),
        ] {
            assert!(!secret.matches(misshapen), "{misshapen:?}");
        }
    }
}
