//! The one LISTEN connection of a replica. Features announce changes with `NOTIFY` in the
//! transaction that makes them; this loop hands each notice to the [`Subscriber`] of its
//! channel (the login streams, the session cache). Notices sent while the connection was down
//! are lost, so after every (re)connect each subscriber hears [`Subscriber::missed`].

pub mod watchers;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;

/// One channel's receiver.
pub trait Subscriber: Send + Sync {
    /// The PostgreSQL channel this subscriber reads.
    fn channel(&self) -> &'static str;
    /// A notice on the channel.
    fn notify(&self, payload: &str);
    /// Notices may have been lost: whatever depends on them is re-read.
    fn missed(&self);
}

/// True while the LISTEN connection is up: the database was reachable a moment ago, and a lost
/// connection is noticed at once (the server closes it). Pages that need no query of their own
/// read this instead of asking the database on every request.
#[derive(Clone, Default)]
pub struct Listening(Arc<AtomicBool>);

impl Listening {
    pub fn is_up(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self, up: bool) -> bool {
        self.0.swap(up, Ordering::Relaxed)
    }
}

/// Runs the LISTEN loop until the process ends; reconnects with backoff.
pub async fn listen(db: PgPool, listening: Listening, subscribers: Vec<Arc<dyn Subscriber>>) {
    const FIRST_BACKOFF: Duration = Duration::from_millis(200);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let result = listen_once(&db, &listening, &subscribers).await;
        // A connection that was up starts the backoff afresh: an outage next week must not
        // wait the 5 s this one grew to before every stream hears about its login again.
        if listening.set(false) {
            backoff = FIRST_BACKOFF;
        }
        metrics::counter!("kepgate_listen_reconnects_total").increment(1);
        match result {
            Err(e) => tracing::warn!(error = %e, "LISTEN connection lost; reconnecting"),
            Ok(()) => tracing::warn!("LISTEN connection closed by the server; reconnecting"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn listen_once(
    db: &PgPool,
    listening: &Listening,
    subscribers: &[Arc<dyn Subscriber>],
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(db).await?;
    // A lost connection returns at once (below) instead of reconnecting inside `try_recv`,
    // which would keep `Listening` up for as long as the pool tries to reach a database that
    // is gone, and the login page would offer a form that cannot work.
    listener.eager_reconnect(false);
    listener
        .listen_all(subscribers.iter().map(|s| s.channel()))
        .await?;
    let missed = || subscribers.iter().for_each(|s| s.missed());
    missed();
    listening.set(true);
    tracing::info!("listening for notifications");
    loop {
        // try_recv: Ok(None) means the connection was lost.
        match listener.try_recv().await? {
            Some(notice) => {
                for subscriber in subscribers {
                    if subscriber.channel() == notice.channel() {
                        subscriber.notify(notice.payload());
                    }
                }
            }
            None => return Ok(()),
        }
    }
}
