//! kepgate as an OpenID Provider, driven over real HTTP by a relying party written here from the
//! specifications (the authorization code flow with PKCE, both client authentications,
//! userinfo, RP-initiated and back-channel logout), with the ID tokens checked against the
//! published JWKS by `jsonwebtoken`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use kepgate::config::{OidcClientSettings, Settings};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use crate::browser::Browser;
use crate::proxy::{CabinetStack, spawn_cabinet_stack, spawn_cabinet_stack_clocked};
use crate::sign_in::{DIRECTOR, PERSON, sign_in, sign_in_as};

pub const RP: &str = "rp";
pub const RP_SECRET: &str = "a-long-random-secret-of-the-relying-party-0123456789";
pub const SPA: &str = "spa";
pub const RP_REDIRECT: &str = "http://127.0.0.1:9/cb";
/// The confidential client's second registered redirect URI.
pub const RP_REDIRECT_2: &str = "http://127.0.0.1:9/cb2";
pub const RP_LOGGED_OUT: &str = "http://127.0.0.1:9/bye";

pub fn client(redirect: &str) -> OidcClientSettings {
    OidcClientSettings {
        name: None,
        redirect_uris: vec![redirect.parse().unwrap()],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        secret_sha256: None,
        secret_file: None,
        scopes: kepgate::config::SCOPES
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        allow: Default::default(),
        pairwise_subject: false,
        id_token_signed_response_alg: Default::default(),
    }
}

pub fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The cabinet stack with the OpenID Provider on: a confidential client `rp`, a public one `spa`.
pub async fn spawn_op(configure: impl FnOnce(&mut Settings)) -> CabinetStack {
    spawn_cabinet_stack(|s, _| {
        with_op(s);
        configure(s);
    })
    .await
}

/// [`spawn_op`] with the gateway on a clock the test moves (the stack's other parts keep real
/// time).
async fn spawn_op_clocked(
    clock: &kepgate::clock::ManualClock,
    configure: impl FnOnce(&mut Settings),
) -> CabinetStack {
    spawn_cabinet_stack_clocked(Some(Arc::new(clock.clone())), |s, _| {
        with_op(s);
        configure(s);
    })
    .await
}

fn with_op(s: &mut Settings) {
    s.oidc.enabled = true;
    let mut rp = client(RP_REDIRECT);
    rp.redirect_uris.push(RP_REDIRECT_2.parse().unwrap());
    rp.secret_sha256 = Some(secret_hash(RP_SECRET));
    rp.post_logout_redirect_uris = vec![RP_LOGGED_OUT.parse().unwrap()];
    s.oidc.clients.insert(RP.to_owned(), rp);
    s.oidc.clients.insert(SPA.to_owned(), client(RP_REDIRECT));
}

/// What a relying party sends to `authorize`.
pub struct AuthRequest {
    pub client_id: &'static str,
    pub redirect_uri: String,
    pub scope: &'static str,
    pub state: String,
    pub nonce: String,
    pub verifier: Option<String>,
    pub extra: Vec<(&'static str, String)>,
}

impl AuthRequest {
    pub fn new(client_id: &'static str) -> Self {
        AuthRequest {
            client_id,
            redirect_uri: RP_REDIRECT.to_owned(),
            scope: "openid profile kep",
            state: "state-Ж-1".to_owned(),
            nonce: format!("nonce-{}", uuid::Uuid::new_v4()),
            verifier: Some(format!(
                "verifier-{}-{}",
                uuid::Uuid::new_v4(),
                uuid::Uuid::new_v4()
            )),
            extra: vec![],
        }
    }

    pub fn url(&self, browser: &Browser) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", self.scope)
            .append_pair("state", &self.state)
            .append_pair("nonce", &self.nonce);
        if let Some(verifier) = &self.verifier {
            query
                .append_pair("code_challenge", &challenge(verifier))
                .append_pair("code_challenge_method", "S256");
        }
        for (k, v) in &self.extra {
            query.append_pair(k, v);
        }
        format!("{}?{}", browser.own("/oidc/authorize"), query.finish())
    }
}

pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The browser at `authorize`; where it is sent (the client's redirect URI, or the login page).
pub async fn authorize(browser: &mut Browser, request: &AuthRequest) -> Url {
    let response = browser.get(&request.url(browser)).await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let location = response.headers()["location"].to_str().unwrap();
    browser.url(location).parse().unwrap()
}

pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `token` with `client_secret_basic` (or `_post` with `post`), for `code`.
pub async fn token(
    browser: &Browser,
    request: &AuthRequest,
    code: &str,
    secret: Option<&str>,
    post: bool,
) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code.to_owned()),
        ("redirect_uri", request.redirect_uri.clone()),
    ];
    if let Some(verifier) = &request.verifier {
        form.push(("code_verifier", verifier.clone()));
    }
    let mut call = browser.http.post(browser.url(&browser.own("/oidc/token")));
    match (secret, post) {
        (Some(secret), false) => call = call.basic_auth(request.client_id, Some(secret)),
        (Some(secret), true) => {
            form.push(("client_id", request.client_id.to_owned()));
            form.push(("client_secret", secret.to_owned()));
        }
        (None, _) => form.push(("client_id", request.client_id.to_owned())),
    }
    call.form(&form).send().await.unwrap()
}

/// [`token`] that must succeed: its JSON answer.
pub async fn tokens(
    browser: &Browser,
    request: &AuthRequest,
    code: &str,
    secret: Option<&str>,
    post: bool,
) -> Value {
    let answer = token(browser, request, code, secret, post).await;
    assert_eq!(answer.status(), 200, "the token answer");
    answer.json().await.unwrap()
}

