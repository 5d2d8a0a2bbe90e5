//! What every replica runs beside serving: the one LISTEN connection (pending logins and
//! session revocations), the sweeper of overdue pending logins, the hourly pruning of old
//! login history, the CRL refresher that ends the sessions of keys revoked since, and the
//! national trust list's refresher (`crate::trust_list`). They run until the server has stopped
//! (`Application::run` ends them). Those that read the configuration ([`spawn_configured`]) are
//! ended and started again at each reload; the trust list's refresher takes its new sources
//! from the reload instead.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::state::AppState;
use crate::certificate_status::{CrlRefresher, RefreshedList};
use crate::clock::SharedClock;
use crate::config::RevocationMode;
use crate::notifications::Subscriber;
use crate::periodic;
use crate::session::{EndedBy, SessionStore, Whom};

/// What runs whatever the configuration: the LISTEN connection and the sweepers.
pub fn spawn_lasting(state: &AppState) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    let web = &state.web;
    let subscribers: Vec<Arc<dyn Subscriber>> = vec![
        Arc::new(state.login.login_events.0.clone()),
        Arc::new(state.signing.watchers.clone()),
        Arc::new(web.sessions.cache().clone()),
        Arc::new(state.login.national_trust.clone()),
    ];
    tasks.spawn(crate::notifications::listen(
        web.db.clone(),
        web.listening.clone(),
        subscribers,
    ));
    tasks.spawn(crate::login::sweep_overdue(
        web.db.clone(),
        web.clock.clone(),
    ));
    tasks.spawn(crate::document_signing::sweep::expire_overdue(
        web.db.clone(),
        web.clock.clone(),
    ));
    tasks.spawn(crate::trust_list::run(
        state.login.national_trust.clone(),
        web.db.clone(),
        web.clock.clone(),
    ));
    tasks
}

/// What runs under the configuration in force: the OpenID back-channel logouts, the CRL
/// refresher and the hourly pruning.
pub fn spawn_configured(state: &AppState) -> anyhow::Result<JoinSet<()>> {
    let mut tasks = JoinSet::new();
    let web = &state.web;
    if web.settings.oidc.enabled {
        tasks.spawn(crate::oidc::backchannel::run(state.oidc.clone()));
    }
    if web.settings.trust.revocation != RevocationMode::Off {
        tasks.spawn(refresh_crls(state)?);
    }

    let db = web.db.clone();
    let clock = web.clock.clone();
    let retention = time::Duration::days(i64::from(web.settings.session.history_retention_days));
    let signing = web.settings.signing.clone();
    tasks.spawn(periodic::every(HOURLY, move || {
        let (db, clock, signing) = (db.clone(), clock.clone(), signing.clone());
        async move {
            crate::document_signing::sweep::delete_old(&db, &clock, &signing, retention).await;
            delete_old_records(db, clock, retention).await;
        }
    }));
    Ok(tasks)
}

const HOURLY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Login history and sessions past the retention, OpenID codes and tokens past their use.
async fn delete_old_records(db: sqlx::PgPool, clock: SharedClock, retention: time::Duration) {
    match crate::session::retention::delete_history_and_sessions_before(
        &db,
        clock.now() - retention,
    )
    .await
    {
        Ok((0, 0)) => {}
        Ok((history, sessions)) => {
            tracing::info!(history, sessions, "old login history and sessions pruned")
        }
        Err(e) => tracing::warn!(error = %e, "pruning login history failed"),
    }
    if let Err(e) = crate::oidc::store::prune(&db, clock.now()).await {
        tracing::warn!(error = %e, "pruning OpenID codes and tokens failed");
    }
}

/// The CRL refresher's loop, to be spawned.
fn refresh_crls(state: &AppState) -> anyhow::Result<impl Future<Output = ()> + use<>> {
    let web = &state.web;
    let trust = &web.settings.trust;
    let refresher = CrlRefresher::new(
        web.db.clone(),
        web.clock.clone(),
        trust.revocation_timeout,
        time::Duration::try_from(trust.revocation_skew)?,
        time::Duration::try_from(trust.crl_refresh)?,
    )?;
    let sessions = web.sessions.clone();
    let refresher = Arc::new(refresher);
    Ok(periodic::every(refresher.poll_interval(), move || {
        refresh_once(refresher.clone(), sessions.clone())
    }))
}

/// Lists due are fetched; the sessions of keys they newly revoke end.
async fn refresh_once(refresher: Arc<CrlRefresher>, sessions: SessionStore) {
    match refresher.refresh_due().await {
        Ok(lists) => {
            for list in lists {
                end_revoked_sessions(&sessions, &list).await;
            }
        }
        Err(e) => tracing::warn!(error = %e, "CRL refresh failed"),
    }
}

/// The CA has revoked these keys since their sessions opened: the sessions end on every replica.
async fn end_revoked_sessions(sessions: &SessionStore, list: &RefreshedList) {
    if list.revoked_serials_hex.is_empty() {
        return;
    }
    let whom = Whom::Certificates {
        serials_hex: &list.revoked_serials_hex,
        issuer: &list.issuer,
        issuer_key_sha256: Some(list.issuer_key_sha256_hex.as_str()),
    };
    match sessions.end(whom, EndedBy::CertificateRevoked).await {
        Ok(ended) if !ended.is_empty() => {
            tracing::warn!(url = %list.url, sessions = ended.len(), "sessions of certificates the CA revoked ended")
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(url = %list.url, error = %e, "sessions of revoked certificates could not be ended")
        }
    }
}
