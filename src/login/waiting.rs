//! The waiting page as the browser sees it: the link and QR code, the status in words, the
//! countdown, and «Продовжити» for browsers without JavaScript. Its handlers are in
//! `waiting_handlers.rs`; the live status in `status_stream.rs`.

use askama::Template;
use serde::Serialize;
use time::OffsetDateTime;

use super::pending::PendingLogin;
use super::qr_link::{QrLinks, shown_link};
use super::state::PendingState;
use super::status_text::status_text;
use crate::config::{QrMode, Settings};
use crate::http::Web;
use crate::http::csrf::CsrfToken;
use crate::http::custom_pages::{Markup, Page, placeholder};
use crate::http::error::AppError;
use crate::http::page_response::PageResponse;
use crate::http::pages::PageChrome;
pub use crate::http::qr_code::qr_svg;
use crate::language::Lang;
use crate::provider::Providers;
use crate::return_path::ReturnPath;

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
pub enum Shown {
    /// Opened (or reloaded).
    Waiting,
    /// «Продовжити» pressed, but the login cannot be completed (yet).
    NotCompletable,
}

/// What the waiting page is drawn from besides the login itself.
pub struct WaitingParts<'a> {
    pub web: &'a Web,
    pub providers: &'a Providers,
    pub qr_links: &'a QrLinks,
}

pub fn render_wait(
    parts: &WaitingParts<'_>,
    chrome: PageChrome,
    csrf: &CsrfToken,
    login: &PendingLogin,
    shown: Shown,
) -> Result<PageResponse, AppError> {
    let server = &parts.web.settings.server;
    let now = parts.web.clock.now();
    let shown_state = login.state_at(now);
    let provider_name = parts
        .providers
        .get(&login.provider)
        .map(|p| p.display_name(chrome.lang).to_owned())
        .unwrap_or_else(|| login.provider.clone());
    let link = current_link(parts.qr_links, &parts.web.settings, login, now)
        .filter(|_| shown_state == PendingState::Pending);
    let qr_svg = link
        .as_deref()
        .map(qr_svg)
        .transpose()?
        .map(Markup::built_by_kepgate);
    let rotating = parts.web.settings.login.qr_mode == QrMode::Rotating;
    let verification_code = (link.is_some() && parts.web.settings.login.phone_check && rotating)
        .then(|| parts.qr_links.verification_codes(login.id).right);
    let refresh_seconds = link
        .as_ref()
        .filter(|_| rotating)
        .map(|_| refresh_seconds(&parts.web.settings));
    let notice = (shown == Shown::NotCompletable && shown_state == PendingState::Pending)
        .then_some(chrome.t.not_confirmed_yet);
    let page = WaitPage {
        provider_name,
        link,
        qr_svg,
        verification_code,
        state: shown_state.as_str(),
        status_text: status_text(shown_state, login.outcome_reason.as_ref(), chrome.t),
        expires_at: login
            .expires_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        seconds_left: (login.expires_at - now).whole_seconds().max(0),
        events_url: server.path(&format!("/login/events/{}", login.id)),
        complete_action: server.path(&format!("/login/complete/{}", login.id)),
        csrf: csrf.value.clone(),
        restart_href: restart_href(&parts.web.settings, login),
        finished: !matches!(shown_state, PendingState::Pending | PendingState::Confirmed),
        refresh_seconds,
        wait_href: server.path(&format!("/login/wait/{}", login.id)),
        notice,
        chrome,
    };
    // The link (and its QR code) opens this login for whoever holds it: uncompressed.
    Ok(PageResponse::render(&parts.web.custom_pages, &page)?
        .with_csrf(csrf)
        .uncompressed())
}

/// Without JavaScript the page reloads itself a little before the link shown ages out: time to
/// scan it, none to find it dead.
fn refresh_seconds(settings: &Settings) -> u64 {
    settings
        .login
        .qr_link_max_age
        .as_secs()
        .saturating_sub(2)
        .max(2)
}

/// The login page again, with this login's provider and way back.
fn restart_href(settings: &Settings, login: &PendingLogin) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "{}?provider={}&rd={}",
        settings.server.path("/login"),
        encode(&login.provider),
        encode(login.return_path.as_str())
    )
}

/// What the waiting page's QR code and link button hold at `now`: the rotating link, or in
/// `direct` mode the provider's deeplink. `None` while there is no deeplink (push providers).
pub fn current_link(
    qr_links: &QrLinks,
    settings: &Settings,
    login: &PendingLogin,
    now: OffsetDateTime,
) -> Option<String> {
    let deeplink = login.deeplink.as_deref()?;
    Some(shown_link(
        qr_links,
        settings,
        (login.id, login.created_at),
        deeplink,
        now,
    ))
}
