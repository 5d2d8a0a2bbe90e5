//! Who asks the signing API: the signed-in browser (its session cookie, under the login API's
//! CSRF rules: a same-origin `Origin` or none, and a JSON body), the cabinet's backend with the
//! person's identity assertion as `Authorization: Bearer` (the assertion kepgate put on the
//! request the cabinet is answering), or an OpenID client with an access token granted the
//! `sign` scope. Every way ends in a live session: the signer must be its person.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use jsonwebtoken::{Algorithm, Validation};
use uuid::Uuid;

use super::api_error::ApiError;
use super::context::SigningContext;
use super::request::ReturnTo;
use super::store::StartedBy;
use crate::http::csrf;
use crate::oidc::{claims as oidc_claims, store as oidc_store};
use crate::proxy::assertion::{ASSERTION_TYP, AssertionClaims};
use crate::return_path::ReturnPath;
use crate::session::{Authentication, Session, SessionKey, find_uncached};

pub struct Requester {
    pub session: Arc<Session>,
    pub by: StartedBy,
    /// The result's `aud`: the assertion's (the cabinet route) or the OpenID client's id;
    /// `None` for the browser.
    pub audience: Option<String>,
    /// The `sub` the caller knows the person by (an OpenID client's may be pairwise).
    pub subject: String,
    /// An OpenID client's redirect URIs' origins: where its `return_to` may lead.
    client_origins: Vec<url::Origin>,
}

impl Requester {
    /// `return_to` as this caller may give it: a path on this site, or for an OpenID client an
    /// address on the origin of one of its redirect URIs.
    pub fn return_to(&self, text: &str) -> Option<ReturnTo> {
        if let Ok(path) = ReturnPath::parse(text) {
            return Some(ReturnTo::Cabinet(path));
        }
        let url = url::Url::parse(text).ok()?;
        (self.client_origins.contains(&url.origin()) && url.fragment().is_none())
            .then_some(ReturnTo::Client(url))
    }
}

impl<S> FromRequestParts<S> for Requester
where
    SigningContext: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = SigningContext::from_ref(state);
        let Some(value) = parts.headers.get(AUTHORIZATION) else {
            return by_cookie(&state, parts).await;
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| unauthenticated("Authorization is not Bearer <token>"))?;
        // The assertion is a JWS; an access token is an opaque random string.
        if token.split('.').count() == 3 {
            by_assertion(&state, token).await
        } else {
            by_access_token(&state, token).await
        }
    }
}

/// The scope an OpenID client's access token needs here (`crate::config::SCOPES`).
const SIGN_SCOPE: &str = "sign";

fn unauthenticated(message: &str) -> ApiError {
    ApiError::refused(StatusCode::UNAUTHORIZED, "unauthenticated", message)
}

async fn by_assertion(state: &SigningContext, token: &str) -> Result<Requester, ApiError> {
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[&state.issuer]);
    // Any route's assertion of the session will do: the aud is echoed in the result.
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    let claims: AssertionClaims = state
        .key
        .verify(token, ASSERTION_TYP, &validation)
        .map_err(|e| {
            tracing::info!(error = %e, "signing API: assertion refused");
            unauthenticated("the assertion is not kepgate's, or has expired")
        })?;
    let sid = Uuid::parse_str(&claims.sid)
        .map_err(|_| unauthenticated("the assertion names no session"))?;
    let now = state.web.clock.now();
    let session = find_uncached(&state.web.db, SessionKey::Id(sid), now)
        .await?
        .filter(|s| s.subject() == claims.sub)
        .ok_or_else(|| {
            ApiError::refused(
                StatusCode::UNAUTHORIZED,
                "session_ended",
                "the assertion's session has ended",
            )
        })?;
    Ok(Requester {
        subject: session.subject(),
        session: Arc::new(session),
        by: StartedBy::Cabinet,
        audience: Some(claims.aud),
        client_origins: Vec::new(),
    })
}

/// An OpenID client's access token: granted `sign`, of a client still registered for it, its
/// session live.
async fn by_access_token(state: &SigningContext, token: &str) -> Result<Requester, ApiError> {
    let refused = || unauthenticated("the access token is unknown, expired or not for signing");
    let oidc = state.oidc.as_ref().ok_or_else(refused)?;
    let now = state.web.clock.now();
    let granted = oidc_store::find_access_token(&state.web.db, token, now)
        .await?
        .filter(|g| g.scope.split(' ').any(|s| s == SIGN_SCOPE))
        .ok_or_else(refused)?;
    let client = oidc
        .clients
        .get(&granted.client_id)
        .filter(|c| c.scopes.iter().any(|s| s == SIGN_SCOPE))
        .ok_or_else(refused)?;
    let session = find_uncached(&state.web.db, SessionKey::Id(granted.session_id), now)
        .await?
        .ok_or_else(|| {
            ApiError::refused(
                StatusCode::UNAUTHORIZED,
                "session_ended",
                "the access token's session has ended",
            )
        })?;
    Ok(Requester {
        subject: oidc_claims::subject(&session, client, &oidc.pairwise_key),
        session: Arc::new(session),
        by: StartedBy::OidcClient(client.id.clone()),
        audience: Some(client.id.clone()),
        client_origins: client.redirect_origins(),
    })
}

async fn by_cookie(state: &SigningContext, parts: &Parts) -> Result<Requester, ApiError> {
    if parts.method != Method::GET {
        let json = parts
            .headers
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if !json || !csrf::origin_allowed(&parts.headers, &state.web.settings.server) {
            return Err(ApiError::refused(
                StatusCode::FORBIDDEN,
                "forbidden",
                "a browser's request must be same-origin JSON",
            ));
        }
    }
    match state.web.authenticate(&parts.headers).await? {
        Authentication::Authenticated(session) => Ok(Requester {
            subject: session.subject(),
            session,
            by: StartedBy::Browser,
            audience: None,
            client_origins: Vec::new(),
        }),
        Authentication::Expired => Err(ApiError::refused(
            StatusCode::UNAUTHORIZED,
            "session_ended",
            "the session has ended",
        )),
        Authentication::None => Err(unauthenticated("sign in first")),
    }
}
