//! Cloud-key providers: the adapters the login flow talks to.
//!
//! Every provider fits one shape, whatever it needs from the user:
//! - [`Provider::start`] asks the provider for an authorization request for a pending login and
//!   says what to show: a link (and whether a QR code of it makes sense) or, for providers that
//!   push the request to the user's phone by «Ідентифікатор користувача», just "check your phone";
//! - [`Provider::decode_callback`] turns the provider's server-side callback into a
//!   [`ProviderCallback`]: which request it is about and either a signed result or a decline.
//!   The signed result is then verified the same way for every provider ([`crate::signature`]).

pub mod diia;
pub mod exchange;
pub mod registry;

pub use exchange::{
    CallbackError, CallbackResult, HashAlgorithm, ProviderCallback, ProviderError, RequestHash,
    StartedRequest, UserHintSpec,
};
pub use registry::{Provider, Providers};
