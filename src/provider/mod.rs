//! Cloud-key providers: the adapters the login flow talks to.
//!
//! Every provider fits one shape, whatever it needs from the user. [`Provider::start`] asks the
//! provider for an authorization request for a pending login and says how the login goes on
//! ([`ProviderStart`]):
//! - **on a phone** (Diia): a link (and whether a QR code of it makes sense) or, for providers
//!   that push the request to the user's phone by «Ідентифікатор користувача», just "check your
//!   phone". [`Provider::decode_callback`] then turns the provider's server-side callback into a
//!   [`ProviderCallback`]: which request it is about and either a signed result or a decline.
//!   The signed result is verified the same way for every provider ([`crate::signature`]).
//! - **by redirect** (id.gov.ua): this browser is sent to the provider with the request id as
//!   `state` and comes back with a code; [`Provider::identify`] exchanges the code server-side
//!   for who the person is ([`Identified`]).
//!
//! A provider is its folder, `provider/<kind>/`: its settings and their rules (`settings.rs`,
//! read by `config`), the adapter (`provider.rs`), the wire format with its public sources
//! (`wire.rs`), what `check-config` says about it (`report.rs`), and what else it needs (Diia:
//! the callback, the API client, `kepgate diia setup`). [`registry`] is the one list of the
//! kinds: a new provider adds a line to each of its enums.
//!
//! What every provider's settings have is in `common_settings.rs`. `config` reads and
//! re-exports these settings; nothing here imports `config`: what a provider needs of
//! `[server]` comes from the caller as a [`KepgateAddress`], the configured providers as
//! `[providers]` alone.

pub mod common_settings;
pub mod diia;
pub mod exchange;
mod http_call;
pub mod idgovua;
mod kepgate_address;
mod names;
pub mod registry;
pub mod signing;

pub use exchange::{
    CallbackError, CallbackResult, HashAlgorithm, Identified, IdentifyError, METHOD_NOT_ALLOWED,
    ProviderCallback, ProviderError, ProviderStart, RequestHash, RequestId, StartedRequest,
    UserHintSpec,
};
pub use http_call::{ca_certificates, error_chain};
pub use kepgate_address::KepgateAddress;
pub use names::ProviderNames;
pub use registry::{Provider, ProviderCommand, ProviderSettings, Providers};
pub use signing::{
    DecodedCallback, FileHash, SignAlgorithm, SignedItem, SigningCallback, SigningResult,
};
