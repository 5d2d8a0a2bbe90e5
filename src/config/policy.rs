//! Who may use a route or an OpenID client: `routes.<name>.allow`, `oidc.clients.<id>.allow`.

use serde::Deserialize;

/// Who may use a route. Empty = every signed-in user. Otherwise a user is admitted when
/// (their РНОКПП or ЄДРПОУ is listed, if either list is set) and (their provider is listed, if
/// that list is set). Keys with a company (ЄДРПОУ in the certificate) match `edrpou`, so one
/// entry admits a company's own key and all its employees' keys.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessPolicy {
    pub rnokpp: Vec<String>,
    pub edrpou: Vec<String>,
    pub providers: Vec<String>,
}

impl AccessPolicy {
    pub fn is_open(&self) -> bool {
        self.rnokpp.is_empty() && self.edrpou.is_empty() && self.providers.is_empty()
    }
}
