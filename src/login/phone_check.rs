//! What a phone sees when it opens a rotating QR link (`{prefix}/q/{token}`): the second and
//! third defences against QR relay (docs/how-it-works.md, "QR relay (QRLJacking)").
//!
//! A fresh link shows who is asking (service, website, time, the address of the computer that
//! started the login) and three verification codes, one of which the computer shows; Decline
//! is as large as the codes. The right code leads on to the provider app; Decline or a wrong
//! pick rejects the pending login at once, and the computer's page hears it over SSE.
//! A stale link is refused with "scan the one on your screen" and recorded as suspicious.
//! The browser that started the login (same phone) skips all of it.

use std::net::IpAddr;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::binding::BrowserBinding;
use super::browser::started_here;
use super::context::LoginContext;
use super::outcome::{Outcome, Reason};
use super::pending::{self, PendingLogin};
use super::qr_link::{Freshness, QrToken};
use super::state::PendingState;
use crate::config::Settings;
use crate::http::client_addr::Client;
use crate::http::csrf::{self, CsrfForm, CsrfToken};
use crate::http::custom_pages::{CustomPages, Page, placeholder};
use crate::http::error::AppError;
use crate::http::page_response::PageResponse;
use crate::http::pages::{PageChrome, see_other_no_store};
use crate::language::{Lang, Texts};
use crate::return_path::ReturnPath;
use crate::session::history;

/// How long the phone page may stay open before its answer no longer counts: reading it takes
/// longer than scanning, but not minutes (the login itself expires sooner anyway).
const ANSWER_WITHIN: time::Duration = time::Duration::minutes(2);

#[derive(Template, Serialize)]
#[template(path = "phone_check.html")]
pub struct PhoneCheckPage {
    chrome: PageChrome,
    action: String,
    csrf: String,
    /// When this page was shown, signed (`QrLinks::opening_stamp`): the answer must come soon
    /// after a fresh link was opened.
    opened: String,
    service_name: String,
    domain: String,
    started_at: String,
    computer: String,
    choices: [u8; 3],
}

impl Page for PhoneCheckPage {
    const FILE: &'static str = "phone_check.html";

    fn samples(settings: &Settings, lang: Lang) -> [Self; 2] {
        let server = &settings.server;
        let t = lang.texts();
        [
            format!("{} ({})", placeholder::ADDRESS, t.phone_org_network),
            t.phone_unknown_address.to_owned(),
        ]
        .map(|computer| PhoneCheckPage {
            chrome: PageChrome::new(settings, lang, &ReturnPath::root()),
            action: server.path("/q/placeholder-token"),
            csrf: placeholder::CSRF.to_owned(),
            opened: "placeholder-stamp".to_owned(),
            service_name: settings.ui.service_name.clone(),
            domain: server.base_url.host_str().unwrap_or_default().to_owned(),
            started_at: placeholder::TIME.to_owned(),
            computer,
            choices: [17, 42, 86],
        })
    }
}

#[derive(Template, Serialize)]
#[template(path = "phone_notice.html")]
pub struct PhoneNotice {
    chrome: PageChrome,
    title: &'static str,
    body: &'static str,
    danger: bool,
}

impl Page for PhoneNotice {
    const FILE: &'static str = "phone_notice.html";

    fn samples(settings: &Settings, lang: Lang) -> [Self; 2] {
        let t = lang.texts();
        [
            (t.phone_expired_title, t.phone_expired_body, true),
            (t.phone_not_waiting_title, t.phone_not_waiting_body, false),
        ]
        .map(|(title, body, danger)| PhoneNotice {
            chrome: PageChrome::new(settings, lang, &ReturnPath::root()),
            title,
            body,
            danger,
        })
    }
}

