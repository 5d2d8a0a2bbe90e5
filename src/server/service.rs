//! The router as hyper calls it, once per request on a connection.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::ConnectInfo;
use tower::Service;

/// The router, with the peer's address in each request's extensions (the client-address
/// extractor reads it).
#[derive(Clone)]
pub struct WithPeer {
    pub app: Router,
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
        self.app.clone().call(request)
    }
}
