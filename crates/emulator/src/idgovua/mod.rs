//! The id.gov.ua emulator: the Integrated Electronic Identification System (ІСЕІ) as a relying
//! party sees it, for newcomers and tests.
//!
//! A separate HTTP server with in-memory state, speaking the OAuth2-style protocol of the real
//! service as its public clients use it (`wire.rs` names the sources): the login page at the
//! site root (`GET /?response_type=code&…`), where a test person picks a method and an identity,
//! then `/get-access-token`, `/get-user-info` and `/get-user-logout`, each over every transport
//! the public clients use (GET or POST, parameters in the query string or a form body). Tests
//! steer it through the `/emulator/` control routes (faults, expiry, a log of what clients sent).
//!
//! What it does not do: encrypt user info to the client's certificate (`cert`), which needs
//! DSTU 4145 key agreement; a request with `cert` gets an error saying so.

mod api;
mod authorize;
mod control;
mod params;
mod people;
mod server;
mod settings;
mod state;
#[cfg(test)]
mod tests;
mod wire;

pub use people::{IdGovUaIdentity, IdGovUaMethod};
pub use server::IdGovUaEmulator;
pub use settings::{
    DEFAULT_CODE_TTL, DEFAULT_TOKEN_TTL, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, IdGovUaSettings,
    RegisteredClient,
};
pub use wire::ErrorCode;
