//! The providers' own administration commands, each a subcommand of the command line
//! (`kepgate diia setup`), flattened into it by `cli`.

use std::collections::BTreeMap;

use clap::Subcommand;

use super::settings::ProviderSettings;
use crate::provider::diia::command::DiiaCommand;

#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// Diia.Signature administration.
    #[command(subcommand)]
    Diia(DiiaCommand),
}

impl ProviderCommand {
    /// `providers` is the configuration's `[providers]`, by id.
    pub async fn run(self, providers: &BTreeMap<String, ProviderSettings>) -> anyhow::Result<()> {
        match self {
            ProviderCommand::Diia(command) => command.run(providers).await,
        }
    }
}
