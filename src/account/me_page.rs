//! `{prefix}/me`: the signed-in person's open sessions and recent sign-in history, with buttons
//! to end one session or all of them (`ending.rs`).

use crate::config::Settings;
use crate::http::custom_pages::{Page, placeholder};
use crate::language::Lang;
use crate::return_path::ReturnPath;
use askama::Template;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::device;
use crate::document_signing::refusal::reason_text;
use crate::document_signing::store as signing_store;
use crate::http::Web;
use crate::http::csrf::CsrfToken;
use crate::http::error::AppError;
use crate::http::page_response::PageResponse;
use crate::http::pages::PageChrome;
use crate::http::signed_in::CurrentSession;
use crate::provider::ProviderNames;
use crate::session::{Session, history, listing};

/// How many history rows the page shows.
const HISTORY_ROWS: i64 = 50;

#[derive(Serialize)]
pub struct SessionRow {
    pub id: String,
    pub current: bool,
    pub provider: String,
    pub started: String,
    pub last_seen: String,
    pub ends: String,
    pub address: String,
    pub device: String,
    pub shared_pc: bool,
    pub end_action: String,
}

#[derive(Serialize)]
pub struct HistoryRow {
    pub at: String,
    pub event: &'static str,
    pub provider: String,
    pub address: String,
    pub device: String,
}

/// One signing request of the person's, for the signing history.
#[derive(Serialize)]
pub struct SigningRow {
    pub at: String,
    pub files: String,
    pub provider: String,
    /// What came of it, in words.
    pub outcome: String,
}

#[derive(Template, Serialize)]
#[template(path = "me.html")]
pub struct MePage {
    chrome: PageChrome,
    full_name: String,
    notice: Option<&'static str>,
    sessions: Vec<SessionRow>,
    history: Vec<HistoryRow>,
    signings: Vec<SigningRow>,
    csrf: String,
    logout_action: String,
    end_all_action: String,
}

impl Page for MePage {
    const FILE: &'static str = "me.html";

    fn samples(settings: &Settings, lang: Lang) -> [Self; 2] {
        let server = &settings.server;
        let t = lang.texts();
        // `seen`: a row of the listing; without it, the session as known from its cookie alone.
        let session = |id: &str, current: bool, seen: bool| {
            let (address, device, end_action) = if seen {
                (
                    placeholder::ADDRESS.to_owned(),
                    placeholder::DEVICE.to_owned(),
                    server.path(&format!("/me/sessions/{id}/end")),
                )
            } else {
                Default::default()
            };
            SessionRow {
                id: id.to_owned(),
                current,
                provider: placeholder::PROVIDER.to_owned(),
                started: placeholder::TIME.to_owned(),
                last_seen: placeholder::TIME.to_owned(),
                ends: placeholder::TIME.to_owned(),
                address,
                device,
                shared_pc: !current,
                end_action,
            }
        };
        let history = |event: &str| HistoryRow {
            at: placeholder::TIME.to_owned(),
            event: t.history_event(event),
            provider: placeholder::PROVIDER.to_owned(),
            address: placeholder::ADDRESS.to_owned(),
            device: placeholder::DEVICE.to_owned(),
        };
        let signing = SigningRow {
            at: placeholder::TIME.to_owned(),
            files: "zvit.xml".to_owned(),
            provider: placeholder::PROVIDER.to_owned(),
            outcome: t.sign_status_signed.to_owned(),
        };
        let page = |notice, sessions, history: Vec<HistoryRow>, signings| MePage {
            chrome: PageChrome::new(settings, lang, &ReturnPath::root()),
            full_name: placeholder::FULL_NAME.to_owned(),
            notice,
            signings,
            sessions,
            history,
            csrf: placeholder::CSRF.to_owned(),
            logout_action: server.path("/logout"),
            end_all_action: server.path("/me/sessions/end-all"),
        };
        const ONE: &str = "00000000-0000-4000-8000-000000000001";
        const OTHER: &str = "00000000-0000-4000-8000-000000000002";
        [
            page(
                Some(t.notice_sessions_ended),
                vec![session(ONE, true, true), session(OTHER, false, true)],
                vec![history("started"), history("confirmed")],
                vec![signing],
            ),
            // Without РНОКПП: this session alone, as known without its row, and no history.
            page(
                None,
                vec![session(ONE, true, false)],
                Vec::new(),
                Vec::new(),
            ),
        ]
    }
}

#[derive(Deserialize)]
pub struct MeQuery {
    notice: Option<String>,
}

