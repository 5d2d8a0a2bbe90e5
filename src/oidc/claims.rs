//! What a client learns about the person: the ID token's claims and `userinfo`'s, by scope.
//! `profile`: the name; `kep`: the Ukrainian identity (РНОКПП, ЄДРПОУ, organisation, the
//! certificate, the provider). Names of the claims: docs/oidc.md.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::clients::OidcClient;
use crate::auth_method::AuthMethod;
use crate::session::Session;

/// `sub`: the cabinet's subject (`rnokpp:…` or `cert:…`), or, for a client with
/// `pairwise_subject`, a value of its own that no other client can match (RFC: OpenID Connect
/// Core §8.1), keyed with a secret only kepgate holds.
pub fn subject(session: &Session, client: &OidcClient, pairwise_key: &[u8; 32]) -> String {
    let subject = session.subject();
    if !client.pairwise_subject {
        return subject;
    }
    let mut hash = Sha256::new();
    hash.update(pairwise_key);
    hash.update(client.id.as_bytes());
    hash.update([0]);
    hash.update(subject.as_bytes());
    base16ct::lower::encode_string(&hash.finalize())
}

/// How the person proved who they are: each method's own labels (`AuthMethod::amr`), decided
/// with the provider that reported it; docs/oidc.md lists them.
pub fn amr(session: &Session) -> Vec<&'static str> {
    AuthMethod::amr_of(session.auth_method)
}

/// The assurance behind `amr` (`AuthMethod::acr`).
pub fn acr(session: &Session) -> &'static str {
    AuthMethod::acr_of(session.auth_method)
}

/// The claims a scope gives, beyond `sub`.
pub fn scoped(session: &Session, scope: &str) -> Map<String, Value> {
    let identity = &session.identity;
    let mut claims = Map::new();
    let scopes: Vec<&str> = scope.split(' ').collect();
    if scopes.contains(&"profile") {
        claims.insert("name".into(), json!(identity.full_name));
        // A qualified certificate's givenName holds the first name and the patronymic.
        let given = identity.given_name.as_deref().unwrap_or("");
        let (first, middle) = given.split_once(' ').unwrap_or((given, ""));
        if let Some(surname) = &identity.surname {
            claims.insert("family_name".into(), json!(surname));
        }
        if !first.is_empty() {
            claims.insert("given_name".into(), json!(first));
        }
        if !middle.is_empty() {
            claims.insert("middle_name".into(), json!(middle));
        }
    }
    if scopes.contains(&"kep") {
        // A claim without a value is left out (Core §5.3.2), not sent as null.
        for (name, value) in [
            ("rnokpp", identity.rnokpp.as_ref().map(|r| r.to_string())),
            ("edrpou", identity.edrpou.as_ref().map(|e| e.to_string())),
            ("organization", identity.organization.clone()),
            ("cert_serial", Some(identity.cert_serial_hex.clone())),
            ("cert_issuer", Some(identity.issuer.clone())),
            ("provider", Some(session.provider.clone())),
        ] {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                claims.insert(name.into(), Value::String(value));
            }
        }
    }
    claims
}
