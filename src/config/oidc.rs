//! `[oidc]`: kepgate as an OpenID Provider for the organisation's other applications
//! (docs/oidc.md), and `[oidc.clients.<id>]`, the applications it signs people in to.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::policy::AccessPolicy;
use super::seconds;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcSettings {
    /// Serves discovery at `{server.base_url}.well-known/openid-configuration` and the endpoints
    /// under `{prefix}/oidc/`.
    pub enabled: bool,
    /// How long an authorization code can be exchanged, in seconds.
    #[serde(with = "seconds")]
    pub code_ttl: Duration,
    /// How long an access token opens `userinfo`, and an ID token is valid, in seconds.
    #[serde(with = "seconds")]
    pub token_ttl: Duration,
    pub clients: BTreeMap<String, OidcClientSettings>,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            code_ttl: Duration::from_secs(60),
            token_ttl: Duration::from_secs(300),
            clients: BTreeMap::new(),
        }
    }
}

/// One application that signs people in through kepgate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcClientSettings {
    /// What `check-config` calls it (the id otherwise).
    pub name: Option<String>,
    /// Compared exactly, as the specification requires.
    pub redirect_uris: Vec<Url>,
    /// Where RP-initiated logout may send the browser afterwards, compared exactly.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<Url>,
    /// Back-channel logout: kepgate POSTs a logout token here when a session the client got
    /// ends (logout, «end everywhere», an administrator, a revoked key).
    pub backchannel_logout_uri: Option<Url>,
    /// Hex SHA-256 of the client secret (`kepgate oidc client add` prints both). A confidential
    /// client has this or `secret_file`; a public client (a browser or mobile app) neither, and
    /// must use PKCE S256.
    pub secret_sha256: Option<String>,
    /// A file holding the client secret itself (a mounted secret).
    pub secret_file: Option<PathBuf>,
    /// What the client may ask for: `openid` always, `profile` (the name), `kep` (РНОКПП,
    /// ЄДРПОУ, organisation, certificate, provider).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Who may sign in to this client: the same allow-lists as `routes.<name>.allow`.
    #[serde(default)]
    pub allow: AccessPolicy,
    /// `sub` different for every client (a hash of the client and the person), so that clients
    /// cannot match their users with one another; otherwise the same `sub` as the cabinet's.
    #[serde(default)]
    pub pairwise_subject: bool,
}

pub const SCOPES: [&str; 3] = ["openid", "profile", "kep"];

fn default_scopes() -> Vec<String> {
    SCOPES.iter().map(|s| (*s).to_owned()).collect()
}
