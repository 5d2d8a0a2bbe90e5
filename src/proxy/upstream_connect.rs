//! Reaching an upstream: one deadline, the route's `connect_timeout`, for the TCP connection
//! and the TLS handshake together (an https upstream that accepts TCP and never answers the
//! handshake would otherwise hold the request until `response_timeout`), and why a connection
//! failed, told apart for the log and the metrics.

use std::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::Uri;

type BoxError = Box<dyn Error + Send + Sync>;

/// A connector whose connections are made (TCP and, for https, TLS) within a deadline.
#[derive(Clone)]
pub struct WithDeadline<C> {
    inner: C,
    deadline: Duration,
}

impl<C> WithDeadline<C> {
    pub fn new(inner: C, deadline: Duration) -> Self {
        Self { inner, deadline }
    }
}

impl<C> tower::Service<Uri> for WithDeadline<C>
where
    C: tower::Service<Uri>,
    C::Error: Into<BoxError>,
    C::Future: Send + 'static,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let connecting = self.inner.call(dst);
        let deadline = self.deadline;
        Box::pin(async move {
            match tokio::time::timeout(deadline, connecting).await {
                Ok(connected) => connected.map_err(Into::into),
                Err(_) => Err(Box::new(ConnectTimedOut(deadline)) as BoxError),
            }
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("no connection (TCP and TLS) within connect_timeout ({0:?})")]
pub struct ConnectTimedOut(Duration);

/// Why a request reached no upstream.
#[derive(Debug)]
pub enum Unreached<'a> {
    /// The upstream's certificate was refused: another name, expired, an unknown CA,
    /// self-signed, none at all.
    Certificate(&'a rustls::Error),
    /// Another TLS failure: the upstream's alert (a client certificate it refused), no
    /// protocol version or cipher in common.
    Tls(&'a rustls::Error),
    /// TCP and TLS did not finish within `connect_timeout`.
    TimedOut,
    /// Refused, reset, closed early, no address: anything else.
    Unavailable,
}

impl<'a> Unreached<'a> {
    /// Reads the cause out of the client's error (hyper's, wrapping the connector's, wrapping
    /// tokio-rustls' `io::Error`, wrapping rustls's).
    pub fn of(error: &'a (dyn Error + 'static)) -> Self {
        for cause in causes(error) {
            if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
                return match tls {
                    rustls::Error::InvalidCertificate(_)
                    | rustls::Error::NoCertificatesPresented => Unreached::Certificate(tls),
                    _ => Unreached::Tls(tls),
                };
            }
            let timed_out = cause.is::<ConnectTimedOut>()
                || cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
            if timed_out {
                return Unreached::TimedOut;
            }
        }
        Unreached::Unavailable
    }

    /// The `outcome` label of `kepgate_proxy_requests_total`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Unreached::Certificate(_) => "tls_certificate",
            Unreached::Tls(_) => "tls",
            Unreached::TimedOut => "connect_timeout",
            Unreached::Unavailable => "unavailable",
        }
    }
}

/// The error and its causes, for the log; a wrapper that only repeats its cause's words
/// (`io::Error::other`) is said once.
pub fn chain(error: &(dyn Error + 'static)) -> String {
    let mut said: Vec<String> = causes(error).map(|cause| cause.to_string()).collect();
    said.dedup();
    said.join(": ")
}

/// The error and its causes. An `io::Error`'s `source()` skips the error it wraps (it returns
/// that error's own source), so the wrapped one is taken with `get_ref`.
fn causes<'a>(error: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(
        Some(error),
        |&cause: &&'a (dyn Error + 'static)| match cause.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn Error + 'static)),
            None => cause.source(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::CertificateError;

    /// As hyper-rustls hands a failed handshake on: tokio-rustls' `io::Error` inside another.
    fn handshake_failure(tls: rustls::Error) -> BoxError {
        let tokio_rustls = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        std::io::Error::other(tokio_rustls).into()
    }

    #[test]
    fn a_refused_certificate_is_told_apart_from_other_failures() {
        let expired =
            handshake_failure(rustls::Error::InvalidCertificate(CertificateError::Expired));
        assert_eq!(Unreached::of(&*expired).outcome(), "tls_certificate");
        assert_eq!(chain(&*expired), "invalid peer certificate: Expired");
        let alert = handshake_failure(rustls::Error::AlertReceived(
            rustls::AlertDescription::HandshakeFailure,
        ));
        assert_eq!(Unreached::of(&*alert).outcome(), "tls");
        let timed_out: BoxError = Box::new(ConnectTimedOut(Duration::from_secs(1)));
        assert_eq!(Unreached::of(&*timed_out).outcome(), "connect_timeout");
        let refused: BoxError = std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into();
        assert_eq!(Unreached::of(&*refused).outcome(), "unavailable");
    }
}
