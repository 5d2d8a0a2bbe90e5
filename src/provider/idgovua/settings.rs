//! `[providers.<id>]` of kind `idgovua`, on top of what every provider has
//! ([`ProviderCommon`]), and the rules serde alone cannot say.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

// A method is a domain value (sessions record it, OpenID Connect labels it): it lives in
// `auth_method`, under this path too.
pub use crate::auth_method::IdGovUaMethod;
use crate::provider::common_settings::ProviderCommon;

/// id.gov.ua, the state's integrated e-identification system (ІСЕІ): the browser is sent to it
/// and comes back with a code (docs in `src/provider/idgovua/`).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdGovUaSettings {
    #[serde(flatten)]
    pub common: ProviderCommon,
    /// `https://id.gov.ua/` (production) or `https://test.id.gov.ua/` (test): said explicitly,
    /// since a relying party is registered with one of them.
    pub base_url: Url,
    /// Issued by id.gov.ua when the relying party is registered.
    pub client_id: String,
    /// Issued with `client_id`; sent in the token request's body, never in a URL, never logged.
    #[schemars(with = "String")]
    pub client_secret: SecretString,
    /// The methods id.gov.ua offers (`auth_type`): `dig_sign` (any qualified key: file, token,
    /// any provider's cloud storage), `diia_id` (Diia.Signature), `bank_id` (BankID, no
    /// certificate).
    #[serde(default = "default_idgovua_methods")]
    pub methods: Vec<IdGovUaMethod>,
}

impl IdGovUaSettings {
    /// id.gov.ua answers through the browser, never by calling kepgate.
    pub fn check_callback_secret(&self, id: &str) -> Result<(), String> {
        self.common.refuse_callback_secret(
            id,
            "id.gov.ua sends the browser back instead of calling kepgate",
        )
    }

    /// The endpoint kepgate calls, by its key: checked like every provider's (https).
    pub fn endpoint(&self) -> (&'static str, &Url) {
        ("base_url", &self.base_url)
    }

    /// What id.gov.ua issued at registration, and at least one method to offer.
    pub fn check(&self, id: &str) -> Result<(), String> {
        if self.client_id.trim().is_empty() || self.client_secret.expose_secret().trim().is_empty()
        {
            return Err(format!(
                "providers.{id}.client_id / client_secret: required (issued when kepgate is registered with id.gov.ua)"
            ));
        }
        if self.methods.is_empty() {
            return Err(format!(
                "providers.{id}.methods: name at least one of \"dig_sign\", \"diia_id\", \"bank_id\""
            ));
        }
        Ok(())
    }
}

fn default_idgovua_methods() -> Vec<IdGovUaMethod> {
    vec![IdGovUaMethod::DigSign, IdGovUaMethod::DiiaId]
}
