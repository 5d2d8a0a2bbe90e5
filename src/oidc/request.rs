//! An authorization request, checked before anything happens (OpenID Connect Core §3.1.2.1,
//! RFC 7636): until the client and its redirect URI are known good, nothing is ever sent to the
//! redirect URI (an open redirect otherwise); after that, errors go back to the client there.

use serde::Deserialize;

use super::clients::{OidcClient, OidcClients};

/// The query (or form) as sent; every field checked in [`AuthorizeRequest::parse`].
#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub response_mode: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    /// kepgate's own: for `prompt=login` and `max_age`, the marker of the moment kepgate sent the
    /// person to sign in again (`reauthentication`); only a session begun since counts, once.
    pub kepgate_reauth: Option<String>,
}

pub struct AuthorizeRequest<'c> {
    pub client: &'c OidcClient,
    pub redirect_uri: String,
    /// The scopes granted: those asked for that the client may have, `openid` first.
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    /// `kepgate_reauth` as sent: checked by `authorize` (`reauthentication::Markers::check`).
    pub reauthentication: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Sign in only if there is no session.
    Default,
    /// Sign in again, even with a session.
    Login,
    /// Never show a page: an error if the person must sign in.
    None,
}

#[derive(Debug, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or its redirect URI is not known good: said on a page of kepgate's.
    Page(String),
    /// Sent to the client at its (registered) redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

const MAX_STATE: usize = 2048;
const MAX_NONCE: usize = 512;

impl<'c> AuthorizeRequest<'c> {
    /// Checked in this order, and the first failure answers: the client and its redirect URI
    /// (on a page), then everything else (at the redirect URI).
    pub fn parse(
        params: &AuthorizeParams,
        clients: &'c OidcClients,
    ) -> Result<Self, AuthorizeError> {
        let (client, redirect_uri) = known_client(params, clients)?;
        let state = params.state.clone().filter(|s| !s.is_empty());
        let asked = match asked_for(params, client, state.as_deref()) {
            Ok(asked) => asked,
            Err((error, description)) => {
                return Err(AuthorizeError::Redirect {
                    redirect_uri: redirect_uri.to_owned(),
                    state,
                    error,
                    description: description.to_owned(),
                });
            }
        };
        Ok(AuthorizeRequest {
            client,
            redirect_uri: redirect_uri.to_owned(),
            scope: asked.scope,
            state,
            nonce: asked.nonce,
            code_challenge: asked.code_challenge,
            prompt: asked.prompt,
            max_age: asked.max_age,
            reauthentication: params.kepgate_reauth.clone(),
        })
    }
}

/// The client and a redirect URI registered for it: until both are known good, nothing goes
/// to the redirect URI.
fn known_client<'c, 'p>(
    params: &'p AuthorizeParams,
    clients: &'c OidcClients,
) -> Result<(&'c OidcClient, &'p str), AuthorizeError> {
    let page = |text: &str| AuthorizeError::Page(text.to_owned());
    let client_id = params
        .client_id
        .as_deref()
        .ok_or_else(|| page("the request names no client_id"))?;
    let client = clients
        .get(client_id)
        .ok_or_else(|| page("no application with this client_id is registered"))?;
    let redirect_uri = params
        .redirect_uri
        .as_deref()
        .ok_or_else(|| page("the request names no redirect_uri"))?;
    if !client.redirect_uri_allowed(redirect_uri) {
        return Err(page(
            "this redirect_uri is not one registered for the application",
        ));
    }
    Ok((client, redirect_uri))
}

/// What a request is refused with at the client's redirect URI: the error and its description.
type Refusal = (&'static str, &'static str);

/// The rest of a request from a known client, as granted.
struct Asked {
    scope: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    prompt: Prompt,
    max_age: Option<i64>,
}

fn asked_for(
    params: &AuthorizeParams,
    client: &OidcClient,
    state: Option<&str>,
) -> Result<Asked, Refusal> {
    if state.is_some_and(|s| s.len() > MAX_STATE) {
        return Err(("invalid_request", "state is too long"));
    }
    supported(params)?;
    let scope = granted_scope(params, client)?;
    let code_challenge = code_challenge(params, client)?;
    let nonce = params.nonce.clone().filter(|n| !n.is_empty());
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_NONCE) {
        return Err(("invalid_request", "nonce is too long"));
    }
    Ok(Asked {
        scope,
        nonce,
        code_challenge,
        prompt: prompt(params)?,
        max_age: max_age(params)?,
    })
}

/// The one flow and answer mode kepgate has: the authorization code, in the query, without
/// request objects.
fn supported(params: &AuthorizeParams) -> Result<(), Refusal> {
    // The answer goes in the query, the one mode discovery names: a client that asked for
    // another (`form_post`, `fragment`) would look for it elsewhere and lose it.
    // (Core §3.1.2.1: a parameter without a value is as if it were not sent.)
    if params
        .response_mode
        .as_deref()
        .is_some_and(|m| !m.is_empty() && m != "query")
    {
        return Err((
            "invalid_request",
            "response_mode is not supported: only query",
        ));
    }
    if params.request.is_some() {
        return Err(("request_not_supported", "request objects are not supported"));
    }
    if params.request_uri.is_some() {
        return Err(("request_uri_not_supported", "request_uri is not supported"));
    }
    if params.response_type.as_deref() != Some("code") {
        return Err((
            "unsupported_response_type",
            "only the authorization code flow (response_type=code) is supported",
        ));
    }
    Ok(())
}

