//! The cross-device login: pending logins in PostgreSQL, started here, finished by the
//! provider's callback (see docs/how-it-works.md, "How a login works", for the whole picture).

pub mod api;
pub mod binding;
pub mod browser;
pub mod callback;
pub mod completion;
pub mod context;
pub mod events;
pub mod form;
pub mod limits;
pub mod outcome;
pub mod pending;
pub mod phone_check;
pub mod qr_link;
pub mod redirect_return;
pub mod start;
pub mod state;
pub mod status_stream;
pub mod status_text;
pub mod waiting;
pub mod waiting_handlers;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};

pub use context::{LoginContext, LoginParts};
pub use pending::sweep_overdue;

use crate::http::Web;
use crate::http::pages::PROVIDER_RETURN;

/// The login's routes (under the prefix): the form, the waiting page and its stream, the QR
/// link opened on the phone, the JSON API (the provider's callback is `crate::provider_callback`'s).
pub fn router<S>() -> Router<S>
where
    LoginContext: FromRef<S>,
    Web: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/login", get(start::login_page))
        .route("/login/start", post(start::start_form))
        .route("/login/wait/{id}", get(waiting_handlers::wait_page))
        .route("/login/events/{id}", get(status_stream::events))
        .route("/login/qr/{id}", get(waiting_handlers::qr_image))
        .route(
            "/login/complete/{id}",
            post(waiting_handlers::complete_form),
        )
        .route(
            &format!("{PROVIDER_RETURN}{{provider}}"),
            get(redirect_return::come_back),
        )
        // The rotating QR link, opened on the phone.
        .route(
            "/q/{token}",
            get(phone_check::open_link).post(phone_check::answer),
        )
        .route("/api/login", post(start::api_start))
        .route("/api/login/{id}/complete", post(api::api_complete))
}
