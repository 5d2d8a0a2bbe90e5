//! The login page and starting a login from it (form or JSON): the rate limit, the provider
//! call, and the browser's binding cookie; and the small response helpers the login pages share.

use std::net::IpAddr;

use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::header::{SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::binding::BindingCookie;
use super::context::LoginContext;
use super::pending::{self, PendingLogin, PendingLoginId};
use super::start::{StartError, StartLogin, StartedLogin, start_login};
use crate::config::Settings;
use crate::http::client_addr::ClientAddr;
use crate::http::cookies::{self, CookieKind};
use crate::http::csrf::{self, CsrfForm};
use crate::http::custom_pages::{Page, placeholder};
use crate::http::error::AppError;
use crate::http::pages::{PageChrome, no_store};
use crate::http::pages::{header_value, see_other};
use crate::language::Lang;
use crate::provider::{ProviderError, ProviderStart};
use crate::return_path::ReturnPath;

// ---------- the login page ----------

#[derive(Deserialize)]
pub struct LoginQuery {
    rd: Option<String>,
    provider: Option<String>,
    notice: Option<String>,
}

#[derive(Serialize)]
pub struct ProviderOption {
    pub id: String,
    pub name: String,
    pub selected: bool,
    pub hint_label: Option<String>,
    /// The button's words for this provider: «Отримати посилання», or «Увійти через id.gov.ua»
    /// for one the browser goes to.
    pub button_label: String,
}

#[derive(Template, Serialize)]
#[template(path = "login.html")]
pub struct LoginPage {
    chrome: PageChrome,
    action: String,
    csrf: String,
    return_path: String,
    providers: Vec<ProviderOption>,
    any_hint: bool,
    /// The selected provider's button words (the script follows the dropdown).
    button_label: String,
    error: Option<String>,
    notice: Option<String>,
    shared_pc: bool,
}

impl Page for LoginPage {
    const FILE: &'static str = "login.html";

    fn samples(settings: &Settings, lang: Lang) -> [Self; 2] {
        let server = &settings.server;
        let page = |providers: Vec<ProviderOption>, error: Option<&str>, notice: Option<&str>| {
            let chrome = PageChrome::new(settings, lang, &ReturnPath::root());
            LoginPage {
                action: server.path("/login/start"),
                csrf: placeholder::CSRF.to_owned(),
                return_path: "/cabinet".to_owned(),
                any_hint: providers.iter().any(|p| p.hint_label.is_some()),
                button_label: chrome.t.get_link.to_owned(),
                providers,
                error: error.map(str::to_owned),
                notice: notice.map(str::to_owned),
                shared_pc: settings.session.shared_pc_default,
                chrome,
            }
        };
        let t = lang.texts();
        let option =
            |id: &str, selected: bool, hint: Option<&str>, button: String| ProviderOption {
                id: id.to_owned(),
                name: placeholder::PROVIDER.to_owned(),
                selected,
                hint_label: hint.map(str::to_owned),
                button_label: button,
            };
        [
            page(
                vec![
                    option("diia", true, Some(t.user_hint_label), t.get_link.to_owned()),
                    option(
                        "idgovua",
                        false,
                        None,
                        format!("{} {}", t.sign_in_via, placeholder::PROVIDER),
                    ),
                ],
                Some(t.internal_body),
                Some(t.notice_logged_out),
            ),
            page(
                vec![option("diia", true, None, t.get_link.to_owned())],
                None,
                None,
            ),
        ]
    }
}

pub async fn login_page(
    State(state): State<LoginContext>,
    Query(query): Query<LoginQuery>,
    request: Request,
) -> Result<Response, AppError> {
    // A form whose button can only fail is worse than saying so now (503, Retry-After).
    state.web.database_reachable().await?;
    let (parts, _) = request.into_parts();
    let chrome = PageChrome::from_parts(&parts, &state.web.settings);
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
    render_login(&state, chrome, &parts.headers, shown, StatusCode::OK)
}

/// What the form shows besides the providers: the way back, the provider picked, a message.
struct FormShown<'a> {
    return_path: &'a ReturnPath,
    selected: Option<&'a str>,
    error: Option<String>,
    notice: Option<String>,
}

