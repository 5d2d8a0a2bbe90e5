//! `kepgate diia …`: Diia.Signature administration, one subcommand of the command line
//! (`provider::ProviderCommand`).

use std::collections::BTreeMap;

use clap::Subcommand;

use super::provider::DiiaProvider;
use super::settings::DiiaSettings;
use crate::provider::registry::settings::ProviderSettings;

#[derive(Debug, Subcommand)]
pub enum DiiaCommand {
    /// Create the branch and the offer (scope diiaId: auth) once, and print the ids to put into
    /// the configuration. Run it again only if you mean to register a new branch.
    Setup {
        /// The provider id in the configuration (`[providers.<id>]`, kind = "diia").
        #[arg(long, default_value = "diia")]
        provider: String,
    },
}

impl DiiaCommand {
    /// `providers` is the configuration's `[providers]`, by id.
    pub async fn run(self, providers: &BTreeMap<String, ProviderSettings>) -> anyhow::Result<()> {
        match self {
            DiiaCommand::Setup { provider } => {
                setup(diia_settings(providers, &provider)?, &provider).await
            }
        }
    }
}

fn diia_settings<'a>(
    providers: &'a BTreeMap<String, ProviderSettings>,
    id: &str,
) -> anyhow::Result<&'a DiiaSettings> {
    match providers.get(id) {
        Some(ProviderSettings::Diia(diia)) => Ok(diia),
        _ => anyhow::bail!(
            "no provider `{id}` of kind \"diia\" in the configuration ([providers.{id}])"
        ),
    }
}

async fn setup(diia: &DiiaSettings, id: &str) -> anyhow::Result<()> {
    if diia.branch_id.is_some() || diia.offer_id.is_some() {
        eprintln!(
            "note: providers.{id} already has branch_id/offer_id; a new branch is created anyway"
        );
    }
    let provider = DiiaProvider::new(id, diia)?;
    let (branch_id, offer_id) = provider.setup().await?;
    println!("# Put these into [providers.{id}]:");
    println!("branch_id = \"{branch_id}\"");
    println!("offer_id = \"{offer_id}\"");
    Ok(())
}
