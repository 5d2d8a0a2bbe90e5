//! Starting a login: the form (`GET /login`), its post, and the JSON API's start, all through one
//! function ([`start_login`]) with one error ([`StartError`]).
//!
//! The provider is asked server-side, then the pending row written with its deeplink
//! in one statement (it was an INSERT before the request and an UPDATE after it). A callback
//! cannot outrun the row: every adapter's request reaches the person only through this
//! replica's answer, sent after the row is committed (Diia: the deeplink, its QR code;
//! id.gov.ua: the redirect). An adapter that pushed requests to the phone by itself
//! (`StartedRequest::pushed_to_phone`) would need the row written before it is asked.

use std::net::IpAddr;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use tracing::Instrument;
use url::Url;

use super::binding::{BindingCookie, BrowserBinding};
use super::context::LoginContext;
use super::form::{FormShown, provider_error_text, render_login};
use super::outcome::Reason;
use super::pending::{self, NewPendingLogin};
use super::qr_link::shown_link;
use super::state::PendingLoginId;
use crate::http::client_addr::Client;
use crate::http::csrf::{self, CsrfForm, CsrfToken};
use crate::http::error::AppError;
use crate::http::page_response::PageResponse;
use crate::http::pages::{PageChrome, header_value, see_other};
use crate::language::Lang;
use crate::provider::{ProviderError, ProviderStart, RequestHash};
use crate::return_path::ReturnPath;
use crate::trace_context::current_traceparent;

pub struct StartLogin {
    pub provider_id: String,
    pub user_hint: Option<String>,
    pub return_path: ReturnPath,
    /// The random nonce that goes into the browser's binding cookie; only its hash is stored.
    pub binding_nonce: [u8; 32],
    /// Whose starts the per-address limit counts: every start has an address.
    pub client_ip: IpAddr,
    pub user_agent: Option<String>,
    /// «Public / shared computer» ticked: the session will get the shorter idle timeout.
    pub shared_pc: bool,
}

#[derive(Debug)]
pub struct StartedLogin {
    pub id: PendingLoginId,
    /// How the login goes on: on a phone (a link, a QR code), or by sending this browser to the
    /// provider.
    pub next: ProviderStart,
    /// As stored (PostgreSQL keeps microseconds): the rotating QR link's steps count from it.
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl StartedLogin {
    /// The phone's link, for a cross-device provider.
    pub fn link(&self) -> Option<&Url> {
        match &self.next {
            ProviderStart::OnPhone(started) => started.link.as_ref(),
            ProviderStart::Redirect { .. } => None,
        }
    }
}

/// Why a login did not start. Only [`StartError::Provider`] is shown on the form (or in the
/// API's JSON); the rest are the usual error answers ([`AppError`]).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// This address started more logins than `login.start_rate_per_minute` allows.
    #[error("too many login starts from this address")]
    RateLimited,
    #[error("unknown provider")]
    UnknownProvider,
    /// The provider needs the person's identifier (`user_hint`), and none usable was given.
    #[error("the user identifier is required")]
    HintRequired,
    /// `login.max_starts_in_flight` starts are running on this replica, or
    /// `login.max_pending` logins are waiting: a flood, most likely from many addresses.
    #[error("too many logins in progress")]
    Busy,
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("no randomness available")]
    Random(#[source] getrandom::Error),
}

impl From<StartError> for AppError {
    fn from(e: StartError) -> Self {
        match e {
            StartError::RateLimited => AppError::TooManyRequests,
            StartError::UnknownProvider | StartError::HintRequired => {
                AppError::BadRequest(e.to_string())
            }
            StartError::Busy => AppError::TooManyLogins,
            StartError::Database(e) => AppError::from(e),
            e @ (StartError::Provider(_) | StartError::Random(_)) => {
                AppError::Internal(anyhow::Error::new(e))
            }
        }
    }
}

/// The one way a login starts (the form, the JSON API, the tests): the address's rate limit,
/// the provider and its `user_hint`, the bounds on logins at once, then the provider's request
/// and the pending row.
pub async fn start_login(
    state: &LoginContext,
    request: StartLogin,
) -> Result<StartedLogin, StartError> {
    if state.start_limiter.check_key(&request.client_ip).is_err() {
        metrics::counter!("kepgate_login_starts_limited_total").increment(1);
        return Err(StartError::RateLimited);
    }
    let provider = state
        .providers
        .get(&request.provider_id)
        .ok_or(StartError::UnknownProvider)?;
    let user_hint = match (
        provider.user_hint(),
        request.user_hint.as_deref().map(str::trim),
    ) {
        (Some(_), Some(hint)) if !hint.is_empty() && hint.len() <= 100 => Some(hint.to_owned()),
        (Some(_), _) => return Err(StartError::HintRequired),
        (None, _) => None,
    };
    // The per-address rate limit does not stop a flood from many addresses; these two bounds do,
    // so that the pool and the table stay there for signed-in users. The permit bounds the
    // connections and provider calls starts hold at once; the count bounds rows (it may be
    // overshot by what other replicas start within a second of this one's count, never by the
    // flood as a whole).
    let Ok(_permit) = state.start_slots.try_acquire() else {
        metrics::counter!("kepgate_login_starts_busy_total", "bound" => "in_flight").increment(1);
        return Err(StartError::Busy);
    };
    let max_pending = i64::from(state.web.settings.login.max_pending);
    let waiting = state
        .waiting_logins
        .count(&state.web.db, state.web.clock.now(), max_pending)
        .await?;
    if waiting >= max_pending {
        metrics::counter!("kepgate_login_starts_busy_total", "bound" => "pending").increment(1);
        return Err(StartError::Busy);
    }
    let request = StartLogin {
        user_hint,
        ..request
    };
    request_and_record(state, provider, &request).await
}

