//! A pending login's name and where it stands: its id, its state, and the channel on which every
//! change of state is announced.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// PostgreSQL channel on which every state change of a pending login is announced (payload:
/// the pending login id), so the replica holding the waiting browser wakes up.
pub const NOTIFY_CHANNEL: &str = "kepgate_pending_login";

/// A pending login's id: the `Uuid` of its row, which only the database edge handles bare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PendingLoginId(pub Uuid);

impl PendingLoginId {
    pub fn new() -> Self {
        PendingLoginId(Uuid::new_v4())
    }

    /// The id a notice on [`NOTIFY_CHANNEL`] carries.
    pub fn parse(text: &str) -> Option<Self> {
        Uuid::parse_str(text).ok().map(PendingLoginId)
    }
}

impl Default for PendingLoginId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for PendingLoginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PendingState {
    Pending,
    Confirmed,
    Rejected,
    Expired,
    Failed,
    Consumed,
}

impl PendingState {
    pub fn as_str(self) -> &'static str {
        match self {
            PendingState::Pending => "pending",
            PendingState::Confirmed => "confirmed",
            PendingState::Rejected => "rejected",
            PendingState::Expired => "expired",
            PendingState::Failed => "failed",
            PendingState::Consumed => "consumed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => PendingState::Pending,
            "confirmed" => PendingState::Confirmed,
            "rejected" => PendingState::Rejected,
            "expired" => PendingState::Expired,
            "failed" => PendingState::Failed,
            "consumed" => PendingState::Consumed,
            _ => return None,
        })
    }
}
