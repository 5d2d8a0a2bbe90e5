//! The Diia.Signature emulator: what newcomers and tests run instead of the real provider.
//!
//! A separate HTTP server with in-memory state. It serves Diia's partner ("acquirer") API with
//! the JSON of its own reading of Diia's format (`wire.rs`), a phone page at the deeplink where a
//! person confirms or declines, and on an answer POSTs Diia's multipart callback to the partner,
//! signed with keys of its own test CA ([`kepgate_signature::test_ca`]). Scripts and load tests
//! can answer without a browser through the `/emulator/` control routes.

mod api;
mod callback;
mod control;
mod error;
mod identities;
#[cfg(test)]
mod official_sdk_tests;
mod phone;
mod revocation;
mod revocation_http;
#[cfg(test)]
mod revocation_tests;
mod server;
mod settings;
#[cfg(test)]
mod signing_tests;
mod state;
#[cfg(test)]
mod tests;
mod wire;

pub use error::EmulatorError;
pub use identities::TestIdentity;
pub use server::Emulator;
pub use settings::{
    DEFAULT_ACQUIRER_TOKEN, DEFAULT_SERVICE_NAME, DEFAULT_TOKEN_TTL, EmulatorArgs,
    EmulatorSettings, Registered,
};
