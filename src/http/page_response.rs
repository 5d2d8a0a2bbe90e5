//! Every kepgate HTML page as the browser gets it: rendered (the organisation's template or the
//! built-in one), never cached, with the CSRF cookie when the page's token brought a new secret.

use axum::http::StatusCode;
use axum::http::header::{CONTENT_SECURITY_POLICY, SET_COOKIE};
use axum::response::{Html, IntoResponse, Response};

use super::csrf::CsrfToken;
use super::custom_pages::{CustomPages, Page};
use super::error::AppError;
use super::pages::{header_value, no_store, uncompressed};

/// A rendered page; `?` on [`PageResponse::render`] and the handler returns it as it is.
#[must_use]
pub struct PageResponse {
    status: StatusCode,
    html: String,
    set_cookie: Option<String>,
    content_security_policy: Option<String>,
    uncompressed: bool,
}

impl PageResponse {
    /// `page` rendered, to be sent with 200 unless [`PageResponse::status`] says otherwise.
    pub fn render<P: Page>(pages: &CustomPages, page: &P) -> Result<Self, AppError> {
        Ok(PageResponse {
            status: StatusCode::OK,
            html: pages.render(page)?,
            set_cookie: None,
            content_security_policy: None,
            uncompressed: false,
        })
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The page's forms carry `token`: its cookie goes with the page when the secret is new.
    pub fn with_csrf(mut self, token: &CsrfToken) -> Self {
        self.set_cookie.clone_from(&token.set_cookie);
        self
    }

    /// A policy of the page's own instead of the one every response gets ([`super::CSP`]).
    pub fn content_security_policy(mut self, policy: String) -> Self {
        self.content_security_policy = Some(policy);
        self
    }

    /// The page carries a secret or a person's data (see [`uncompressed`]).
    pub fn uncompressed(mut self) -> Self {
        self.uncompressed = true;
        self
    }

    fn build(self) -> Result<Response, AppError> {
        let mut response = (self.status, Html(self.html)).into_response();
        if let Some(cookie) = self.set_cookie {
            response
                .headers_mut()
                .append(SET_COOKIE, header_value(&cookie)?);
        }
        if let Some(policy) = self.content_security_policy {
            response
                .headers_mut()
                .insert(CONTENT_SECURITY_POLICY, header_value(&policy)?);
        }
        no_store(&mut response);
        if self.uncompressed {
            uncompressed(&mut response);
        }
        Ok(response)
    }
}

impl IntoResponse for PageResponse {
    fn into_response(self) -> Response {
        self.build().unwrap_or_else(IntoResponse::into_response)
    }
}
