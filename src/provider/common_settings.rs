//! What every `[providers.<id>]` section has, whatever its kind. Each kind's own keys are in
//! its folder (`provider/<kind>/settings.rs`), flattened over these; the `kind` tag that picks
//! one is [`crate::provider::registry::settings::ProviderSettings`]. `config` reads and
//! re-exports them; nothing in `provider/` imports `config`.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::whole_seconds;

/// What every provider has, whatever its kind.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
pub struct ProviderCommon {
    /// Name in the «Провайдер» dropdown (Ukrainian) and its English form.
    pub display_name: String,
    /// The English name in the dropdown (the Ukrainian one otherwise).
    pub display_name_en: Option<String>,
    /// Position in the dropdown (smaller first, then by id).
    #[serde(default)]
    pub order: i32,
    /// Secret path segment of this provider's server-side callback URL:
    /// `{public_base_url}{route_prefix}/callback/{id}/{callback_secret}`. At least 32 characters.
    /// Only for providers that call back; one that sends the browser back refuses it.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub callback_secret: Option<SecretString>,
    /// When set, callbacks are accepted only from these addresses (CIDR or single IPs): the
    /// client address as kepgate resolves it (behind one of `proxy.trusted_proxies`, the address
    /// it forwards).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub callback_allowed_ips: Vec<ipnet::IpNet>,
    /// How long a pending login waits for the user, in seconds.
    #[serde(default = "default_request_ttl", with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub request_ttl: Duration,
    /// Time limit of one HTTP call to the provider, in seconds (less than half of
    /// `server.request_timeout`: a start may make two calls).
    #[serde(default = "default_http_timeout", with = "whole_seconds")]
    #[schemars(with = "u64")]
    pub http_timeout: Duration,
    /// Extra attempts after a 5xx or a connection error (never after a 4xx or a timeout).
    #[serde(default = "default_http_retries")]
    pub http_retries: u32,
    /// PEM CA certificates this provider's HTTPS is verified against beside the system's: a
    /// private test stand with a CA of its own.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Lets the endpoint be plain `http://` on another host than this machine: a demo on a
    /// private network (docker-compose.yml). Anyone on the path reads the credentials and, for
    /// id.gov.ua, chooses who signs in; `check-config` warns. Without it the endpoint must be
    /// `https://`, or `http://` to this machine (127.0.0.1, `[::1]`, `localhost`).
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

    /// For a provider that calls kepgate back: the secret path segment is required.
    pub fn require_callback_secret(&self, id: &str) -> Result<(), String> {
        let Some(secret) = &self.callback_secret else {
            return Err(format!(
                "providers.{id}.callback_secret: required (generate one with `openssl rand -hex 32`)"
            ));
        };
        let secret = secret.expose_secret();
        if secret.len() < 32 {
            return Err(format!(
                "providers.{id}.callback_secret: must be at least 32 characters (generate one with `openssl rand -hex 32`)"
            ));
        }
        if !secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "providers.{id}.callback_secret: use only letters, digits, '-' and '_' (it is a URL path segment)"
            ));
        }
        Ok(())
    }

    /// For a provider that never calls back: a secret would be a promise nothing keeps.
    /// `why` says how the provider answers instead.
    pub fn refuse_callback_secret(&self, id: &str, why: &str) -> Result<(), String> {
        match self.callback_secret {
            Some(_) => Err(format!("providers.{id}.callback_secret: {why}; remove it")),
            None => Ok(()),
        }
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
