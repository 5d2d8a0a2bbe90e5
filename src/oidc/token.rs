//! `POST {prefix}/oidc/token`: a code for an ID token and an access token (RFC 6749 §4.1.3,
//! OpenID Connect Core §3.1.3), once, by the client it was issued to, at the redirect URI it was
//! issued for, with the PKCE verifier of its challenge.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::header::{ALLOW, CACHE_CONTROL, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::claims;
use super::clients::OidcClient;
use super::context::OidcContext;
use super::store::{self, IssuedCode, NewAccessToken, Spent};
use crate::http::error::AppError;
use crate::session::{self, Session, SessionKey};

/// The JWS `typ` of an ID token (the identity assertion's differs: neither passes for the other).
pub const ID_TOKEN_TYP: &str = "JWT";

#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    code_verifier: Option<String>,
}

/// An error as RFC 6749 §5.2 shapes it.
struct TokenError {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
    /// The client authenticated with HTTP Basic: a 401 says so (`WWW-Authenticate`).
    basic: bool,
}

fn refused(error: &'static str, description: &'static str) -> TokenError {
    TokenError {
        status: StatusCode::BAD_REQUEST,
        error,
        description,
        basic: false,
    }
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response();
        if self.basic && self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"kepgate\""),
            );
        }
        no_cache(&mut response);
        response
    }
}

fn no_cache(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
}

/// Every answer is JSON (RFC 6749 §5.2), also for a body that is no form, a parameter sent
/// twice (§3.2), or a failure of kepgate's own: a client reads `error`, never a page.
pub async fn token(
    State(oidc): State<OidcContext>,
    headers: HeaderMap,
    form: Result<axum::Form<TokenForm>, FormRejection>,
) -> Response {
    let outcome = match form {
        Ok(axum::Form(form)) => exchange(&oidc, &headers, &form).await,
        Err(rejection) => Ok(Err(refused(
            "invalid_request",
            match rejection {
                FormRejection::InvalidFormContentType(_) => {
                    "the body must be application/x-www-form-urlencoded"
                }
                _ => "the form could not be read (a parameter sent twice?)",
            },
        ))),
    };
    match outcome {
        Ok(Ok(answer)) => {
            let mut response = Json(answer).into_response();
            no_cache(&mut response);
            response
        }
        Ok(Err(e)) => {
            metrics::counter!("kepgate_oidc_token_refusals_total", "error" => e.error).increment(1);
            e.into_response()
        }
        Err(e) => failed(e),
    }
}

/// Any method but POST.
pub async fn wrong_method() -> Response {
    let mut response = TokenError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        error: "invalid_request",
        description: "the token endpoint takes POST only",
        basic: false,
    }
    .into_response();
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("POST"));
    response
}

/// kepgate's own failure (logged by `AppError`), said as JSON: `temporarily_unavailable` while
/// the database is away, `server_error` otherwise (the authorization endpoint's codes, §4.1.2.1).
fn failed(error: AppError) -> Response {
    let logged = error.into_response();
    let status = logged.status();
    let code = if status == StatusCode::SERVICE_UNAVAILABLE {
        "temporarily_unavailable"
    } else {
        "server_error"
    };
    let mut response = (status, Json(json!({ "error": code }))).into_response();
    if let Some(retry) = logged.headers().get(RETRY_AFTER) {
        response.headers_mut().insert(RETRY_AFTER, retry.clone());
    }
    no_cache(&mut response);
    response
}

