//! What the browser that started a login asks while it waits: the waiting page, its QR code,
//! and «Продовжити» (completing without JavaScript). The live status is `status_stream.rs`.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::browser::ThisBrowsersLogin;
use super::completion::{Completed, complete, signed_in};
use super::context::LoginContext;
use super::state::PendingState;
use super::waiting::{Shown, WaitingParts, current_link, qr_svg, render_wait};
use crate::http::client_addr::Client;
use crate::http::csrf::{CsrfForm, CsrfToken, TokenOnly};
use crate::http::error::AppError;
use crate::http::page_response::PageResponse;
use crate::http::pages::{PageChrome, no_store};

/// `GET {prefix}/login/wait/{id}`.
pub async fn wait_page(
    State(state): State<LoginContext>,
    login: ThisBrowsersLogin,
    chrome: PageChrome,
    csrf: CsrfToken,
) -> Result<PageResponse, AppError> {
    let login = login.find(&state.web.db).await?;
    render_wait(
        &waiting_parts(&state),
        chrome,
        &csrf,
        &login,
        Shown::Waiting,
    )
}

/// `GET {prefix}/login/qr/{id}`: the QR code of the link shown now.
pub async fn qr_image(
    State(state): State<LoginContext>,
    login: ThisBrowsersLogin,
) -> Result<Response, AppError> {
    let login = login.find(&state.web.db).await?;
    let now = state.web.clock.now();
    let link = current_link(&state.qr_links, &state.web.settings, &login, now)
        .ok_or(AppError::NotFound)?;
    let mut response = ([(CONTENT_TYPE, "image/svg+xml")], qr_svg(&link)?).into_response();
    no_store(&mut response);
    Ok(response)
}

/// `POST {prefix}/login/complete/{id}`: signed in, or the waiting page saying where the login
/// stands (the no-JavaScript "continue" path).
pub async fn complete_form(
    State(state): State<LoginContext>,
    login: ThisBrowsersLogin,
    client: Client,
    chrome: PageChrome,
    csrf: CsrfToken,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, AppError> {
    match complete(&state.web, &headers, &login.browser, login.id, &client).await? {
        Completed::Done {
            return_path,
            cookies,
        } => signed_in(&return_path, &cookies),
        Completed::NotYet(pending) => {
            let status = if pending.state == PendingState::Pending {
                StatusCode::OK
            } else {
                StatusCode::CONFLICT
            };
            let page = render_wait(
                &waiting_parts(&state),
                chrome,
                &csrf,
                &pending,
                Shown::NotCompletable,
            )?;
            Ok(page.status(status).into_response())
        }
    }
}

fn waiting_parts(state: &LoginContext) -> WaitingParts<'_> {
    WaitingParts {
        web: &state.web,
        providers: &state.providers,
        qr_links: &state.qr_links,
    }
}
