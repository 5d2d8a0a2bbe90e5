//! The web layer every feature stands on: errors and error pages, cookies, and as extractors the
//! CSRF token, the client (address, User-Agent), the page frame and the signed-in session; the
//! one response every HTML page goes out as (`page_response`), and the layers every response
//! passes through. It never imports a feature; features import it. The application
//! (`crate::app`) merges the features' routers and applies these layers in one place.

pub mod branding;
pub mod callback_answer;
pub mod canonical_path;
pub mod client_addr;
pub mod context;
pub mod cookies;
pub mod csrf;
pub mod custom_pages;
pub mod draining;
pub mod error;
pub mod error_pages;
pub mod health;
pub mod layers;
pub mod local_time;
pub mod metrics;
pub mod operator_files;
pub mod page_response;
pub mod pages;
pub mod qr_code;
pub mod request_id;
pub mod session_cookie;
pub mod signed_in;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;

pub use context::{Web, WebParts};
pub use layers::{CSP, FromUpstream, front_door, header_if_missing, not_found, request_span};

/// The web layer's own routes (under the prefix): probes, the language switch, static files.
pub fn routes<S>() -> Router<S>
where
    Web: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/language/{code}", get(pages::switch_language))
        .route("/static/kepgate.css", get(pages::stylesheet))
        .route("/static/login.js", get(pages::login_script))
        .route("/static/favicon.svg", get(pages::favicon))
        .route("/static/logo", get(pages::logo))
        .route("/static/brand.css", get(pages::brand_stylesheet))
        .route("/static/site/{name}", get(pages::site_asset))
}
