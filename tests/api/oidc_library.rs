//! The OpenID Provider through an independent client library, `openidconnect`: its discovery,
//! its JWKS handling and its ID token verification (signature, `iss`, `aud`, `exp`, `nonce`,
//! `at_hash`) against kepgate, RS256 as OpenID Connect expects of a client that registered no
//! algorithm (the library's own default, when discovery does not widen it), and the edge cases
//! as such a library reports them.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

use crate::browser::Browser;
use crate::oidc::{RP, RP_REDIRECT, RP_SECRET, param, spawn_op};
use crate::sign_in::{DIRECTOR, sign_in};

/// The library's HTTP, through reqwest: no redirects followed.
async fn http(
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, reqwest::Error> {
    let client = crate::helpers::client();
    let (parts, body) = request.into_parts();
    let mut call = client
        .request(parts.method, parts.uri.to_string())
        .body(body);
    for (name, value) in &parts.headers {
        call = call.header(name, value);
    }
    let response = call.send().await?;
    let mut answer = openidconnect::HttpResponse::new(Vec::new());
    *answer.status_mut() = response.status();
    *answer.headers_mut() = response.headers().clone();
    *answer.body_mut() = response.bytes().await?.to_vec();
    Ok(answer)
}

#[tokio::test]
async fn an_independent_client_library_verifies_kepgates_tokens_and_sees_its_refusals() {
    let env = spawn_op(|_| {}).await;
    let issuer = IssuerUrl::new(env.stack.app.address.clone()).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .expect("discovery and JWKS as the library reads them");
    let client = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(RP.to_owned()),
        Some(ClientSecret::new(RP_SECRET.to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(RP_REDIRECT.to_owned()).unwrap());
    let mut browser = sign_in(&env.stack, DIRECTOR).await;

    // The whole round trip.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".to_owned()))
        .add_scope(Scope::new("kep".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    let back = follow(&mut browser, url.as_str()).await;
    assert_eq!(
        param(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let code = param(&back, "code").unwrap();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("the token answer as the library reads it");
    let id_token = tokens.id_token().expect("an ID token");
    // RS256 alone, the library's own default before discovery widens it.
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]);
    assert_eq!(
        id_token.signing_alg().unwrap(),
        &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256
    );
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("signature, iss, aud, exp and nonce hold");
    assert_eq!(claims.subject().as_str(), "rnokpp:2654321099");
    let name = claims.name().and_then(|n| n.get(None)).unwrap();
    assert_eq!(name.as_str(), "Коваленко Олена Петрівна");
    assert!(claims.auth_time().is_some());
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    let info: openidconnect::core::CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo for the same subject");
    assert_eq!(info.subject(), claims.subject());

    // Another nonce, another audience: the library refuses the same token.
    assert!(
        id_token
            .claims(&verifier, &Nonce::new("another".into()))
            .is_err()
    );
    let stranger = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new("someone-else".to_owned()),
        None,
    );
    let stranger_verifier = stranger
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]);
    assert!(id_token.claims(&stranger_verifier, &nonce).is_err());

    // The code again: refused.
    let replay = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&http)
        .await;
    assert!(replay.is_err(), "a used code");

    // A wrong PKCE verifier, a missing one, a wrong secret: refused.
    for case in ["wrong verifier", "no verifier", "wrong secret"] {
        let (challenge, _) = PkceCodeChallenge::new_random_sha256();
        let (url, _, _) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .url();
        let code = param(&follow(&mut browser, url.as_str()).await, "code").unwrap();
        let exchanging = match case {
            "wrong secret" => CoreClient::from_provider_metadata(
                metadata.clone(),
                ClientId::new(RP.to_owned()),
                Some(ClientSecret::new("not-the-secret".to_owned())),
            )
            .set_redirect_uri(RedirectUrl::new(RP_REDIRECT.to_owned()).unwrap()),
            _ => client.clone(),
        };
        let mut request = exchanging
            .exchange_code(AuthorizationCode::new(code))
            .unwrap();
        if case == "wrong verifier" {
            let (_, other) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_verifier(other);
        }
        assert!(request.request_async(&http).await.is_err(), "{case}");
    }
}

/// A client that registered ES256 gets ES256 ID tokens, which the library verifies with the
/// EC key of the same JWKS (and refuses where it expects RS256 only).
#[tokio::test]
async fn an_independent_client_library_verifies_an_es256_client_s_tokens() {
    let env = spawn_op(|s| {
        s.oidc
            .clients
            .get_mut(RP)
            .unwrap()
            .id_token_signed_response_alg = kepgate::config::SigningAlg::Es256;
    })
    .await;
    let issuer = IssuerUrl::new(env.stack.app.address.clone()).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(RP.to_owned()),
        Some(ClientSecret::new(RP_SECRET.to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(RP_REDIRECT.to_owned()).unwrap());
    let mut browser = sign_in(&env.stack, DIRECTOR).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let code = param(&follow(&mut browser, url.as_str()).await, "code").unwrap();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().unwrap();
    let rs256_only = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]);
    assert!(id_token.claims(&rs256_only, &nonce).is_err());
    let es256 = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let claims = id_token.claims(&es256, &nonce).unwrap();
    assert_eq!(claims.subject().as_str(), "rnokpp:2654321099");
}

/// The browser at an authorization URL: where kepgate sends it (the client's redirect URI).
async fn follow(browser: &mut Browser, url: &str) -> url::Url {
    let response = browser.get(url).await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    response.headers()["location"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}
