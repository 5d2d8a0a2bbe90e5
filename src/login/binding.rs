//! Which browser started a pending login: a random nonce per login, kept in the starting
//! browser's binding cookie; only its hash is stored with the login.
//!
//! The nonce is made by kepgate at every start and never taken from the client: a value
//! planted in the victim's browser beforehand (over plain http, from a sibling subdomain or by a
//! network attacker) must not become the binding of her login, or whoever planted it could
//! complete that login when she confirms. The cookie holds the nonces of the last few logins
//! started in this browser, each tagged with its login id, so logins started in several tabs
//! each keep their own. Handlers read it once per request, as [`BrowserBinding`].

use std::convert::Infallible;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::state::PendingLoginId;
use crate::config::ServerSettings;
use crate::http::Web;
use crate::http::cookies::{self, CookieKind};

/// Logins per browser that can be waiting at once (tabs); older ones lose their binding.
const MAX_ENTRIES: usize = 4;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BindingCookie {
    /// Newest first.
    entries: Vec<(PendingLoginId, [u8; 32])>,
}

impl BindingCookie {
    /// The cookie's entries `<login id>.<nonce>`, separated by `~`; malformed ones are ignored.
    pub fn parse(value: &str) -> Self {
        let entries = value
            .split('~')
            .filter_map(|entry| {
                let (id, nonce) = entry.split_once('.')?;
                let id = PendingLoginId(Uuid::try_parse(id).ok()?);
                let nonce: [u8; 32] = URL_SAFE_NO_PAD.decode(nonce).ok()?.try_into().ok()?;
                Some((id, nonce))
            })
            .take(MAX_ENTRIES)
            .collect();
        BindingCookie { entries }
    }

    /// A fresh random nonce for a login about to start.
    pub fn fresh_nonce() -> Result<[u8; 32], getrandom::Error> {
        let mut nonce = [0u8; 32];
        getrandom::fill(&mut nonce)?;
        Ok(nonce)
    }

    /// What the database keeps of a nonce.
    pub fn hash(nonce: &[u8; 32]) -> [u8; 32] {
        Sha256::digest(nonce).into()
    }

    /// The hash of this browser's nonce for `id`, if it started that login.
    pub fn hash_for(&self, id: PendingLoginId) -> Option<[u8; 32]> {
        self.entries
            .iter()
            .find(|(entry, _)| *entry == id)
            .map(|(_, nonce)| Self::hash(nonce))
    }

    /// The cookie with a newly started login first (the oldest dropped beyond the limit).
    pub fn with_login(mut self, id: PendingLoginId, nonce: [u8; 32]) -> Self {
        self.entries.retain(|(entry, _)| *entry != id);
        self.entries.insert(0, (id, nonce));
        self.entries.truncate(MAX_ENTRIES);
        self
    }

    /// The cookie without a login that is finished.
    pub fn without(mut self, id: PendingLoginId) -> Self {
        self.entries.retain(|(entry, _)| *entry != id);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn value(&self) -> String {
        self.entries
            .iter()
            .map(|(id, nonce)| format!("{}.{}", id.0.simple(), URL_SAFE_NO_PAD.encode(nonce)))
            .collect::<Vec<_>>()
            .join("~")
    }
}

/// The logins this browser started, by its binding cookie (empty when it has none).
pub struct BrowserBinding(BindingCookie);

impl<S> FromRequestParts<S> for BrowserBinding
where
    Web: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let server = &Web::from_ref(state).settings.server;
        let cookie = cookies::get(&parts.headers, server, CookieKind::LoginBinding)
            .map(|v| BindingCookie::parse(&v))
            .unwrap_or_default();
        Ok(BrowserBinding(cookie))
    }
}

impl BrowserBinding {
    /// The hash of this browser's binding nonce for the login `id`, if it started that login.
    pub fn hash_for(&self, id: PendingLoginId) -> Option<[u8; 32]> {
        self.0.hash_for(id)
    }

    /// `Set-Cookie` with the login `id` just started here, under `nonce`, added.
    pub fn set_with(&self, server: &ServerSettings, id: PendingLoginId, nonce: [u8; 32]) -> String {
        let cookie = self.0.clone().with_login(id, nonce);
        cookies::set(server, CookieKind::LoginBinding, &cookie.value(), None)
    }

    /// `Set-Cookie` without the login `id`, whose binding is spent; other tabs' logins keep
    /// theirs.
    pub fn set_without(&self, server: &ServerSettings, id: PendingLoginId) -> String {
        match self.0.clone().without(id) {
            rest if rest.is_empty() => cookies::clear(server, CookieKind::LoginBinding),
            rest => cookies::set(server, CookieKind::LoginBinding, &rest.value(), None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> PendingLoginId {
        PendingLoginId(Uuid::new_v4())
    }

    #[test]
    fn each_login_has_its_own_nonce_and_the_newest_few_are_kept() {
        let ids: Vec<_> = (0..6).map(|_| id()).collect();
        let mut cookie = BindingCookie::default();
        for (i, id) in ids.iter().enumerate() {
            cookie = cookie.with_login(*id, [u8::try_from(i).unwrap(); 32]);
        }
        let cookie = BindingCookie::parse(&cookie.value());
        assert_eq!(cookie.hash_for(ids[5]), Some(BindingCookie::hash(&[5; 32])));
        assert_eq!(cookie.hash_for(ids[2]), Some(BindingCookie::hash(&[2; 32])));
        assert_eq!(cookie.hash_for(ids[1]), None, "beyond the limit");
        let cookie = cookie.without(ids[5]);
        assert_eq!(cookie.hash_for(ids[5]), None);
        assert_eq!(cookie.entries.len(), 3);
    }

    #[test]
    fn a_planted_value_binds_no_login() {
        // The shape of the cookie before: a bare nonce. It is not an entry for any login.
        let planted = URL_SAFE_NO_PAD.encode([7u8; 32]);
        let cookie = BindingCookie::parse(&planted);
        assert!(cookie.is_empty());
        let started = id();
        let fresh = BindingCookie::fresh_nonce().unwrap();
        let cookie = BindingCookie::parse(&format!("{planted}~junk~{}", cookie.value()))
            .with_login(started, fresh);
        assert_eq!(cookie.hash_for(started), Some(BindingCookie::hash(&fresh)));
        assert_ne!(fresh, [7u8; 32]);
    }
}
