//! Reading the settings: defaults ← file ← environment, then the checks.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};

use super::sections::Settings;

/// Prefix of every environment override: `KEPGATE_SERVER__LISTEN` sets `server.listen`.
pub const ENV_PREFIX: &str = "KEPGATE_";
/// Environment variables with our prefix that are not configuration keys.
pub const ENV_NOT_KEYS: &[&str] = &["CONFIG"];
/// Variables of kepgate's other commands (`KEPGATE_EMULATOR_LISTEN`, `KEPGATE_DEMO_…`) and of
/// its tests: not gateway configuration, so never read as keys.
pub const ENV_OTHER_PREFIXES: &[&str] = &["EMULATOR_", "CABINET_", "DEMO_", "TEST_"];
/// Between section and key in an environment name: `KEPGATE_SERVER__LISTEN`.
pub const ENV_SEPARATOR: &str = "__";
/// The sections of the configuration (the fields of `Settings`), in the order of the file.
pub const SECTIONS: &[&str] = &[
    "server",
    "database",
    "metrics",
    "ui",
    "log",
    "trust",
    "login",
    "routes",
    "identity",
    "proxy",
    "session",
    "providers",
    "oidc",
    "signing",
];

/// The rule for `KEPGATE_…` names: configuration has the section and the key apart with `__`;
/// any other name is someone else's (a wrapper script's `KEPGATE_BIN`) and is ignored — unless it
/// starts like a section with one `_` (`KEPGATE_SERVER_LISTEN`), a configuration name mistyped.
pub(super) fn check_env_names(names: impl Iterator<Item = String>) -> Result<(), ConfigError> {
    for name in names {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let upper = rest.to_ascii_uppercase();
        if rest.contains(ENV_SEPARATOR)
            || ENV_NOT_KEYS.contains(&rest)
            || ENV_OTHER_PREFIXES.iter().any(|p| upper.starts_with(p))
        {
            continue;
        }
        let lower = rest.to_ascii_lowercase();
        if let Some(section) = SECTIONS
            .iter()
            .find(|s| lower.starts_with(&format!("{s}_")))
        {
            let key = &rest[section.len() + 1..];
            return Err(ConfigError::Invalid(format!(
                "environment variable {name}: configuration names put `{ENV_SEPARATOR}` between the \
                 section and the key — {ENV_PREFIX}{}{ENV_SEPARATOR}{key} for {section}.{}; \
                 other {ENV_PREFIX}… names (without `{ENV_SEPARATOR}`) are not configuration and are ignored",
                section.to_ascii_uppercase(),
                key.to_ascii_lowercase()
            )));
        }
    }
    Ok(())
}

/// Which built-in defaults sit under the file and the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defaults {
    Production,
    /// `kepgate demo`: its own database, so trying the demo never touches a real one.
    Demo,
}

/// A configuration problem, worded for the person editing the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("{0}")]
    Invalid(String),
}

/// Where the settings came from, so that a reload reads them the same way again: the same file
/// (read anew), the same environment.
#[derive(Debug, Clone)]
pub struct SettingsSource {
    pub file: Option<PathBuf>,
    pub defaults: Defaults,
}

impl SettingsSource {
    pub fn load(&self) -> Result<Settings, ConfigError> {
        Settings::load_with(self.file.as_deref(), true, self.defaults)
    }
}

impl Settings {
    /// Loads defaults ← file (if given) ← `KEPGATE_…` ← `DATABASE_URL`, then checks the values.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with(file, true, Defaults::Production)
    }

    /// `read_env = false` ignores the process environment (unit tests run in parallel and must
    /// not see each other's variables; the CLI tests cover the environment in a real process).
    pub fn load_with(
        file: Option<&Path>,
        read_env: bool,
        defaults: Defaults,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if defaults == Defaults::Demo {
            figment = figment.merge(Serialized::default(
                "database.url",
                "postgres://postgres@127.0.0.1:5432/kepgate_demo",
            ));
        }
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::MissingFile(path.to_owned()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        if read_env {
            // A name that is not UTF-8 is not ours to read (figment skips it too).
            check_env_names(std::env::vars_os().filter_map(|(name, _)| name.into_string().ok()))?;
            figment = figment
                .merge(
                    // Names without the separator (`KEPGATE_CONFIG` among them) are not keys.
                    Env::prefixed(ENV_PREFIX)
                        .filter(|key| {
                            let key = key.as_str().to_ascii_uppercase();
                            key.contains(ENV_SEPARATOR)
                                && !ENV_OTHER_PREFIXES.iter().any(|p| key.starts_with(p))
                        })
                        .split(ENV_SEPARATOR),
                )
                .merge(
                    Env::raw()
                        .only(&["DATABASE_URL"])
                        .map(|_| "database.url".into()),
                );
        }
        let settings: Settings = figment.extract().map_err(describe_figment_error)?;
        settings.check()?;
        Ok(settings)
    }
}

/// figment's errors already know the key path and where the value came from (file or the exact
/// environment variable); we report every one of them, one per line, in that order.
fn describe_figment_error(error: figment::Error) -> ConfigError {
    let lines: Vec<String> = error
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                "(top level)".to_owned()
            } else {
                e.path.join(".")
            };
            let source = match &e.metadata {
                Some(meta) => match &meta.source {
                    Some(file) => format!(" (in {file})"),
                    // The environment providers: name the exact variable the value came from.
                    None if meta.name.contains(ENV_PREFIX) => format!(
                        " (from environment variable {ENV_PREFIX}{})",
                        e.path.join("__").to_ascii_uppercase()
                    ),
                    None if meta.name.contains("environment") => {
                        " (from environment variable DATABASE_URL)".to_owned()
                    }
                    None => format!(" ({})", meta.name),
                },
                None => String::new(),
            };
            format!(
                "{key}: {}{source}",
                without_quoted_lines(&e.kind.to_string())
            )
        })
        .collect();
    ConfigError::Invalid(lines.join("\n"))
}

/// A TOML syntax error quotes the offending line, which may hold a secret (a URL with a
/// password whose closing quote was lost, a token pasted unquoted): the error goes to the log
/// and the terminal with the line and column only.
fn without_quoted_lines(message: &str) -> String {
    message
        .lines()
        .filter(|line| {
            let quoted = line
                .trim_start()
                .trim_start_matches(|c: char| c.is_ascii_digit());
            !quoted.trim_start().starts_with('|')
        })
        .collect::<Vec<_>>()
        .join("\n")
}
