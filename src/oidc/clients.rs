//! The applications configured to sign people in through kepgate (`[oidc.clients.<id>]`), as
//! the endpoints use them: exact redirect URIs, the secret as a hash, scopes, the access policy.

use std::collections::BTreeMap;

use anyhow::Context;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{AccessPolicy, OidcSettings, SigningAlg};

pub struct OidcClient {
    pub id: String,
    pub name: String,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<url::Url>,
    /// SHA-256 of the secret; `None` for a public client.
    secret_sha256: Option<[u8; 32]>,
    pub scopes: Vec<String>,
    pub allow: AccessPolicy,
    pub pairwise_subject: bool,
    /// `id_token_signed_response_alg`.
    pub id_token_alg: SigningAlg,
}

impl OidcClient {
    pub fn is_public(&self) -> bool {
        self.secret_sha256.is_none()
    }

    /// Exactly one of the registered URIs, character for character.
    pub fn redirect_uri_allowed(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }

    pub fn post_logout_redirect_uri_allowed(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|r| r == uri)
    }

    /// The secret, compared in constant time (as hashes: equal lengths whatever is sent).
    pub fn secret_matches(&self, secret: &str) -> bool {
        match &self.secret_sha256 {
            Some(expected) => Sha256::digest(secret.as_bytes())
                .as_slice()
                .ct_eq(expected)
                .into(),
            None => false,
        }
    }
}

#[derive(Default)]
pub struct OidcClients {
    by_id: BTreeMap<String, OidcClient>,
}

impl OidcClients {
    /// Reads the secrets' files; a client whose secret cannot be read stops the start.
    pub fn load(settings: &OidcSettings) -> anyhow::Result<Self> {
        let mut by_id = BTreeMap::new();
        for (id, c) in &settings.clients {
            let secret_sha256 = match (&c.secret_sha256, &c.secret_file) {
                (Some(hex), None) => Some(parse_sha256(hex).with_context(|| {
                    format!("oidc.clients.{id}.secret_sha256: 64 hexadecimal digits expected")
                })?),
                (None, Some(path)) => {
                    let secret = std::fs::read_to_string(path).with_context(|| {
                        format!(
                            "oidc.clients.{id}.secret_file: cannot read {}",
                            path.display()
                        )
                    })?;
                    Some(Sha256::digest(secret.trim().as_bytes()).into())
                }
                (None, None) => None,
                (Some(_), Some(_)) => {
                    anyhow::bail!("oidc.clients.{id}: give secret_sha256 or secret_file, not both")
                }
            };
            by_id.insert(
                id.clone(),
                OidcClient {
                    id: id.clone(),
                    name: c.name.clone().unwrap_or_else(|| id.clone()),
                    redirect_uris: c.redirect_uris.iter().map(|u| u.to_string()).collect(),
                    post_logout_redirect_uris: c
                        .post_logout_redirect_uris
                        .iter()
                        .map(|u| u.to_string())
                        .collect(),
                    backchannel_logout_uri: c.backchannel_logout_uri.clone(),
                    secret_sha256,
                    scopes: c.scopes.clone(),
                    allow: c.allow.clone(),
                    pairwise_subject: c.pairwise_subject,
                    id_token_alg: c.id_token_signed_response_alg,
                },
            );
        }
        Ok(OidcClients { by_id })
    }

    pub fn get(&self, id: &str) -> Option<&OidcClient> {
        self.by_id.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &OidcClient> {
        self.by_id.values()
    }

    /// `scheme://host[:port]` of every registered redirect URI.
    pub fn redirect_origins(&self) -> Vec<String> {
        self.iter()
            .flat_map(|c| &c.redirect_uris)
            .filter_map(|uri| url::Url::parse(uri).ok())
            .map(|url| url.origin().ascii_serialization())
            .collect()
    }
}

impl OidcClient {
    /// The origins of this client's redirect URIs.
    pub fn redirect_origins(&self) -> Vec<url::Origin> {
        self.redirect_uris
            .iter()
            .filter_map(|uri| url::Url::parse(uri).ok())
            .map(|url| url.origin())
            .collect()
    }
}

fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A new client secret and the hash the configuration keeps (`kepgate oidc client add`).
pub fn new_secret() -> Result<(String, String), getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let secret = base16ct::lower::encode_string(&bytes);
    let hash = base16ct::lower::encode_string(&Sha256::digest(secret.as_bytes()));
    Ok((secret, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_secret_matches_its_hash_and_nothing_else() {
        let (secret, hash) = new_secret().unwrap();
        let mut settings = OidcSettings::default();
        settings.clients.insert(
            "grafana".to_owned(),
            toml_client(&format!("secret_sha256 = \"{hash}\"")),
        );
        let clients = OidcClients::load(&settings).unwrap();
        let client = clients.get("grafana").unwrap();
        assert!(client.secret_matches(&secret));
        assert!(!client.secret_matches(&secret[1..]));
        assert!(!client.secret_matches(""));
        assert!(!client.is_public());
    }

    fn toml_client(extra: &str) -> crate::config::OidcClientSettings {
        toml_from(&format!(
            "redirect_uris = [\"https://grafana.example.ua/login/generic_oauth\"]\n{extra}"
        ))
    }

    fn toml_from(text: &str) -> crate::config::OidcClientSettings {
        use figment::providers::{Format, Toml};
        figment::Figment::from(Toml::string(text))
            .extract()
            .unwrap()
    }
}