pub async fn me_page(
    State(web): State<Web>,
    State(providers): State<ProviderNames>,
    CurrentSession(session): CurrentSession,
    axum::extract::Query(query): axum::extract::Query<MeQuery>,
    chrome: PageChrome,
    csrf: CsrfToken,
) -> Result<PageResponse, AppError> {
    let server = &web.settings.server;
    let lang = chrome.lang;
    let provider_name = |id: &str| providers.display_name(id, lang).to_owned();
    let rnokpp = session.identity.rnokpp.clone();
    let sessions = session_rows(&web, &session, &provider_name).await?;
    let history = match &rnokpp {
        Some(r) => history::of_person(&web.db, r, HISTORY_ROWS).await?,
        None => Vec::new(),
    }
    .into_iter()
    .map(|h| HistoryRow {
        at: web.zone.date_and_time(h.at),
        event: chrome.t.history_event(&h.event),
        provider: provider_name(&h.provider),
        address: device::address(h.client_ip.as_deref().unwrap_or_default()).to_owned(),
        device: device::device(h.user_agent.as_deref().unwrap_or_default()),
    })
    .collect();
    let signings = signing_rows(&web, &session, lang, &provider_name).await?;
    let notice = match query.notice.as_deref() {
        Some("ended") => Some(chrome.t.notice_sessions_ended),
        _ => None,
    };
    let page = MePage {
        full_name: session.identity.full_name.clone(),
        notice,
        sessions,
        history,
        signings,
        csrf: csrf.value.clone(),
        logout_action: server.path("/logout"),
        end_all_action: server.path("/me/sessions/end-all"),
        chrome,
    };
    // The person's name, addresses and devices: uncompressed.
    Ok(PageResponse::render(&web.custom_pages, &page)?
        .with_csrf(&csrf)
        .uncompressed())
}

/// The person's latest signing requests (by subject: also without a РНОКПП), newest first.
async fn signing_rows(
    web: &Web,
    session: &Session,
    lang: Lang,
    provider_name: &(dyn Fn(&str) -> String + Sync),
) -> Result<Vec<SigningRow>, AppError> {
    let t = lang.texts();
    Ok(
        signing_store::history(&web.db, &session.subject(), HISTORY_ROWS)
            .await?
            .into_iter()
            .map(|s| SigningRow {
                at: web.zone.date_and_time(s.created_at),
                files: s.files.join(", "),
                provider: provider_name(&s.provider),
                outcome: match s.state.as_str() {
                    "signed" => t.sign_status_signed.to_owned(),
                    "pending" => t.sign_status_waiting.to_owned(),
                    _ => reason_text(s.reason.as_deref().unwrap_or(&s.state), lang),
                },
            })
            .collect(),
    )
}

/// The person's open sessions, this one marked (and shown even when the listing lacks it).
async fn session_rows(
    web: &Web,
    session: &Session,
    provider_name: &(dyn Fn(&str) -> String + Sync),
) -> Result<Vec<SessionRow>, AppError> {
    let server = &web.settings.server;
    let now = web.clock.now();
    let when = |t| web.zone.date_and_time(t);
    let open = match &session.identity.rnokpp {
        Some(r) => listing::open(&web.db, now, Some(r.as_str()), None).await?,
        None => Vec::new(),
    };
    let mut sessions: Vec<SessionRow> = open
        .into_iter()
        .map(|s| SessionRow {
            current: s.id == session.id,
            id: s.id.to_string(),
            provider: provider_name(&s.provider),
            started: when(s.created_at),
            last_seen: when(s.last_seen_at),
            ends: when(s.expires_at),
            address: device::address(s.client_ip.as_deref().unwrap_or_default()).to_owned(),
            device: device::device(s.user_agent.as_deref().unwrap_or_default()),
            shared_pc: s.shared_pc,
            end_action: server.path(&format!("/me/sessions/{}/end", s.id)),
        })
        .collect();
    if !sessions.iter().any(|s| s.current) {
        // No РНОКПП in the certificate (or the row's idle time lags): show at least this one.
        sessions.insert(
            0,
            SessionRow {
                id: session.id.to_string(),
                current: true,
                provider: provider_name(&session.provider),
                started: when(session.created_at),
                last_seen: when(now),
                ends: when(session.expires_at),
                address: String::new(),
                device: String::new(),
                shared_pc: session.shared_pc,
                end_action: String::new(),
            },
        );
    }
    Ok(sessions)
}
