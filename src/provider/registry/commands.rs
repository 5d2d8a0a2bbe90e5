//! The providers' own administration commands, each a subcommand of the command line
//! (`kepgate diia setup`), flattened into it by `cli`.

use clap::Subcommand;

use crate::config::Settings;
use crate::provider::diia::command::DiiaCommand;

#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// Diia.Signature administration.
    #[command(subcommand)]
    Diia(DiiaCommand),
}

impl ProviderCommand {
    pub async fn run(self, settings: &Settings) -> anyhow::Result<()> {
        match self {
            ProviderCommand::Diia(command) => command.run(settings).await,
        }
    }
}
