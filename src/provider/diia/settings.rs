//! `[providers.<id>]` of kind `diia`: Diia.Signature's partner API, on top of what every
//! provider has ([`ProviderCommon`]), and the rules serde alone cannot say.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::provider::common_settings::ProviderCommon;

/// Diia.Signature partner API.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiiaSettings {
    #[serde(flatten)]
    pub common: ProviderCommon,
    /// `https://api2.diia.gov.ua` (production) or `https://api2s.diia.gov.ua` (test).
    pub api_base_url: Url,
    /// The acquirer token Diia issued to the partner.
    #[schemars(with = "String")]
    pub acquirer_token: SecretString,
    /// Optional `auth_acquirer_token` sent as `Authorization: Basic …` when asking for a session.
    #[schemars(with = "Option<String>")]
    pub auth_acquirer_token: Option<SecretString>,
    /// The partner's branch, created once by `kepgate diia setup`, which prints it.
    pub branch_id: Option<String>,
    /// The offer (what the person is asked to sign) within the branch; printed by `kepgate diia
    /// setup`.
    pub offer_id: Option<String>,
    /// The `signAlgo` of login requests: which key the phone signs with (`check-config` prints
    /// the choice).
    #[serde(default)]
    pub sign_algo: DiiaSignAlgo,
    /// What `kepgate diia setup` registers (the name people see in Diia).
    #[serde(default)]
    pub setup: DiiaSetupSettings,
}

impl DiiaSettings {
    /// Diia calls kepgate back with the signature.
    pub fn check_callback_secret(&self, id: &str) -> Result<(), String> {
        self.common.require_callback_secret(id)
    }

    /// The endpoint kepgate calls, by its key: checked like every provider's (https).
    pub fn endpoint(&self) -> (&'static str, &Url) {
        ("api_base_url", &self.api_base_url)
    }
}

/// `providers.<id>.sign_algo`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum DiiaSignAlgo {
    /// Send no `signAlgo`, as the official SDKs do: Diia's default, DSTU 4145 (GOST 34.311).
    #[default]
    Default,
    /// `signAlgo: "DSTU"`: DSTU 4145 over a GOST 34.311 hash, said explicitly.
    Dstu,
    /// `signAlgo: "ECDSA"`: ECDSA over a SHA-256 hash.
    Ecdsa,
}

impl DiiaSignAlgo {
    pub fn as_str(self) -> &'static str {
        match self {
            DiiaSignAlgo::Default => "default",
            DiiaSignAlgo::Dstu => "dstu",
            DiiaSignAlgo::Ecdsa => "ecdsa",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DiiaSetupSettings {
    /// The branch's name (`name`).
    pub branch_name: String,
    /// The branch's contact e-mail (`email`).
    pub email: String,
    /// The branch's address: region (`region`).
    pub region: String,
    /// The branch's address: district (`district`).
    pub district: String,
    /// The branch's address: city or village (`location`).
    pub location: String,
    /// The branch's address: street (`street`).
    pub street: String,
    /// The branch's address: house (`house`).
    pub house: String,
    /// The name people see in Diia when asked to sign (`customFullName`).
    pub custom_full_name: String,
    /// The address people see in Diia (`customFullAddress`).
    pub custom_full_address: String,
    /// The offer's name: what the person is asked to confirm (`name` of the offer).
    pub offer_name: String,
}

impl Default for DiiaSetupSettings {
    fn default() -> Self {
        Self {
            branch_name: "kepgate".to_owned(),
            email: "admin@example.ua".to_owned(),
            region: "Київська обл.".to_owned(),
            district: "Київ".to_owned(),
            location: "м. Київ".to_owned(),
            street: "вул. Хрещатик".to_owned(),
            house: "1".to_owned(),
            custom_full_name: "kepgate".to_owned(),
            custom_full_address: "м. Київ, вул. Хрещатик, 1".to_owned(),
            offer_name: "Вхід до кабінету".to_owned(),
        }
    }
}