async fn exchange(
    oidc: &OidcContext,
    headers: &HeaderMap,
    form: &TokenForm,
) -> Result<Result<Value, TokenError>, AppError> {
    let (client, code) = match well_formed(oidc, headers, form) {
        Ok(request) => request,
        Err(e) => return Ok(Err(e)),
    };
    let now = oidc.web.clock.now();
    let invalid_grant = |description| Ok(Err(refused("invalid_grant", description)));
    let (issued, session, sid) = match redeem(oidc, client, form, code, now).await? {
        Ok(redeemed) => redeemed,
        Err(description) => return invalid_grant(description),
    };
    let ttl =
        time::Duration::try_from(oidc.web.settings.oidc.token_ttl).map_err(anyhow::Error::new)?;
    let access_token = store::random_value()?;
    let stored = store::insert_access_token(
        &oidc.web.db,
        &NewAccessToken {
            token: &access_token,
            code,
            client_id: &client.id,
            session_id: session.id,
            scope: &issued.scope,
            expires_at: now + ttl,
        },
    )
    .await?;
    if !stored {
        tracing::warn!(client = %client.id, "an authorization code replayed during its exchange: no tokens issued");
        return invalid_grant("the code was already used");
    }
    let issuing = Issuing {
        client,
        session: &session,
        sid: &sid,
        access_token: &access_token,
        now,
        ttl,
    };
    let id_token = id_token(oidc, &issuing, &issued)?;
    metrics::counter!("kepgate_oidc_tokens_issued_total", "client" => client.id.clone())
        .increment(1);
    Ok(Ok(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl.whole_seconds(),
        "id_token": id_token,
        "scope": issued.scope,
    })))
}

/// The request before any code is looked at: the client authenticated, the grant type
/// supported, a code present and the verifier well formed.
fn well_formed<'a>(
    oidc: &'a OidcContext,
    headers: &HeaderMap,
    form: &'a TokenForm,
) -> Result<(&'a OidcClient, &'a str), TokenError> {
    let client = authenticate(oidc, headers, form)?;
    if form.grant_type.as_deref() != Some("authorization_code") {
        return Err(refused(
            "unsupported_grant_type",
            "only authorization_code is supported",
        ));
    }
    let Some(code) = form.code.as_deref() else {
        return Err(refused("invalid_request", "no code"));
    };
    // RFC 7636 §4.1: checked before the code is even looked at.
    if form
        .code_verifier
        .as_deref()
        .is_some_and(|v| !is_code_verifier(v))
    {
        return Err(refused(
            "invalid_request",
            "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
        ));
    }
    Ok((client, code))
}

/// The code spent, and the live session it was issued for with the `sid` its client knows it
/// by; the inner `Err` is the `invalid_grant` description.
async fn redeem(
    oidc: &OidcContext,
    client: &OidcClient,
    form: &TokenForm,
    code: &str,
    now: time::OffsetDateTime,
) -> Result<Result<(IssuedCode, Session, String), &'static str>, AppError> {
    // Every binding of the code is checked before it is spent: whoever holds a leaked code
    // without the client's secret, redirect URI and verifier cannot burn it for the client.
    let Some(issued) = store::find_code(&oidc.web.db, code, now).await? else {
        return Ok(Err("the code is unknown or expired"));
    };
    if let Err(description) = bindings_hold(&issued, client, form) {
        return Ok(Err(description));
    }
    match store::spend_code(&oidc.web.db, code, now).await? {
        Spent::Fresh => {}
        Spent::Replayed => {
            tracing::warn!(client = %client.id, "an authorization code used twice: its tokens are revoked");
            return Ok(Err("the code was already used"));
        }
        Spent::Unknown => return Ok(Err("the code is unknown or expired")),
    }
    // Uncached: the cache is keyed by the browser's cookie, which this request (the client's
    // back end) does not carry, and a code must not outlive its session's end on any replica.
    let key = SessionKey::Id(issued.session_id);
    let Some(session) = session::find_uncached(&oidc.web.db, key, now).await? else {
        return Ok(Err("the person's session has ended"));
    };
    // Stored with the code: gone only with the session.
    let Some(sid) = store::client_sid(&oidc.web.db, session.id, &client.id).await? else {
        return Ok(Err("the person's session has ended"));
    };
    Ok(Ok((issued, session, sid)))
}

/// What an ID token is issued for and with.
struct Issuing<'a> {
    client: &'a OidcClient,
    session: &'a Session,
    sid: &'a str,
    access_token: &'a str,
    now: time::OffsetDateTime,
    ttl: time::Duration,
}

