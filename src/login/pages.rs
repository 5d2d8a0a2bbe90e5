//! The «Хмарне сховище» login as the browser sees it: the page, start, waiting (link, QR,
//! live status over SSE), completion, logout — and the same steps as JSON for scripts.

use std::convert::Infallible;
use std::net::IpAddr;
use std::time::Duration;

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::header::{CONTENT_TYPE, LOCATION, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use futures_util::stream::Stream;
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::binding::BindingCookie;
use super::pending::{self, PendingLogin, PendingLoginId, PendingState};
use super::start::{StartError, StartLogin, StartedLogin, start_login};
use super::status_stream::StatusStream;
use crate::http::client_addr::ClientAddr;
use crate::http::cookies::{self, CookieKind};
use crate::http::csrf::{self, CsrfForm, TokenOnly};
use crate::http::error::AppError;
use crate::http::pages::{PageChrome, no_store};
use crate::language::Lang;
use crate::provider::ProviderError;
use crate::return_path::ReturnPath;
use crate::session::{self, NewSession, SessionToken};
use crate::state::AppState;

// ---------- the login page ----------

#[derive(Deserialize)]
pub struct LoginQuery {
    rd: Option<String>,
    provider: Option<String>,
    notice: Option<String>,
}

pub struct ProviderOption {
    pub id: String,
    pub name: String,
    pub selected: bool,
    pub hint_label: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: PageChrome,
    action: String,
    csrf: String,
    return_path: String,
    providers: Vec<ProviderOption>,
    any_hint: bool,
    error: Option<String>,
    notice: Option<String>,
    shared_pc: bool,
}

pub async fn login_page(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
    request: Request,
) -> Result<Response, AppError> {
    // A form whose button can only fail is worse than saying so now (503, Retry-After).
    crate::http::health::database_reachable(&state).await?;
    let (parts, _) = request.into_parts();
    let chrome = PageChrome::from_parts(&parts, &state);
    let rd = ReturnPath::parse_or_root(query.rd.as_deref());
    let notice = match query.notice.as_deref() {
        Some("logged_out") => Some(chrome.t.notice_logged_out.to_owned()),
        Some("expired") => Some(chrome.t.notice_session_ended.to_owned()),
        _ => None,
    };
    render_login(
        &state,
        chrome,
        &parts.headers,
        &rd,
        query.provider.as_deref(),
        None,
        notice,
        StatusCode::OK,
    )
}

#[allow(clippy::too_many_arguments)]
fn render_login(
    state: &AppState,
    chrome: PageChrome,
    headers: &HeaderMap,
    rd: &ReturnPath,
    selected: Option<&str>,
    error: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let server = &state.settings.server;
    let token = csrf::issue(headers, server).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let lang = chrome.lang;
    let providers: Vec<ProviderOption> = state
        .providers
        .iter()
        .enumerate()
        .map(|(i, p)| ProviderOption {
            id: p.id().to_owned(),
            name: p.display_name(lang).to_owned(),
            selected: selected.map_or(i == 0, |s| s == p.id()),
            hint_label: p.user_hint().map(|h| match lang {
                Lang::Uk => h.label_uk.clone(),
                Lang::En => h.label_en.clone(),
            }),
        })
        .collect();
    let page = LoginPage {
        action: server.path("/login/start"),
        csrf: token.value,
        return_path: rd.to_string(),
        any_hint: providers.iter().any(|p| p.hint_label.is_some()),
        providers,
        error,
        notice,
        shared_pc: state.settings.session.shared_pc_default,
        chrome,
    };
    let mut response = (status, Html(page.render().map_err(anyhow::Error::new)?)).into_response();
    if let Some(cookie) = token.set_cookie {
        response.headers_mut().append(SET_COOKIE, header(&cookie)?);
    }
    no_store(&mut response);
    Ok(response)
}

// ---------- start ----------

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

pub async fn start_form(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    request_parts: axum::http::request::Parts,
    CsrfForm(form): CsrfForm<StartForm>,
) -> Result<Response, AppError> {
    let server = &state.settings.server;
    let rd = ReturnPath::parse_or_root(form.rd.as_deref());
    let chrome = PageChrome::from_parts(&request_parts, &state);
    match begin(
        &state,
        &headers,
        client,
        &form.provider,
        form.user_hint,
        rd.clone(),
        form.shared_pc.is_some(),
    )
    .await
    {
        Ok((started, binding_cookie)) => {
            let mut response = redirect(&server.path(&format!("/login/wait/{}", started.id)))?;
            response
                .headers_mut()
                .append(SET_COOKIE, header(&binding_cookie)?);
            Ok(response)
        }
        Err(BeginError::Provider(e)) => {
            let message = provider_error_text(&e, chrome.t);
            render_login(
                &state,
                chrome,
                &headers,
                &rd,
                Some(&form.provider),
                Some(message),
                None,
                StatusCode::BAD_GATEWAY,
            )
        }
        Err(BeginError::App(e)) => Err(e),
    }
}

fn provider_error_text(e: &ProviderError, t: &crate::language::Texts) -> String {
    match e {
        ProviderError::NotConfigured(_) => t.provider_not_configured.to_owned(),
        ProviderError::Timeout(_) => t.provider_timeout.to_owned(),
        _ => t.provider_unavailable.to_owned(),
    }
}

enum BeginError {
    Provider(ProviderError),
    App(AppError),
}

impl From<AppError> for BeginError {
    fn from(e: AppError) -> Self {
        BeginError::App(e)
    }
}

/// Shared by the form and the JSON API: rate limit, provider, binding nonce, start. Returns the
/// started login and the binding cookie to set.
async fn begin(
    state: &AppState,
    headers: &HeaderMap,
    client_ip: IpAddr,
    provider_id: &str,
    user_hint: Option<String>,
    rd: ReturnPath,
    shared_pc: bool,
) -> Result<(StartedLogin, String), BeginError> {
    if state.start_limiter.check_key(&client_ip).is_err() {
        metrics::counter!("kepgate_login_starts_limited_total").increment(1);
        return Err(AppError::TooManyRequests.into());
    }
    let provider = state
        .providers
        .get(provider_id)
        .ok_or_else(|| AppError::BadRequest("unknown provider".to_owned()))?;
    let user_hint = match (provider.user_hint(), user_hint.map(|h| h.trim().to_owned())) {
        (Some(_), Some(hint)) if !hint.is_empty() && hint.len() <= 100 => Some(hint),
        (Some(_), _) => {
            return Err(AppError::BadRequest("the user identifier is required".to_owned()).into());
        }
        (None, _) => None,
    };
    let server = &state.settings.server;
    // A fresh nonce for every login, never one the browser brings (see `binding`).
    let nonce = BindingCookie::fresh_nonce()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    let user_agent = headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect());
    let started = start_login(
        state,
        StartLogin {
            provider_id: provider_id.to_owned(),
            user_hint,
            return_path: rd,
            binding_nonce: nonce,
            client_ip: Some(client_ip),
            user_agent,
            shared_pc,
        },
    )
    .await
    .map_err(|e| match e {
        StartError::Provider(e) => BeginError::Provider(e),
        StartError::UnknownProvider => AppError::BadRequest("unknown provider".to_owned()).into(),
        StartError::Database(e) => AppError::from(e).into(),
        StartError::Random(e) => AppError::Internal(anyhow::anyhow!("no randomness: {e}")).into(),
        StartError::Busy => AppError::TooManyLogins.into(),
    })?;
    let cookie = binding_cookie(headers, server)
        .with_login(started.id, nonce)
        .value();
    Ok((
        started,
        cookies::set(server, CookieKind::LoginBinding, &cookie, None),
    ))
}

