//! `kepgate config schema`: the configuration's JSON Schema for editors, or (`--markdown`) the
//! reference docs/configuration.md is generated from. Reads no configuration: it describes
//! every configuration.

use std::process::ExitCode;

use clap::Subcommand;

use super::exit::print_whole;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the JSON Schema of kepgate.toml (for Taplo, VS Code's Even Better TOML, a
    /// validator), or with --markdown the reference of every key (docs/configuration.md).
    Schema {
        /// The reference in Markdown instead of the JSON Schema.
        #[arg(long)]
        markdown: bool,
    },
}

pub fn config(command: ConfigCommand) -> ExitCode {
    let ConfigCommand::Schema { markdown } = command;
    let text = if markdown {
        crate::config::reference_markdown()
    } else {
        crate::config::json_schema_text()
    };
    print_whole(&text, "the schema")
}
