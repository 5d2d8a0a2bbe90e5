//! Wakes the browsers this replica holds when the row they wait on changes, on any replica.
//!
//! Every notice on the channel (payload: the row's id) bumps a per-row counter that the
//! streams watching that row hold. After a reconnect *all* watchers are woken and re-read
//! their row from the database (they always re-read; the notice only says "look now").

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use uuid::Uuid;

#[derive(Clone)]
pub struct Watchers {
    channel: &'static str,
    by_row: Arc<Mutex<HashMap<Uuid, watch::Sender<u64>>>>,
}

/// A browser's interest in one row; dropping it unregisters when it was the last.
pub struct Subscription {
    pub changes: watch::Receiver<u64>,
    id: Uuid,
    watchers: Watchers,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Ok(mut map) = self.watchers.by_row.lock()
            && let Some(sender) = map.get(&self.id)
            // Our receiver is still alive here, so 1 means "only us".
            && sender.receiver_count() <= 1
        {
            map.remove(&self.id);
        }
    }
}

impl Watchers {
    /// Watchers of the rows whose changes are announced on `channel`.
    pub fn new(channel: &'static str) -> Self {
        Watchers {
            channel,
            by_row: Arc::default(),
        }
    }

    pub fn subscribe(&self, id: Uuid) -> Subscription {
        let changes = match self.by_row.lock() {
            Ok(mut map) => map
                .entry(id)
                .or_insert_with(|| watch::channel(0).0)
                .subscribe(),
            Err(_) => watch::channel(0).1,
        };
        Subscription {
            changes,
            id,
            watchers: self.clone(),
        }
    }

    fn wake(&self, id: &Uuid) {
        if let Ok(map) = self.by_row.lock()
            && let Some(sender) = map.get(id)
        {
            sender.send_modify(|n| *n += 1);
        }
    }

    fn wake_all(&self) {
        if let Ok(map) = self.by_row.lock() {
            for sender in map.values() {
                sender.send_modify(|n| *n += 1);
            }
        }
    }

    /// Rows watched now on this replica.
    pub fn watching(&self) -> usize {
        self.by_row.lock().map(|m| m.len()).unwrap_or(0)
    }
}

impl super::Subscriber for Watchers {
    fn channel(&self) -> &'static str {
        self.channel
    }

    fn notify(&self, payload: &str) {
        if let Ok(id) = Uuid::parse_str(payload) {
            self.wake(&id);
        }
    }

    /// Every watcher re-reads its row: whatever happened meanwhile is in the database.
    fn missed(&self) {
        self.wake_all();
    }
}
