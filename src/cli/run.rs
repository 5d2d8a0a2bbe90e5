//! Which job a command line asks for: the configuration is read once here (a wrong one exits
//! with 2), then the job runs and its error becomes the exit code.

use std::process::ExitCode;

use super::args::{Cli, Command};
use super::exit::reader_went_away;
use super::oidc_clients::{OidcClientCommand, OidcCommand};
use super::{check_config, config_schema, oidc_clients, reload, serve, sessions, trust};
use crate::config::{Defaults, Settings, SettingsSource};
use crate::telemetry;

pub async fn run(cli: Cli) -> ExitCode {
    if matches!(cli.command, Command::Serve) {
        crate::server::reload::catch_from_start();
    }
    // Checks the running gateway's configuration, not the one this command line would read.
    if let Command::Reload { pid } = cli.command {
        return reload::reload(pid);
    }
    // Describes every configuration, so it reads none.
    if let Command::Config(command) = cli.command {
        return config_schema::config(command);
    }
    #[cfg(feature = "demo")]
    if let Command::Emulator(args) = cli.command {
        return super::demo::run_emulator(args).await;
    }
    #[cfg(feature = "demo")]
    if let Command::Cabinet(args) = cli.command {
        return super::demo::run_cabinet(args).await;
    }
    let defaults = match cli.command {
        #[cfg(feature = "demo")]
        Command::Demo { .. } => Defaults::Demo,
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
        return check_config::check_config(&settings);
    }
    let telemetry = telemetry::init(&settings.log);
    let result = match cli.command {
        Command::Migrate => serve::migrate(settings).await,
        Command::Serve => {
            let source = SettingsSource {
                file: cli.config.clone(),
                defaults,
            };
            serve::serve(settings, source).await
        }
        #[cfg(feature = "demo")]
        Command::Demo {
            emulator_listen,
            idgovua_listen,
            cabinet_listen,
            state_dir,
        } => {
            let listen = crate::demo::DemoAddresses {
                emulator: emulator_listen,
                idgovua: idgovua_listen,
                cabinet: cabinet_listen,
            };
            crate::demo::run(settings, listen, state_dir).await
        }
        #[cfg(feature = "demo")]
        Command::Emulator(_) | Command::Cabinet(_) => Ok(()),
        Command::CheckConfig | Command::Reload { .. } | Command::Config(_) => Ok(()),
        Command::Provider(command) => command.run(&settings.providers).await,
        Command::Oidc(OidcCommand::Client(OidcClientCommand::Add {
            id,
            redirect_uris,
            public,
        })) => oidc_clients::oidc_client_add(&settings, &id, &redirect_uris, public),
        Command::Sessions(command) => sessions::sessions(settings, command).await,
        Command::Trust(command) => trust::trust(settings, command).await,
        Command::Audit { since, limit, json } => {
            sessions::audit(settings, &since, limit, json).await
        }
    };
    // The last batch of spans, whether the job succeeded or not.
    telemetry.shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `kepgate audit | head`: the reader stopped, which is not the command failing.
        Err(e) if reader_went_away(&e) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = ?e, "kepgate stopped with an error");
            eprintln!("kepgate: {e:#}");
            ExitCode::FAILURE
        }
    }
}