fn binding_cookie(headers: &HeaderMap, server: &crate::config::ServerSettings) -> BindingCookie {
    cookies::get(headers, server, CookieKind::LoginBinding)
        .map(|v| BindingCookie::parse(&v))
        .unwrap_or_default()
}

/// The hash of this browser's binding nonce for the login `id`, if it started that login.
pub(super) fn binding_hash(
    headers: &HeaderMap,
    state: &AppState,
    id: PendingLoginId,
) -> Option<[u8; 32]> {
    binding_cookie(headers, &state.settings.server).hash_for(id)
}

/// The pending login, if this browser started it; otherwise "not found" (no enumeration).
async fn own_pending(
    state: &AppState,
    headers: &HeaderMap,
    id: Uuid,
) -> Result<PendingLogin, AppError> {
    let hash = binding_hash(headers, state, PendingLoginId(id)).ok_or(AppError::NotFound)?;
    pending::find_owned(&state.db, PendingLoginId(id), &hash)
        .await?
        .ok_or(AppError::NotFound)
}

// ---------- waiting ----------

#[derive(Template)]
#[template(path = "wait.html")]
struct WaitPage {
    chrome: PageChrome,
    provider_name: String,
    link: Option<String>,
    qr_svg: Option<String>,
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
}

pub async fn wait_page(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    request: Request,
) -> Result<Response, AppError> {
    let (parts, _) = request.into_parts();
    let login = own_pending(&state, &parts.headers, id).await?;
    render_wait(
        &state,
        PageChrome::from_parts(&parts, &state),
        &parts.headers,
        &login,
        StatusCode::OK,
    )
}

