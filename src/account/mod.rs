//! The signed-in person's own account: the page `{prefix}/me` with their open sessions and
//! recent sign-in history (`me_page.rs`), ending one session or all of them (`ending.rs`), and
//! signing out (`logout.rs`).

mod device;
pub mod ending;
pub mod logout;
pub mod me_page;

pub use me_page::MePage;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};

use crate::http::Web;
use crate::provider::ProviderNames;

/// The account's routes (under the prefix).
pub fn router<S>() -> Router<S>
where
    Web: FromRef<S>,
    ProviderNames: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/me", get(me_page::me_page))
        .route("/me/sessions/end-all", post(ending::end_all))
        .route("/me/sessions/{id}/end", post(ending::end_one))
        .route("/logout", post(logout::logout))
}
