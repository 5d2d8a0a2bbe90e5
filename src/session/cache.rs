//! This replica's copy of recently seen sessions, so most requests are answered without the
//! database. An entry is trusted for `session.cache_ttl` at most; revocations announced on
//! [`super::ending::CHANNEL`] evict at once (see `crate::notifications` for the one LISTEN
//! connection), and a lost LISTEN connection clears everything, so a revoked session is refused
//! within milliseconds while LISTEN is up and within `cache_ttl` in the worst case.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use super::record::Session;

/// Entries beyond this are dropped (stale ones first) so a flood of cookies cannot grow memory.
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub session: Arc<Session>,
    /// When this copy was read from the database (injected clock).
    pub fetched_at: OffsetDateTime,
    /// Latest request seen for this session on this replica.
    pub last_seen: OffsetDateTime,
    /// The `last_seen_at` value the database holds, as far as this replica knows.
    pub last_written: OffsetDateTime,
}

#[derive(Clone)]
pub struct SessionCache {
    inner: Arc<Mutex<Inner>>,
    /// Counts revocation notices handled; tests (and metrics) watch it.
    evictions: watch::Sender<u64>,
    /// Each revoked session's id, `None` when notices may have been lost: what open WebSocket
    /// tunnels listen to, so a logout concerns only its own tunnels.
    revoked: broadcast::Sender<Option<Uuid>>,
}

#[derive(Default)]
struct Inner {
    by_token_hash: HashMap<Vec<u8>, Entry>,
    /// Bumped by every eviction: a database read that started before it must not be cached, or
    /// a request racing a revocation could put the revoked session back.
    epoch: u64,
}

impl Default for SessionCache {
    fn default() -> Self {
        SessionCache {
            inner: Arc::default(),
            evictions: watch::channel(0).0,
            revoked: broadcast::channel(256).0,
        }
    }
}

impl SessionCache {
    pub(super) fn get(&self, token_hash: &[u8]) -> Option<Entry> {
        self.inner
            .lock()
            .ok()
            .and_then(|inner| inner.by_token_hash.get(token_hash).cloned())
    }

    pub(super) fn epoch(&self) -> u64 {
        self.inner.lock().map(|i| i.epoch).unwrap_or(u64::MAX)
    }

    /// Stores `entry` unless something was evicted since `epoch` was read.
    pub(super) fn put(
        &self,
        token_hash: Vec<u8>,
        entry: Entry,
        epoch: u64,
        now: OffsetDateTime,
        ttl: time::Duration,
    ) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.epoch != epoch {
            return;
        }
        if inner.by_token_hash.len() >= MAX_ENTRIES
            && !inner.by_token_hash.contains_key(&token_hash)
        {
            inner.by_token_hash.retain(|_, e| e.fetched_at + ttl > now);
            if inner.by_token_hash.len() >= MAX_ENTRIES {
                inner.by_token_hash.clear();
            }
        }
        inner.by_token_hash.insert(token_hash, entry);
    }

    /// Records activity in place; the copy's age stays what it was. A revoked (evicted) entry
    /// is not brought back.
    pub(super) fn touch(&self, token_hash: &[u8], now: OffsetDateTime) {
        if let Ok(mut inner) = self.inner.lock()
            && let Some(entry) = inner.by_token_hash.get_mut(token_hash)
        {
            entry.last_seen = entry.last_seen.max(now);
        }
    }

    pub(super) fn remove(&self, token_hash: &[u8]) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.by_token_hash.remove(token_hash);
        }
    }

    /// A session was revoked (on any replica).
    pub fn evict(&self, session_id: Uuid) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.epoch += 1;
            inner
                .by_token_hash
                .retain(|_, e| e.session.id != session_id);
        }
        self.evictions.send_modify(|n| *n += 1);
        let _ = self.revoked.send(Some(session_id));
    }

    /// Revocation notices may have been missed: forget everything.
    pub fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.epoch += 1;
            inner.by_token_hash.clear();
        }
        self.evictions.send_modify(|n| *n += 1);
        let _ = self.revoked.send(None);
    }

    /// Revoked sessions' ids as they are announced (`None`: some may have been missed).
    pub fn revocations(&self) -> broadcast::Receiver<Option<Uuid>> {
        self.revoked.subscribe()
    }

    /// Revocation notices handled so far, as a watch (tests measure propagation with it).
    pub fn evictions(&self) -> watch::Receiver<u64> {
        self.evictions.subscribe()
    }

    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .map(|i| i.by_token_hash.len())
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Revocations are announced on [`super::ending::CHANNEL`] (payload: the session id).
impl crate::notifications::Subscriber for SessionCache {
    fn channel(&self) -> &'static str {
        super::ending::CHANNEL
    }

    fn notify(&self, payload: &str) {
        if let Ok(id) = Uuid::parse_str(payload) {
            self.evict(id);
        }
    }

    /// A revocation notice may have been missed: no cached session is trusted.
    fn missed(&self) {
        self.clear();
    }
}
