//! Who may use a route or an OpenID client: `routes.<name>.allow`, `oidc.clients.<id>.allow`.

use serde::Deserialize;

/// Who may use a route. Empty = every signed-in user. Otherwise a user is admitted when
/// (their РНОКПП or ЄДРПОУ is listed, if either list is set) and (their provider is listed, if
/// that list is set) and (signed in with a qualified electronic signature, if
/// `qualified_signature`: not BankID through id.gov.ua). Keys with a company (ЄДРПОУ in the certificate) match `edrpou`, so one
/// entry admits a company's own key and all its employees' keys.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AccessPolicy {
    /// People admitted by РНОКПП.
    pub rnokpp: Vec<String>,
    /// Companies admitted by ЄДРПОУ: a company key and every employee key carrying the company.
    pub edrpou: Vec<String>,
    /// Providers (`providers.<id>`) a person must have signed in with.
    pub providers: Vec<String>,
    /// Only people who signed in with a qualified electronic signature (kepgate's own check, or
    /// id.gov.ua's `dig_sign` / `diia_id`), never by BankID.
    pub qualified_signature: bool,
}

impl AccessPolicy {
    pub fn is_open(&self) -> bool {
        self.rnokpp.is_empty()
            && self.edrpou.is_empty()
            && self.providers.is_empty()
            && !self.qualified_signature
    }
}