/// The scopes granted: `openid` (required), then those asked for that the client may have.
fn granted_scope(params: &AuthorizeParams, client: &OidcClient) -> Result<String, Refusal> {
    let asked: Vec<&str> = params
        .scope
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if !asked.contains(&"openid") {
        return Err(("invalid_scope", "the scope must include openid"));
    }
    // Unknown scopes and ones the client may not have are left out, not refused (Core §3.1.2.1).
    let mut granted = vec!["openid"];
    for scope in crate::config::SCOPES.iter().skip(1) {
        if asked.contains(scope) && client.scopes.iter().any(|s| s == scope) {
            granted.push(scope);
        }
    }
    Ok(granted.join(" "))
}

/// PKCE (RFC 7636): S256 only, and required of public clients.
fn code_challenge(
    params: &AuthorizeParams,
    client: &OidcClient,
) -> Result<Option<String>, Refusal> {
    match (
        params.code_challenge.as_deref(),
        params.code_challenge_method.as_deref(),
    ) {
        (None, None) if client.is_public() => Err((
            "invalid_request",
            "a public client must use PKCE (code_challenge with S256)",
        )),
        (None, None) => Ok(None),
        (Some(challenge), Some("S256")) if is_code_challenge(challenge) => {
            Ok(Some(challenge.to_owned()))
        }
        (Some(_), Some("S256")) => Err(("invalid_request", "code_challenge is not S256's form")),
        _ => Err((
            "invalid_request",
            "code_challenge_method must be S256, with a code_challenge",
        )),
    }
}

fn prompt(params: &AuthorizeParams) -> Result<Prompt, Refusal> {
    let prompts: Vec<&str> = params
        .prompt
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    match (prompts.contains(&"none"), prompts.contains(&"login")) {
        (true, false) if prompts.len() == 1 => Ok(Prompt::None),
        (true, _) => Err((
            "invalid_request",
            "prompt=none cannot be combined with other values",
        )),
        (false, true) => Ok(Prompt::Login),
        (false, false) => Ok(Prompt::Default),
    }
}

fn max_age(params: &AuthorizeParams) -> Result<Option<i64>, Refusal> {
    match params.max_age.as_deref() {
        None => Ok(None),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .map(Some)
            .ok_or(("invalid_request", "max_age is not a number of seconds")),
    }
}

