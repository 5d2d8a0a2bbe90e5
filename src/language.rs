//! The two languages of every page: Ukrainian (default) and English.
//!
//! Chosen by, in order: the `kepgate_lang` cookie set by the page's switch, `Accept-Language`,
//! then `ui.default_language`. Texts are plain structs so a missing translation is a compile
//! error, not a blank on the page.

use axum::extract::FromRequestParts;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};

use crate::state::AppState;

pub const LANG_COOKIE: &str = "kepgate_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Uk,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Uk => "uk",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.split(['-', '_']).next()?.trim();
        if primary.eq_ignore_ascii_case("uk") {
            Some(Lang::Uk)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Uk => Lang::En,
            Lang::En => Lang::Uk,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Uk => &UK,
            Lang::En => &EN,
        }
    }

    /// Picks the language for a request from its headers.
    pub fn negotiate(
        cookie_header: Option<&str>,
        accept_language: Option<&str>,
        default: Lang,
    ) -> Lang {
        if let Some(lang) = cookie_header
            .and_then(|c| cookie_value(c, LANG_COOKIE))
            .and_then(Lang::parse)
        {
            return lang;
        }
        accept_language.and_then(best_accepted).unwrap_or(default)
    }
}

/// The highest-weighted language from `Accept-Language` that we speak (RFC 9110 §12.5.4).
fn best_accepted(header: &str) -> Option<Lang> {
    let mut best: Option<(Lang, f32)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let Some(tag) = parts.next().map(str::trim) else {
            continue;
        };
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if quality <= 0.0 {
            continue;
        }
        // Russian-speaking Ukrainian users get Ukrainian, not English.
        let lang = Lang::parse(tag).or_else(|| {
            tag.to_ascii_lowercase()
                .starts_with("ru")
                .then_some(Lang::Uk)
        });
        if let Some(lang) = lang
            && best.is_none_or(|(_, q)| quality > q)
        {
            best = Some((lang, quality));
        }
    }
    best.map(|(lang, _)| lang)
}

/// Value of one cookie from a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

impl FromRequestParts<AppState> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_parts(parts, state.settings.ui.default_language))
    }
}

impl Lang {
    pub fn from_parts(parts: &Parts, default: Lang) -> Lang {
        let cookies = parts
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("; ");
        let accept = parts
            .headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        Lang::negotiate(Some(&cookies), accept, default)
    }
}

/// Every string kepgate shows, in one language.
pub struct Texts {
    pub lang_name: &'static str,
    pub switch_to: &'static str,
    pub request_id: &'static str,
    pub go_home: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub bad_request_title: &'static str,
    pub bad_request_body: &'static str,
    pub forbidden_title: &'static str,
    pub forbidden_body: &'static str,
    pub too_large_title: &'static str,
    pub too_large_body: &'static str,
    pub timeout_title: &'static str,
    pub timeout_body: &'static str,
    pub too_many_title: &'static str,
    pub too_many_body: &'static str,
    pub unavailable_title: &'static str,
    pub unavailable_body: &'static str,
    pub internal_title: &'static str,
    pub internal_body: &'static str,
    pub error_hint: &'static str,
}

pub static UK: Texts = Texts {
    lang_name: "Українська",
    switch_to: "English",
    request_id: "Ідентифікатор запиту",
    go_home: "На головну",
    not_found_title: "Сторінку не знайдено",
    not_found_body: "За цією адресою нічого немає. Перевірте посилання.",
    bad_request_title: "Некоректний запит",
    bad_request_body: "Запит не вдалося обробити.",
    forbidden_title: "Доступ заборонено",
    forbidden_body: "У вас немає доступу до цієї сторінки.",
    too_large_title: "Запит завеликий",
    too_large_body: "Надіслані дані перевищують допустимий розмір.",
    timeout_title: "Час очікування вичерпано",
    timeout_body: "Сервер не встиг обробити запит. Спробуйте ще раз.",
    too_many_title: "Забагато спроб",
    too_many_body: "Зачекайте хвилину й спробуйте знову.",
    unavailable_title: "Сервіс тимчасово недоступний",
    unavailable_body: "Не вдається зʼєднатися з базою даних. Спробуйте за кілька хвилин.",
    internal_title: "Внутрішня помилка",
    internal_body: "Щось пішло не так на нашому боці. Ми вже записали подробиці.",
    error_hint: "Якщо звертаєтеся до служби підтримки, назвіть цей ідентифікатор:",
};

pub static EN: Texts = Texts {
    lang_name: "English",
    switch_to: "Українська",
    request_id: "Request ID",
    go_home: "Home",
    not_found_title: "Page not found",
    not_found_body: "There is nothing at this address. Check the link.",
    bad_request_title: "Bad request",
    bad_request_body: "The request could not be processed.",
    forbidden_title: "Access denied",
    forbidden_body: "You do not have access to this page.",
    too_large_title: "Request too large",
    too_large_body: "The data sent is larger than allowed.",
    timeout_title: "Request timed out",
    timeout_body: "The server did not finish in time. Please try again.",
    too_many_title: "Too many attempts",
    too_many_body: "Wait a minute and try again.",
    unavailable_title: "Service temporarily unavailable",
    unavailable_body: "The database cannot be reached. Please try again in a few minutes.",
    internal_title: "Internal error",
    internal_body: "Something went wrong on our side. The details have been logged.",
    error_hint: "If you contact support, quote this ID:",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_choice_beats_accept_language() {
        assert_eq!(
            Lang::negotiate(Some("a=b; kepgate_lang=en"), Some("uk"), Lang::Uk),
            Lang::En
        );
    }

    #[test]
    fn accept_language_weights_are_respected() {
        assert_eq!(
            Lang::negotiate(None, Some("de, en;q=0.5, uk;q=0.9"), Lang::En),
            Lang::Uk
        );
        assert_eq!(
            Lang::negotiate(None, Some("en-GB,en;q=0.9"), Lang::Uk),
            Lang::En
        );
        assert_eq!(Lang::negotiate(None, Some("ru-RU"), Lang::En), Lang::Uk);
        assert_eq!(Lang::negotiate(None, Some("de, fr"), Lang::En), Lang::En);
        assert_eq!(
            Lang::negotiate(None, Some("uk;q=0, en"), Lang::Uk),
            Lang::En
        );
    }

    #[test]
    fn unknown_cookie_value_falls_back_to_header() {
        assert_eq!(
            Lang::negotiate(Some("kepgate_lang=xx"), Some("en"), Lang::Uk),
            Lang::En
        );
    }
}
