//! Ending sessions from the account page: one of the person's sessions, or all of them.

use axum::extract::{Path, State};
use axum::response::Response;
use uuid::Uuid;

use crate::http::Web;
use crate::http::csrf::{CsrfForm, TokenOnly};
use crate::http::error::AppError;
use crate::http::pages::{see_other, signed_out};
use crate::http::signed_in::CurrentSession;
use crate::session::{EndedBy, Whom};

/// Ends one of the signed-in person's other sessions (someone else's id changes nothing).
pub async fn end_one(
    State(web): State<Web>,
    Path(id): Path<Uuid>,
    CurrentSession(session): CurrentSession,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, AppError> {
    let whom = match &session.identity.rnokpp {
        Some(rnokpp) => Whom::IdOfPerson(id, rnokpp),
        None if id == session.id => Whom::Id(id),
        None => return Err(AppError::NotFound),
    };
    web.sessions.end(whom, EndedBy::User).await?;
    if id == session.id {
        return signed_out(&web.settings.server);
    }
    see_other(&format!("{}?notice=ended", web.settings.server.path("/me")))
}

/// Ends every session of the signed-in person, this one included.
pub async fn end_all(
    State(web): State<Web>,
    CurrentSession(session): CurrentSession,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, AppError> {
    let whom = match &session.identity.rnokpp {
        Some(rnokpp) => Whom::Person(rnokpp),
        None => Whom::Id(session.id),
    };
    web.sessions.end(whom, EndedBy::User).await?;
    signed_out(&web.settings.server)
}
