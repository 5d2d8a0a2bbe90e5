//! Document signing with the person's cloud key, at the cabinet's request (docs/signing.md):
//! the cabinet (its page in the browser, or its backend with the person's assertion) asks for
//! files to be signed (`start.rs`), the person confirms on the phone from kepgate's signing page
//! (`page.rs`, live status `status_stream.rs`), the provider's callback brings one signature per
//! file (`callback.rs`), each verified as strictly as a login's and by the session's person
//! only (`verify.rs`), and the cabinet fetches the result signed with kepgate's key
//! (`result.rs`). Requests, signatures and the audit live in PostgreSQL (`store.rs`).

pub mod api_error;
pub mod callback;
pub mod context;
pub mod page;
pub mod refusal;
pub mod request;
pub mod requester;
pub mod result;
pub mod start;
pub mod status_stream;
pub mod store;
pub mod sweep;
pub mod verify;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;

pub use context::{SigningContext, SigningParts};
pub use page::SignPage;

use crate::http::Web;

/// The signing page, its stream and buttons, and the result (under the prefix).
pub fn router<S>() -> Router<S>
where
    SigningContext: FromRef<S>,
    Web: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/sign/{id}", get(page::sign_page))
        .route("/sign/events/{id}", get(status_stream::events))
        .route("/sign/{id}/done", post(page::done))
        .route("/sign/{id}/again", post(page::again))
        .route("/api/signing/{id}", get(result::result))
        .route(
            "/api/signing/{id}/files/{n}/signature.p7s",
            get(result::signature_file),
        )
}

/// `POST {prefix}/api/signing`, with a body limit of its own (`signing.body_limit_bytes()`,
/// files' bytes in base64): merged beside the other routes, not under their limit.
pub fn start_router<S>(body_limit: usize) -> Router<S>
where
    SigningContext: FromRef<S>,
    Web: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/api/signing", post(start::start))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit))
}
