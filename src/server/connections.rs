//! The gateway's connections: HTTP/1.1 on plain TCP; with `[server.tls]`, a TLS handshake first
//! and then HTTP/2 or HTTP/1.1, as ALPN decided. axum's own `serve` is not used: it gives hyper
//! no timer, so hyper's header timeout never fires there and a client sending its headers a
//! byte at a time (slow-loris) holds a connection and a task for ever. Here the header timeout
//! runs from the first byte of a request's head and is not reset by further bytes; the TLS
//! handshake has the same limit, and so has an HTTP/2 connection's first request. A connection
//! from an address that holds `server.max_connections_per_address` already is closed at once.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::http2::{self, Http2Bounds};
use super::per_address::{PerAddress, Slot};
use super::service::{CurrentRouter, WithPeer};
use super::tls::HTTP2;

/// How connections are served.
pub struct Listening {
    pub header_read_timeout: Duration,
    /// `None`: plain HTTP/1.1.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    pub http2: Http2Bounds,
    pub per_address: PerAddress,
}

/// Accepts until `shutdown` resolves, then lets every connection finish the request it is in
/// (taking no new one) and returns when all have closed.
pub async fn serve(
    listener: TcpListener,
    app: CurrentRouter,
    listening: Listening,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    // Every connection task holds a receiver of `closed`; all dropped = all drained.
    let (closed_tx, closed_rx) = watch::channel(());
    let (drain_tx, drain_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = match listening.per_address.admit(peer.ip()) {
            Ok(slot) => slot,
            Err(_) => {
                // Closed before any byte is read: the cheapest refusal there is.
                drop(stream);
                metrics::counter!("kepgate_connections_refused_total", "reason" => "per_address")
                    .increment(1);
                tracing::debug!(%peer, "connection refused: too many from this address");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = WithPeer {
            app: app.clone(),
            peer,
        };
        let drain = drain_rx.clone();
        let held = Held {
            _closed: closed_rx.clone(),
            _slot: slot,
        };
        // One task per connection, spawned as the future of its own kind: a plain connection's
        // task is not sized for a TLS handshake or an HTTP/2 connection it will never hold
        // (a spawned future is allocated at the size of its largest state).
        let timeout = listening.header_read_timeout;
        match listening.tls.clone() {
            None => tokio::spawn(until_closed(http1(stream, service, timeout, drain), held)),
            Some(tls) => {
                let http2 = listening.http2.clone();
                tokio::spawn(until_closed(
                    over_tls(stream, tls, service, timeout, http2, drain),
                    held,
                ))
            }
        };
    }
    drop(listener);
    let _ = drain_tx.send(true);
    drop(closed_rx);
    closed_tx.closed().await;
}

/// What a connection task holds until it ends: a receiver of `closed` (the server waits for
/// all of them) and its place in its address's count.
struct Held {
    _closed: watch::Receiver<()>,
    _slot: Slot,
}

async fn until_closed(connection: impl Future<Output = ()>, held: Held) {
    connection.await;
    drop(held);
}

async fn over_tls(
    stream: TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    service: WithPeer,
    header_read_timeout: Duration,
    http2: Http2Bounds,
    drain: watch::Receiver<bool>,
) {
    let handshake = tokio::time::timeout(header_read_timeout, acceptor.accept(stream));
    let stream = match handshake.await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            metrics::counter!("kepgate_tls_handshake_failures_total", "reason" => "refused")
                .increment(1);
            return;
        }
        Err(_) => {
            metrics::counter!("kepgate_tls_handshake_failures_total", "reason" => "timeout")
                .increment(1);
            return;
        }
    };
    // Boxed, so the task is not sized for the larger of the two.
    if stream.get_ref().1.alpn_protocol() == Some(HTTP2) {
        Box::pin(http2::serve(stream, service, &http2, drain)).await;
    } else {
        Box::pin(http1(stream, service, header_read_timeout, drain)).await;
    }
}

async fn http1<I>(
    io: I,
    service: WithPeer,
    header_read_timeout: Duration,
    drain: watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let connection = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    until_drained(connection, drain, |c| c.graceful_shutdown()).await;
}

/// Runs a connection to its end; once draining starts, it finishes the requests in flight and
/// takes no new one.
async fn until_drained<C>(
    connection: C,
    mut drain: watch::Receiver<bool>,
    graceful_shutdown: impl FnOnce(Pin<&mut C>),
) where
    C: Future<Output = Result<(), hyper::Error>>,
{
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        () = async {
            // The guard `wait_for` returns must not live across the drain below.
            let _ = drain.wait_for(|d| *d).await;
        } => {
            graceful_shutdown(connection.as_mut());
            let _ = connection.as_mut().await;
        }
    }
}
