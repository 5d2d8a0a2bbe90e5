//! The command line: `serve`, `migrate`, `check-config`, `demo`, `sessions`, `audit`, … (`demo`,
//! `emulator` and `cabinet` only with the default `demo` feature).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Defaults, DiiaSignAlgo, ProviderSettings, RevocationMode, Settings};
use crate::provider::diia::DiiaProvider;
use crate::revocation::CaList;
use crate::startup::{Application, load_trust_files, shutdown_signal};
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
    /// Diia.Signature administration.
    #[command(subcommand)]
    Diia(DiiaCommand),
    /// kepgate as an OpenID Provider: its client applications.
    #[command(subcommand)]
    Oidc(OidcCommand),
    /// Open sessions: list them, end them (takes effect on every replica at once).
    #[command(subcommand)]
    Sessions(SessionsCommand),
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

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Open sessions, newest first.
    List {
        /// Only this person's (РНОКПП).
        #[arg(long, conflicts_with = "edrpou")]
        rnokpp: Option<String>,
        /// Only sessions signed in for this company (ЄДРПОУ).
        #[arg(long)]
        edrpou: Option<String>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// End sessions now: one by id, or every session of a person or a company.
    Revoke {
        /// The session id (from `kepgate sessions list`).
        #[arg(required_unless_present_any = ["rnokpp", "edrpou"], conflicts_with_all = ["rnokpp", "edrpou"])]
        id: Option<uuid::Uuid>,
        /// Every session of this person (РНОКПП).
        #[arg(long, conflicts_with = "edrpou")]
        rnokpp: Option<String>,
        /// Every session signed in for this company (ЄДРПОУ).
        #[arg(long)]
        edrpou: Option<String>,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum OidcCommand {
    /// Client applications (`[oidc.clients.<id>]`).
    #[command(subcommand)]
    Client(OidcClientCommand),
}

#[derive(Debug, Subcommand)]
pub enum OidcClientCommand {
    /// Make a new client's secret and print it once, with the configuration to add (which
    /// keeps only the secret's hash).
    Add {
        /// The client id, e.g. `grafana`.
        id: String,
        /// Where the application receives the code (exact; repeat for several).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<url::Url>,
        /// A browser or mobile app that cannot keep a secret: no secret, PKCE required.
        #[arg(long)]
        public: bool,
    },
}

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

pub async fn run(cli: Cli) -> ExitCode {
    #[cfg(feature = "demo")]
    if let Command::Emulator(args) = cli.command {
        return run_emulator(args).await;
    }
    #[cfg(feature = "demo")]
    if let Command::Cabinet(args) = cli.command {
        return run_cabinet(args).await;
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
        return check_config(&settings);
    }
    telemetry::init(&settings.log);
    let result = match cli.command {
        Command::Migrate => migrate(settings).await,
        Command::Serve => serve(settings).await,
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
        Command::CheckConfig => Ok(()),
        Command::Diia(DiiaCommand::Setup { provider }) => diia_setup(&settings, &provider).await,
        Command::Oidc(OidcCommand::Client(OidcClientCommand::Add {
            id,
            redirect_uris,
            public,
        })) => oidc_client_add(&settings, &id, &redirect_uris, public),
        Command::Sessions(command) => sessions(settings, command).await,
        Command::Audit { since, limit, json } => audit(settings, &since, limit, json).await,
    };
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

fn reader_went_away(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn check_config(settings: &Settings) -> ExitCode {
    use std::fmt::Write as _;
    let mut report = String::new();
    macro_rules! say {
        ($($arg:tt)*) => {{
            let _ = writeln!(report, $($arg)*);
        }};
    }
    // Loading the trust files is part of the check: a path typo must show now, not at start.
    let (trust, reports) = match load_trust_files(&settings.trust.files) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("kepgate: configuration error:\n{e:#}");
            return ExitCode::from(2);
        }
    };
    let ca_list = match CaList::load(settings.trust.ca_list.as_deref()) {
        Ok(list) => list,
        Err(e) => {
            eprintln!("kepgate: configuration error:\n{e:#}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = crate::http::branding::Branding::load(&settings.ui.branding) {
        eprintln!("kepgate: configuration error:\n{e:#}");
        return ExitCode::from(2);
    }
    let oidc_clients = match crate::oidc::clients::OidcClients::load(&settings.oidc) {
        Ok(clients) => clients,
        Err(e) => {
            eprintln!("kepgate: configuration error:\n{e:#}");
            return ExitCode::from(2);
        }
    };
    let custom_pages = match crate::app::load_custom_pages(settings) {
        Ok(pages) => pages,
        Err(e) => {
            eprintln!("kepgate: configuration error:\n{e:#}");
            return ExitCode::from(2);
        }
    };
    let certificate = match &settings.server.tls {
        Some(tls) => {
            let clock = std::sync::Arc::new(crate::clock::SystemClock);
            match crate::server::tls::ServerCertificate::load(tls, &settings.server, clock) {
                Ok(certificate) => Some(certificate),
                Err(e) => {
                    eprintln!("kepgate: configuration error:\n{e:#}");
                    return ExitCode::from(2);
                }
            }
        }
        None => None,
    };
    for warning in certificate.iter().flat_map(|c| c.warnings()) {
        eprintln!("warning: {warning}");
    }
    // Builds each provider's HTTP client, reading its `ca_file`.
    if let Err(e) = crate::provider::Providers::from_settings(&settings.providers, &settings.server)
    {
        eprintln!("kepgate: configuration error:\n{e:#}");
        return ExitCode::from(2);
    }
    for (id, provider) in &settings.providers {
        if provider.common().allow_http {
            eprintln!(
                "warning: providers.{id}.allow_http = true: the provider may be reached over plain \
                 http, where anyone on the path reads kepgate's credentials (and, for id.gov.ua, \
                 chooses who signs in). Use it for a demo on a private network only."
            );
        }
    }
    let server = &settings.server;
    if settings.trust.revocation == RevocationMode::Off {
        eprintln!(
            "warning: trust.revocation = \"off\": certificates are not checked for revocation, so a \
             stolen or revoked key signs in. Use it for the demo only."
        );
    }
    say!("configuration OK");
    say!("  users browse:         {}", server.base_url);
    say!("  providers and phones: {}", server.public_base_url());
    say!("  kepgate routes under: {}", server.route_prefix);
    if let Some(tls) = &server.tls {
        let protocols = if tls.http2 {
            "HTTP/2, HTTP/1.1"
        } else {
            "HTTP/1.1"
        };
        let until = certificate
            .as_ref()
            .map(|c| format!(", valid until {}", c.not_after().date()))
            .unwrap_or_default();
        say!(
            "  HTTPS ({protocols}) with {}{until} (read again on SIGHUP{})",
            tls.cert_file.display(),
            if tls.watch_interval.is_zero() {
                String::new()
            } else {
                format!(" and every {} s if changed", tls.watch_interval.as_secs())
            }
        );
    }
    say!("  trusted CA certificates: {}", trust.len());
    say!(
        "  certificate status (OCSP): {}",
        match settings.trust.revocation {
            RevocationMode::Require => "required at every login",
            RevocationMode::Prefer => "asked; a CA that cannot be reached lets the login through",
            RevocationMode::Off => {
                "NOT ASKED (trust.revocation = \"off\"): revoked keys sign in — demo only"
            }
        }
    );
    if let Some(path) = &settings.trust.ca_list {
        say!(
            "    responders for certificates that name none: {} CA names from {}",
            ca_list.len(),
            path.display()
        );
    }
    for (path, report) in &reports {
        say!("    {}: {}", path.display(), report.summary());
        for entry in report.skipped.iter().chain(&report.unusable_keys) {
            say!("      entry {}: {}", entry.index, entry.reason);
        }
    }
    if let Some(dir) = &settings.ui.pages_dir {
        let replaced = custom_pages.replaced();
        say!(
            "  the organisation's pages ({}): {}; files served under static/site/: {}",
            dir.display(),
            if replaced.is_empty() {
                "no built-in page replaced".to_owned()
            } else {
                format!("replace {}", replaced.join(", "))
            },
            custom_pages.asset_count()
        );
    }
    if settings.oidc.enabled {
        say!(
            "  OpenID Provider: issuer {}, discovery {}.well-known/openid-configuration",
            server.base_url.as_str().trim_end_matches('/'),
            server.base_url
        );
        for client in oidc_clients.iter() {
            say!(
                "    client {} «{}» ({}): scopes {}, ID tokens {}{}",
                client.id,
                client.name,
                if client.is_public() {
                    "public, PKCE"
                } else {
                    "confidential"
                },
                client.scopes.join(" "),
                client.id_token_alg.name(),
                if client.backchannel_logout_uri.is_some() {
                    ", back-channel logout"
                } else {
                    ""
                }
            );
        }
    }
    for (id, provider) in &settings.providers {
        let common = provider.common();
        let kind = provider.kind();
        match provider {
            ProviderSettings::Diia(diia) => {
                // Without its secret segment: this output ends up in tickets.
                say!(
                    "  provider {id} ({kind}) «{}»: callback {}{}/callback/{id}/<callback_secret>",
                    common.display_name,
                    server.public_base_url().as_str().trim_end_matches('/'),
                    server.route_prefix
                );
                let meaning = match diia.sign_algo {
                    DiiaSignAlgo::Default => {
                        "no signAlgo sent: Diia's default, DSTU 4145 / GOST 34.311"
                    }
                    DiiaSignAlgo::Dstu => "signAlgo DSTU: DSTU 4145 / GOST 34.311",
                    DiiaSignAlgo::Ecdsa => "signAlgo ECDSA: ECDSA / SHA-256",
                };
                say!(
                    "    sign_algo = \"{}\" ({meaning})",
                    diia.sign_algo.as_str()
                );
            }
            ProviderSettings::IdGovUa(idgov) => {
                let redirect = crate::provider::registry::return_url(server, id)
                    .map(String::from)
                    .unwrap_or_else(|e| format!("<{e}>"));
                let methods: Vec<&str> = idgov.methods.iter().map(|m| m.as_str()).collect();
                say!(
                    "  provider {id} ({kind}) «{}»: {} as client {}, methods {}",
                    common.display_name,
                    idgov.base_url,
                    idgov.client_id,
                    methods.join(",")
                );
                say!("    redirect URI to register with id.gov.ua: {redirect}");
            }
        }
    }
    print_report(&report)
}

/// The report in one write. A reader that stopped early (`kepgate check-config | head -1`) is
/// not a failure; `println!` would panic on the broken pipe (Rust starts with SIGPIPE ignored).
fn print_report(report: &str) -> ExitCode {
    use std::io::Write as _;
    match std::io::stdout().lock().write_all(report.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kepgate: writing the report: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn diia_setup(settings: &Settings, id: &str) -> anyhow::Result<()> {
    let Some(ProviderSettings::Diia(diia)) = settings.providers.get(id) else {
        anyhow::bail!(
            "no provider `{id}` of kind \"diia\" in the configuration ([providers.{id}])"
        );
    };
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

#[cfg(feature = "demo")]
async fn run_emulator(args: Box<kepgate_emulator::EmulatorArgs>) -> ExitCode {
    telemetry::init(&crate::config::LogSettings::default());
    let result = async {
        let emulator = kepgate_emulator::Emulator::build((*args).into_settings()?).await?;
        emulator.run(shutdown_signal()).await
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `kepgate audit | head`: the reader stopped, which is not the command failing.
        Err(e) if reader_went_away(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kepgate emulator: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "demo")]
async fn run_cabinet(args: kepgate_emulator::sample_cabinet::CabinetArgs) -> ExitCode {
    telemetry::init(&crate::config::LogSettings::default());
    let result = async {
        kepgate_emulator::sample_cabinet::SampleCabinet::build(args)
            .await?
            .run(shutdown_signal())
            .await
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `kepgate audit | head`: the reader stopped, which is not the command failing.
        Err(e) if reader_went_away(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kepgate cabinet: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The administrators' commands read the wall clock: they are not part of a test's gateway.
fn wall_clock() -> time::OffsetDateTime {
    use crate::clock::Clock;
    crate::clock::SystemClock.now()
}

async fn admin_pool(settings: &Settings) -> anyhow::Result<sqlx::PgPool> {
    let pool = database::connect(&settings.database).await?;
    // Same as `migrate`: a fresh database gets its tables rather than a confusing error.
    database::migrate(&pool).await?;
    Ok(pool)
}

async fn sessions(settings: Settings, command: SessionsCommand) -> anyhow::Result<()> {
    use crate::identity::{Edrpou, Rnokpp};
    use crate::session::admin;
    let parse_rnokpp = |r: Option<String>| {
        r.map(|r| Rnokpp::parse(&r).map_err(|e| anyhow::anyhow!("--rnokpp {r}: {e}")))
            .transpose()
    };
    let parse_edrpou = |e: Option<String>| {
        e.map(|e| Edrpou::parse(&e).map_err(|err| anyhow::anyhow!("--edrpou {e}: {err}")))
            .transpose()
    };
    let mut out = std::io::stdout().lock();
    match command {
        SessionsCommand::List {
            rnokpp,
            edrpou,
            json,
        } => {
            let (rnokpp, edrpou) = (parse_rnokpp(rnokpp)?, parse_edrpou(edrpou)?);
            let pool = admin_pool(&settings).await?;
            admin::list(
                &pool,
                wall_clock(),
                rnokpp.as_ref(),
                edrpou.as_ref(),
                json,
                &mut out,
            )
            .await
        }
        SessionsCommand::Revoke {
            id,
            rnokpp,
            edrpou,
            json,
        } => {
            let target = match (id, parse_rnokpp(rnokpp)?, parse_edrpou(edrpou)?) {
                (Some(id), _, _) => admin::RevokeTarget::Id(id),
                (None, Some(r), _) => admin::RevokeTarget::Person(r),
                (None, None, Some(e)) => admin::RevokeTarget::Company(e),
                (None, None, None) => anyhow::bail!("name a session id, --rnokpp or --edrpou"),
            };
            let pool = admin_pool(&settings).await?;
            admin::revoke_sessions(&pool, wall_clock(), &target, json, &mut out).await?;
            Ok(())
        }
    }
}

async fn audit(settings: Settings, since: &str, limit: i64, json: bool) -> anyhow::Result<()> {
    let now = wall_clock();
    let since = crate::session::admin::parse_since(since, now)?;
    if limit < 1 {
        anyhow::bail!("--limit must be at least 1");
    }
    let pool = admin_pool(&settings).await?;
    crate::session::admin::audit(&pool, since, limit, json, &mut std::io::stdout().lock()).await
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

fn oidc_client_add(
    settings: &Settings,
    id: &str,
    redirect_uris: &[url::Url],
    public: bool,
) -> anyhow::Result<()> {
    // An assertion's audience is its route's name, an ID token's its client's id.
    anyhow::ensure!(
        !settings.routes.contains_key(id),
        "a route is named {id:?}: an OpenID client needs an id no route has"
    );
    let uris: Vec<String> = redirect_uris
        .iter()
        .map(|u| format!("{:?}", u.as_str()))
        .collect();
    println!("[oidc.clients.{id}]");
    println!("redirect_uris = [{}]", uris.join(", "));
    if public {
        println!("# a public client: no secret; it must use PKCE (S256)");
        return Ok(());
    }
    let (secret, hash) =
        crate::oidc::clients::new_secret().map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    println!("secret_sha256 = \"{hash}\"");
    eprintln!();
    eprintln!("The client secret, shown this once (kepgate keeps only its hash above):");
    eprintln!("{secret}");
    Ok(())
}
