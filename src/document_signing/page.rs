//! The signing page the cabinet sends the browser to: what is to be signed (names, sizes, hash
//! fingerprints), the provider, the deeplink and its QR code, the live status; «Продовжити» /
//! «Повернутися до кабінету» send the browser back to the cabinet with `signing=<id>`, and
//! «Спробувати ще раз» asks again for the same files. Only the session that asked sees it.
//!
//! The QR code holds the provider's deeplink itself, not the login's rotating link with its
//! phone check: those keep a relayed QR code from signing someone else *in*; here a signature
//! by anyone but the session's person is refused whatever way the link travelled.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;

use super::context::SigningContext;
use super::refusal::reason_text;
use super::request::{FileToSign, SigningState};
use super::start::{Begin, begin};
use super::store::{self, SigningRequest, StartedBy};
use crate::config::Settings;
use crate::http::client_addr::Client;
use crate::http::csrf::{CsrfForm, CsrfToken, TokenOnly};
use crate::http::custom_pages::{Markup, Page, placeholder};
use crate::http::error::AppError;
use crate::http::page_response::PageResponse;
use crate::http::pages::{PageChrome, see_other_no_store};
use crate::http::qr_code::qr_svg;
use crate::http::signed_in::CurrentSession;
use crate::language::{Lang, Texts};
use crate::provider::{HashAlgorithm, Providers};
use crate::return_path::ReturnPath;

#[derive(Serialize)]
pub struct FileRow {
    pub name: String,
    pub size: Option<u64>,
    /// The hash's first 8 bytes in hex, grouped: enough to compare with what the cabinet shows.
    pub fingerprint: String,
}

#[derive(Template, Serialize)]
#[template(path = "sign.html")]
pub struct SignPage {
    chrome: PageChrome,
    provider_name: String,
    files: Vec<FileRow>,
    hash_name: &'static str,
    link: Option<String>,
    qr_svg: Option<Markup>,
    state: &'static str,
    status_text: String,
    seconds_left: i64,
    /// What the page says by itself when its countdown reaches 0.
    expired_text: String,
    events_url: String,
    done_action: String,
    again_action: String,
    csrf: String,
    finished: bool,
    /// The configured providers that can sign, by display name.
    signing_providers: String,
}

impl Page for SignPage {
    const FILE: &'static str = "sign.html";

    fn samples(settings: &Settings, lang: Lang) -> [Self; 2] {
        let server = &settings.server;
        let t = lang.texts();
        let link = "https://diia.app/placeholder-link";
        let page = |pending: bool| SignPage {
            chrome: PageChrome::new(settings, lang, &ReturnPath::root()),
            provider_name: placeholder::PROVIDER.to_owned(),
            files: vec![FileRow {
                name: "zvit.xml".to_owned(),
                size: pending.then_some(1024),
                fingerprint: "0011 2233 4455 6677".to_owned(),
            }],
            hash_name: "GOST 34.311",
            link: pending.then(|| link.to_owned()),
            qr_svg: pending
                .then(|| qr_svg(link).ok())
                .flatten()
                .map(Markup::built_by_kepgate),
            state: if pending { "pending" } else { "expired" },
            status_text: if pending {
                t.sign_status_waiting.to_owned()
            } else {
                reason_text("expired", lang)
            },
            seconds_left: if pending { 300 } else { 0 },
            expired_text: reason_text("expired", lang),
            events_url: server.path("/sign/events/placeholder"),
            done_action: server.path("/sign/placeholder/done"),
            again_action: server.path("/sign/placeholder/again"),
            csrf: placeholder::CSRF.to_owned(),
            finished: !pending,
            signing_providers: placeholder::PROVIDER.to_owned(),
        };
        [page(true), page(false)]
    }
}

/// The state in words, as the page and its stream show it.
pub fn status_text(request: &SigningRequest, state: SigningState, lang: Lang, t: &Texts) -> String {
    match state {
        SigningState::Pending => t.sign_status_waiting.to_owned(),
        SigningState::Signed => t.sign_status_signed.to_owned(),
        SigningState::Expired => reason_text("expired", lang),
        SigningState::Declined | SigningState::Failed => {
            reason_text(request.reason.as_deref().unwrap_or_default(), lang)
        }
    }
}

