//! Draining: the server stops accepting connections (SIGTERM) and lets what runs finish.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set at SIGTERM, before draining when `server.shutdown_delay` is set: the replica still serves
/// but tells the load balancer's health check (`/readyz`) that it is going away.
#[derive(Clone, Default)]
pub struct Stopping(Arc<AtomicBool>);

impl Stopping {
    pub fn announce(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_announced(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Set once the server stops accepting connections and drains: responses that would never end
/// by themselves (the login's SSE streams) end now, cleanly, so their connections close within
/// the grace period and the browsers reconnect, through the load balancer, to another replica.
#[derive(Clone)]
pub struct Draining(Arc<tokio::sync::watch::Sender<bool>>);

impl Default for Draining {
    fn default() -> Self {
        Draining(Arc::new(tokio::sync::watch::channel(false).0))
    }
}

impl Draining {
    pub fn start(&self) {
        self.0.send_replace(true);
    }

    pub fn watch(&self) -> DrainingWatch {
        DrainingWatch(self.0.subscribe())
    }
}

pub struct DrainingWatch(tokio::sync::watch::Receiver<bool>);

impl DrainingWatch {
    /// Resolves once draining has started (at once if it has).
    pub async fn started(&mut self) {
        // The guard `wait_for` returns is not Send: dropped here, never held across an await.
        let _ = self.0.wait_for(|d| *d).await.map(|_| ());
    }
}
