//! Wakes the browsers this replica holds when a pending login changes, on any replica.
//!
//! Every notice (from the replica's one LISTEN connection, `crate::notifications`) bumps a
//! per-login counter that the SSE streams of that login watch. After a reconnect *all* watchers
//! are woken and re-read their state from the database (they always re-read; the notice only
//! says "look now").

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

use super::state::{NOTIFY_CHANNEL, PendingLoginId};

#[derive(Clone, Default)]
pub struct LoginEvents {
    watchers: Arc<Mutex<HashMap<PendingLoginId, watch::Sender<u64>>>>,
}

/// A browser's interest in one pending login; dropping it unregisters when it was the last.
pub struct Subscription {
    pub changes: watch::Receiver<u64>,
    id: PendingLoginId,
    events: LoginEvents,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Ok(mut map) = self.events.watchers.lock()
            && let Some(sender) = map.get(&self.id)
            // Our receiver is still alive here, so 1 means "only us".
            && sender.receiver_count() <= 1
        {
            map.remove(&self.id);
        }
    }
}

impl LoginEvents {
    pub fn subscribe(&self, id: PendingLoginId) -> Subscription {
        let changes = match self.watchers.lock() {
            Ok(mut map) => map
                .entry(id)
                .or_insert_with(|| watch::channel(0).0)
                .subscribe(),
            Err(_) => watch::channel(0).1,
        };
        Subscription {
            changes,
            id,
            events: self.clone(),
        }
    }

    fn wake(&self, id: &PendingLoginId) {
        if let Ok(map) = self.watchers.lock()
            && let Some(sender) = map.get(id)
        {
            sender.send_modify(|n| *n += 1);
        }
    }

    fn wake_all(&self) {
        if let Ok(map) = self.watchers.lock() {
            for sender in map.values() {
                sender.send_modify(|n| *n += 1);
            }
        }
    }

    pub fn watching(&self) -> usize {
        self.watchers.lock().map(|m| m.len()).unwrap_or(0)
    }
}

/// Every state change of a pending login is announced on [`NOTIFY_CHANNEL`] (payload: its id).
impl crate::notifications::Subscriber for LoginEvents {
    fn channel(&self) -> &'static str {
        NOTIFY_CHANNEL
    }

    fn notify(&self, payload: &str) {
        if let Some(id) = PendingLoginId::parse(payload) {
            self.wake(&id);
        }
    }

    /// Every watcher re-reads its login: whatever happened meanwhile is in the database.
    fn missed(&self) {
        self.wake_all();
    }
}
