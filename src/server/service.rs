//! The router as hyper calls it, once per request on a connection: the router current when
//! the request arrives, which it keeps to its end (a reload replaces the router for the
//! requests after).

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::ConnectInfo;
use tokio::sync::watch;
use tower::Service;

/// The router new requests go to; a reload puts another in its place ([`RouterSwap`]).
#[derive(Clone)]
pub struct CurrentRouter(watch::Receiver<Router>);

/// Where a reload puts the next router.
pub struct RouterSwap(watch::Sender<Router>);

impl CurrentRouter {
    pub fn new(router: Router) -> (Self, RouterSwap) {
        let (swap, current) = watch::channel(router);
        (CurrentRouter(current), RouterSwap(swap))
    }

    fn now(&self) -> Router {
        self.0.borrow().clone()
    }
}

impl RouterSwap {
    /// Requests from now on go to `router`; those under way finish on the one they started on.
    pub fn replace(&self, router: Router) {
        // The previous router lives on only in the requests that hold it.
        let _ = self.0.send_replace(router);
    }
}

/// The router, with the peer's address in each request's extensions (the client-address
/// extractor reads it).
#[derive(Clone)]
pub struct WithPeer {
    pub app: CurrentRouter,
    pub peer: SocketAddr,
}

impl<B> hyper::service::Service<axum::http::Request<B>> for WithPeer
where
    B: http_body::Body<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = axum::routing::future::RouteFuture<Infallible>;

    fn call(&self, mut request: axum::http::Request<B>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        self.app.now().call(request)
    }
}
