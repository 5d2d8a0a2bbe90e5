//! The command line's words: `kepgate <command> [options]`, parsed by clap. Each job's own
//! subcommands are in its file.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::config_schema::ConfigCommand;
use super::oidc_clients::OidcCommand;
use super::sessions::SessionsCommand;
use super::trust::TrustCommand;

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
    /// Ask the running `kepgate serve` to read its configuration again (SIGHUP), once the
    /// configuration it will read (its file, its environment) has been checked; says why not
    /// when it cannot.
    Reload {
        /// The gateway's process id; by default the one `kepgate serve` on this machine.
        #[arg(long)]
        pid: Option<u32>,
    },
    /// Create the database if needed and apply pending migrations, then exit.
    Migrate,
    /// Load and check the configuration; name the offending key if it is wrong.
    CheckConfig,
    /// What the configuration may hold: `kepgate config schema` (its JSON Schema, for editors).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run the demo stack on this machine: gateway + Diia emulator (database `kepgate_demo`).
    #[cfg(feature = "demo")]
    Demo {
        /// Where the demo's Diia emulator listens.
        #[arg(
            long,
            env = "KEPGATE_DEMO_EMULATOR_LISTEN",
            default_value = "127.0.0.1:8090"
        )]
        emulator_listen: std::net::SocketAddr,
        /// Where the demo's id.gov.ua emulator listens.
        #[arg(
            long,
            env = "KEPGATE_DEMO_IDGOVUA_LISTEN",
            default_value = "127.0.0.1:8091"
        )]
        idgovua_listen: std::net::SocketAddr,
        /// Where the demo's sample cabinet (the app behind the gateway) listens.
        #[arg(
            long,
            env = "KEPGATE_DEMO_CABINET_LISTEN",
            default_value = "127.0.0.1:3000"
        )]
        cabinet_listen: std::net::SocketAddr,
        /// Keeps the emulator's test CA and the callback secret across demo restarts.
        #[arg(long, env = "KEPGATE_DEMO_STATE_DIR", default_value = ".kepgate-demo")]
        state_dir: PathBuf,
    },
    /// Run the sample cabinet (an upstream app that shows the identity it receives).
    #[cfg(feature = "demo")]
    Cabinet(kepgate_emulator::sample_cabinet::CabinetArgs),
    /// Run the Diia.Signature emulator (partner API, phone page, signed callbacks).
    #[cfg(feature = "demo")]
    Emulator(Box<kepgate_emulator::EmulatorArgs>),
    /// Each provider's administration (`kepgate diia setup`).
    #[command(flatten)]
    Provider(crate::provider::ProviderCommand),
    /// kepgate as an OpenID Provider: its client applications.
    #[command(subcommand)]
    Oidc(OidcCommand),
    /// Open sessions: list them, end them (takes effect on every replica at once).
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// The trusted CA certificates: `trust.files` and the national list in force.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// The login history (every step of every login attempt), oldest first.
    Audit {
        /// From when: an RFC 3339 time, a date (UTC midnight) or an age such as 24h or 7d.
        #[arg(long, default_value = "24h")]
        since: String,
        /// At most this many rows.
        #[arg(long, default_value_t = crate::session::admin::DEFAULT_AUDIT_LIMIT)]
        limit: i64,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}
