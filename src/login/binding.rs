//! Which browser started a pending login: a random nonce per login, kept in the starting
//! browser's binding cookie; only its hash is stored with the login.
//!
//! The nonce is made by kepgate at every start and never taken from the client: a value
//! planted in the victim's browser beforehand (over plain http, from a sibling subdomain or by a
//! network attacker) must not become the binding of her login, or whoever planted it could
//! complete that login when she confirms. The cookie holds the nonces of the last few logins
//! started in this browser, each tagged with its login id, so logins started in several tabs
//! each keep their own.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::pending::PendingLoginId;

/// Logins per browser that can be waiting at once (tabs); older ones lose their binding.
const MAX_ENTRIES: usize = 4;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BindingCookie {
    /// Newest first.
    entries: Vec<(Uuid, [u8; 32])>,
}

impl BindingCookie {
    /// The cookie's entries `<login id>.<nonce>`, separated by `~`; malformed ones are ignored.
    pub fn parse(value: &str) -> Self {
        let entries = value
            .split('~')
            .filter_map(|entry| {
                let (id, nonce) = entry.split_once('.')?;
                let id = Uuid::try_parse(id).ok()?;
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
            .find(|(entry, _)| *entry == id.0)
            .map(|(_, nonce)| Self::hash(nonce))
    }

    /// The cookie with a newly started login first (the oldest dropped beyond the limit).
    pub fn with_login(mut self, id: PendingLoginId, nonce: [u8; 32]) -> Self {
        self.entries.retain(|(entry, _)| *entry != id.0);
        self.entries.insert(0, (id.0, nonce));
        self.entries.truncate(MAX_ENTRIES);
        self
    }

    /// The cookie without a login that is finished.
    pub fn without(mut self, id: PendingLoginId) -> Self {
        self.entries.retain(|(entry, _)| *entry != id.0);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn value(&self) -> String {
        self.entries
            .iter()
            .map(|(id, nonce)| format!("{}.{}", id.simple(), URL_SAFE_NO_PAD.encode(nonce)))
            .collect::<Vec<_>>()
            .join("~")
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
