//! What a phone sees when it opens a rotating QR link (`{prefix}/q/{token}`): the second and
//! third defences against QR relay (README, "QR relay (QRLJacking)").
//!
//! A fresh link shows who is asking (service, website, time, the address of the computer that
//! started the login) and three verification codes, one of which the computer shows; Decline
//! is as large as the codes. The right code leads on to the provider app; Decline or a wrong
//! pick rejects the pending login at once, and the computer's page hears it over SSE.
//! A stale link is refused with "scan the one on your screen" and recorded as suspicious.
//! The browser that started the login (same phone) skips all of it.

use std::net::IpAddr;

use crate::config::Settings;
use crate::http::custom_pages::{CustomPages, Page, placeholder};
use crate::language::Lang;
use crate::return_path::ReturnPath;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::{LOCATION, SET_COOKIE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::context::LoginContext;
use super::form::binding_hash;
use super::pending::{self, Outcome, PendingLogin, PendingState};
use super::qr_link::{Freshness, QrToken};
use crate::http::client_addr::ClientAddr;
use crate::http::csrf::{self, CsrfForm};
use crate::http::error::AppError;
use crate::http::pages::header_value;
use crate::http::pages::{PageChrome, no_store, uncompressed};
use crate::session::history;

/// Reasons a phone rejects a login with; they reach `pending_logins.outcome_reason` and, by the
/// history trigger, `login_history.reason`.
pub const DECLINED_ON_PHONE: &str = "declined_on_phone";
pub const WRONG_CODE: &str = "relay_suspected_wrong_code";

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
    ClientAddr(phone): ClientAddr,
    parts: Parts,
) -> Result<Response, AppError> {
    let (token, login) = checked(&state, &token).await?;
    let chrome = PageChrome::from_parts(&parts, &state.web.settings);
    let t = chrome.t;
    let now = state.web.clock.now();
    if login.state_at(now) != PendingState::Pending {
        refused("not_pending");
        return notice(
            &state.web.custom_pages,
            chrome,
            t.phone_not_waiting_title,
            t.phone_not_waiting_body,
            false,
        );
    }
    let Some(deeplink) = login.deeplink.clone() else {
        return Err(AppError::NotFound);
    };
    // The phone that started the login holds its binding cookie: no second device, nothing to
    // compare, and a link it tapped a while ago is still its own.
    if state.web.settings.login.same_device_shortcut
        && let Some(hash) = binding_hash(&parts.headers, &state, login.id)
        && login.started_by(&hash)
    {
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
                client_ip: Some(phone),
                user_agent: user_agent(&parts.headers).as_deref(),
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
                phone = %phone,
                reason,
                "an old QR link was opened: copied or relayed?"
            );
        }
        return notice(
            &state.web.custom_pages,
            chrome,
            t.phone_expired_title,
            t.phone_expired_body,
            true,
        );
    }
    if !state.web.settings.login.phone_check {
        metrics::counter!("kepgate_qr_handoffs_total", "path" => "fresh_link").increment(1);
        return to_provider(&deeplink);
    }
    render_check(&state, chrome, &parts.headers, &token, &login, now)
}

fn render_check(
    state: &LoginContext,
    chrome: PageChrome,
    headers: &HeaderMap,
    token: &QrToken,
    login: &PendingLogin,
    now: OffsetDateTime,
) -> Result<Response, AppError> {
    let server = &state.web.settings.server;
    let csrf = csrf::issue(headers, server).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let computer = match login.client_ip {
        Some(ip) if is_internal(ip) => format!("{ip} ({})", chrome.t.phone_org_network),
        Some(ip) => ip.to_string(),
        None => chrome.t.phone_unknown_address.to_owned(),
    };
    let page = PhoneCheckPage {
        action: server.path(&format!("/q/{}", token.encode())),
        csrf: csrf.value,
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
    let mut response = Html(state.web.custom_pages.render(&page)?).into_response();
    if let Some(cookie) = csrf.set_cookie {
        response
            .headers_mut()
            .append(SET_COOKIE, header_value(&cookie)?);
    }
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
    response
        .headers_mut()
        .insert("content-security-policy", header_value(&csp)?);
    no_store(&mut response);
    // The computer's address and the time its login started.
    uncompressed(&mut response);
    Ok(response)
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
    ClientAddr(phone): ClientAddr,
    parts: Parts,
    CsrfForm(form): CsrfForm<Answer>,
) -> Result<Response, AppError> {
    let (token, login) = checked(&state, &token).await?;
    let chrome = PageChrome::from_parts(&parts, &state.web.settings);
    let t = chrome.t;
    let now = state.web.clock.now();
    // The link's rules hold for the answer too: it must come from a page opened while the link
    // was fresh (the same check as on opening), and soon after. A code posted straight to a stale
    // link, with no page opened in time, counts for nothing.
    let opened_in_time = state
        .qr_links
        .opened_at(&token, &form.opened)
        .filter(|opened| {
            state.qr_links.freshness(&token, login.created_at, *opened) == Freshness::Fresh
                && *opened <= now
                && now - *opened <= ANSWER_WITHIN
        });
    if opened_in_time.is_none() {
        refused("stale_answer");
        return notice(
            &state.web.custom_pages,
            chrome,
            t.phone_expired_title,
            t.phone_expired_body,
            true,
        );
    }
    if login.state_at(now) != PendingState::Pending {
        refused("not_pending");
        return notice(
            &state.web.custom_pages,
            chrome,
            t.phone_not_waiting_title,
            t.phone_not_waiting_body,
            false,
        );
    }
    let right = state.qr_links.verification_codes(login.id).right;
    let reason = match form.choice.trim() {
        "decline" => DECLINED_ON_PHONE,
        picked if picked.parse::<u8>().ok() == Some(right) => {
            let Some(deeplink) = login.deeplink else {
                return Err(AppError::NotFound);
            };
            metrics::counter!("kepgate_qr_handoffs_total", "path" => "code_checked").increment(1);
            return to_provider(&deeplink);
        }
        _ => WRONG_CODE,
    };
    let changed = pending::record_outcome(
        &state.web.db,
        login.id,
        &Outcome::Rejected {
            reason: reason.to_owned(),
        },
        now,
    )
    .await?;
    if changed.is_none() {
        // The provider's answer or the expiry got there first.
        return notice(
            &state.web.custom_pages,
            chrome,
            t.phone_not_waiting_title,
            t.phone_not_waiting_body,
            false,
        );
    }
    tracing::warn!(login = %login.id, phone = %phone, reason, "login rejected on the phone");
    metrics::counter!("kepgate_logins_rejected_on_phone_total", "reason" => reason).increment(1);
    if reason == WRONG_CODE {
        notice(
            &state.web.custom_pages,
            chrome,
            t.phone_wrong_code_title,
            t.phone_wrong_code_body,
            true,
        )
    } else {
        notice(
            &state.web.custom_pages,
            chrome,
            t.phone_declined_title,
            t.phone_declined_body,
            false,
        )
    }
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

fn notice(
    pages: &CustomPages,
    chrome: PageChrome,
    title: &'static str,
    body: &'static str,
    danger: bool,
) -> Result<Response, AppError> {
    let page = PhoneNotice {
        chrome,
        title,
        body,
        danger,
    };
    let mut response = (StatusCode::GONE, Html(pages.render(&page)?)).into_response();
    no_store(&mut response);
    Ok(response)
}

fn to_provider(deeplink: &str) -> Result<Response, AppError> {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response
        .headers_mut()
        .insert(LOCATION, header_value(deeplink)?);
    no_store(&mut response);
    Ok(response)
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect())
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