/// The request `id` of this session, or 404 (also for another session's: no telling apart).
pub async fn owned(
    state: &SigningContext,
    session: &CurrentSession,
    id: &str,
) -> Result<SigningRequest, AppError> {
    store::find_of_session(&state.web.db, id, session.0.id)
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET {prefix}/sign/{id}`.
pub async fn sign_page(
    State(state): State<SigningContext>,
    session: CurrentSession,
    chrome: PageChrome,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> Result<PageResponse, AppError> {
    let request = owned(&state, &session, &id).await?;
    let server = &state.web.settings.server;
    let now = state.web.clock.now();
    let shown = request.state_at(now);
    let pending = shown == SigningState::Pending;
    let link = request.deeplink.clone().filter(|_| pending);
    let qr_svg = link
        .as_deref()
        .map(qr_svg)
        .transpose()?
        .map(Markup::built_by_kepgate);
    let page = SignPage {
        provider_name: provider_name(&state.providers, &request.provider, chrome.lang),
        files: request
            .files
            .iter()
            .map(|f| FileRow {
                name: f.name.as_str().to_owned(),
                size: f.size,
                fingerprint: fingerprint(&f.hash),
            })
            .collect(),
        hash_name: match request.algorithm.hash_algorithm() {
            HashAlgorithm::Gost34311 => "GOST 34.311",
            HashAlgorithm::Sha256 => "SHA-256",
        },
        link,
        qr_svg,
        state: shown.as_str(),
        status_text: status_text(&request, shown, chrome.lang, chrome.t),
        seconds_left: (request.expires_at - now).whole_seconds().max(0),
        expired_text: reason_text("expired", chrome.lang),
        events_url: server.path(&format!("/sign/events/{}", request.id)),
        done_action: server.path(&format!("/sign/{}/done", request.id)),
        again_action: server.path(&format!("/sign/{}/again", request.id)),
        csrf: csrf.value.clone(),
        finished: !matches!(shown, SigningState::Pending | SigningState::Signed),
        signing_providers: state
            .providers
            .iter()
            .filter(|p| p.can_sign())
            .map(|p| p.display_name(chrome.lang).to_owned())
            .collect::<Vec<_>>()
            .join(", "),
        chrome,
    };
    // The deeplink (and its QR code) lets whoever holds it answer this request: uncompressed.
    Ok(PageResponse::render(&state.web.custom_pages, &page)?
        .with_csrf(&csrf)
        .uncompressed())
}

fn provider_name(providers: &Providers, id: &str, lang: Lang) -> String {
    providers
        .get(id)
        .map(|p| p.display_name(lang).to_owned())
        .unwrap_or_else(|| id.to_owned())
}

/// `0011 2233 4455 6677`: the hash's first 8 bytes.
fn fingerprint(hash: &[u8; 32]) -> String {
    hash[..8]
        .chunks(2)
        .map(base16ct::lower::encode_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `POST {prefix}/sign/{id}/done`: back to the cabinet, which fetches the result itself.
pub async fn done(
    State(state): State<SigningContext>,
    session: CurrentSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, AppError> {
    let request = owned(&state, &session, &id).await?;
    see_other_no_store(&request.return_to.with_signing(request.id))
}

/// `POST {prefix}/sign/{id}/again`: the same files asked for once more, of the same provider.
pub async fn again(
    State(state): State<SigningContext>,
    session: CurrentSession,
    client: Client,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, AppError> {
    let request = owned(&state, &session, &id).await?;
    let provider = state
        .providers
        .get(&request.provider)
        .filter(|p| p.can_sign())
        .ok_or_else(|| AppError::BadRequest("the provider no longer signs".to_owned()))?;
    let files: Vec<FileToSign> = request
        .files
        .iter()
        .map(|f| FileToSign {
            name: f.name.clone(),
            size: f.size,
            hash: f.hash,
        })
        .collect();
    let begun = begin(
        &state,
        Begin {
            session: &session.0,
            by: &StartedBy::Browser,
            provider,
            algorithm: request.algorithm,
            files: &files,
            return_to: &request.return_to,
            client_ip: client.addr,
        },
    )
    .await
    .map_err(super::api_error::ApiError::into_app_error)?;
    let server = &state.web.settings.server;
    see_other_no_store(&server.path(&format!("/sign/{}", begun.id)))
}
