//! Into the cabinet: the reverse proxy for signed-in users ([`reverse_proxy`]), forward-auth
//! for a front proxy that does the proxying itself ([`forward_auth`]), and the identity they
//! hand on ([`headers`], [`assertion`]).

pub mod assertion;
pub mod context;
pub mod forward_auth;
pub mod headers;
mod idle_body;
pub mod pages;
pub mod reverse_proxy;
pub mod routes;
mod tunnel;
mod upstream_tls;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{MethodRouter, any, get};

pub use crate::http::FromUpstream;
pub use context::{ProxyContext, ProxyParts};
pub use routes::{CabinetRoute, CabinetRoutes};

use crate::http::Web;

/// The proxy's own routes (under the prefix): the forward-auth check and the assertion's keys.
pub fn router<S>() -> Router<S>
where
    ProxyContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/auth", get(forward_auth::check))
        .route("/jwks.json", get(forward_auth::jwks))
}

/// The cabinet's space (everything outside kepgate's prefix): the reverse proxy, or without
/// `[routes]` the page that shows who is signed in.
pub fn cabinet_space<S>(routes: &CabinetRoutes) -> MethodRouter<S>
where
    ProxyContext: FromRef<S>,
    Web: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    if routes.is_empty() {
        any(pages::signed_in_page)
    } else {
        any(reverse_proxy::cabinet)
    }
}
