//! Wakes the browsers this replica holds when a pending login changes, on any replica: the
//! watchers of [`NOTIFY_CHANNEL`] (`crate::notifications::watchers`).

use super::state::{NOTIFY_CHANNEL, PendingLoginId};
use crate::notifications::watchers::{Subscription, Watchers};

#[derive(Clone)]
pub struct LoginEvents(pub Watchers);

impl Default for LoginEvents {
    fn default() -> Self {
        LoginEvents(Watchers::new(NOTIFY_CHANNEL))
    }
}

impl LoginEvents {
    pub fn subscribe(&self, id: PendingLoginId) -> Subscription {
        self.0.subscribe(id.0)
    }
}
