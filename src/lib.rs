//! kepgate: sign in to web apps with a Ukrainian qualified e-signature (КЕП) from a cloud provider.

pub mod account;
pub mod app;
pub mod auth_method;
pub mod canonical_path;
pub mod certificate_status;
pub mod cli;
pub mod clock;
pub mod config;
pub mod database;
#[cfg(feature = "demo")]
pub mod demo;
pub mod document_signing;
#[doc(hidden)]
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod http;
pub mod language;
pub mod login;
pub mod notifications;
pub mod oidc;
pub mod periodic;
pub mod provider;
pub mod provider_callback;
pub mod proxy;
pub mod return_path;
pub mod routes;
pub mod server;
pub mod session;
pub mod signing_key;
pub mod startup;
pub mod telemetry;
pub mod trace_context;
pub mod trust_list;
pub mod whole_seconds;

// The signature crate under the paths the gateway has always used (`crate::signature::…`,
// `crate::identity::…`).
pub use kepgate_signature as signature;
pub use kepgate_signature::identity;
