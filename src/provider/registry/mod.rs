//! The one list of the kinds of provider: a new provider is its folder (`provider/<kind>/`)
//! and a line in each enum here. Their settings picked by `kind` (`settings.rs`, read by
//! `config`), the adapters built from them (`providers.rs`), and the administration commands
//! some of them have (`commands.rs`, on the command line).

pub mod commands;
pub mod providers;
pub mod settings;

pub use commands::ProviderCommand;
pub use providers::{Provider, Providers, return_url};
pub use settings::ProviderSettings;