fn render_wait(
    state: &AppState,
    chrome: PageChrome,
    headers: &HeaderMap,
    login: &PendingLogin,
    status: StatusCode,
) -> Result<Response, AppError> {
    let server = &state.settings.server;
    let token = csrf::issue(headers, server).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let now = state.clock.now();
    let shown_state = effective_state(login, now);
    let provider_name = state
        .providers
        .get(&login.provider)
        .map(|p| p.display_name(chrome.lang).to_owned())
        .unwrap_or_else(|| login.provider.clone());
    let link = super::qr_link::current_link(state, login, now)
        .filter(|_| shown_state == PendingState::Pending);
    let qr_svg = link.as_deref().map(qr_svg).transpose()?;
    let login_settings = &state.settings.login;
    let verification_code = (link.is_some()
        && login_settings.phone_check
        && login_settings.qr_mode == crate::config::QrMode::Rotating)
        .then(|| state.qr_links.verification_codes(login.id).right);
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
        chrome,
    };
    let mut response = (status, Html(page.render().map_err(anyhow::Error::new)?)).into_response();
    if let Some(cookie) = token.set_cookie {
        response.headers_mut().append(SET_COOKIE, header(&cookie)?);
    }
    no_store(&mut response);
    Ok(response)
}

/// A pending login past its time is expired even before the sweeper gets to it.
pub(super) fn effective_state(login: &PendingLogin, now: OffsetDateTime) -> PendingState {
    if login.state == PendingState::Pending && login.expires_at <= now {
        PendingState::Expired
    } else {
        login.state
    }
}

pub(super) fn status_text(
    state: PendingState,
    reason: Option<&str>,
    t: &crate::language::Texts,
) -> String {
    match state {
        PendingState::Pending => t.status_waiting.to_owned(),
        PendingState::Confirmed => t.status_confirmed.to_owned(),
        PendingState::Consumed => t.status_consumed.to_owned(),
        PendingState::Rejected => match reason {
            Some(super::phone_check::DECLINED_ON_PHONE) => t.status_declined_on_phone.to_owned(),
            Some(super::phone_check::WRONG_CODE) => t.status_wrong_code.to_owned(),
            _ => t.status_declined.to_owned(),
        },
        PendingState::Expired => t.status_expired.to_owned(),
        PendingState::Failed => match reason {
            Some("provider_timeout") => t.provider_timeout.to_owned(),
            Some(r) if r.starts_with("provider_") => t.provider_unavailable.to_owned(),
            Some("unsupported_algorithm") => t.status_unsupported_algorithm.to_owned(),
            _ => t.status_failed.to_owned(),
        },
    }
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
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let login = own_pending(&state, &headers, id).await?;
    let link = super::qr_link::current_link(&state, &login, state.clock.now())
        .ok_or(AppError::NotFound)?;
    let mut response = ([(CONTENT_TYPE, "image/svg+xml")], qr_svg(&link)?).into_response();
    no_store(&mut response);
    Ok(response)
}

// ---------- live status (SSE) ----------

pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    request: Request,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let (parts, _) = request.into_parts();
    let lang = Lang::from_parts(&parts, state.settings.ui.default_language);
    // Subscribe before the first read, so a change between the two is not missed; the row read
    // to check the binding cookie is then the stream's first state (one query, not two). A
    // refused subscription is dropped, and unregistered, on the early return.
    let subscription = state.login_events.subscribe(PendingLoginId(id));
    let login = own_pending(&state, &parts.headers, id).await?;
    let stream = StatusStream::new(state, lang, subscription, login).into_stream();
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