fn render_login(
    state: &LoginContext,
    chrome: PageChrome,
    headers: &HeaderMap,
    shown: FormShown<'_>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let FormShown {
        return_path: rd,
        selected,
        error,
        notice,
    } = shown;
    let server = &state.web.settings.server;
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
            button_label: if p.sends_browser_away() {
                format!("{} {}", chrome.t.sign_in_via, p.display_name(lang))
            } else {
                chrome.t.get_link.to_owned()
            },
        })
        .collect();
    let button_label = providers
        .iter()
        .find(|p| p.selected)
        .map_or(chrome.t.get_link, |p| p.button_label.as_str())
        .to_owned();
    let page = LoginPage {
        action: server.path("/login/start"),
        csrf: token.value,
        return_path: rd.to_string(),
        any_hint: providers.iter().any(|p| p.hint_label.is_some()),
        providers,
        button_label,
        error,
        notice,
        shared_pc: state.web.settings.session.shared_pc_default,
        chrome,
    };
    let mut response = (status, Html(state.web.custom_pages.render(&page)?)).into_response();
    if let Some(cookie) = token.set_cookie {
        response
            .headers_mut()
            .append(SET_COOKIE, header_value(&cookie)?);
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
    State(state): State<LoginContext>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    request_parts: axum::http::request::Parts,
    CsrfForm(form): CsrfForm<StartForm>,
) -> Result<Response, AppError> {
    let server = &state.web.settings.server;
    let rd = ReturnPath::parse_or_root(form.rd.as_deref());
    let chrome = PageChrome::from_parts(&request_parts, &state.web.settings);
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
            let to = match &started.next {
                ProviderStart::OnPhone(_) => server.path(&format!("/login/wait/{}", started.id)),
                ProviderStart::Redirect { to } => to.to_string(),
            };
            let mut response = see_other(&to)?;
            response
                .headers_mut()
                .append(SET_COOKIE, header_value(&binding_cookie)?);
            Ok(response)
        }
        Err(BeginError::Provider(e)) => {
            let message = provider_error_text(&e, chrome.t);
            let shown = FormShown {
                return_path: &rd,
                selected: Some(&form.provider),
                error: Some(message),
                notice: None,
            };
            render_login(&state, chrome, &headers, shown, StatusCode::BAD_GATEWAY)
        }
        Err(BeginError::App(e)) => Err(e),
    }
}

pub(super) fn provider_error_text(e: &ProviderError, t: &crate::language::Texts) -> String {
    match e {
        ProviderError::NotConfigured(_) => t.provider_not_configured.to_owned(),
        ProviderError::Timeout(_) => t.provider_timeout.to_owned(),
        _ => t.provider_unavailable.to_owned(),
    }
}

pub(super) enum BeginError {
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
pub(super) async fn begin(
    state: &LoginContext,
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
    let server = &state.web.settings.server;
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
        e @ StartError::Random(_) => AppError::Internal(anyhow::Error::new(e)).into(),
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

pub(super) fn binding_cookie(
    headers: &HeaderMap,
    server: &crate::config::ServerSettings,
) -> BindingCookie {
    cookies::get(headers, server, CookieKind::LoginBinding)
        .map(|v| BindingCookie::parse(&v))
        .unwrap_or_default()
}

/// The hash of this browser's binding nonce for the login `id`, if it started that login.
pub(super) fn binding_hash(
    headers: &HeaderMap,
    state: &LoginContext,
    id: PendingLoginId,
) -> Option<[u8; 32]> {
    binding_cookie(headers, &state.web.settings.server).hash_for(id)
}

/// The pending login, if this browser started it; otherwise "not found" (no enumeration).
pub(super) async fn own_pending(
    state: &LoginContext,
    headers: &HeaderMap,
    id: Uuid,
) -> Result<PendingLogin, AppError> {
    let hash = binding_hash(headers, state, PendingLoginId(id)).ok_or(AppError::NotFound)?;
    pending::find_owned(&state.web.db, PendingLoginId(id), &hash)
        .await?
        .ok_or(AppError::NotFound)
}

// ---------- small pieces ----------

pub(super) fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
