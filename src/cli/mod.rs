//! The command line: `serve`, `reload`, `migrate`, `check-config`, `config schema`, `demo`, `sessions`, `audit`, `trust`, … (`demo`,
//! `emulator` and `cabinet` only with the default `demo` feature). The words are in `args.rs`,
//! which job they ask for in `run.rs`, each job in a file of its own.

mod args;
mod check_config;
mod config_schema;
#[cfg(feature = "demo")]
mod demo;
mod exit;
mod oidc_clients;
mod reload;
mod run;
mod serve;
mod sessions;
mod trust;

pub use args::{Cli, Command};
pub use config_schema::ConfigCommand;
pub use oidc_clients::{OidcClientCommand, OidcCommand};
pub use run::run;
pub use sessions::SessionsCommand;
pub use trust::TrustCommand;