/// `GET {prefix}/q/{token}`.
pub async fn open_link(
    State(state): State<LoginContext>,
    Path(token): Path<String>,
    phone: Client,
    browser: BrowserBinding,
    chrome: PageChrome,
    csrf: CsrfToken,
) -> Result<Response, AppError> {
    let (token, login) = checked(&state, &token).await?;
    let pages = &state.web.custom_pages;
    let now = state.web.clock.now();
    if login.state_at(now) != PendingState::Pending {
        refused("not_pending");
        return notice(pages, chrome, Notice::NotWaiting);
    }
    let Some(deeplink) = login.deeplink.clone() else {
        return Err(AppError::NotFound);
    };
    // The phone that started the login holds its binding cookie: no second device, nothing to
    // compare, and a link it tapped a while ago is still its own.
    if state.web.settings.login.same_device_shortcut && started_here(&browser, &login) {
        metrics::counter!("kepgate_qr_handoffs_total", "path" => "same_device").increment(1);
        return to_provider(&deeplink);
    }
    let freshness = state.qr_links.freshness(&token, login.created_at, now);
    if freshness != Freshness::Fresh {
        let reason = match freshness {
            Freshness::Future => "future_qr_link",
            _ => "stale_qr_link",
        };
        refused(reason);
        let first = history::record_suspicious(
            &state.web.db,
            &history::Suspicious {
                pending_login_id: login.id.0,
                provider: &login.provider,
                reason,
                client_ip: Some(phone.addr),
                user_agent: phone.user_agent.as_deref(),
                at: now,
            },
        )
        .await?;
        // Logged once per login and reason, like the history row: a flood of reopenings is a
        // counter, not a flood of log lines.
        if first {
            tracing::warn!(
                login = %login.id,
                age_seconds = state.qr_links.age(&token, login.created_at, now),
                phone = %phone.addr,
                reason,
                "an old QR link was opened: copied or relayed?"
            );
        }
        return notice(pages, chrome, Notice::Expired);
    }
    if !state.web.settings.login.phone_check {
        metrics::counter!("kepgate_qr_handoffs_total", "path" => "fresh_link").increment(1);
        return to_provider(&deeplink);
    }
    Ok(render_check(&state, chrome, &csrf, &token, &login, now)?.into_response())
}

fn render_check(
    state: &LoginContext,
    chrome: PageChrome,
    csrf: &CsrfToken,
    token: &QrToken,
    login: &PendingLogin,
    now: OffsetDateTime,
) -> Result<PageResponse, AppError> {
    let server = &state.web.settings.server;
    let computer = match login.client_ip {
        Some(ip) if is_internal(ip) => format!("{ip} ({})", chrome.t.phone_org_network),
        Some(ip) => ip.to_string(),
        None => chrome.t.phone_unknown_address.to_owned(),
    };
    let page = PhoneCheckPage {
        action: server.path(&format!("/q/{}", token.encode())),
        csrf: csrf.value.clone(),
        opened: state.qr_links.opening_stamp(token, now),
        service_name: state.web.settings.ui.service_name.clone(),
        // The address the person typed or clicked on the computer, which a phishing copy of the
        // page cannot have.
        domain: server.base_url.host_str().unwrap_or_default().to_owned(),
        started_at: state.web.zone.time_and_day(login.created_at),
        computer,
        choices: state.qr_links.verification_codes(login.id).choices,
        chrome,
    };
    // The right code answers with a redirect to the provider's app link. Browsers apply
    // `form-action` to redirects after a form post (Chromium blocked it: found by the e2e test),
    // so this page allows exactly the provider's origin besides our own.
    let provider_origin = url::Url::parse(login.deeplink.as_deref().unwrap_or_default())
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let csp = crate::http::CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {provider_origin}"),
    );
    // The computer's address and the time its login started: uncompressed.
    Ok(PageResponse::render(&state.web.custom_pages, &page)?
        .with_csrf(csrf)
        .content_security_policy(csp)
        .uncompressed())
}

#[derive(Deserialize)]
pub struct Answer {
    csrf: String,
    /// A verification code ("47") or "decline".
    choice: String,
    /// The page's opening stamp.
    #[serde(default)]
    opened: String,
}

impl csrf::WithCsrfToken for Answer {
    fn csrf_token(&self) -> &str {
        &self.csrf
    }
}

