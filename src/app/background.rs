//! What every replica runs beside serving: the one LISTEN connection (pending logins and
//! session revocations), the sweeper of overdue pending logins, and the hourly pruning of old
//! login history.

use std::sync::Arc;

use super::state::AppState;
use crate::notifications::Subscriber;

pub fn spawn_background(state: &AppState) {
    let web = &state.web;
    let subscribers: Vec<Arc<dyn Subscriber>> = vec![
        Arc::new(state.login.login_events.clone()),
        Arc::new(web.sessions.cache().clone()),
    ];
    tokio::spawn(crate::notifications::listen(
        web.db.clone(),
        web.listening.clone(),
        subscribers,
    ));
    crate::login::spawn_sweeper(web.db.clone(), web.clock.clone());

    let db = web.db.clone();
    let clock = web.clock.clone();
    let retention = time::Duration::days(i64::from(web.settings.session.history_retention_days));
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
}
