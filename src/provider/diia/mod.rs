//! Diia.Signature adapter (kind `diia`): deeplink + QR, result by server-side callback.

mod callback;
pub mod client;
pub mod command;
mod provider;
mod report;
pub mod settings;
mod setup;
pub mod wire;

pub use callback::decode_callback;
pub use provider::DiiaProvider;
