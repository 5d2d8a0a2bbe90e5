//! kepgate's own pages in the cabinet's space: what a browser without a (valid) session gets
//! (the login page, or 401 for non-HTML clients), and, when no `[routes]` are configured, a page
//! that shows who is signed in.

use crate::config::Settings;
use crate::http::custom_pages::{Page, placeholder};
use crate::language::Lang;
use crate::return_path::ReturnPath;
use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::context::ProxyContext;
use crate::http::csrf::CsrfToken;
use crate::http::error::AppError;
use crate::http::page_response::PageResponse;
use crate::http::pages::PageChrome;
use crate::http::signed_in::CabinetSession;

#[derive(Template, Serialize)]
#[template(path = "signed_in.html")]
pub struct SignedInPage {
    chrome: PageChrome,
    full_name: String,
    rnokpp: Option<String>,
    edrpou: Option<String>,
    organization: Option<String>,
    provider: String,
    logout_action: String,
    me_href: String,
    csrf: String,
}

impl Page for SignedInPage {
    const FILE: &'static str = "signed_in.html";

    fn samples(settings: &Settings, lang: Lang) -> [Self; 2] {
        let server = &settings.server;
        [true, false].map(|full| SignedInPage {
            chrome: PageChrome::new(settings, lang, &ReturnPath::root()),
            full_name: placeholder::FULL_NAME.to_owned(),
            rnokpp: full.then(|| placeholder::RNOKPP.to_owned()),
            edrpou: full.then(|| placeholder::EDRPOU.to_owned()),
            organization: full.then(|| placeholder::ORGANIZATION.to_owned()),
            provider: placeholder::PROVIDER.to_owned(),
            logout_action: server.path("/logout"),
            me_href: server.path("/me"),
            csrf: placeholder::CSRF.to_owned(),
        })
    }
}

/// Without configured routes, a signed-in user sees who they are (the demo before the proxy,
/// and a quick check for administrators).
pub async fn signed_in_page(
    State(state): State<ProxyContext>,
    chrome: PageChrome,
    csrf: CsrfToken,
    mut parts: Parts,
) -> Result<Response, AppError> {
    super::reverse_proxy::refuse_method(&parts.method)?;
    let decided = parts
        .extensions
        .get::<crate::canonical_path::CanonicalPath>()
        .map_or(parts.uri.path(), |path| path.for_decisions());
    if state.web.settings.server.reserves(decided) {
        return Err(AppError::NotFound);
    }
    let session = match CabinetSession::from_request_parts(&mut parts, &state.web).await {
        Ok(CabinetSession(session)) => session,
        Err(sign_in) => return Ok(sign_in),
    };
    let provider = state
        .provider_names
        .display_name(&session.provider, chrome.lang)
        .to_owned();
    let identity = &session.identity;
    let page = SignedInPage {
        full_name: identity.full_name.clone(),
        rnokpp: identity.rnokpp.as_ref().map(|r| r.to_string()),
        edrpou: identity.edrpou.as_ref().map(|e| e.to_string()),
        organization: identity.organization.clone(),
        provider,
        logout_action: state.web.settings.server.path("/logout"),
        me_href: state.web.settings.server.path("/me"),
        csrf: csrf.value.clone(),
        chrome,
    };
    Ok(PageResponse::render(&state.web.custom_pages, &page)?
        .with_csrf(&csrf)
        .into_response())
}