/// `POST {prefix}/q/{token}`: a code picked, or Decline.
pub async fn answer(
    State(state): State<LoginContext>,
    Path(token): Path<String>,
    phone: Client,
    chrome: PageChrome,
    CsrfForm(form): CsrfForm<Answer>,
) -> Result<Response, AppError> {
    let (token, login) = checked(&state, &token).await?;
    let pages = &state.web.custom_pages;
    let now = state.web.clock.now();
    if !opened_in_time(&state, &token, &login, &form.opened, now) {
        refused("stale_answer");
        return notice(pages, chrome, Notice::Expired);
    }
    if login.state_at(now) != PendingState::Pending {
        refused("not_pending");
        return notice(pages, chrome, Notice::NotWaiting);
    }
    let right = state.qr_links.verification_codes(login.id).right;
    let reason = match form.choice.trim() {
        "decline" => Reason::DeclinedOnPhone,
        picked if picked.parse::<u8>().ok() == Some(right) => {
            let Some(deeplink) = login.deeplink else {
                return Err(AppError::NotFound);
            };
            metrics::counter!("kepgate_qr_handoffs_total", "path" => "code_checked").increment(1);
            return to_provider(&deeplink);
        }
        _ => Reason::WrongCode,
    };
    let outcome = Outcome::Rejected {
        reason: reason.clone(),
    };
    if pending::record_outcome(&state.web.db, login.id, &outcome, now)
        .await?
        .is_none()
    {
        // The provider's answer or the expiry got there first.
        return notice(pages, chrome, Notice::NotWaiting);
    }
    tracing::warn!(login = %login.id, phone = %phone.addr, %reason, "login rejected on the phone");
    metrics::counter!("kepgate_logins_rejected_on_phone_total", "reason" => reason.to_string())
        .increment(1);
    let told = match reason {
        Reason::WrongCode => Notice::WrongCode,
        _ => Notice::Declined,
    };
    notice(pages, chrome, told)
}

/// The link's rules hold for the answer too: it must come from a page opened while the link
/// was fresh (the same check as on opening), and soon after. A code posted straight to a stale
/// link, with no page opened in time, counts for nothing.
fn opened_in_time(
    state: &LoginContext,
    token: &QrToken,
    login: &PendingLogin,
    stamp: &str,
    now: OffsetDateTime,
) -> bool {
    state
        .qr_links
        .opened_at(token, stamp)
        .is_some_and(|opened| {
            state.qr_links.freshness(token, login.created_at, opened) == Freshness::Fresh
                && opened <= now
                && now - opened <= ANSWER_WITHIN
        })
}

/// The token parsed and its MAC verified, and its pending login; anything else is "not found"
/// (no oracle for guessing ids or MACs).
async fn checked(state: &LoginContext, text: &str) -> Result<(QrToken, PendingLogin), AppError> {
    let Some(token) = QrToken::parse(text) else {
        refused("malformed");
        return Err(AppError::NotFound);
    };
    if !state.qr_links.verify(&token) {
        tracing::warn!("a QR link with a wrong MAC was opened");
        refused("bad_mac");
        return Err(AppError::NotFound);
    }
    let login = pending::find(&state.web.db, token.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((token, login))
}

fn refused(reason: &'static str) {
    metrics::counter!("kepgate_qr_links_refused_total", "reason" => reason).increment(1);
}

/// What the phone is told instead of the check page.
#[derive(Clone, Copy)]
enum Notice {
    /// A stale link, or an answer from a page opened too long ago.
    Expired,
    NotWaiting,
    WrongCode,
    Declined,
}

impl Notice {
    /// Title, body, and whether it warns of danger.
    fn words(self, t: &'static Texts) -> (&'static str, &'static str, bool) {
        match self {
            Notice::Expired => (t.phone_expired_title, t.phone_expired_body, true),
            Notice::NotWaiting => (t.phone_not_waiting_title, t.phone_not_waiting_body, false),
            Notice::WrongCode => (t.phone_wrong_code_title, t.phone_wrong_code_body, true),
            Notice::Declined => (t.phone_declined_title, t.phone_declined_body, false),
        }
    }
}

fn notice(pages: &CustomPages, chrome: PageChrome, notice: Notice) -> Result<Response, AppError> {
    let (title, body, danger) = notice.words(chrome.t);
    let page = PhoneNotice {
        chrome,
        title,
        body,
        danger,
    };
    Ok(PageResponse::render(pages, &page)?
        .status(axum::http::StatusCode::GONE)
        .into_response())
}

fn to_provider(deeplink: &str) -> Result<Response, AppError> {
    see_other_no_store(deeplink)
}

/// Addresses that mean "inside the organisation" rather than a place on the internet (there is
/// no GeoIP database here; a public address is shown as it is).
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_loopback_addresses_are_internal() {
        for ip in [
            "10.1.2.3",
            "192.168.0.5",
            "172.16.9.9",
            "127.0.0.1",
            "fd00::1",
            "::1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "185.1.2.3", "2001:db8::1"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }
}
