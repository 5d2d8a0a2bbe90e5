//! The login page: the providers to choose from, the way back, a message; shown by `GET /login`
//! and again when a start from it failed (start.rs).

use askama::Template;
use serde::Serialize;

use crate::config::Settings;
use crate::http::Web;
use crate::http::csrf::CsrfToken;
use crate::http::custom_pages::{Page, placeholder};
use crate::http::error::AppError;
use crate::http::page_response::PageResponse;
use crate::http::pages::PageChrome;
use crate::language::{Lang, Texts};
use crate::provider::{ProviderError, Providers};
use crate::return_path::ReturnPath;

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

/// What the form shows besides the providers: the way back, the provider picked, a message.
pub struct FormShown<'a> {
    pub return_path: &'a ReturnPath,
    pub selected: Option<&'a str>,
    pub error: Option<String>,
    pub notice: Option<String>,
}

pub fn render_login(
    web: &Web,
    providers: &Providers,
    chrome: PageChrome,
    csrf: &CsrfToken,
    shown: FormShown<'_>,
) -> Result<PageResponse, AppError> {
    let FormShown {
        return_path: rd,
        selected,
        error,
        notice,
    } = shown;
    let options = provider_options(providers, &chrome, selected);
    let button_label = options
        .iter()
        .find(|p| p.selected)
        .map_or(chrome.t.get_link, |p| p.button_label.as_str())
        .to_owned();
    let page = LoginPage {
        action: web.settings.server.path("/login/start"),
        csrf: csrf.value.clone(),
        return_path: rd.to_string(),
        any_hint: options.iter().any(|p| p.hint_label.is_some()),
        providers: options,
        button_label,
        error,
        notice,
        shared_pc: web.settings.session.shared_pc_default,
        chrome,
    };
    Ok(PageResponse::render(&web.custom_pages, &page)?.with_csrf(csrf))
}

/// The dropdown: every provider, `selected` (or the first) picked.
fn provider_options(
    providers: &Providers,
    chrome: &PageChrome,
    selected: Option<&str>,
) -> Vec<ProviderOption> {
    let lang = chrome.lang;
    providers
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
        .collect()
}

/// What the person is told when the provider could not start the login.
pub fn provider_error_text(e: &ProviderError, t: &Texts) -> String {
    match e {
        ProviderError::NotConfigured(_) => t.provider_not_configured.to_owned(),
        ProviderError::Timeout(_) => t.provider_timeout.to_owned(),
        _ => t.provider_unavailable.to_owned(),
    }
}