// ---------- completion ----------

pub async fn complete_form(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    ClientAddr(client): ClientAddr,
    request_parts: axum::http::request::Parts,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, AppError> {
    let headers = &request_parts.headers;
    match complete(&state, headers, client, id).await? {
        Completed::Done {
            return_path,
            cookies,
        } => {
            let mut response = redirect(return_path.as_str())?;
            for cookie in cookies {
                response.headers_mut().append(SET_COOKIE, header(&cookie)?);
            }
            no_store(&mut response);
            Ok(response)
        }
        // Not (yet) completable: show where it stands (the no-JavaScript "continue" path).
        Completed::NotYet(login) => {
            let status = if login.state == PendingState::Pending {
                StatusCode::OK
            } else {
                StatusCode::CONFLICT
            };
            render_wait(
                &state,
                PageChrome::from_parts(&request_parts, &state),
                headers,
                &login,
                status,
            )
        }
    }
}

enum Completed {
    Done {
        return_path: ReturnPath,
        cookies: Vec<String>,
    },
    NotYet(Box<PendingLogin>),
}

async fn complete(
    state: &AppState,
    headers: &HeaderMap,
    client_ip: IpAddr,
    id: Uuid,
) -> Result<Completed, AppError> {
    let hash = binding_hash(headers, state, PendingLoginId(id)).ok_or(AppError::Forbidden)?;
    let now = state.clock.now();
    let within = time::Duration::try_from(state.settings.login.complete_within)
        .unwrap_or(time::Duration::minutes(2));
    let mut tx = state.db.begin().await?;
    let Some(consumed) = pending::consume(&mut tx, PendingLoginId(id), &hash, now, within).await?
    else {
        tx.rollback().await?;
        // Another browser (wrong binding) learns nothing; the starting browser sees the state.
        let Some(login) = pending::find_owned(&state.db, PendingLoginId(id), &hash).await? else {
            tracing::warn!(login = %id, "completion attempted from another browser");
            metrics::counter!("kepgate_login_completions_refused_total", "reason" => "other_browser").increment(1);
            return Err(AppError::Forbidden);
        };
        metrics::counter!("kepgate_login_completions_refused_total", "reason" => login.state.as_str()).increment(1);
        return Ok(Completed::NotYet(Box::new(login)));
    };
    let timeouts = &state.settings.session;
    let idle_timeout = session::duration(if consumed.shared_pc {
        timeouts.shared_pc_idle_timeout
    } else {
        timeouts.idle_timeout
    });
    let absolute = session::duration(timeouts.absolute_timeout);
    let user_agent = headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect::<String>());
    let (session_id, token) = session::create(
        &mut tx,
        &NewSession {
            provider: &consumed.provider,
            identity: &consumed.identity,
            pending_login_id: PendingLoginId(id),
            client_ip: Some(client_ip),
            user_agent: user_agent.as_deref(),
            now,
            expires_at: now + absolute,
            idle_timeout,
            shared_pc: consumed.shared_pc,
        },
    )
    .await?;
    tx.commit().await?;
    // A session this browser still holds (someone else's, on a shared PC) ends with the new
    // sign-in rather than staying valid behind the new cookie until its idle timeout.
    if let Some(previous) = cookies::get(headers, &state.settings.server, CookieKind::Session)
        .and_then(|v| SessionToken::parse(&v))
    {
        session::end(
            state,
            session::Whom::Token(&previous),
            session::RevokedBy::Logout,
        )
        .await?;
    }
    tracing::info!(login = %id, session = %session_id, provider = %consumed.provider, "signed in");
    metrics::counter!("kepgate_logins_completed_total", "provider" => consumed.provider.clone())
        .increment(1);
    let server = &state.settings.server;
    // On a shared computer the cookie dies with the browser; elsewhere it may outlive a browser
    // restart up to the absolute timeout. Either way the server-side timeouts are what count.
    let max_age = (!consumed.shared_pc).then(|| absolute.whole_seconds());
    Ok(Completed::Done {
        return_path: consumed.return_path,
        cookies: vec![
            cookies::set(server, CookieKind::Session, token.expose(), max_age),
            // This login's binding is spent; other tabs' logins keep theirs.
            match binding_cookie(headers, server).without(PendingLoginId(id)) {
                rest if rest.is_empty() => cookies::clear(server, CookieKind::LoginBinding),
                rest => cookies::set(server, CookieKind::LoginBinding, &rest.value(), None),
            },
        ],
    })
}

