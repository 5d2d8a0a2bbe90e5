//! SIGHUP (`systemctl reload`, `kepgate reload`, `kill -HUP`) caught for the whole life of
//! `kepgate serve`: what it reloads is the application's (`crate::app::Reloader`). The handler
//! is installed whatever the configuration: without one, SIGHUP's default action would end the
//! gateway.

use super::service_manager::{Notification, notify};

/// The stream [`catch_from_start`] opened, kept until [`Hangup::install`] takes it over: a
/// SIGHUP that arrives in between is still pending in it.
static EARLY: std::sync::Mutex<Option<Signal>> = std::sync::Mutex::new(None);

/// Replaces SIGHUP's default action (ending the process) for the rest of the process's life,
/// before anything slow happens. A reload asked while the gateway connects to its database or
/// migrates must neither end it (the service manager would count a clean exit and not restart
/// it) nor be lost: the configuration was read already, so the file edited since is read again
/// once the gateway serves.
pub fn catch_from_start() {
    if let Ok(mut early) = EARLY.lock() {
        *early = Some(hangup_signal());
    }
}

/// What a SIGHUP does: reads everything reloadable again and says what came of it, for the log.
pub trait Reload {
    fn reload(&mut self) -> impl Future<Output = String> + Send;
}

/// SIGHUP caught from [`Hangup::install`] on.
pub struct Hangup {
    signal: Signal,
}

impl Hangup {
    /// Catches SIGHUP from now on (before the gateway says it is ready, so a reload can never
    /// end it).
    pub fn install() -> Self {
        let early = EARLY.lock().ok().and_then(|mut early| early.take());
        Self {
            signal: early.unwrap_or_else(hangup_signal),
        }
    }

    /// Reloads `what` on every SIGHUP, one at a time, telling the service manager it is
    /// reloading, then ready again with `status`.
    pub async fn handle(mut self, status: String, what: &mut impl Reload) {
        while next_hangup(&mut self.signal).await {
            notify(&Notification::Reloading);
            let reloaded = what.reload().await;
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