/// The published key that signed `token` (by its `kid`), as a relying party fetches the keys
/// from discovery.
pub async fn decoding_key(browser: &Browser, token: &str) -> DecodingKey {
    let discovery: Value = browser
        .http
        .get(browser.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwks: jsonwebtoken::jwk::JwkSet = browser
        .http
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    DecodingKey::from_jwk(jwks.find(&kid).expect("the token's kid in the JWKS")).unwrap()
}

/// The claims of an ID token for `audience`, verified as a relying party does: the key by
/// `kid` from the JWKS, the algorithm the one the client registered (RS256 unless it said
/// otherwise), `typ` JWT.
pub async fn verified_id_token(browser: &Browser, id_token: &str, audience: &str) -> Value {
    verified_id_token_with(browser, id_token, audience, Algorithm::RS256).await
}

pub async fn verified_id_token_with(
    browser: &Browser,
    id_token: &str,
    audience: &str,
    algorithm: Algorithm,
) -> Value {
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, algorithm, "the client's algorithm");
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let mut validation = Validation::new(algorithm);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[browser.base.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    let key = decoding_key(browser, id_token).await;
    jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap()
        .claims
}

/// Signed in as `identity` and through `authorize` with `request`: the code.
pub async fn code_for(
    env: &CabinetStack,
    identity: &str,
    request: &AuthRequest,
) -> (Browser, String) {
    let mut browser = sign_in(&env.stack, identity).await;
    let back = authorize(&mut browser, request).await;
    assert!(back.as_str().starts_with(RP_REDIRECT), "{back}");
    assert_eq!(
        param(&back, "state").as_deref(),
        Some(request.state.as_str())
    );
    let code = param(&back, "code").unwrap_or_else(|| panic!("a code: {back}"));
    (browser, code)
}

/// `GET {prefix}/oidc/userinfo` with `access` as the bearer token.
pub async fn userinfo(browser: &Browser, access: &str) -> reqwest::Response {
    browser
        .http
        .get(browser.url(&browser.own("/oidc/userinfo")))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
}

pub async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn discovery_names_the_issuer_and_its_endpoints() {
    let env = spawn_op(|_| {}).await;
    let browser = Browser::new(&env.stack.app);
    let doc: Value = browser
        .http
        .get(browser.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], browser.base.as_str());
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
    ] {
        let url = doc[endpoint].as_str().unwrap();
        assert!(
            url.starts_with(&format!("{}/", browser.base)),
            "{endpoint}: {url}"
        );
    }
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    // RS256, which OpenID Connect Core §15.1 makes mandatory, and ES256.
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "ES256"])
    );
    let jwks: Value = browser
        .http
        .get(doc["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(algs, ["ES256", "RS256"]);
    let n = URL_SAFE_NO_PAD
        .decode(jwks["keys"][1]["n"].as_str().unwrap())
        .unwrap();
    assert!(n.len() * 8 >= 2048, "an RSA key of {} bits", n.len() * 8);
    // Without [oidc] enabled there is no provider at all.
    let plain = spawn_cabinet_stack(|_, _| {}).await;
    let off = Browser::new(&plain.stack.app);
    let status = off
        .http
        .get(off.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .status();
    assert_ne!(status, 200);
}

#[tokio::test]
async fn a_confidential_client_signs_the_director_in_and_learns_who_they_are() {
    let env = spawn_op(|_| {}).await;
    let request = AuthRequest::new(RP);
    let (browser, code) = code_for(&env, DIRECTOR, &request).await;
    let answer = token(&browser, &request, &code, Some(RP_SECRET), false).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["cache-control"], "no-store");
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["token_type"], "Bearer");
    let claims = verified_id_token(&browser, answer["id_token"].as_str().unwrap(), RP).await;
    assert_eq!(claims["nonce"], request.nonce.as_str());
    assert_eq!(claims["name"], "Коваленко Олена Петрівна");
    assert_eq!(claims["family_name"], "Коваленко");
    assert_eq!(claims["given_name"], "Олена");
    assert_eq!(claims["middle_name"], "Петрівна");
    assert_eq!(claims["rnokpp"], "2654321099");
    assert_eq!(claims["edrpou"], "40123454");
    assert_eq!(claims["sub"], "rnokpp:2654321099");
    assert_eq!(claims["amr"], serde_json::json!(["kep"]));
    assert!(claims["auth_time"].as_i64().unwrap() <= claims["iat"].as_i64().unwrap());
    let access = answer["access_token"].as_str().unwrap();
    assert_eq!(
        claims["at_hash"],
        URL_SAFE_NO_PAD.encode(&Sha256::digest(access.as_bytes())[..16])
    );
    let info: Value = userinfo(&browser, access).await.json().await.unwrap();
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["organization"], "ТОВ «Тестова компанія»");
    assert_eq!(info["provider"], "diia");

    // client_secret_post too.
    let request = AuthRequest::new(RP);
    let (browser, code) = code_for(&env, PERSON, &request).await;
    let answer = token(&browser, &request, &code, Some(RP_SECRET), true).await;
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn scopes_decide_what_a_client_learns() {
    let env = spawn_op(|_| {}).await;
    let mut request = AuthRequest::new(RP);
    request.scope = "openid";
    let (browser, code) = code_for(&env, DIRECTOR, &request).await;
    let answer: Value = tokens(&browser, &request, &code, Some(RP_SECRET), false).await;
    assert_eq!(answer["scope"], "openid");
    let claims = verified_id_token(&browser, answer["id_token"].as_str().unwrap(), RP).await;
    for absent in ["name", "rnokpp", "edrpou"] {
        assert!(claims.get(absent).is_none(), "{absent}: {claims}");
    }
    // A client that may not have `kep` does not get it by asking.
    let env = spawn_op(|s| {
        s.oidc.clients.get_mut(RP).unwrap().scopes = vec!["openid".into(), "profile".into()];
    })
    .await;
    let request = AuthRequest::new(RP);
    let (browser, code) = code_for(&env, DIRECTOR, &request).await;
    let answer: Value = tokens(&browser, &request, &code, Some(RP_SECRET), false).await;
    assert_eq!(answer["scope"], "openid profile");
    let claims = verified_id_token(&browser, answer["id_token"].as_str().unwrap(), RP).await;
    assert_eq!(claims["name"], "Коваленко Олена Петрівна");
    assert!(claims.get("rnokpp").is_none());
}

