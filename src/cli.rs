//! The command line: `serve`, `migrate`, `check-config`, `demo`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Defaults, Settings};
use crate::startup::{Application, shutdown_signal};
use crate::{database, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "kepgate",
    version,
    about = "Sign in to your web apps with a cloud КЕП"
)]
pub struct Cli {
    /// TOML configuration file (every key optional; see kepgate.example.toml).
    #[arg(long, global = true, env = "KEPGATE_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway.
    Serve,
    /// Create the database if needed and apply pending migrations, then exit.
    Migrate,
    /// Load and check the configuration; name the offending key if it is wrong.
    CheckConfig,
    /// Run the demo stack on this machine (database `kepgate_demo`).
    Demo,
}

pub async fn run(cli: Cli) -> ExitCode {
    let defaults = match cli.command {
        Command::Demo => Defaults::Demo,
        _ => Defaults::Production,
    };
    let settings = match Settings::load_with(cli.config.as_deref(), true, defaults) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("kepgate: configuration error:\n{e}");
            return ExitCode::from(2);
        }
    };
    if let Command::CheckConfig = cli.command {
        println!("configuration OK");
        println!("  users browse:        {}", settings.server.base_url);
        println!(
            "  providers and phones: {}",
            settings.server.public_base_url()
        );
        println!("  kepgate routes under: {}", settings.server.route_prefix);
        return ExitCode::SUCCESS;
    }
    telemetry::init(&settings.log);
    let result = match cli.command {
        Command::Migrate => migrate(settings).await,
        Command::Serve | Command::Demo => serve(settings).await,
        Command::CheckConfig => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = ?e, "kepgate stopped with an error");
            eprintln!("kepgate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let pool = database::connect(&settings.database).await?;
    database::migrate(&pool).await?;
    println!("migrations applied");
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    app.run(shutdown_signal()).await
}
