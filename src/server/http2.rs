//! HTTP/2 after ALPN `h2`: hyper's server with kepgate's bounds (`[server.http2]`), and the
//! deadlines hyper does not have. The first request must come within `server.header_read_timeout`
//! of the handshake (HTTP/1.1's header timeout), and a connection with no open stream is closed
//! after `idle_timeout`; both with a graceful GOAWAY (a request already on its way is still
//! served), and a client that lets the connection sit after it is cut off `keep_alive_timeout`
//! later. A client that cancels most of its requests is cut off at once.

use std::time::Duration;

use hyper::server::conn::http2::Builder;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::sync::watch;

use super::service::WithPeer;
use super::streams::{self, Bounds, Counted, Streams, Verdict};
use crate::config::Http2Settings;

/// What an HTTP/2 connection is held to.
#[derive(Debug, Clone)]
pub struct Http2Bounds {
    pub settings: Http2Settings,
    /// `server.header_read_timeout`: from the handshake to the first request's headers.
    pub first_request_timeout: Duration,
    /// The largest header block taken (HPACK-decoded, RFC 9113 §6.5.2); it also bounds a
    /// header block's CONTINUATION frames (h2 allows a few more than the size needs).
    pub max_header_list_size: u32,
}

/// hyper's HTTP/2 server with the bounds it enforces itself.
fn builder(bounds: &Http2Bounds) -> Builder<TokioExecutor> {
    let settings = &bounds.settings;
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .max_concurrent_streams(settings.max_concurrent_streams)
        .max_pending_accept_reset_streams(settings.max_pending_reset_streams)
        .max_local_error_reset_streams(settings.max_local_error_reset_streams)
        .max_header_list_size(bounds.max_header_list_size)
        .keep_alive_interval(
            (!settings.keep_alive_interval.is_zero()).then_some(settings.keep_alive_interval),
        )
        .keep_alive_timeout(settings.keep_alive_timeout);
    builder
}

pub async fn serve<I>(
    io: I,
    service: WithPeer,
    bounds: &Http2Bounds,
    mut drain: watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let settings = &bounds.settings;
    let (streams, counts) = Streams::new();
    let connection =
        builder(bounds).serve_connection(TokioIo::new(io), Counted { service, streams });
    let mut connection = std::pin::pin!(connection);
    let watching = streams::watch(
        counts.clone(),
        Bounds {
            first_request: bounds.first_request_timeout,
            idle: settings.idle_timeout,
            max_cancelled: settings.max_cancelled_streams,
        },
    );
    let verdict = tokio::select! {
        result = connection.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "HTTP/2 connection ended with an error");
            }
            return;
        }
        () = async {
            // The guard `wait_for` returns must not live across the drain below.
            let _ = drain.wait_for(|d| *d).await;
        } => None,
        verdict = watching => Some(verdict),
    };
    let Some(verdict) = verdict else {
        // The server is stopping: requests in flight finish within `shutdown_grace`.
        connection.as_mut().graceful_shutdown();
        let _ = connection.await;
        return;
    };
    let reason = match verdict {
        Verdict::NoRequest => "first_request_timeout",
        Verdict::Idle => "idle_timeout",
        Verdict::Cancelling => "cancelled_streams",
    };
    metrics::counter!("kepgate_http2_connections_ended_total", "reason" => reason).increment(1);
    if verdict == Verdict::Cancelling {
        tracing::warn!("HTTP/2 client cancelled most of its requests; connection closed");
        return;
    }
    connection.as_mut().graceful_shutdown();
    // After the GOAWAY: served to the end while streams are open, closed once none has been
    // for `keep_alive_timeout` (a client that never acknowledges the GOAWAY's PING).
    let closing = streams::watch(
        counts,
        Bounds {
            first_request: settings.keep_alive_timeout,
            idle: settings.keep_alive_timeout,
            max_cancelled: settings.max_cancelled_streams,
        },
    );
    tokio::select! {
        _ = connection.as_mut() => {},
        _ = closing => {},
    }
}
