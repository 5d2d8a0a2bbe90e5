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
mod upstream_connect;
mod upstream_tls;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;

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

/// The cabinet's space (everything outside kepgate's prefix) as `router`'s fallback: the reverse
/// proxy, or without `[routes]` the page that shows who is signed in. A plain handler, not an
/// `any(…)` method router: every method reaches it either way, and a method router as the
/// fallback is cloned and turned into a service again for every request (round 8 of
/// docs/benchmarks.md).
pub fn with_cabinet_space<S>(router: Router<S>, routes: &CabinetRoutes) -> Router<S>
where
    ProxyContext: FromRef<S>,
    Web: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    if routes.is_empty() {
        router.fallback(pages::signed_in_page)
    } else {
        router.fallback(reverse_proxy::cabinet)
    }
}