#[tokio::test]
async fn pkce_is_required_of_public_clients_and_checked_for_everyone() {
    let env = spawn_op(|_| {}).await;
    // A public client without a challenge: sent back with invalid_request.
    let mut without = AuthRequest::new(SPA);
    without.verifier = None;
    let mut browser = sign_in(&env.stack, PERSON).await;
    let back = authorize(&mut browser, &without).await;
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    assert_eq!(
        param(&back, "state").as_deref(),
        Some(without.state.as_str())
    );
    // `plain` is refused.
    let mut plain = AuthRequest::new(SPA);
    plain.verifier = None;
    plain.extra.push((
        "code_challenge",
        "a-plain-challenge-a-plain-challenge-a-plain-ch".into(),
    ));
    plain.extra.push(("code_challenge_method", "plain".into()));
    let back = authorize(&mut browser, &plain).await;
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    // With a challenge: a wrong verifier, a missing one, then the right one.
    let request = AuthRequest::new(SPA);
    let code = param(&authorize(&mut browser, &request).await, "code").unwrap();
    let mut wrong = AuthRequest::new(SPA);
    wrong.verifier = Some("not-the-verifier-not-the-verifier-not-the-verifier".into());
    assert_eq!(
        error_of(token(&browser, &wrong, &code, None, false).await).await,
        (400, "invalid_grant".to_owned())
    );
    // Nothing is spent by that attempt: a stolen code with a guessed verifier does not burn it
    // for the client.
    assert_eq!(
        token(&browser, &request, &code, None, false).await.status(),
        200
    );
    let request = AuthRequest::new(SPA);
    let code = param(&authorize(&mut browser, &request).await, "code").unwrap();
    let mut missing = AuthRequest::new(SPA);
    missing.verifier = None;
    assert_eq!(
        error_of(token(&browser, &missing, &code, None, false).await)
            .await
            .1,
        "invalid_grant"
    );
    let request = AuthRequest::new(SPA);
    let code = param(&authorize(&mut browser, &request).await, "code").unwrap();
    assert_eq!(
        token(&browser, &request, &code, None, false).await.status(),
        200
    );
    // A verifier for a code issued without a challenge is a downgrade: refused.
    let mut no_challenge = AuthRequest::new(RP);
    no_challenge.verifier = None;
    let code = param(&authorize(&mut browser, &no_challenge).await, "code").unwrap();
    let mut with_verifier = AuthRequest::new(RP);
    with_verifier.verifier = Some("a-verifier-nobody-asked-for-a-verifier-nobody-asked".into());
    assert_eq!(
        error_of(token(&browser, &with_verifier, &code, Some(RP_SECRET), false).await)
            .await
            .1,
        "invalid_grant"
    );
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_it_gave() {
    let env = spawn_op(|_| {}).await;
    let request = AuthRequest::new(RP);
    let (browser, code) = code_for(&env, DIRECTOR, &request).await;
    let first: Value = tokens(&browser, &request, &code, Some(RP_SECRET), false).await;
    let access = first["access_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo(&browser, &access).await.status(), 200);
    assert_eq!(
        error_of(token(&browser, &request, &code, Some(RP_SECRET), false).await).await,
        (400, "invalid_grant".to_owned())
    );
    assert_eq!(
        userinfo(&browser, &access).await.status(),
        401,
        "the first exchange's token is revoked"
    );
}

#[tokio::test]
async fn wrong_client_secret_redirect_uri_or_client_are_refused() {
    let env = spawn_op(|_| {}).await;
    let request = AuthRequest::new(RP);
    let (mut browser, code) = code_for(&env, DIRECTOR, &request).await;
    let refused = token(&browser, &request, &code, Some("not-the-secret"), false).await;
    assert_eq!(refused.status(), 401);
    assert!(
        refused.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(error_of(refused).await.1, "invalid_client");
    // Another registered client cannot spend this client's code (the secret was not checked
    // above before the code: the code is still good).
    let mut other = AuthRequest::new(SPA);
    other.verifier = request.verifier.clone();
    assert_eq!(
        error_of(token(&browser, &other, &code, None, false).await)
            .await
            .1,
        "invalid_grant"
    );
    // A redirect_uri other than the authorization request's.
    let request = AuthRequest::new(RP);
    let code = param(&authorize(&mut browser, &request).await, "code").unwrap();
    let mut moved = AuthRequest::new(RP);
    moved.verifier = request.verifier.clone();
    moved.redirect_uri = "http://127.0.0.1:9/elsewhere".into();
    assert_eq!(
        error_of(token(&browser, &moved, &code, Some(RP_SECRET), false).await)
            .await
            .1,
        "invalid_grant"
    );
    // At authorize, an unregistered redirect URI or an unknown client gets a page, never a
    // redirect (an open redirect otherwise).
    for (client, redirect) in [
        (RP, "https://evil.example/cb"),
        (RP, "http://127.0.0.1:9/cb/"),
        ("nobody", RP_REDIRECT),
    ] {
        let mut bad = AuthRequest::new(RP);
        bad.client_id = client;
        bad.redirect_uri = redirect.into();
        let response = browser.get(&bad.url(&browser)).await;
        assert_eq!(response.status(), 400, "{client} {redirect}");
        assert!(response.headers().get("location").is_none());
    }
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let env = spawn_op(|s| s.oidc.code_ttl = Duration::from_secs(1)).await;
    let request = AuthRequest::new(RP);
    let (browser, code) = code_for(&env, DIRECTOR, &request).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        error_of(token(&browser, &request, &code, Some(RP_SECRET), false).await)
            .await
            .1,
        "invalid_grant"
    );
}

#[tokio::test]
async fn without_a_session_the_person_signs_in_first_and_prompt_login_asks_again() {
    let env = spawn_op(|_| {}).await;
    let mut browser = Browser::new(&env.stack.app);
    // prompt=none: never a page.
    let mut silent = AuthRequest::new(RP);
    silent.extra.push(("prompt", "none".into()));
    let back = authorize(&mut browser, &silent).await;
    assert_eq!(param(&back, "error").as_deref(), Some("login_required"));
    // Otherwise: the login page, which comes back here.
    let request = AuthRequest::new(RP);
    let to_login = authorize(&mut browser, &request).await;
    assert_eq!(to_login.path(), browser.own("/login"));
    let rd = param(&to_login, "rd").unwrap();
    assert!(rd.starts_with(&browser.own("/oidc/authorize?")), "{rd}");
    sign_in_as(&env.stack, &mut browser, DIRECTOR).await;
    let response = browser.get(&rd).await;
    let back: Url = response.headers()["location"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let code = param(&back, "code").unwrap();
    let answer: Value = tokens(&browser, &request, &code, Some(RP_SECRET), false).await;
    let first = verified_id_token(&browser, answer["id_token"].as_str().unwrap(), RP).await;

    // prompt=login with a session: sent to sign in again, and only a newer session counts.
    let mut again = AuthRequest::new(RP);
    again.extra.push(("prompt", "login".into()));
    let to_login = authorize(&mut browser, &again).await;
    assert_eq!(to_login.path(), browser.own("/login"));
    let rd = param(&to_login, "rd").unwrap();
    let still_old = browser.get(&rd).await;
    let location = still_old.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.contains(&browser.own("/login")),
        "the old session does not count: {location}"
    );
    // A forged marker does not make the old session count either.
    let forged = rd.replace("kepgate_reauth=", "kepgate_reauth=1.0&x=");
    let location = browser.get(&forged).await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(location.contains(&browser.own("/login")), "{location}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sign_in_as(&env.stack, &mut browser, DIRECTOR).await;
    let back: Url = browser.get(&rd).await.headers()["location"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let code = param(&back, "code").unwrap();
    let answer: Value = tokens(&browser, &again, &code, Some(RP_SECRET), false).await;
    let second = verified_id_token(&browser, answer["id_token"].as_str().unwrap(), RP).await;
    assert!(second["auth_time"].as_i64() > first["auth_time"].as_i64());
}

#[tokio::test]
async fn a_clients_policy_and_pairwise_subjects() {
    let env = spawn_op(|s| {
        let rp = s.oidc.clients.get_mut(RP).unwrap();
        rp.allow.edrpou = vec!["40123454".into()];
        rp.pairwise_subject = true;
        s.oidc.clients.get_mut(SPA).unwrap().pairwise_subject = true;
    })
    .await;
    let mut person = sign_in(&env.stack, PERSON).await;
    let back = authorize(&mut person, &AuthRequest::new(RP)).await;
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    let mut subjects = BTreeMap::new();
    for client in [RP, SPA] {
        let request = AuthRequest::new(client);
        let (browser, code) = code_for(&env, DIRECTOR, &request).await;
        let secret = (client == RP).then_some(RP_SECRET);
        let answer: Value = tokens(&browser, &request, &code, secret, false).await;
        let claims =
            verified_id_token(&browser, answer["id_token"].as_str().unwrap(), client).await;
        subjects.insert(client, claims["sub"].as_str().unwrap().to_owned());
    }
    assert_ne!(subjects[RP], subjects[SPA]);
    for sub in subjects.values() {
        assert!(
            !sub.contains("2654321099"),
            "a pairwise sub hides the РНОКПП: {sub}"
        );
    }
}

#[tokio::test]
async fn rp_initiated_logout_ends_the_session_only_with_a_matching_id_token_hint() {
    let env = spawn_op(|_| {}).await;
    let request = AuthRequest::new(RP);
    let (mut browser, code) = code_for(&env, DIRECTOR, &request).await;
    let answer: Value = tokens(&browser, &request, &code, Some(RP_SECRET), false).await;
    let id_token = answer["id_token"].as_str().unwrap();
    // Without a hint (a link on any site): nothing ends, the person is sent to «Мої сеанси».
    let unproven = browser.get(&browser.own("/oidc/logout")).await;
    assert_eq!(unproven.headers()["location"], browser.own("/me").as_str());
    assert_eq!(browser.get(&browser.own("/me")).await.status(), 200);
    // With it: ended, and sent to the registered post-logout URI with the state.
    let logout = format!(
        "{}?id_token_hint={id_token}&post_logout_redirect_uri={}&state=s1",
        browser.own("/oidc/logout"),
        url::form_urlencoded::byte_serialize(RP_LOGGED_OUT.as_bytes()).collect::<String>()
    );
    let done = browser.get(&logout).await;
    assert_eq!(
        done.headers()["location"],
        format!("{RP_LOGGED_OUT}?state=s1").as_str()
    );
    assert_ne!(browser.get(&browser.own("/me")).await.status(), 200);
    // The access token dies with the session.
    let status = userinfo(&browser, answer["access_token"].as_str().unwrap())
        .await
        .status();
    assert_eq!(status, 401);
    // An unregistered post-logout URI is not followed.
    let (mut browser, _) = code_for(&env, DIRECTOR, &AuthRequest::new(RP)).await;
    let elsewhere = format!(
        "{}?post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F&client_id={RP}",
        browser.own("/oidc/logout")
    );
    let location = browser.get(&elsewhere).await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!location.contains("evil.example"), "{location}");
}

#[tokio::test]
async fn an_ended_session_is_announced_to_the_clients_by_back_channel() {
    // The relying party's back-channel endpoint: records the logout tokens it receives.
    let received = Arc::new(Mutex::new(Vec::<String>::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = format!("http://{}/backchannel", listener.local_addr().unwrap());
    let store = received.clone();
    let app = axum::Router::new().route(
        "/backchannel",
        axum::routing::post(
            move |axum::Form(form): axum::Form<BTreeMap<String, String>>| {
                let store = store.clone();
                async move {
                    store.lock().unwrap().push(form["logout_token"].clone());
                    "ok"
                }
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let env = spawn_op(|s| {
        s.oidc.clients.get_mut(RP).unwrap().backchannel_logout_uri =
            Some(receiver.parse().unwrap());
    })
    .await;
    let request = AuthRequest::new(RP);
    let (mut browser, code) = code_for(&env, DIRECTOR, &request).await;
    let answer: Value = tokens(&browser, &request, &code, Some(RP_SECRET), false).await;
    let sid = verified_id_token(&browser, answer["id_token"].as_str().unwrap(), RP).await["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    // «Вийти» on kepgate's own page.
    let me = browser.get(&browser.own("/me")).await.text().await.unwrap();
    let csrf = crate::browser::csrf_of(&me);
    let out = browser
        .post_form(&browser.own("/logout"), &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status(), 303);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let logout_token = loop {
        if let Some(token) = received.lock().unwrap().first().cloned() {
            break token;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no back-channel logout arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Signed as the client's ID tokens are: RS256 by default.
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[RP]);
    validation.set_issuer(&[browser.base.as_str()]);
    let header = jsonwebtoken::decode_header(&logout_token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let key = decoding_key(&browser, &logout_token).await;
    let claims = jsonwebtoken::decode::<Value>(&logout_token, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["sid"], sid.as_str());
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(received.lock().unwrap().len(), 1, "announced once");
}

#[tokio::test]
async fn userinfo_answers_get_and_post_with_the_token_in_the_header_or_the_body() {
    let env = spawn_op(|_| {}).await;
    let request = AuthRequest::new(RP);
    let (browser, code) = code_for(&env, PERSON, &request).await;
    let answer: Value = tokens(&browser, &request, &code, Some(RP_SECRET), false).await;
    let access = answer["access_token"].as_str().unwrap();
    let url = browser.url(&browser.own("/oidc/userinfo"));
    let http = &browser.http;
    for response in [
        http.get(&url).bearer_auth(access).send().await.unwrap(),
        http.post(&url).bearer_auth(access).send().await.unwrap(),
        http.post(&url)
            .form(&[("access_token", access)])
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(response.status(), 200);
        let info: Value = response.json().await.unwrap();
        assert_eq!(info["name"], "Шевченко Тарас Григорович");
    }
    // Not in the query (it would be logged), not both ways at once, not a made-up one.
    let query = http
        .get(format!("{url}?access_token={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 401);
    let both = http
        .post(&url)
        .bearer_auth(access)
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 400, "RFC 6750 §3.1: more than one method");
    assert_eq!(
        both.headers()["www-authenticate"],
        "Bearer realm=\"kepgate\", error=\"invalid_request\""
    );
    let forged = http.get(&url).bearer_auth("made-up").send().await.unwrap();
    assert_eq!(forged.status(), 401);
    assert_eq!(
        forged.headers()["www-authenticate"],
        "Bearer realm=\"kepgate\", error=\"invalid_token\""
    );
}

/// RFC 6750 §3.1: "If the request lacks any authentication information …, the resource server
/// SHOULD NOT include an error code": a 401 with a bare `Bearer` challenge, whatever the method.
#[tokio::test]
async fn userinfo_without_any_token_answers_a_bare_bearer_challenge() {
    let env = spawn_op(|_| {}).await;
    let browser = Browser::new(&env.stack.app);
    let url = browser.url(&browser.own("/oidc/userinfo"));
    let http = &browser.http;
    for response in [
        http.get(&url).send().await.unwrap(),
        http.post(&url).send().await.unwrap(),
        http.post(&url)
            .form(&[("something", "else")])
            .send()
            .await
            .unwrap(),
        // Not a way kepgate takes a token: as if there were none.
        http.get(format!("{url}?access_token=x"))
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(response.status(), 401);
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(challenge, "Bearer realm=\"kepgate\"", "no error code");
    }
}

#[tokio::test]
async fn prompt_none_with_a_session_and_max_age() {
    let env = spawn_op(|_| {}).await;
    let mut browser = sign_in(&env.stack, DIRECTOR).await;
    let mut silent = AuthRequest::new(RP);
    silent.extra.push(("prompt", "none".into()));
    let back = authorize(&mut browser, &silent).await;
    assert!(
        param(&back, "code").is_some(),
        "signed in: a code without a page: {back}"
    );
    let mut generous = AuthRequest::new(RP);
    generous.extra.push(("max_age", "10000".into()));
    let back = authorize(&mut browser, &generous).await;
    assert!(param(&back, "code").is_some(), "{back}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let mut strict = AuthRequest::new(RP);
    strict.extra.push(("max_age", "1".into()));
    let to_login = authorize(&mut browser, &strict).await;
    assert_eq!(
        to_login.path(),
        browser.own("/login"),
        "an older session must sign in again"
    );
    let mut strict_silent = AuthRequest::new(RP);
    strict_silent.extra.push(("max_age", "1".into()));
    strict_silent.extra.push(("prompt", "none".into()));
    let back = authorize(&mut browser, &strict_silent).await;
    assert_eq!(param(&back, "error").as_deref(), Some("login_required"));
}

#[tokio::test]
async fn a_code_from_one_replica_is_exchanged_at_another_and_its_token_works_at_either() {
    let options = crate::diia_stack::StackOptions {
        second_replica: true,
        ..Default::default()
    };
    let (stack, other) = crate::diia_stack::spawn_diia_stack_with_options(options, with_op).await;
    let other = other.expect("a second replica");
    let request = AuthRequest::new(RP);
    let mut browser = sign_in(&stack, DIRECTOR).await;
    let code = param(&authorize(&mut browser, &request).await, "code").unwrap();
    let at_other = browser.on(&other);
    let answer = token(&at_other, &request, &code, Some(RP_SECRET), false).await;
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().await.unwrap();
    // Signed by the other replica with the one shared key. (The test's replicas have base URLs
    // of their own, and so issuers of their own; behind a load balancer they share one.)
    let claims = verified_id_token(&at_other, answer["id_token"].as_str().unwrap(), RP).await;
    let published = |b: &Browser| b.url(&b.own("/jwks.json"));
    let keys = |url: String| {
        let http = browser.http.clone();
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert_eq!(
        keys(published(&browser)).await,
        keys(published(&at_other)).await
    );
    assert_eq!(claims["nonce"], request.nonce.as_str());
    let status = userinfo(&browser, answer["access_token"].as_str().unwrap())
        .await
        .status();
    assert_eq!(status, 200);
    assert_eq!(
        error_of(token(&browser, &request, &code, Some(RP_SECRET), false).await)
            .await
            .1,
        "invalid_grant",
        "spent on the other replica"
    );
}

// ---------- prompt=login and max_age: signing in again counts once, here, for this ----------

/// The parameters of an authorization request; anything else in a return path is kepgate's.
const REQUEST_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
];

/// The browser sent to sign in again by `request`: the return path (`rd`) it is given, and
/// the marker kepgate put in it (whatever its name), as pairs to add to another request.
async fn sent_to_sign_in_again(
    browser: &mut Browser,
    request: &AuthRequest,
) -> (String, Vec<(String, String)>) {
    let to_login = authorize(browser, request).await;
    assert_eq!(to_login.path(), browser.own("/login"), "{to_login}");
    let rd = param(&to_login, "rd").unwrap();
    let back: Url = browser.url(&rd).parse().unwrap();
    let marker: Vec<(String, String)> = back
        .query_pairs()
        .filter(|(k, _)| !REQUEST_PARAMS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert!(!marker.is_empty(), "the return path carries a marker: {rd}");
    (rd, marker)
}

/// `request` with `prompt=login`.
fn prompt_login(client: &'static str) -> AuthRequest {
    let mut request = AuthRequest::new(client);
    request.extra.push(("prompt", "login".into()));
    request
}

/// Where `browser` is sent from `url` (a path on kepgate's site or a full URL).
async fn sent_from(browser: &mut Browser, url: &str) -> Url {
    let response = browser.get(url).await;
    assert_eq!(response.status(), 303, "{url}");
    browser
        .url(response.headers()["location"].to_str().unwrap())
        .parse()
        .unwrap()
}

/// What the person meets after `request` came back: a new sign-in demanded (kepgate's login
/// page), or a code for the client (exchanged, so that it is known to be a good one).
async fn outcome(browser: &Browser, request: &AuthRequest, back: &Url) -> &'static str {
    if back.path() == browser.own("/login") {
        return "sent to sign in";
    }
    let code = param(back, "code").unwrap_or_else(|| panic!("neither a login nor a code: {back}"));
    let secret = (request.client_id == RP).then_some(RP_SECRET);
    let answer: Value = tokens(browser, request, &code, secret, false).await;
    verified_id_token(
        browser,
        answer["id_token"].as_str().unwrap(),
        request.client_id,
    )
    .await;
    "a code"
}

/// The `auth_time` of the code at `back`.
async fn auth_time_of(browser: &Browser, request: &AuthRequest, back: &Url) -> i64 {
    let code = param(back, "code").unwrap_or_else(|| panic!("a code: {back}"));
    let answer: Value = tokens(browser, request, &code, Some(RP_SECRET), false).await;
    verified_id_token(browser, answer["id_token"].as_str().unwrap(), RP).await["auth_time"]
        .as_i64()
        .unwrap()
}

/// `request`'s URL with `marker` added (a marker moved to another request).
fn with_marker(browser: &Browser, request: &AuthRequest, marker: &[(String, String)]) -> String {
    let mut url: Url = browser.url(&request.url(browser)).parse().unwrap();
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in marker {
            query.append_pair(k, v);
        }
    }
    url.to_string()
}

#[tokio::test]
async fn a_sign_in_again_counts_once_even_for_two_returns_at_the_same_moment() {
    let env = spawn_op(|_| {}).await;
    let mut browser = sign_in(&env.stack, DIRECTOR).await;
    let again = prompt_login(RP);
    let (rd, marker) = sent_to_sign_in_again(&mut browser, &again).await;
    sign_in_as(&env.stack, &mut browser, DIRECTOR).await;
    // The person signed in again: the return gives a code.
    let back = sent_from(&mut browser, &rd).await;
    assert_eq!(outcome(&browser, &again, &back).await, "a code");
    // The same return again (a reload, the back button, an attacker at this computer later):
    // the new login has counted already.
    let back = sent_from(&mut browser, &rd).await;
    assert_eq!(
        outcome(&browser, &again, &back).await,
        "sent to sign in",
        "a marker counts once"
    );
    // …in every spelling: its time with leading zeros is the same marker, not another one.
    let (_, value) = &marker[0];
    assert!(rd.contains(value.as_str()), "{rd}");
    for zeros in ["0", "00", "000"] {
        let respelt = rd.replace(value.as_str(), &format!("{zeros}{value}"));
        let back = sent_from(&mut browser, &respelt).await;
        assert_eq!(
            outcome(&browser, &again, &back).await,
            "sent to sign in",
            "a marker spelt {zeros}…"
        );
    }
    // max_age the same way (the new session itself older than max_age = 0 by then).
    let mut strict = AuthRequest::new(RP);
    strict.extra.push(("max_age", "0".into()));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (rd, _) = sent_to_sign_in_again(&mut browser, &strict).await;
    sign_in_as(&env.stack, &mut browser, DIRECTOR).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let back = sent_from(&mut browser, &rd).await;
    assert_eq!(outcome(&browser, &strict, &back).await, "a code");
    let back = sent_from(&mut browser, &rd).await;
    assert_eq!(outcome(&browser, &strict, &back).await, "sent to sign in");

    // Two returns at the same moment: one code, never two.
    for _ in 0..3 {
        let again = prompt_login(RP);
        let (rd, _) = sent_to_sign_in_again(&mut browser, &again).await;
        sign_in_as(&env.stack, &mut browser, DIRECTOR).await;
        let url = browser.url(&rd);
        let get = || {
            browser
                .http
                .get(&url)
                .header("cookie", browser.cookie_header())
                .send()
        };
        let (a, b) = tokio::join!(get(), get());
        let mut codes = 0;
        for response in [a.unwrap(), b.unwrap()] {
            assert_eq!(response.status(), 303);
            let location: Url = browser
                .url(response.headers()["location"].to_str().unwrap())
                .parse()
                .unwrap();
            if param(&location, "code").is_some() {
                codes += 1;
            } else {
                assert_eq!(location.path(), browser.own("/login"), "{location}");
            }
        }
        assert_eq!(codes, 1, "one of two returns at once gets a code");
    }
}

#[tokio::test]
async fn a_sign_in_again_counts_only_for_its_own_request_and_browser() {
    let env = spawn_op(|_| {}).await;
    let mut browser = sign_in(&env.stack, DIRECTOR).await;
    let again = prompt_login(RP);
    let (rd, marker) = sent_to_sign_in_again(&mut browser, &again).await;
    sign_in_as(&env.stack, &mut browser, DIRECTOR).await;

    // The marker moved to another request of the same browser: another client, another
    // redirect URI, another state, another nonce. Each must sign in anew.
    let mut other_client = prompt_login(SPA);
    other_client.nonce = again.nonce.clone();
    other_client.state = again.state.clone();
    other_client.verifier = again.verifier.clone();
    let mut other_redirect = prompt_login(RP);
    other_redirect.redirect_uri = RP_REDIRECT_2.to_owned();
    other_redirect.nonce = again.nonce.clone();
    other_redirect.verifier = again.verifier.clone();
    let mut other_state = prompt_login(RP);
    other_state.nonce = again.nonce.clone();
    other_state.verifier = again.verifier.clone();
    other_state.state = "another-state".into();
    let mut other_nonce = prompt_login(RP);
    other_nonce.verifier = again.verifier.clone();
    for (what, request) in [
        ("another client", &other_client),
        ("another redirect_uri", &other_redirect),
        ("another state", &other_state),
        ("another nonce", &other_nonce),
    ] {
        let moved = with_marker(&browser, request, &marker);
        let back = sent_from(&mut browser, &moved).await;
        assert_eq!(
            outcome(&browser, request, &back).await,
            "sent to sign in",
            "{what}"
        );
    }

    // The marker in another browser, whose session is newer still: its own sign-in was not
    // demanded by this request.
    let mut elsewhere = sign_in(&env.stack, DIRECTOR).await;
    let _ = sent_to_sign_in_again(&mut elsewhere, &prompt_login(RP)).await;
    let back = sent_from(&mut elsewhere, &rd).await;
    assert_eq!(
        outcome(&elsewhere, &again, &back).await,
        "sent to sign in",
        "another browser"
    );

    // A marker minted without any session (a bare client anyone runs), for the very request a
    // signed-in browser will make later: it counts for nothing there.
    let request = prompt_login(RP);
    let mut bare = Browser::new(&env.stack.app);
    let (_, minted) = sent_to_sign_in_again(&mut bare, &request).await;
    let mut victim = sign_in(&env.stack, DIRECTOR).await;
    let moved = with_marker(&victim, &request, &minted);
    let back = sent_from(&mut victim, &moved).await;
    assert_eq!(
        outcome(&victim, &request, &back).await,
        "sent to sign in",
        "a marker minted without a session"
    );

    // Its own request, in its own browser, still counts: none of the above spent it.
    let back = sent_from(&mut browser, &rd).await;
    assert_eq!(outcome(&browser, &again, &back).await, "a code");
}

#[tokio::test]
async fn a_sign_in_again_expires_and_the_id_token_tells_the_new_logins_time() {
    let clock = kepgate::clock::ManualClock::new(crate::diia_stack::now());
    let env = spawn_op_clocked(&clock, |s| {
        s.oidc.reauthentication_ttl = Duration::from_secs(120);
    })
    .await;
    let mut browser = sign_in(&env.stack, DIRECTOR).await;
    // The test's clock stands still between its moves: the login happened at its time.
    let seconds = || kepgate::clock::Clock::now(&clock).unix_timestamp();
    let first_login = seconds();
    let request = AuthRequest::new(RP);
    let back = authorize(&mut browser, &request).await;
    assert_eq!(auth_time_of(&browser, &request, &back).await, first_login);

    // prompt=login, a new login, then the return only after the marker's life (120 s).
    clock.advance(time::Duration::seconds(30));
    let again = prompt_login(RP);
    let (rd, _) = sent_to_sign_in_again(&mut browser, &again).await;
    sign_in_as(&env.stack, &mut browser, DIRECTOR).await;
    clock.advance(time::Duration::seconds(121));
    let back = sent_from(&mut browser, &rd).await;
    assert_eq!(
        outcome(&browser, &again, &back).await,
        "sent to sign in",
        "an expired marker"
    );

    // In time: a code, and its ID token's auth_time is the new login's, not the first one's.
    clock.advance(time::Duration::seconds(60));
    let again = prompt_login(RP);
    let (rd, _) = sent_to_sign_in_again(&mut browser, &again).await;
    clock.advance(time::Duration::seconds(30));
    sign_in_as(&env.stack, &mut browser, DIRECTOR).await;
    let second_login = seconds();
    clock.advance(time::Duration::seconds(30));
    let back = sent_from(&mut browser, &rd).await;
    let auth_time = auth_time_of(&browser, &again, &back).await;
    assert_eq!(auth_time, second_login, "the new login's time");
    assert!(auth_time >= first_login + 240);
}

// ---------- one code exchanged twice at once ----------

/// docs/oidc.md: a replayed code revokes the access token the first exchange got. Two
/// exchanges at the same moment: whichever wins, once both have answered its token opens
/// nothing.
#[tokio::test]
async fn two_exchanges_of_one_code_at_once_leave_no_usable_token() {
    let env = spawn_op(|_| {}).await;
    let mut browser = sign_in(&env.stack, DIRECTOR).await;
    let (mut winners, mut pairs) = (0, 0);
    for _ in 0..40 {
        let request = AuthRequest::new(RP);
        let code = param(&authorize(&mut browser, &request).await, "code").unwrap();
        let (a, b) = tokio::join!(
            token(&browser, &request, &code, Some(RP_SECRET), false),
            token(&browser, &request, &code, Some(RP_SECRET), false),
        );
        pairs += 1;
        let mut granted = vec![];
        for answer in [a, b] {
            if answer.status() == 200 {
                let answer: Value = answer.json().await.unwrap();
                granted.push(answer["access_token"].as_str().unwrap().to_owned());
            } else {
                assert_eq!(error_of(answer).await, (400, "invalid_grant".to_owned()));
            }
        }
        assert!(granted.len() <= 1, "one code, one token at most");
        winners += granted.len();
        for access in granted {
            assert_eq!(
                userinfo(&browser, &access).await.status(),
                401,
                "pair {pairs}: the replayed code's token still opens userinfo"
            );
        }
    }
    eprintln!("{winners} of {pairs} pairs issued a token before the replay revoked it");
}

// ---------- the identity assertion and the ID token never pass for each other ----------

/// A cabinet that checks the assertion as docs/forward-auth.md says refuses an ID token of
/// kepgate's, although it is signed with the same ES256 key (a client that asked for ES256),
/// is addressed to the cabinet's audience and names an issuer the cabinet takes.
#[tokio::test]
async fn an_id_token_is_no_identity_assertion_and_an_assertion_no_id_token() {
    use kepgate_emulator::sample_cabinet::{CabinetArgs, SampleCabinet};
    let env = spawn_op(|s| {
        s.oidc
            .clients
            .get_mut(RP)
            .unwrap()
            .id_token_signed_response_alg = kepgate::config::SigningAlg::Es256;
    })
    .await;
    let request = AuthRequest::new(RP);
    let (mut browser, code) = code_for(&env, DIRECTOR, &request).await;
    let answer: Value = tokens(&browser, &request, &code, Some(RP_SECRET), false).await;
    let id_token = answer["id_token"].as_str().unwrap().to_owned();
    verified_id_token_with(&browser, &id_token, RP, Algorithm::ES256).await;

    // A cabinet whose audience happens to be the client's id, reached directly.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cabinet = format!("http://{}", listener.local_addr().unwrap());
    let app = SampleCabinet::build_on(
        CabinetArgs {
            listen: listener.local_addr().unwrap(),
            jwks_url: Some(browser.url(&browser.own("/jwks.json")).parse().unwrap()),
            audience: RP.to_owned(),
            issuer: Some(browser.base.clone()),
            ca_file: None,
            gateway_url: None,
        },
        listener,
    )
    .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    let seen: Value = browser
        .http
        .get(format!("{cabinet}/echo"))
        .header("x-kepgate-assertion", &id_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["assertion_verified"], false, "{seen}");
    assert!(
        seen["assertion_error"].as_str().unwrap().contains("typ"),
        "{seen}"
    );
    let _ = stop.send(());

    // The assertion the cabinet gets through the gateway, as an id_token_hint: nothing ends.
    let through: Value = crate::proxy::echo(&mut browser, "/echo", &[]).await;
    assert_eq!(through["assertion_verified"], true, "{through}");
    let assertion = through["headers"]["x-kepgate-assertion"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(assertion).unwrap();
    assert_eq!(header.typ.as_deref(), Some("kepgate-assertion+jwt"));
    let logout = format!("{}?id_token_hint={assertion}", browser.own("/oidc/logout"));
    let answer = browser.get(&logout).await;
    assert_eq!(answer.headers()["location"], browser.own("/me").as_str());
    assert_eq!(
        browser.get(&browser.own("/me")).await.status(),
        200,
        "still signed in"
    );
}

/// Every client gets ID tokens signed its way: RS256 unless it asked for ES256, each verified
/// with the key of its `kid` in the published JWKS.
#[tokio::test]
async fn each_client_gets_id_tokens_with_the_algorithm_it_registered() {
    let env = spawn_op(|s| {
        s.oidc
            .clients
            .get_mut(SPA)
            .unwrap()
            .id_token_signed_response_alg = kepgate::config::SigningAlg::Es256;
    })
    .await;
    let mut kids = vec![];
    for (client, algorithm) in [(RP, Algorithm::RS256), (SPA, Algorithm::ES256)] {
        let request = AuthRequest::new(client);
        let (browser, code) = code_for(&env, PERSON, &request).await;
        let secret = (client == RP).then_some(RP_SECRET);
        let answer: Value = tokens(&browser, &request, &code, secret, false).await;
        let id_token = answer["id_token"].as_str().unwrap();
        let claims = verified_id_token_with(&browser, id_token, client, algorithm).await;
        assert_eq!(claims["nonce"], request.nonce.as_str());
        kids.push(jsonwebtoken::decode_header(id_token).unwrap().kid.unwrap());
    }
    assert_ne!(kids[0], kids[1], "a key per algorithm");
}

/// An assertion's audience is its route's name, an ID token's its client's id: a client named
/// like a route is refused by `check-config` (so by `serve`) and by `oidc client add`.
#[test]
fn an_oidc_client_may_not_share_a_routes_name() {
    let dir = std::env::temp_dir().join(format!("kepgate-oidc-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("kepgate.toml");
    let routes = "[server]\nbase_url = \"https://kep.example.ua/\"\n\
                  [routes.cabinet]\nprefix = \"/\"\nupstream = \"http://127.0.0.1:3000/\"\n\
                  [oidc]\nenabled = true\n";
    let run = |args: &[&str], text: &str| {
        std::fs::write(&config, text).unwrap();
        let out = crate::helpers::kepgate_bin()
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        (
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let client = "redirect_uris = [\"https://app.example.ua/cb\"]\n";
    let (status, stderr) = run(
        &["check-config"],
        &format!("{routes}[oidc.clients.cabinet]\n{client}"),
    );
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("oidc.clients.cabinet"), "{stderr}");
    assert!(stderr.contains("a route is named \"cabinet\""), "{stderr}");
    let (status, stderr) = run(
        &["check-config"],
        &format!("{routes}[oidc.clients.app]\n{client}"),
    );
    assert!(status.success(), "another id is fine: {stderr}");

    let add = [
        "oidc",
        "client",
        "add",
        "cabinet",
        "--redirect-uri",
        "https://app.example.ua/cb",
    ];
    let (status, stderr) = run(&add, routes);
    assert!(!status.success());
    assert!(stderr.contains("a route is named \"cabinet\""), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