/// RFC 7636 §4.2: base64url of a SHA-256, 43 characters (that decode to 32 bytes: the last
/// one carries no stray bits).
fn is_code_challenge(challenge: &str) -> bool {
    use base64::Engine;
    challenge.len() == 43
        && base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(challenge)
            .is_ok_and(|bytes| bytes.len() == 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{OidcClientSettings, OidcSettings};

    const REDIRECT: &str = "https://app.example.ua/cb";

    fn clients() -> OidcClients {
        let mut settings = OidcSettings::default();
        let client = |secret: Option<&str>| OidcClientSettings {
            name: None,
            redirect_uris: vec![REDIRECT.parse().unwrap()],
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
            secret_sha256: secret.map(str::to_owned),
            secret_file: None,
            scopes: vec!["openid".into(), "profile".into()],
            allow: Default::default(),
            pairwise_subject: false,
            id_token_signed_response_alg: Default::default(),
        };
        settings
            .clients
            .insert("app".into(), client(Some(&"ab".repeat(32))));
        settings.clients.insert("spa".into(), client(None));
        OidcClients::load(&settings).unwrap()
    }

    fn params(pairs: &[(&str, &str)]) -> AuthorizeParams {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        serde_urlencoded_like(&query)
    }

    /// The query as axum's `Query` reads it.
    fn serde_urlencoded_like(query: &str) -> AuthorizeParams {
        let uri: axum::http::Uri = format!("/?{query}").parse().unwrap();
        axum::extract::Query::<AuthorizeParams>::try_from_uri(&uri)
            .unwrap()
            .0
    }

    const BASE: &[(&str, &str)] = &[
        ("response_type", "code"),
        ("client_id", "app"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", "s"),
    ];

    fn with(extra: &[(&'static str, &'static str)], without: &[&str]) -> AuthorizeParams {
        let mut pairs: Vec<(&str, &str)> = BASE
            .iter()
            .copied()
            .filter(|(k, _)| !without.contains(k))
            .collect();
        pairs.extend_from_slice(extra);
        params(&pairs)
    }

    fn error_of(p: &AuthorizeParams) -> String {
        match AuthorizeRequest::parse(p, &clients()) {
            Ok(_) => "ok".into(),
            Err(AuthorizeError::Page(_)) => "page".into(),
            Err(AuthorizeError::Redirect { error, state, .. }) => {
                assert_eq!(state.as_deref(), Some("s"), "the state goes back");
                error.into()
            }
        }
    }

    #[test]
    fn until_the_client_and_its_redirect_uri_are_known_errors_are_pages() {
        let clients = clients();
        for (extra, without) in [
            (vec![("client_id", "nobody")], vec!["client_id"]),
            (vec![], vec!["client_id"]),
            (
                vec![("redirect_uri", "https://evil.example/cb")],
                vec!["redirect_uri"],
            ),
            (
                vec![("redirect_uri", "https://app.example.ua/cb/")],
                vec!["redirect_uri"],
            ),
            (
                vec![("redirect_uri", "https://APP.example.ua/cb?x=1")],
                vec!["redirect_uri"],
            ),
            (vec![], vec!["redirect_uri"]),
        ] {
            let p = with(&extra, &without);
            assert!(
                matches!(
                    AuthorizeRequest::parse(&p, &clients),
                    Err(AuthorizeError::Page(_))
                ),
                "{extra:?} {without:?}"
            );
        }
    }

    #[test]
    fn the_basic_op_plans_request_variants() {
        // oidcc-response-type-missing, and a flow kepgate does not do.
        assert_eq!(
            error_of(&with(&[], &["response_type"])),
            "unsupported_response_type"
        );
        assert_eq!(
            error_of(&with(&[("response_type", "id_token")], &["response_type"])),
            "unsupported_response_type"
        );
        // No nonce, unknown parameters, display, hints, locales, acr_values: all fine.
        assert_eq!(error_of(&with(&[], &[])), "ok");
        for extra in [
            ("display", "popup"),
            ("display", "page"),
            ("login_hint", "someone"),
            ("id_token_hint", "eyJ..."),
            ("ui_locales", "uk en"),
            ("claims_locales", "uk"),
            ("acr_values", "urn:kepgate:acr:qualified-signature"),
            ("extra", "foobar"),
        ] {
            assert_eq!(error_of(&with(&[extra], &[])), "ok", "{extra:?}");
        }
        // Scopes in any order; unknown or not allowed ones left out; openid required.
        let p = with(&[("scope", "email profile openid kep phone")], &["scope"]);
        let clients = clients();
        let request = AuthorizeRequest::parse(&p, &clients).unwrap();
        assert_eq!(request.scope, "openid profile");
        assert_eq!(
            error_of(&with(&[("scope", "profile")], &["scope"])),
            "invalid_scope"
        );
        // The answer in the query only, as discovery says.
        assert_eq!(error_of(&with(&[("response_mode", "query")], &[])), "ok");
        assert_eq!(error_of(&with(&[("response_mode", "")], &[])), "ok");
        for mode in ["form_post", "fragment", "query.jwt"] {
            assert_eq!(
                error_of(&with(&[("response_mode", mode)], &[])),
                "invalid_request",
                "{mode:?}"
            );
        }
        // Request objects are refused as unsupported.
        assert_eq!(
            error_of(&with(&[("request", "eyJhbGciOiJub25lIn0.e30.")], &[])),
            "request_not_supported"
        );
        assert_eq!(
            error_of(&with(&[("request_uri", "https://x/r")], &[])),
            "request_uri_not_supported"
        );
    }

    #[test]
    fn pkce_prompt_and_max_age_are_checked() {
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(
            error_of(&with(
                &[
                    ("code_challenge", challenge),
                    ("code_challenge_method", "S256")
                ],
                &[]
            )),
            "ok"
        );
        assert_eq!(
            error_of(&with(
                &[
                    ("code_challenge", challenge),
                    ("code_challenge_method", "plain")
                ],
                &[]
            )),
            "invalid_request"
        );
        assert_eq!(
            error_of(&with(&[("code_challenge", challenge)], &[])),
            "invalid_request"
        );
        // 43 characters, but not the base64url of 32 bytes: stray bits in the last one.
        assert_eq!(
            error_of(&with(
                &[
                    (
                        "code_challenge",
                        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"
                    ),
                    ("code_challenge_method", "S256")
                ],
                &[]
            )),
            "invalid_request"
        );
        assert_eq!(
            error_of(&with(
                &[
                    ("code_challenge", "short"),
                    ("code_challenge_method", "S256")
                ],
                &[]
            )),
            "invalid_request"
        );
        // A public client must use it.
        assert_eq!(
            error_of(&with(&[("client_id", "spa")], &["client_id"])),
            "invalid_request"
        );
        assert_eq!(
            error_of(&with(&[("prompt", "none login")], &[])),
            "invalid_request"
        );
        assert_eq!(
            error_of(&with(&[("max_age", "-1")], &[])),
            "invalid_request"
        );
        assert_eq!(
            error_of(&with(&[("max_age", "ten")], &[])),
            "invalid_request"
        );
        let p = with(&[("prompt", "login consent"), ("max_age", "0")], &[]);
        let clients = clients();
        let request = AuthorizeRequest::parse(&p, &clients).unwrap();
        assert_eq!(request.prompt, Prompt::Login);
        assert_eq!(request.max_age, Some(0));
    }
}
