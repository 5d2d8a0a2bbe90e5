//! The waiting page as the browser sees it: the link and QR code, the status in words, and the
//! live status over SSE.

use std::convert::Infallible;
use std::time::Duration;

use crate::config::Settings;
use crate::http::custom_pages::{Markup, Page, placeholder};
use crate::return_path::ReturnPath;
use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use futures_util::stream::Stream;
use serde::Serialize;
use uuid::Uuid;

use super::context::LoginContext;
use super::form::{own_pending, url_encode};
use super::pending::{PendingLogin, PendingLoginId, PendingState};
use super::status_stream::{StatusStream, status_text};
use crate::http::csrf;
use crate::http::error::AppError;
use crate::http::pages::header_value;
use crate::http::pages::{PageChrome, no_store, uncompressed};
use crate::language::Lang;

// ---------- waiting ----------

#[derive(Template, Serialize)]
#[template(path = "wait.html")]
pub struct WaitPage {
    chrome: PageChrome,
    provider_name: String,
    link: Option<String>,
    qr_svg: Option<Markup>,
    /// The code the phone must pick (rotating links with the phone check).
    verification_code: Option<u8>,
    state: &'static str,
    status_text: String,
    expires_at: String,
    seconds_left: i64,
    events_url: String,
    complete_action: String,
    csrf: String,
    restart_href: String,
    finished: bool,
    /// Without JavaScript the page reloads itself this often, so the rotating link it shows
    /// never ages out while the countdown says the login is still valid.
    refresh_seconds: Option<u64>,
    /// Where it reloads to: the waiting page itself, also when shown after «Продовжити».
    wait_href: String,
    /// Said above «Продовжити» when it was pressed too early.
    notice: Option<&'static str>,
}

impl Page for WaitPage {
    const FILE: &'static str = "wait.html";

    fn samples(settings: &Settings, lang: Lang) -> [Self; 2] {
        let server = &settings.server;
        let t = lang.texts();
        let link = "https://diia.app/placeholder-link";
        let page = |state: PendingState, pending: bool| WaitPage {
            chrome: PageChrome::new(settings, lang, &ReturnPath::root()),
            provider_name: placeholder::PROVIDER.to_owned(),
            link: pending.then(|| link.to_owned()),
            qr_svg: pending
                .then(|| qr_svg(link).ok())
                .flatten()
                .map(Markup::built_by_kepgate),
            verification_code: pending.then_some(42),
            state: state.as_str(),
            status_text: status_text(state, None, t),
            expires_at: "2026-01-01T12:03:00Z".to_owned(),
            seconds_left: if pending { 180 } else { 0 },
            events_url: server.path("/login/events/placeholder"),
            complete_action: server.path("/login/complete/placeholder"),
            csrf: placeholder::CSRF.to_owned(),
            restart_href: server.path("/login?provider=diia&rd=%2F"),
            finished: !pending,
            refresh_seconds: pending.then_some(8),
            wait_href: server.path("/login/wait/placeholder"),
            notice: pending.then_some(t.not_confirmed_yet),
        };
        [
            page(PendingState::Pending, true),
            page(PendingState::Expired, false),
        ]
    }
}

/// Why the waiting page is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Shown {
    /// Opened (or reloaded).
    Waiting,
    /// «Продовжити» pressed, but the login cannot be completed (yet).
    NotCompletable,
}

pub async fn wait_page(
    State(state): State<LoginContext>,
    Path(id): Path<Uuid>,
    request: Request,
) -> Result<Response, AppError> {
    let (parts, _) = request.into_parts();
    let login = own_pending(&state, &parts.headers, id).await?;
    render_wait(
        &state,
        PageChrome::from_parts(&parts, &state.web.settings),
        &parts.headers,
        &login,
        StatusCode::OK,
        Shown::Waiting,
    )
}

