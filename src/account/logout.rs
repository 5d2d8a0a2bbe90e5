//! `POST {prefix}/logout`: the browser's own «Вийти». Its session ends on every replica, the
//! cookie is cleared and the browser goes to the login page ("you have signed out").

use axum::extract::State;
use axum::response::Response;

use crate::http::Web;
use crate::http::csrf::{CsrfForm, TokenOnly};
use crate::http::error::AppError;
use crate::http::pages::signed_out;
use crate::http::session_cookie::SessionCookie;
use crate::session::{EndedBy, Whom};

pub async fn logout(
    State(web): State<Web>,
    cookie: SessionCookie,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, AppError> {
    if let Some(token) = cookie.token() {
        web.sessions
            .end(Whom::Token(token), EndedBy::Logout)
            .await?;
    }
    signed_out(&web.settings.server)
}
