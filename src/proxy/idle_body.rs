//! A body that fails when no data moves for a while: a stalled upstream (or client) must not
//! hold a connection and its memory forever, while a long, steady stream is fine.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

pub struct IdleTimeout<B> {
    inner: Pin<Box<B>>,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl<B> IdleTimeout<B> {
    pub fn new(inner: B, idle: Duration) -> Self {
        Self {
            inner: Box::pin(inner),
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("no data for {0:?}")]
pub struct IdleError(Duration);

impl<B> Body for IdleTimeout<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.inner.as_mut().poll_frame(cx) {
            Poll::Ready(frame) => {
                let idle = self.idle;
                self.deadline.as_mut().reset(Instant::now() + idle);
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(IdleError(self.idle))))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// How the client's request body failed, if it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientBodyFailure {
    /// Broken framing (a bad chunk size, a bare-LF chunk line, a connection closed early).
    Malformed,
    /// No data for the idle timeout.
    Stalled,
}

/// Records the first error of the client's request body, so that a failed upstream call can be
/// told apart: the client's fault (400/408), not an unavailable cabinet (502).
pub struct Watched<B> {
    inner: Pin<Box<B>>,
    failure: Arc<OnceLock<ClientBodyFailure>>,
}

impl<B> Watched<B> {
    pub fn new(inner: B) -> (Self, Arc<OnceLock<ClientBodyFailure>>) {
        let failure = Arc::new(OnceLock::new());
        (
            Self {
                inner: Box::pin(inner),
                failure: failure.clone(),
            },
            failure,
        )
    }
}

impl<B> Body for Watched<B>
where
    B: Body<Data = Bytes, Error = Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = self.inner.as_mut().poll_frame(cx);
        if let Poll::Ready(Some(Err(e))) = &polled {
            let kind = if e.is::<IdleError>() {
                ClientBodyFailure::Stalled
            } else {
                ClientBodyFailure::Malformed
            };
            let _ = self.failure.set(kind);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
