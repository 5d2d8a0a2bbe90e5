//! The session cookie: the one place it is read, set and cleared. What it holds becomes a
//! [`SessionToken`] here and nowhere else; handlers take it as an extractor
//! (`http/signed_in.rs`), the web layer's own checks through [`SessionCookie::read`].

use axum::http::HeaderMap;

use super::cookies::{self, CookieKind};
use crate::config::ServerSettings;
use crate::session::{Authentication, SessionStore, SessionToken};

/// What a request's session cookie holds.
pub enum SessionCookie {
    /// No session cookie, or an empty one (a cleared cookie some clients still send): no session
    /// rather than an ended one.
    Absent,
    /// A value that is no token kepgate could have issued: a session that ended.
    Malformed,
    /// A well-formed token, which may or may not open a session.
    Token(SessionToken),
}

impl SessionCookie {
    pub fn read(headers: &HeaderMap, server: &ServerSettings) -> Self {
        match cookies::get(headers, server, CookieKind::Session) {
            None => SessionCookie::Absent,
            Some(raw) if raw.is_empty() => SessionCookie::Absent,
            Some(raw) => {
                SessionToken::parse(&raw).map_or(SessionCookie::Malformed, SessionCookie::Token)
            }
        }
    }

    /// The token, when the cookie holds a well-formed one (logout ends its session).
    pub fn token(&self) -> Option<&SessionToken> {
        match self {
            SessionCookie::Token(token) => Some(token),
            SessionCookie::Absent | SessionCookie::Malformed => None,
        }
    }

    /// The token itself, for what outlives the request (a WebSocket tunnel watches its session).
    pub fn into_token(self) -> Option<SessionToken> {
        match self {
            SessionCookie::Token(token) => Some(token),
            SessionCookie::Absent | SessionCookie::Malformed => None,
        }
    }

    /// What the cookie amounts to: the session store decides for a token.
    pub async fn authenticate(
        &self,
        sessions: &SessionStore,
    ) -> Result<Authentication, sqlx::Error> {
        match self {
            SessionCookie::Absent => Ok(Authentication::None),
            SessionCookie::Malformed => Ok(Authentication::Expired),
            SessionCookie::Token(token) => sessions.authenticate(token).await,
        }
    }

    /// `Set-Cookie` for a session just opened (`max_age` None: gone when the browser closes).
    pub fn set(server: &ServerSettings, token: &SessionToken, max_age: Option<i64>) -> String {
        cookies::set(server, CookieKind::Session, token.expose(), max_age)
    }

    /// `Set-Cookie` that removes it (signing out).
    pub fn clear(server: &ServerSettings) -> String {
        cookies::clear(server, CookieKind::Session)
    }
}
