//! SIGHUP (`systemctl reload`, `kill -HUP`): what can be read again without a restart is read
//! again, here and nowhere else. Today that is `[server.tls]`'s certificate; the rest of the
//! configuration is read at start, and the log says so. The handler is installed whether or not
//! anything can be reloaded: without one, SIGHUP's default action would end the gateway.

use std::sync::Arc;

use super::service_manager::{Notification, notify};
use super::tls::{ServerCertificate, reload_counted};

/// What SIGHUP reads again.
#[derive(Debug, Clone, Default)]
pub struct Reloadable {
    pub certificate: Option<Arc<ServerCertificate>>,
}

impl Reloadable {
    /// Reads everything reloadable again; says what, for the log.
    fn reload(&self) -> String {
        match &self.certificate {
            Some(certificate) => format!(
                "the TLS certificate ({})",
                reload_counted(certificate, "sighup")
            ),
            None => {
                "nothing: the configuration is read at start (restart to apply a change)".to_owned()
            }
        }
    }
}

/// Replaces SIGHUP's default action (ending the process) for the rest of the process's life,
/// before anything slow happens: a reload asked while the gateway connects to its database or
/// migrates is ignored (there is nothing to reload yet) instead of ending it, which the service
/// manager would count as a clean exit and not restart.
pub fn catch_from_start() {
    // The handler tokio installs for a signal kind stays for the whole process, whatever
    // becomes of this first stream.
    let _ = hangup_signal();
}

/// SIGHUP caught from [`Hangup::install`] on; [`Hangup::handle`] reloads on each one.
pub struct Hangup {
    signal: Signal,
    reloadable: Reloadable,
}

impl Hangup {
    /// Catches SIGHUP from now on (before the gateway says it is ready, so a reload can never
    /// end it).
    pub fn install(reloadable: Reloadable) -> Self {
        Self {
            signal: hangup_signal(),
            reloadable,
        }
    }

    /// Reloads on every SIGHUP; tells the service manager it is reloading, then ready again
    /// with `status`.
    pub async fn handle(mut self, status: String) {
        while next_hangup(&mut self.signal).await {
            notify(&Notification::Reloading);
            let reloaded = self.reloadable.reload();
            tracing::info!("SIGHUP received; reloaded {reloaded}");
            notify(&Notification::Ready {
                status: status.clone(),
            });
        }
    }
}

#[cfg(unix)]
type Signal = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Signal = ();

#[cfg(unix)]
fn hangup_signal() -> Signal {
    use tokio::signal::unix::{SignalKind, signal};
    signal(SignalKind::hangup())
        .inspect_err(
            |e| tracing::warn!(error = %e, "SIGHUP cannot be caught: it would end kepgate"),
        )
        .ok()
}

#[cfg(not(unix))]
fn hangup_signal() -> Signal {}

/// The next SIGHUP; false when none can come.
#[cfg(unix)]
async fn next_hangup(signal: &mut Signal) -> bool {
    match signal {
        Some(signal) => signal.recv().await.is_some(),
        None => false,
    }
}

#[cfg(not(unix))]
async fn next_hangup(_: &mut Signal) -> bool {
    false
}
