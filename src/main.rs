use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    kepgate::cli::run(kepgate::cli::Cli::parse()).await
}
