//! The `kind` tag of `[providers.<id>]`: which provider's settings a section holds, and the
//! rules of each kind (in its folder) called from `config::check`. `config` reads this enum, so
//! it imports only the providers' settings files and what every provider has
//! (`provider/common_settings.rs`), never `config` itself.

use serde::Deserialize;
use url::Url;

use crate::provider::common_settings::ProviderCommon;

pub use crate::provider::diia::settings::{DiiaSettings, DiiaSetupSettings, DiiaSignAlgo};
pub use crate::provider::idgovua::settings::{IdGovUaMethod, IdGovUaSettings};

/// One provider; `kind` picks the adapter.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[expect(
    clippy::large_enum_variant,
    reason = "one per configured provider, read once at start"
)]
pub enum ProviderSettings {
    /// `kind = "diia"`: Diia.Signature, the phone confirms and Diia calls kepgate back.
    Diia(DiiaSettings),
    /// `kind = "idgovua"`: id.gov.ua; the browser is sent there and comes back with a code.
    IdGovUa(IdGovUaSettings),
}

impl ProviderSettings {
    pub fn common(&self) -> &ProviderCommon {
        match self {
            ProviderSettings::Diia(d) => &d.common,
            ProviderSettings::IdGovUa(i) => &i.common,
        }
    }

    /// The `kind` as written in the configuration.
    pub fn kind(&self) -> &'static str {
        match self {
            ProviderSettings::Diia(_) => "diia",
            ProviderSettings::IdGovUa(_) => "idgovua",
        }
    }

    /// Whether the provider calls kepgate back decides whether `callback_secret` is required
    /// or refused.
    pub fn check_callback_secret(&self, id: &str) -> Result<(), String> {
        match self {
            ProviderSettings::Diia(d) => d.check_callback_secret(id),
            ProviderSettings::IdGovUa(i) => i.check_callback_secret(id),
        }
    }

    /// The key and value of the endpoint kepgate calls (https only, `config::check`).
    pub fn endpoint(&self) -> (&'static str, &Url) {
        match self {
            ProviderSettings::Diia(d) => d.endpoint(),
            ProviderSettings::IdGovUa(i) => i.endpoint(),
        }
    }

    /// The kind's own rules, after those every provider shares.
    pub fn check(&self, id: &str) -> Result<(), String> {
        match self {
            ProviderSettings::Diia(_) => Ok(()),
            ProviderSettings::IdGovUa(i) => i.check(id),
        }
    }
}
