//! WebSocket tunnels: bytes both ways after the upstream's 101, for as long as the session that
//! opened the tunnel lives. A tunnel checked only at its handshake would outlive logout, an
//! administrator's revocation and the session's absolute end.

use std::time::Duration;

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::clock::SharedClock;
use crate::session::{self, SessionKey, SessionToken};

/// What a tunnel watches to end with its session.
pub struct SessionWatch {
    pub session_id: Uuid,
    pub token: SessionToken,
    pub expires_at: OffsetDateTime,
    pub db: PgPool,
    pub clock: SharedClock,
    /// Revoked sessions' ids (any replica); `None` or a lag when notices may have been lost.
    pub revocations: broadcast::Receiver<Option<Uuid>>,
}

impl SessionWatch {
    /// Resolves when the session is over: its absolute end passed, or it was revoked (its own
    /// notice; when notices may have been lost, the database says).
    async fn ended(mut self) {
        loop {
            let left = Duration::try_from(self.expires_at - self.clock.now()).unwrap_or_default();
            tokio::select! {
                () = tokio::time::sleep(left) => return,
                notice = self.revocations.recv() => match notice {
                    Ok(Some(id)) if id == self.session_id => return,
                    Ok(Some(_)) => {}
                    Ok(None) | Err(RecvError::Lagged(_)) => {
                        // A database error keeps the tunnel: the next notice or the end decides.
                        // Uncached: notices may have been lost, which is exactly when this
                        // replica's cache (cleared then) cannot say whether the session lives.
                        let key = SessionKey::Token(&self.token);
                        if let Ok(None) =
                            session::find_uncached(&self.db, key, self.clock.now()).await
                        {
                            return;
                        }
                    }
                    Err(RecvError::Closed) => {
                        // No more notices (shutting down): the absolute end still holds.
                        tokio::time::sleep(left).await;
                        return;
                    }
                },
            }
        }
    }
}

/// Copies both ways between the client's and the upstream's upgraded connections until either
/// side closes or the session ends.
pub fn spawn(client: OnUpgrade, upstream: OnUpgrade, session: Option<SessionWatch>, route: String) {
    tokio::spawn(async move {
        let (client, upstream) = match tokio::try_join!(client, upstream) {
            Ok(both) => both,
            Err(e) => {
                tracing::debug!(error = %e, "WebSocket tunnel could not be set up");
                return;
            }
        };
        let mut client = TokioIo::new(client);
        let mut upstream = TokioIo::new(upstream);
        let copy = tokio::io::copy_bidirectional(&mut client, &mut upstream);
        match session {
            Some(session) => tokio::select! {
                _ = copy => {}
                () = session.ended() => {
                    tracing::info!(route, "WebSocket tunnel closed: its session ended");
                }
            },
            None => {
                let _ = copy.await;
            }
        }
    });
}
