//! The application: the parts each feature gets ([`AppState`], handed out with `FromRef`), the
//! features' routers merged with the layers every request passes through (in [`router`], in
//! one place), and the background work every replica runs.
//!
//! Dependencies point one way: `app` → features (`login`, `proxy`, `account`) → the web layer
//! (`http`) → the stores (`session`) and the domain (`signature`, `provider`, `identity`, …).

mod background;
mod custom_pages;
mod offline;
mod reload;
mod router;
mod state;
mod trust_files;

pub use background::spawn_lasting;
pub use custom_pages::load_custom_pages;
pub use offline::OfflineParts;
pub use reload::Reloader;
pub use router::router;
pub use state::AppState;
