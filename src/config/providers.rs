//! `[providers.<id>]`: one section per configured provider; `kind` picks the adapter.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use super::seconds;

/// One provider; `kind` picks the adapter.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[expect(
    clippy::large_enum_variant,
    reason = "one per configured provider, read once at start"
)]
pub enum ProviderSettings {
    Diia(DiiaSettings),
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
}

/// What every provider has, whatever its kind.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderCommon {
    /// Name in the «Провайдер» dropdown (Ukrainian) and its English form.
    pub display_name: String,
    pub display_name_en: Option<String>,
    /// Position in the dropdown (smaller first, then by id).
    #[serde(default)]
    pub order: i32,
    /// Secret path segment of this provider's server-side callback URL:
    /// `{public_base_url}{route_prefix}/callback/{id}/{callback_secret}`. At least 32 characters.
    /// Only for providers that call back (Diia); id.gov.ua sends the browser back instead.
    #[serde(default)]
    pub callback_secret: Option<SecretString>,
    /// When set, callbacks are accepted only from these addresses (CIDR or single IPs).
    #[serde(default)]
    pub callback_allowed_ips: Vec<ipnet::IpNet>,
    /// How long a pending login waits for the user, in seconds.
    #[serde(default = "default_request_ttl", with = "seconds")]
    pub request_ttl: Duration,
    /// Time limit of one HTTP call to the provider, in seconds.
    #[serde(default = "default_http_timeout", with = "seconds")]
    pub http_timeout: Duration,
    /// Extra attempts after a 5xx or a connection error (never after a 4xx).
    #[serde(default = "default_http_retries")]
    pub http_retries: u32,
    /// PEM CA certificates this provider's HTTPS is verified against beside the system's: a
    /// private test stand with a CA of its own.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Lets the endpoint be plain `http://` on another host than this machine: a demo on a
    /// private network (docker-compose.yml). Anyone on the path reads the credentials and, for
    /// id.gov.ua, chooses who signs in; `check-config` warns.
    #[serde(default)]
    pub allow_http: bool,
}

impl ProviderCommon {
    /// Empty for a provider without server-side callbacks: no path segment matches it.
    pub fn callback_secret_str(&self) -> &str {
        self.callback_secret
            .as_ref()
            .map_or("", |s| s.expose_secret())
    }
}

fn default_request_ttl() -> Duration {
    Duration::from_secs(180)
}
fn default_http_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_http_retries() -> u32 {
    2
}

/// Diia.Signature partner API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiiaSettings {
    #[serde(flatten)]
    pub common: ProviderCommon,
    /// `https://api2.diia.gov.ua` (production) or `https://api2s.diia.gov.ua` (test).
    pub api_base_url: Url,
    /// The acquirer token Diia issued to the partner.
    pub acquirer_token: SecretString,
    /// Optional `auth_acquirer_token` sent as `Authorization: Basic …` when asking for a session.
    pub auth_acquirer_token: Option<SecretString>,
    /// Created once by `kepgate diia setup`, which prints them.
    pub branch_id: Option<String>,
    pub offer_id: Option<String>,
    /// The `signAlgo` of login requests: which key the phone signs with.
    #[serde(default)]
    pub sign_algo: DiiaSignAlgo,
    /// What `kepgate diia setup` registers (the name people see in Diia).
    #[serde(default)]
    pub setup: DiiaSetupSettings,
}

/// id.gov.ua, the state's integrated e-identification system (ІСЕІ): the browser is sent to it
/// and comes back with a code (docs in `src/provider/idgovua/`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdGovUaSettings {
    #[serde(flatten)]
    pub common: ProviderCommon,
    /// `https://id.gov.ua/` (production) or `https://test.id.gov.ua/` (test): said explicitly,
    /// since a relying party is registered with one of them.
    pub base_url: Url,
    /// Issued by id.gov.ua when the relying party is registered.
    pub client_id: String,
    pub client_secret: SecretString,
    /// The methods id.gov.ua offers (`auth_type`): `dig_sign` (any qualified key: file, token,
    /// any provider's cloud storage), `diia_id` (Diia.Signature), `bank_id` (BankID, no
    /// certificate).
    #[serde(default = "default_idgovua_methods")]
    pub methods: Vec<IdGovUaMethod>,
}

fn default_idgovua_methods() -> Vec<IdGovUaMethod> {
    vec![IdGovUaMethod::DigSign, IdGovUaMethod::DiiaId]
}

/// One value of id.gov.ua's `auth_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdGovUaMethod {
    DigSign,
    DiiaId,
    BankId,
}

impl IdGovUaMethod {
    pub const ALL: [IdGovUaMethod; 3] = [
        IdGovUaMethod::DigSign,
        IdGovUaMethod::DiiaId,
        IdGovUaMethod::BankId,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdGovUaMethod::DigSign => "dig_sign",
            IdGovUaMethod::DiiaId => "diia_id",
            IdGovUaMethod::BankId => "bank_id",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// `providers.<id>.sign_algo`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
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

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiiaSetupSettings {
    pub branch_name: String,
    pub email: String,
    pub region: String,
    pub district: String,
    pub location: String,
    pub street: String,
    pub house: String,
    pub custom_full_name: String,
    pub custom_full_address: String,
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
