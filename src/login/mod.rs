//! The cross-device login: pending logins in PostgreSQL, started here, finished by the
//! provider's callback (see the README, "How a login works", for the whole picture).

pub mod api;
pub mod binding;
pub mod callback;
pub mod completion;
pub mod events;
pub mod form;
pub mod pending;
pub mod phone_check;
pub mod qr_link;
pub mod start;
pub mod status_stream;
pub mod waiting;

/// PostgreSQL channel on which every state change of a pending login is announced (payload:
/// the pending login id), so the replica holding the waiting browser wakes up.
pub const NOTIFY_CHANNEL: &str = "kepgate_pending_login";

/// Background work of every replica: the LISTEN loop (pending logins and session revocations),
/// the sweeper of overdue pending logins, and the hourly pruning of old login history.
pub fn spawn_background(state: &crate::state::AppState) {
    tokio::spawn(
        state
            .login_events
            .clone()
            .listen(state.db.clone(), state.sessions.clone()),
    );
    let db = state.db.clone();
    let clock = state.clock.clone();
    let retention = time::Duration::days(i64::from(state.settings.session.history_retention_days));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match crate::session::history::prune(&db, clock.now() - retention).await {
                Ok((0, 0)) => {}
                Ok((history, sessions)) => {
                    tracing::info!(history, sessions, "old login history and sessions pruned")
                }
                Err(e) => tracing::warn!(error = %e, "pruning login history failed"),
            }
        }
    });
    let db = state.db.clone();
    let clock = state.clock.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(15));
        loop {
            tick.tick().await;
            match pending::expire_overdue(&db, clock.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(expired = n, "pending logins expired"),
                Err(e) => tracing::warn!(error = %e, "sweeping expired pending logins failed"),
            }
        }
    });
}
