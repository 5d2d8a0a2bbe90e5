//! A reload (SIGHUP: `systemctl reload`, `kepgate reload`, `kill -HUP`): the configuration is
//! read again and tried whole — everything `check-config` tries, and what `serve` reads from
//! the database — before anything changes. Then new requests go to a router built from it;
//! requests under way finish on the one they started with. A configuration that fails leaves
//! the running one in force: the error is logged and counted, and the gateway stays ready.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::background::spawn_configured;
use super::offline::OfflineParts;
use super::state::AppState;
use crate::config::{Settings, SettingsSource, changed_restart_only_keys};
use crate::server::RouterSwap;
use crate::server::reload::Reload;
use crate::server::tls::{ServerCertificate, reload_counted};

/// What a reload replaces, and where the configuration is read from.
pub struct Reloader {
    /// `None`: the settings were not read from the configuration sources (built in code).
    source: Option<SettingsSource>,
    state: AppState,
    /// What the gateway started with: the restart-only keys stay as they were then.
    started_with: Arc<Settings>,
    swap: RouterSwap,
    /// The background work that reads the configuration, started again with each one.
    configured: JoinSet<()>,
    /// With `[server.tls]`: the certificate served (its files are read again).
    certificate: Option<Arc<ServerCertificate>>,
}

impl Reloader {
    pub fn start(
        source: Option<SettingsSource>,
        state: AppState,
        swap: RouterSwap,
        certificate: Option<Arc<ServerCertificate>>,
    ) -> anyhow::Result<Self> {
        let configured = spawn_configured(&state)?;
        Ok(Reloader {
            source,
            started_with: state.web.settings.clone(),
            state,
            swap,
            configured,
            certificate,
        })
    }

    /// Reads everything reloadable again; says what came of it, for the log.
    async fn reload_all(&mut self) -> String {
        let certificate = self
            .certificate
            .as_ref()
            .map(|certificate| {
                format!(
                    "; the TLS certificate: {}",
                    reload_counted(certificate, "sighup")
                )
            })
            .unwrap_or_default();
        let configuration = match self.source.clone() {
            None => {
                "the configuration was built in code, not read from a file: unchanged".to_owned()
            }
            Some(source) => match self.reconfigure(&source).await {
                Ok(applied) => {
                    counted("applied");
                    metrics::gauge!("kepgate_config_last_reload_success_timestamp_seconds")
                        .set(self.state.web.clock.now().unix_timestamp() as f64);
                    applied
                }
                Err(e) => {
                    counted("refused");
                    tracing::error!(error = %format!("{e:#}"), "configuration not reloaded: the running one stays in force");
                    "the configuration: refused (the running one stays in force)".to_owned()
                }
            },
        };
        format!("{configuration}{certificate}")
    }

    /// Ends the background work of the configuration in force (the server is stopping).
    pub async fn stop(mut self) {
        self.configured.shutdown().await;
    }

    async fn reconfigure(&mut self, source: &SettingsSource) -> anyhow::Result<String> {
        let settings = source.load()?;
        let mut offline = OfflineParts::load(&settings, self.state.web.clock.clone())?;
        offline.identity_headers = offline
            .identity_headers
            .taking_over_from(&self.state.proxy.identity_headers);
        let restart_only = changed_restart_only_keys(&self.started_with, &settings);
        let removed = removed_providers(&self.state, &settings);
        let next = self.state.reconfigured(settings, offline).await?;
        let configured = spawn_configured(&next)?;
        // Nothing can fail from here on: the new configuration takes over whole.
        self.swap.replace(super::router(next.clone()));
        let mut previous = std::mem::replace(&mut self.configured, configured);
        self.state = next;
        previous.shutdown().await;
        self.keep_the_national_list_current(&self.state.web.settings.trust.sources.clone());
        for key in &restart_only {
            tracing::warn!(
                key,
                "changed in the configuration, but read only at start: the running value stays until a restart"
            );
        }
        if !removed.is_empty() {
            self.fail_logins_waiting_on(&removed).await;
        }
        Ok(format!(
            "the configuration: applied{}",
            if restart_only.is_empty() {
                String::new()
            } else {
                format!(" (except {}: restart to apply)", restart_only.join(", "))
            }
        ))
    }

    /// The national list's new sources, or (the same ones) a download now: a reload is when
    /// an operator expects the list to be looked at again.
    fn keep_the_national_list_current(&self, sources: &Option<crate::config::TrustSources>) {
        let national = &self.state.lasting.national_trust;
        if !national.reconfigure(sources.clone()) && sources.is_some() {
            national.refresh_now();
        }
    }

    /// Their browsers hear at once that the login cannot end well, rather than when it expires;
    /// one already confirmed opens no session.
    async fn fail_logins_waiting_on(&self, removed: &[String]) {
        let web = &self.state.web;
        match crate::login::pending::fail_waiting_on_removed(&web.db, removed, web.clock.now())
            .await
        {
            Ok(failed) => tracing::warn!(
                providers = %removed.join(", "),
                failed,
                "providers taken out of the configuration: their unfinished logins failed"
            ),
            Err(e) => tracing::error!(
                providers = %removed.join(", "),
                error = %e,
                "providers taken out of the configuration: their waiting logins could not be ended (they expire instead)"
            ),
        }
    }
}

impl Reload for Reloader {
    fn reload(&mut self) -> impl Future<Output = String> + Send {
        self.reload_all()
    }
}

/// The providers the running configuration has and `next` has not.
fn removed_providers(running: &AppState, next: &Settings) -> Vec<String> {
    running
        .login
        .providers
        .iter()
        .map(|provider| provider.id().to_owned())
        .filter(|id| !next.providers.contains_key(id))
        .collect()
}

fn counted(outcome: &'static str) {
    metrics::counter!("kepgate_config_reloads_total", "outcome" => outcome).increment(1);
}
