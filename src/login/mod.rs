//! The cross-device login: pending logins in PostgreSQL, started here, finished by the
//! provider's callback (see design/flow.md for the whole picture).

pub mod callback;
pub mod pending;
pub mod start;

/// PostgreSQL channel on which every state change of a pending login is announced (payload:
/// the pending login id), so the replica holding the waiting browser wakes up.
pub const NOTIFY_CHANNEL: &str = "kepgate_pending_login";
