//! What an HTTP/2 connection's streams are doing, as its deadlines need to know: how many are
//! open (a request taken up and its answer not yet sent to the end), how many there have been,
//! and how many the client cancelled before their answer ended. hyper counts none of it in a
//! form we can read, so each request is followed from the service call to the end of its
//! answer's body.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Request, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use tokio::sync::watch;
use tokio::time::Instant;

use super::service::WithPeer;

#[derive(Debug, Clone, Copy, Default)]
pub struct Count {
    /// Requests taken up whose answer has not ended.
    pub open: usize,
    /// Requests taken up, ever.
    pub started: usize,
    /// Requests whose stream the client reset before their answer's head was ready.
    pub cancelled: usize,
}

/// The counts, shared by the service (which changes them) and the connection's driver.
#[derive(Clone)]
pub struct Streams(Arc<watch::Sender<Count>>);

impl Streams {
    pub fn new() -> (Self, watch::Receiver<Count>) {
        let (sender, receiver) = watch::channel(Count::default());
        (Self(Arc::new(sender)), receiver)
    }

    fn opened(&self) -> Stream {
        self.0.send_modify(|c| {
            c.open += 1;
            c.started += 1;
        });
        Stream(Arc::new(StreamState {
            streams: self.clone(),
            cancelled: AtomicBool::new(false),
        }))
    }
}

/// One open stream, held by its request's body, the handler's future and then the answer's
/// body: the stream is closed (for the counts) when all three are gone.
#[derive(Clone)]
struct Stream(Arc<StreamState>);

struct StreamState {
    streams: Streams,
    cancelled: AtomicBool,
}

impl Stream {
    /// The client gave up on this stream before its answer ended; counted once.
    fn cancelled(&self) {
        if !self.0.cancelled.swap(true, Ordering::Relaxed) {
            self.0.streams.0.send_modify(|c| c.cancelled += 1);
        }
    }
}

impl Drop for StreamState {
    fn drop(&mut self) {
        self.streams.0.send_modify(|c| c.open -= 1);
    }
}

/// The router, each request counted while it is open.
#[derive(Clone)]
pub struct Counted {
    pub service: WithPeer,
    pub streams: Streams,
}

impl hyper::service::Service<Request<Incoming>> for Counted {
    type Response = Response<CountedBody>;
    type Error = Infallible;
    type Future = CountedFuture;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let stream = self.streams.opened();
        let request = request.map(|inner| {
            Body::new(RequestBody {
                inner,
                stream: stream.clone(),
            })
        });
        CountedFuture {
            inner: self.service.call(request),
            stream: Some(stream),
        }
    }
}

/// A request's body: an error reading it on HTTP/2 is the client resetting the stream (or
/// the connection breaking).
struct RequestBody {
    inner: Incoming,
    stream: Stream,
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Err(_))) = polled {
            self.stream.cancelled();
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

/// The handler's future: dropped before it is ready means hyper saw the client reset the
/// stream while the handler worked.
pub struct CountedFuture {
    inner: <WithPeer as hyper::service::Service<Request<Body>>>::Future,
    stream: Option<Stream>,
}

impl Future for CountedFuture {
    type Output = Result<Response<CountedBody>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Ok(response) = ready!(Pin::new(&mut self.inner).poll(cx));
        let stream = self.stream.take();
        Poll::Ready(Ok(response.map(|inner| CountedBody { inner, stream })))
    }
}

impl Drop for CountedFuture {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            stream.cancelled();
        }
    }
}

/// An answer's body; dropped before its end means the client reset the stream while it was
/// being sent. (hyper stops polling once `is_end_stream` says the end is reached.)
pub struct CountedBody {
    inner: Body,
    stream: Option<Stream>,
}

impl http_body::Body for CountedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None | Some(Err(_))) = polled {
            // Ended (an error of the answer's own is not the client's doing).
            self.stream = None;
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

impl Drop for CountedBody {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take()
            && !http_body::Body::is_end_stream(&self.inner)
        {
            stream.cancelled();
        }
    }
}

/// Why a connection's streams say it should end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No request within the first deadline.
    NoRequest,
    /// No open stream for the idle time.
    Idle,
    /// More cancelled requests than allowed, and more than half of all.
    Cancelling,
}

/// The bounds [`watch`] holds a connection to.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub first_request: Duration,
    pub idle: Duration,
    pub max_cancelled: usize,
}

/// Resolves when the connection's streams break one of `bounds`; never otherwise.
pub async fn watch(mut counts: watch::Receiver<Count>, bounds: Bounds) -> Verdict {
    let first_deadline = Instant::now() + bounds.first_request;
    loop {
        let count = *counts.borrow_and_update();
        if count.cancelled > bounds.max_cancelled && count.cancelled * 2 > count.started {
            return Verdict::Cancelling;
        }
        let idle = match (count.open, count.started) {
            (0, 0) => Some((first_deadline, Verdict::NoRequest)),
            (0, _) => Some((Instant::now() + bounds.idle, Verdict::Idle)),
            _ => None,
        };
        let changed = async {
            if counts.changed().await.is_err() {
                // The service is gone, and with it the connection: its end decides.
                std::future::pending::<()>().await;
            }
        };
        match idle {
            Some((deadline, verdict)) => tokio::select! {
                () = changed => {},
                () = tokio::time::sleep_until(deadline) => return verdict,
            },
            None => changed.await,
        }
    }
}
