//! `[oidc]`: kepgate as an OpenID Provider for the organisation's other applications
//! (docs/oidc.md), and `[oidc.clients.<id>]`, the applications it signs people in to.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use super::policy::AccessPolicy;
use crate::whole_seconds;

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct OidcSettings {
    /// Serves discovery at `{server.base_url}.well-known/openid-configuration` and the endpoints
    /// under `{prefix}/oidc/`.
    pub enabled: bool,
    /// How long an authorization code can be exchanged, in seconds.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub code_ttl: Duration,
    /// How long an access token opens `userinfo`, and an ID token is valid, in seconds.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub token_ttl: Duration,
    /// After `prompt=login` or `max_age` sent a person to sign in again, how long the new login
    /// may take to come back to the authorization request, in seconds (60–3600). The marker of
    /// that demand counts once, in that browser, for that request.
    #[serde(with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub reauthentication_ttl: Duration,
    /// PEM RSA private key (PKCS#8 or PKCS#1, 2048–4096 bits) that signs RS256 ID tokens. Unset:
    /// a 2048-bit key is generated and kept in the database, so every replica signs with it.
    pub rsa_key_file: Option<PathBuf>,
    /// Client applications by client id (`[oidc.clients.<id>]`); an id may not be a route's
    /// name. `kepgate oidc client add` prints a new client's section.
    pub clients: BTreeMap<String, OidcClientSettings>,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            code_ttl: Duration::from_secs(60),
            token_ttl: Duration::from_secs(300),
            reauthentication_ttl: Duration::from_secs(600),
            rsa_key_file: None,
            clients: BTreeMap::new(),
        }
    }
}

/// One application that signs people in through kepgate.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
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
    /// ЄДРПОУ, organisation, certificate, provider), `sign` (documents signed by the person at
    /// the client's request, docs/signing.md; only when registered here).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Who may sign in to this client: the same allow-lists as `routes.<name>.allow`.
    #[serde(default)]
    pub allow: AccessPolicy,
    /// `sub` different for every client (a hash of the client and the person), so that clients
    /// cannot match their users with one another; otherwise the same `sub` as the cabinet's.
    #[serde(default)]
    pub pairwise_subject: bool,
    /// How this client's ID tokens and logout tokens are signed (OpenID Connect Dynamic Client
    /// Registration's metadata of the same name, and its default).
    #[serde(default)]
    pub id_token_signed_response_alg: SigningAlg,
}

/// A JWS algorithm kepgate signs with: RS256 (OpenID Connect Core §15.1 makes it mandatory for
/// a provider, and a relying party that names none expects it), or ES256 (kepgate's one
/// algorithm before RS256; the identity assertion's).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema,
)]
pub enum SigningAlg {
    /// RSA with SHA-256 (`oidc.rsa_key_file`).
    #[default]
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA P-256 with SHA-256 (the assertion's key).
    #[serde(rename = "ES256")]
    Es256,
}

impl SigningAlg {
    pub fn name(self) -> &'static str {
        match self {
            SigningAlg::Rs256 => "RS256",
            SigningAlg::Es256 => "ES256",
        }
    }
}

pub const SCOPES: [&str; 4] = ["openid", "profile", "kep", "sign"];

/// Without `sign`: a client signs documents only when registered for it.
fn default_scopes() -> Vec<String> {
    SCOPES[..3].iter().map(|s| (*s).to_owned()).collect()
}
