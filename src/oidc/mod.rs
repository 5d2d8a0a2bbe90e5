//! kepgate as an OpenID Provider (docs/oidc.md): the organisation's other applications sign
//! people in with their КЕП through kepgate's own login, by the authorization code flow with
//! PKCE, and learn who they are from a signed ID token and `userinfo`.

mod authorization_header;
mod authorize;
pub mod backchannel;
pub mod claims;
pub mod clients;
mod context;
mod discovery;
mod logout;
pub mod pairwise;
mod reauthentication;
pub(crate) mod request;
pub mod store;
mod token;
mod userinfo;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;

pub use context::{OidcContext, OidcParts};

use crate::http::Web;

/// The endpoints under the prefix (`{prefix}/oidc/…`).
pub fn router<S>() -> Router<S>
where
    OidcContext: FromRef<S>,
    Web: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(
            "/oidc/authorize",
            get(authorize::authorize_get)
                .post(authorize::authorize_post)
                // Not the GET handler without its body (axum's default): a link checker's or
                // a prefetcher's HEAD would mint a code.
                .head(authorize::authorize_head),
        )
        .route(
            "/oidc/token",
            axum::routing::post(token::token).fallback(token::wrong_method),
        )
        .route(
            "/oidc/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route(
            "/oidc/logout",
            get(logout::logout_get).post(logout::logout_post),
        )
}

/// Discovery, at the issuer's own path (outside the prefix): `{base_url}.well-known/…`.
pub fn discovery_router<S>(base_path: &str) -> Router<S>
where
    OidcContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new().route(
        &format!("{}.well-known/openid-configuration", base_path),
        get(discovery::configuration),
    )
}