/// The ID token: the scope's claims, the protocol's, signed as the client registered.
fn id_token(
    oidc: &OidcContext,
    issuing: &Issuing<'_>,
    issued: &IssuedCode,
) -> Result<String, AppError> {
    let Issuing {
        client,
        session,
        sid,
        access_token,
        now,
        ttl,
    } = *issuing;
    let mut id_token = claims::scoped(session, &issued.scope);
    for (name, value) in [
        ("iss", json!(oidc.issuer)),
        (
            "sub",
            json!(claims::subject(session, client, &oidc.pairwise_key)),
        ),
        ("aud", json!(client.id)),
        ("iat", json!(now.unix_timestamp())),
        ("exp", json!((now + ttl).unix_timestamp())),
        ("auth_time", json!(issued.auth_time.unix_timestamp())),
        ("amr", json!(claims::amr(session))),
        ("acr", json!(claims::acr(session))),
        ("sid", json!(sid)),
        ("at_hash", json!(half_hash(access_token))),
    ] {
        id_token.insert(name.to_owned(), value);
    }
    if let Some(nonce) = &issued.nonce {
        id_token.insert("nonce".to_owned(), json!(nonce));
    }
    Ok(oidc
        .key
        .sign(client.id_token_alg, ID_TOKEN_TYP, &id_token)?)
}

/// RFC 7636 §4.1: `code-verifier = 43*128unreserved`.
fn is_code_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The code was issued to this client, for this redirect URI, with this verifier's challenge.
fn bindings_hold(
    issued: &IssuedCode,
    client: &OidcClient,
    form: &TokenForm,
) -> Result<(), &'static str> {
    if issued.client_id != client.id {
        return Err("the code was issued to another client");
    }
    if form.redirect_uri.as_deref() != Some(issued.redirect_uri.as_str()) {
        return Err("redirect_uri differs from the authorization request's");
    }
    match (&issued.code_challenge, form.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) => {
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if !bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
                return Err("the code_verifier does not match the code_challenge");
            }
            Ok(())
        }
        (Some(_), None) => Err("the code_verifier is missing"),
        // RFC 9700 §2.1.1: a verifier for a code without a challenge is a downgrade attempt.
        (None, Some(_)) => Err("the code was issued without a code_challenge"),
        (None, None) => Ok(()),
    }
}

/// `client_secret_basic`, `client_secret_post`, or a public client by its id alone (PKCE then
/// stands in for the secret). Two ways at once, or none, is refused (RFC 6749 §2.3).
fn authenticate<'c>(
    oidc: &'c OidcContext,
    headers: &HeaderMap,
    form: &TokenForm,
) -> Result<&'c OidcClient, TokenError> {
    let basic = super::authorization_header::credentials(headers, "Basic");
    let invalid = |basic: bool| TokenError {
        status: StatusCode::UNAUTHORIZED,
        error: "invalid_client",
        description: "client authentication failed",
        basic,
    };
    let (id, secret, by_basic) = match (basic, &form.client_secret) {
        (Some(_), Some(_)) => {
            return Err(refused(
                "invalid_request",
                "the client authenticated in two ways at once",
            ));
        }
        (Some(encoded), None) => {
            let (id, secret) = basic_credentials(encoded).ok_or_else(|| invalid(true))?;
            if form
                .client_id
                .as_ref()
                .is_some_and(|body_id| *body_id != id)
            {
                return Err(invalid(true));
            }
            (id, Some(secret), true)
        }
        (None, secret) => (
            form.client_id.clone().ok_or_else(|| invalid(false))?,
            secret.clone(),
            false,
        ),
    };
    let client = oidc.clients.get(&id).ok_or_else(|| invalid(by_basic))?;
    let authenticated = match secret {
        Some(secret) => client.secret_matches(&secret),
        None => client.is_public(),
    };
    if authenticated {
        Ok(client)
    } else {
        tracing::warn!(client = %id, "OpenID client authentication failed");
        Err(invalid(by_basic))
    }
}

/// RFC 6749 §2.3.1: base64 of `urlencoded(id):urlencoded(secret)`.
fn basic_credentials(encoded: &str) -> Option<(String, String)> {
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let plain = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((plain(id)?, plain(secret)?))
}

/// `at_hash`: base64url of the left half of the access token's SHA-256 (Core §3.1.3.6: the
/// hash of both RS256 and ES256).
fn half_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(token.as_bytes())[..16])
}