/// The provider asked, and the pending row written whatever it answered; in the span that is the
/// login's own in its trace (the callback's and the completion's join it).
async fn request_and_record(
    state: &LoginContext,
    provider: &crate::provider::Provider,
    request: &StartLogin,
) -> Result<StartedLogin, StartError> {
    let span = tracing::info_span!("login.start", provider = %provider.id());
    ask_and_record(state, provider, request)
        .instrument(span)
        .await
}

async fn ask_and_record(
    state: &LoginContext,
    provider: &crate::provider::Provider,
    request: &StartLogin,
) -> Result<StartedLogin, StartError> {
    let (request_hash, request_id) =
        RequestHash::generate(provider.hash_algorithm()).map_err(StartError::Random)?;
    let now = to_microseconds(state.web.clock.now());
    let ttl = time::Duration::try_from(provider.common().request_ttl)
        .unwrap_or(time::Duration::minutes(3));
    let id = PendingLoginId::new();
    let binding_hash = BindingCookie::hash(&request.binding_nonce);
    let started = provider
        .start(&request_id, &request_hash, request.user_hint.as_deref())
        .instrument(tracing::info_span!("provider.start", provider = %provider.id()))
        .await;
    let traceparent = current_traceparent();
    let deeplink = match &started {
        Ok(ProviderStart::OnPhone(on_phone)) => on_phone.link.as_ref().map(Url::as_str),
        _ => None,
    };
    pending::insert(
        &state.web.db,
        &NewPendingLogin {
            id,
            provider: provider.id(),
            user_hint: request.user_hint.as_deref(),
            request_hash: &request_hash,
            binding_hash: binding_hash.as_slice(),
            return_path: &request.return_path,
            client_ip: Some(request.client_ip),
            user_agent: request.user_agent.as_deref(),
            shared_pc: request.shared_pc,
            deeplink,
            now,
            expires_at: now + ttl,
            traceparent: traceparent.as_deref(),
        },
    )
    .await?;
    state.waiting_logins.started_one();
    match started {
        Ok(next) => {
            metrics::counter!("kepgate_logins_started_total", "provider" => provider.id().to_owned()).increment(1);
            Ok(StartedLogin {
                id,
                next,
                created_at: now,
                expires_at: now + ttl,
            })
        }
        Err(e) => {
            // Written all the same: the history shows the attempt and why it failed.
            let reason = Reason::parse(e.code());
            pending::mark_start_failed(&state.web.db, id, reason, state.web.clock.now()).await?;
            Err(e.into())
        }
    }
}

/// `at` as PostgreSQL stores a `timestamptz`, so what this replica computes from the start time
/// before reading the row back is what every replica computes from the row.
fn to_microseconds(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at)
}

// ---------- the handlers: the form, its post, the JSON API ----------

#[derive(Deserialize)]
pub struct LoginQuery {
    rd: Option<String>,
    provider: Option<String>,
    notice: Option<String>,
}

/// `GET {prefix}/login`: the form.
pub async fn login_page(
    State(state): State<LoginContext>,
    Query(query): Query<LoginQuery>,
    chrome: PageChrome,
    csrf: CsrfToken,
) -> Result<PageResponse, AppError> {
    // A form whose button can only fail is worse than saying so now (503, Retry-After).
    state.web.database_reachable().await?;
    let rd = ReturnPath::parse_or_root(query.rd.as_deref());
    let notice = match query.notice.as_deref() {
        Some("logged_out") => Some(chrome.t.notice_logged_out.to_owned()),
        Some("expired") => Some(chrome.t.notice_session_ended.to_owned()),
        _ => None,
    };
    let shown = FormShown {
        return_path: &rd,
        selected: query.provider.as_deref(),
        error: None,
        notice,
    };
    render_login(&state.web, &state.providers, chrome, &csrf, shown)
}

#[derive(Deserialize)]
pub struct StartForm {
    csrf: String,
    provider: String,
    #[serde(default)]
    user_hint: Option<String>,
    #[serde(default)]
    rd: Option<String>,
    /// The «shared computer» checkbox: present when ticked.
    #[serde(default)]
    shared_pc: Option<String>,
}

impl csrf::WithCsrfToken for StartForm {
    fn csrf_token(&self) -> &str {
        &self.csrf
    }
}