pub(super) fn render_wait(
    state: &LoginContext,
    chrome: PageChrome,
    headers: &HeaderMap,
    login: &PendingLogin,
    status: StatusCode,
    shown: Shown,
) -> Result<Response, AppError> {
    let server = &state.web.settings.server;
    let token = csrf::issue(headers, server).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let now = state.web.clock.now();
    let shown_state = login.state_at(now);
    let provider_name = state
        .providers
        .get(&login.provider)
        .map(|p| p.display_name(chrome.lang).to_owned())
        .unwrap_or_else(|| login.provider.clone());
    let link = super::qr_link::current_link(&state.qr_links, &state.web.settings, login, now)
        .filter(|_| shown_state == PendingState::Pending);
    let qr_svg = link
        .as_deref()
        .map(qr_svg)
        .transpose()?
        .map(Markup::built_by_kepgate);
    let login_settings = &state.web.settings.login;
    let verification_code = (link.is_some()
        && login_settings.phone_check
        && login_settings.qr_mode == crate::config::QrMode::Rotating)
        .then(|| state.qr_links.verification_codes(login.id).right);
    let refresh_seconds = link
        .as_ref()
        .filter(|_| login_settings.qr_mode == crate::config::QrMode::Rotating)
        .map(|_| {
            // A little before the link shown ages out: time to scan it, none to find it dead.
            login_settings
                .qr_link_max_age
                .as_secs()
                .saturating_sub(2)
                .max(2)
        });
    let notice = (shown == Shown::NotCompletable && shown_state == PendingState::Pending)
        .then_some(chrome.t.not_confirmed_yet);
    let restart_href = format!(
        "{}?provider={}&rd={}",
        server.path("/login"),
        url_encode(&login.provider),
        url_encode(login.return_path.as_str())
    );
    let page = WaitPage {
        provider_name,
        link,
        qr_svg,
        verification_code,
        state: shown_state.as_str(),
        status_text: status_text(shown_state, login.outcome_reason.as_deref(), chrome.t),
        expires_at: login
            .expires_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        seconds_left: (login.expires_at - now).whole_seconds().max(0),
        events_url: server.path(&format!("/login/events/{}", login.id)),
        complete_action: server.path(&format!("/login/complete/{}", login.id)),
        csrf: token.value,
        restart_href,
        finished: !matches!(shown_state, PendingState::Pending | PendingState::Confirmed),
        refresh_seconds,
        wait_href: server.path(&format!("/login/wait/{}", login.id)),
        notice,
        chrome,
    };
    let mut response = (status, Html(state.web.custom_pages.render(&page)?)).into_response();
    if let Some(cookie) = token.set_cookie {
        response
            .headers_mut()
            .append(SET_COOKIE, header_value(&cookie)?);
    }
    no_store(&mut response);
    // The link (and its QR code) opens this login for whoever holds it.
    uncompressed(&mut response);
    Ok(response)
}

/// The QR code of a link, as inline SVG (no extra request, no layout shift when it appears).
pub fn qr_svg(link: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::with_error_correction_level(link.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| anyhow::anyhow!("QR code: {e}"))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

pub async fn qr_image(
    State(state): State<LoginContext>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let login = own_pending(&state, &headers, id).await?;
    let link = super::qr_link::current_link(
        &state.qr_links,
        &state.web.settings,
        &login,
        state.web.clock.now(),
    )
    .ok_or(AppError::NotFound)?;
    let mut response = ([(CONTENT_TYPE, "image/svg+xml")], qr_svg(&link)?).into_response();
    no_store(&mut response);
    Ok(response)
}

// ---------- live status (SSE) ----------

pub async fn events(
    State(state): State<LoginContext>,
    Path(id): Path<Uuid>,
    request: Request,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let (parts, _) = request.into_parts();
    let lang = Lang::from_parts(&parts, state.web.settings.ui.default_language);
    // Subscribe before the first read, so a change between the two is not missed; the row read
    // to check the binding cookie is then the stream's first state (one query, not two). A
    // refused subscription is dropped, and unregistered, on the early return.
    let subscription = state.login_events.subscribe(PendingLoginId(id));
    let login = own_pending(&state, &parts.headers, id).await?;
    let stream = StatusStream::new(state, lang, subscription, login).into_stream();
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
