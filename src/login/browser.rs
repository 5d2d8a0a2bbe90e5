//! This browser's pending login: the one a path names, as this browser's
//! ([`ThisBrowsersLogin`]), from its binding cookie ([`BrowserBinding`], read once per
//! request). Only the browser that started a login may see or complete it.

use axum::extract::{FromRef, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::binding::BrowserBinding;
use super::pending::{self, PendingLogin};
use super::state::PendingLoginId;
use crate::http::Web;
use crate::http::error::AppError;

/// The pending login of the path's `{id}`, claimed by this browser.
pub struct ThisBrowsersLogin {
    pub id: PendingLoginId,
    pub browser: BrowserBinding,
}

impl<S> FromRequestParts<S> for ThisBrowsersLogin
where
    Web: FromRef<S>,
    S: Send + Sync,
{
    /// A path whose id is not a UUID: the router's own 400, as before there was this extractor.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Path(id) = Path::<Uuid>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Ok(browser) = BrowserBinding::from_request_parts(parts, state).await;
        Ok(ThisBrowsersLogin {
            id: PendingLoginId(id),
            browser,
        })
    }
}

/// Did the browser with this binding cookie start `login`?
pub fn started_here(browser: &BrowserBinding, login: &PendingLogin) -> bool {
    browser
        .hash_for(login.id)
        .is_some_and(|hash| login.started_by(&hash))
}

impl ThisBrowsersLogin {
    /// The login, if this browser started it; otherwise "not found" (no enumeration).
    pub async fn find(&self, db: &sqlx::PgPool) -> Result<PendingLogin, AppError> {
        let hash = self.browser.hash_for(self.id).ok_or(AppError::NotFound)?;
        pending::find_owned(db, self.id, &hash)
            .await?
            .ok_or(AppError::NotFound)
    }
}
