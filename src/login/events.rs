//! Wakes the browsers this replica holds when a pending login changes, on any replica.
//!
//! One LISTEN connection per process; every notification bumps a per-login counter that the
//! SSE streams of that login watch. Notifications sent while the LISTEN connection was down are
//! lost, so after every reconnect *all* watchers are woken and re-read their state from the
//! database (they always re-read; the notification only says "look now").

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;
use uuid::Uuid;

use super::NOTIFY_CHANNEL;
use super::pending::PendingLoginId;
use crate::session::SessionCache;
use crate::session::revocation as session_revocation;

#[derive(Clone, Default)]
pub struct LoginEvents {
    watchers: Arc<Mutex<HashMap<Uuid, watch::Sender<u64>>>>,
    /// The LISTEN connection is up: the database was reachable a moment ago, and a lost
    /// connection is noticed at once (the server closes it). Pages that need no query of their
    /// own read this instead of asking the database on every request.
    listening: Arc<AtomicBool>,
}

/// A browser's interest in one pending login; dropping it unregisters when it was the last.
pub struct Subscription {
    pub changes: watch::Receiver<u64>,
    id: Uuid,
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
                .entry(id.0)
                .or_insert_with(|| watch::channel(0).0)
                .subscribe(),
            Err(_) => watch::channel(0).1,
        };
        Subscription {
            changes,
            id: id.0,
            events: self.clone(),
        }
    }

    fn wake(&self, id: &Uuid) {
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

    /// True while the LISTEN connection is up (see the field).
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }

    pub fn watching(&self) -> usize {
        self.watchers.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Runs the LISTEN loop until the process ends; reconnects with backoff.
    /// Also evicts revoked sessions from `sessions` (channel
    /// [`crate::session::revocation::CHANNEL`]): one LISTEN connection per replica for both.
    pub async fn listen(self, db: PgPool, sessions: SessionCache) {
        const FIRST_BACKOFF: Duration = Duration::from_millis(200);
        let mut backoff = FIRST_BACKOFF;
        loop {
            let result = self.listen_once(&db, &sessions).await;
            // A connection that was up starts the backoff afresh: an outage next week must not
            // wait the 5 s this one grew to before every stream hears about its login again.
            if self.listening.swap(false, Ordering::Relaxed) {
                backoff = FIRST_BACKOFF;
            }
            if let Err(e) = result {
                metrics::counter!("kepgate_listen_reconnects_total").increment(1);
                tracing::warn!(error = %e, "LISTEN connection lost; reconnecting");
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    async fn listen_once(&self, db: &PgPool, sessions: &SessionCache) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(db).await?;
        listener
            .listen_all([NOTIFY_CHANNEL, session_revocation::CHANNEL])
            .await?;
        // Whatever happened while we were not listening: everyone re-reads, and no cached
        // session is trusted (a revocation notice may have been missed).
        self.wake_all();
        sessions.clear();
        self.listening.store(true, Ordering::Relaxed);
        tracing::info!("listening for pending-login changes");
        loop {
            // try_recv: Ok(None) means the connection was lost and re-established inside,
            // and notifications may have been missed.
            match listener.try_recv().await? {
                Some(notification) => {
                    if let Ok(id) = Uuid::parse_str(notification.payload()) {
                        if notification.channel() == session_revocation::CHANNEL {
                            sessions.evict(id);
                        } else {
                            self.wake(&id);
                        }
                    }
                }
                None => {
                    metrics::counter!("kepgate_listen_reconnects_total").increment(1);
                    self.wake_all();
                    sessions.clear();
                }
            }
        }
    }
}
