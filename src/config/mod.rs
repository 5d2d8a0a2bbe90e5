//! Configuration: one TOML file plus `KEPGATE_…` environment overrides (and `DATABASE_URL`).
//!
//! Every key has a documented default (docs/configuration.md, generated from these types by
//! `schema.rs` and `reference.rs`; `kepgate.example.toml`), so an empty file
//! is a valid development configuration. Unknown keys are errors: a typo must not silently fall
//! back to a default on a security gateway.
//!
//! [`Settings`] and its sections are in `sections.rs`, reading them in `load.rs`, the rules serde
//! cannot say in `check.rs`. A provider's settings are its own: what every provider has in
//! `provider/common_settings.rs`, each kind's own keys and rules in its folder
//! (`provider/<kind>/settings.rs`), picked by `kind` (`provider/registry/settings.rs`). `config`
//! aggregates them; `provider/` never imports `config`.

mod check;
mod http2;
mod load;
mod oidc;
mod policy;
mod reference;
mod restart_only;
mod schema;
mod sections;
#[cfg(test)]
mod tests;

pub use check::{is_support_url, parse_hex_color};
pub use http2::Http2Settings;
pub use load::{
    ConfigError, Defaults, ENV_NOT_KEYS, ENV_OTHER_PREFIXES, ENV_PREFIX, SettingsSource,
};
pub use oidc::{OidcClientSettings, OidcSettings, SCOPES, SigningAlg};
pub use policy::AccessPolicy;
pub use reference::markdown as reference_markdown;
pub use restart_only::changed_restart_only_keys;
pub use schema::{
    REFERENCE_FILE, SCHEMA_FILE, json_schema, json_schema_text, key_paths, keys_of, schema_target,
};
// Every kind's settings, under the paths `config` has always given them.
pub use crate::provider::common_settings::ProviderCommon;
pub use crate::provider::registry::settings::*;
pub use sections::*;