/// `POST {prefix}/login/start`: to the waiting page (or the provider), with the binding cookie;
/// the form again, saying why, when the provider could not start it.
pub async fn start_form(
    State(state): State<LoginContext>,
    client: Client,
    browser: BrowserBinding,
    chrome: PageChrome,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<StartForm>,
) -> Result<Response, AppError> {
    let server = &state.web.settings.server;
    let rd = ReturnPath::parse_or_root(form.rd.as_deref());
    // A fresh nonce for every login, never one the browser brings (see `binding`).
    let nonce = BindingCookie::fresh_nonce()?;
    let request = StartLogin {
        provider_id: form.provider.clone(),
        user_hint: form.user_hint,
        return_path: rd.clone(),
        binding_nonce: nonce,
        client_ip: client.addr,
        user_agent: client.user_agent,
        shared_pc: form.shared_pc.is_some(),
    };
    match start_login(&state, request).await {
        Ok(started) => {
            let to = match &started.next {
                ProviderStart::OnPhone(_) => server.path(&format!("/login/wait/{}", started.id)),
                ProviderStart::Redirect { to } => to.to_string(),
            };
            let mut response = see_other(&to)?;
            let cookie = browser.set_with(server, started.id, nonce);
            response
                .headers_mut()
                .append(SET_COOKIE, header_value(&cookie)?);
            Ok(response)
        }
        Err(StartError::Provider(e)) => {
            let shown = FormShown {
                return_path: &rd,
                selected: Some(&form.provider),
                error: Some(provider_error_text(&e, chrome.t)),
                notice: None,
            };
            Ok(
                render_login(&state.web, &state.providers, chrome, &csrf, shown)?
                    .status(StatusCode::BAD_GATEWAY)
                    .into_response(),
            )
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ApiStart {
    provider: String,
    #[serde(default)]
    user_hint: Option<String>,
    #[serde(default)]
    return_path: Option<String>,
    /// «Public / shared computer»; `session.shared_pc_default` when absent.
    #[serde(default)]
    shared_pc: Option<bool>,
}

/// `POST {prefix}/api/login`: JSON in, JSON out. CSRF: a cross-site form cannot send
/// `Content-Type: application/json` without a CORS preflight we never allow; Origin is checked.
pub async fn api_start(
    State(state): State<LoginContext>,
    client: Client,
    browser: BrowserBinding,
    request_parts: Parts,
    Json(body): Json<ApiStart>,
) -> Result<Response, AppError> {
    let settings = &state.web.settings;
    if !csrf::origin_allowed(&request_parts.headers, &settings.server) {
        return Err(AppError::Forbidden);
    }
    let rd = match body.return_path.as_deref() {
        Some(raw) => ReturnPath::parse(raw).map_err(|e| AppError::BadRequest(e.to_string()))?,
        None => ReturnPath::root(),
    };
    let nonce = BindingCookie::fresh_nonce()?;
    let request = StartLogin {
        provider_id: body.provider,
        user_hint: body.user_hint,
        return_path: rd,
        binding_nonce: nonce,
        client_ip: client.addr,
        user_agent: client.user_agent,
        shared_pc: body.shared_pc.unwrap_or(settings.session.shared_pc_default),
    };
    match start_login(&state, request).await {
        Ok(started) => {
            let cookie = browser.set_with(&settings.server, started.id, nonce);
            let mut response =
                (StatusCode::CREATED, Json(api_started(&state, &started))).into_response();
            response
                .headers_mut()
                .append(SET_COOKIE, header_value(&cookie)?);
            Ok(response)
        }
        Err(StartError::Provider(e)) => {
            // In the client's language, like every other error kepgate shows.
            let t = Lang::from_parts(&request_parts, settings.ui.default_language).texts();
            Ok((
                StatusCode::BAD_GATEWAY,
                Json(json!({ "error": e.code(), "message": provider_error_text(&e, t) })),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The API's answer to a start: where the login goes on, and the addresses that follow it.
fn api_started(state: &LoginContext, started: &StartedLogin) -> serde_json::Value {
    let server = &state.web.settings.server;
    let id = started.id;
    // The same link the waiting page shows: rotating (follow `event: qr`) or direct.
    let shown = started.link().map(|deeplink| {
        shown_link(
            &state.qr_links,
            &state.web.settings,
            (id, started.created_at),
            deeplink.as_str(),
            state.web.clock.now(),
        )
    });
    json!({
        "id": id,
        "link": shown,
        "show_qr": matches!(&started.next, ProviderStart::OnPhone(s) if s.show_qr),
        "pushed_to_phone": matches!(&started.next, ProviderStart::OnPhone(s) if s.pushed_to_phone),
        "qr_url": started.link().map(|_| server.path(&format!("/login/qr/{id}"))),
        // A redirect provider: send the browser there; it comes back signed in.
        "redirect": match &started.next {
            ProviderStart::Redirect { to } => Some(to.as_str()),
            ProviderStart::OnPhone(_) => None,
        },
        "expires_at": started.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "events_url": server.path(&format!("/login/events/{id}")),
        "complete_url": server.path(&format!("/api/login/{id}/complete")),
    })
}
