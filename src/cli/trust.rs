//! `kepgate trust show`: what signatures are verified against now — each `trust.files` file and
//! the national list in force in the configuration's database.

use anyhow::Context;
use clap::Subcommand;

use crate::config::Settings;
use crate::signature::TrustList;

#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Every trusted CA certificate, with its origin and since when; a summary line first.
    Show,
}

pub async fn trust(settings: Settings, command: TrustCommand) -> anyhow::Result<()> {
    match command {
        TrustCommand::Show => {
            let mut files = Vec::new();
            for path in &settings.trust.files {
                let bytes = std::fs::read(path)
                    .with_context(|| format!("trust.files: cannot read {}", path.display()))?;
                let (list, _) = TrustList::from_bytes(&bytes)
                    .with_context(|| format!("trust.files: {}", path.display()))?;
                files.push((path.clone(), list));
            }
            // Without `[trust.sources]` the gateway trusts no national list, whatever the
            // database still holds: what is shown is what is trusted.
            let national = match &settings.trust.sources {
                Some(_) => {
                    let pool = super::sessions::admin_pool(&settings).await?;
                    crate::trust_list::store::in_force(&pool).await?
                }
                None => None,
            };
            let mut out = std::io::stdout().lock();
            crate::trust_list::show::print(&files, national.as_ref(), &mut out)
        }
    }
}
