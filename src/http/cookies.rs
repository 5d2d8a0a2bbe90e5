//! Every cookie kepgate sets is built here, so flags are decided once: HttpOnly always,
//! SameSite always, Secure and the `__Host-` prefix whenever the gateway is served over https.
//! Plain-http development (base_url http://…) drops Secure and the prefix, because browsers
//! refuse both without TLS; it is for development only.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

use crate::config::ServerSettings;
use crate::language::cookie_value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieKind {
    /// The signed-in session.
    Session,
    /// Binds a pending login to the browser that started it.
    LoginBinding,
    /// Double-submit CSRF token for kepgate's forms.
    Csrf,
    /// Which browser the OpenID Provider sent to sign in again (`prompt=login`, `max_age`).
    Reauthentication,
}

impl CookieKind {
    /// Every cookie of kepgate's: none of them is the cabinet's to read or to set.
    pub const ALL: [CookieKind; 4] = [
        CookieKind::Session,
        CookieKind::LoginBinding,
        CookieKind::Csrf,
        CookieKind::Reauthentication,
    ];

    /// The name without the `__Host-` prefix of https deployments.
    pub fn base_name(self) -> &'static str {
        match self {
            CookieKind::Session => "kepgate_session",
            CookieKind::LoginBinding => "kepgate_bind",
            CookieKind::Csrf => "kepgate_csrf",
            CookieKind::Reauthentication => "kepgate_reauth",
        }
    }

    fn same_site(self) -> &'static str {
        match self {
            // Lax: the session must survive the top-level navigation back from the provider app;
            // the re-authentication cookie is set on a navigation from the application's site.
            CookieKind::Session | CookieKind::LoginBinding | CookieKind::Reauthentication => "Lax",
            CookieKind::Csrf => "Strict",
        }
    }
}

pub fn secure(server: &ServerSettings) -> bool {
    server.base_url.scheme() == "https"
}

pub fn name(server: &ServerSettings, kind: CookieKind) -> String {
    if secure(server) {
        format!("__Host-{}", kind.base_name())
    } else {
        kind.base_name().to_owned()
    }
}

/// `Set-Cookie` value. `max_age` None = a browser-session cookie (gone when the browser closes).
pub fn set(server: &ServerSettings, kind: CookieKind, value: &str, max_age: Option<i64>) -> String {
    let mut cookie = format!(
        "{}={value}; Path=/; HttpOnly; SameSite={}",
        name(server, kind),
        kind.same_site()
    );
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if secure(server) {
        cookie.push_str("; Secure");
    }
    cookie
}

pub fn clear(server: &ServerSettings, kind: CookieKind) -> String {
    set(server, kind, "", Some(0))
}

pub fn get(headers: &HeaderMap, server: &ServerSettings, kind: CookieKind) -> Option<String> {
    let wanted = name(server, kind);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| cookie_value(h, &wanted).map(str::to_owned))
}