// ---------- logout ----------

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, AppError> {
    let server = &state.settings.server;
    if let Some(token) =
        cookies::get(&headers, server, CookieKind::Session).and_then(|v| SessionToken::parse(&v))
    {
        session::end(
            &state,
            session::Whom::Token(&token),
            session::RevokedBy::Logout,
        )
        .await?;
    }
    let mut response = redirect(&format!("{}?notice=logged_out", server.path("/login")))?;
    response.headers_mut().append(
        SET_COOKIE,
        header(&cookies::clear(server, CookieKind::Session))?,
    );
    Ok(response)
}

// ---------- JSON API ----------

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
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    request_parts: axum::http::request::Parts,
    Json(body): Json<ApiStart>,
) -> Result<Response, AppError> {
    let headers = &request_parts.headers;
    let server = &state.settings.server;
    if !csrf::origin_allowed(headers, server) {
        return Err(AppError::Forbidden);
    }
    let rd = match body.return_path.as_deref() {
        Some(raw) => ReturnPath::parse(raw).map_err(|e| AppError::BadRequest(e.to_string()))?,
        None => ReturnPath::root(),
    };
    match begin(
        &state,
        headers,
        client,
        &body.provider,
        body.user_hint,
        rd,
        body.shared_pc
            .unwrap_or(state.settings.session.shared_pc_default),
    )
    .await
    {
        Ok((started, cookie)) => {
            let id = started.id;
            // The same link the waiting page shows: rotating (follow `event: qr`) or direct.
            let shown_link = match pending::find(&state.db, id).await? {
                Some(login) => super::qr_link::current_link(&state, &login, state.clock.now()),
                None => None,
            };
            let mut response = (
                StatusCode::CREATED,
                Json(json!({
                    "id": id,
                    "link": shown_link,
                    "show_qr": started.show_qr,
                    "pushed_to_phone": started.pushed_to_phone,
                    "qr_url": started.link.as_ref().map(|_| server.path(&format!("/login/qr/{id}"))),
                    "expires_at": started.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                    "events_url": server.path(&format!("/login/events/{id}")),
                    "complete_url": server.path(&format!("/api/login/{id}/complete")),
                })),
            )
                .into_response();
            response.headers_mut().append(SET_COOKIE, header(&cookie)?);
            Ok(response)
        }
        Err(BeginError::Provider(e)) => {
            // In the client's language, like every other error kepgate shows.
            let t = Lang::from_parts(&request_parts, state.settings.ui.default_language).texts();
            Ok((
                StatusCode::BAD_GATEWAY,
                Json(json!({ "error": e.code(), "message": provider_error_text(&e, t) })),
            )
                .into_response())
        }
        Err(BeginError::App(e)) => Err(e),
    }
}

pub async fn api_complete(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if !csrf::origin_allowed(&headers, &state.settings.server)
        || !headers
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
    {
        return Err(AppError::Forbidden);
    }
    match complete(&state, &headers, client, id).await? {
        Completed::Done {
            return_path,
            cookies,
        } => {
            let mut response = Json(json!({ "return_path": return_path.as_str() })).into_response();
            for cookie in cookies {
                response.headers_mut().append(SET_COOKIE, header(&cookie)?);
            }
            Ok(response)
        }
        Completed::NotYet(login) => Ok((
            StatusCode::CONFLICT,
            Json(json!({ "error": "not_completable", "state": login.state.as_str() })),
        )
            .into_response()),
    }
}

// ---------- small pieces ----------

fn redirect(to: &str) -> Result<Response, AppError> {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(LOCATION, header(to)?);
    Ok(response)
}

fn header(value: &str) -> Result<HeaderValue, AppError> {
    HeaderValue::from_str(value).map_err(|e| AppError::Internal(anyhow::Error::new(e)))
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
