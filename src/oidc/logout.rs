//! `GET|POST {prefix}/oidc/logout`: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
//! The application proves which session it means with `id_token_hint`; kepgate ends that session
//! and sends the browser to the application's registered `post_logout_redirect_uri`. A request
//! that proves nothing ends nothing (a link on any site could otherwise sign people out): the
//! person lands on «Мої сеанси», where they can sign out themselves.

use axum::extract::{Query, State};
use axum::response::Response;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::context::OidcContext;
use super::store;
use crate::http::error::AppError;
use crate::http::pages::{header_value, see_other_no_store, signed_out};
use crate::http::session_cookie::SessionCookie;
use crate::session::{self, EndedBy, SessionKey, Whom};

#[derive(Debug, Default, Deserialize)]
pub struct LogoutParams {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    client_id: Option<String>,
    state: Option<String>,
}

#[derive(Deserialize)]
struct HintClaims {
    aud: String,
    sid: String,
}

pub async fn logout_get(
    State(oidc): State<OidcContext>,
    cookie: SessionCookie,
    Query(params): Query<LogoutParams>,
) -> Result<Response, AppError> {
    logout(&oidc, &cookie, &params).await
}

pub async fn logout_post(
    State(oidc): State<OidcContext>,
    cookie: SessionCookie,
    axum::Form(params): axum::Form<LogoutParams>,
) -> Result<Response, AppError> {
    logout(&oidc, &cookie, &params).await
}

async fn logout(
    oidc: &OidcContext,
    cookie: &SessionCookie,
    params: &LogoutParams,
) -> Result<Response, AppError> {
    let server = &oidc.web.settings.server;
    // An ID token kepgate issued, perhaps expired: it names the client and the session.
    let hint = params.id_token_hint.as_deref().and_then(|token| {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.algorithms = vec![Algorithm::ES256, Algorithm::RS256];
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_issuer(&[&oidc.issuer]);
        oidc.key
            .verify::<HintClaims>(token, super::token::ID_TOKEN_TYP, &validation)
            .ok()
    });
    let client_id = hint
        .as_ref()
        .map(|h| h.aud.as_str())
        .or(params.client_id.as_deref());
    let client = client_id.and_then(|id| oidc.clients.get(id));
    let Some(token) = cookie.token() else {
        // Nobody signed in here: nothing to end.
        return after_logout(oidc, client, params);
    };
    // Uncached, and not `authenticate`: looking is no activity (it would extend the idle
    // timeout), and whether to end a session is not decided on a copy behind its end.
    let now = oidc.web.clock.now();
    let session = session::find_uncached(&oidc.web.db, SessionKey::Token(token), now).await?;
    // The hint's `sid` is the one its client knows this session by (each client its own).
    let proven = match (&hint, &session) {
        (Some(h), Some(s)) => {
            store::client_sid(&oidc.web.db, s.id, &h.aud)
                .await?
                .as_deref()
                == Some(h.sid.as_str())
        }
        _ => false,
    };
    if session.is_some() && !proven {
        tracing::info!(
            "RP-initiated logout without a matching id_token_hint: sent to «Мої сеанси»"
        );
        return see_other_no_store(&server.path("/me"));
    }
    oidc.web
        .sessions
        .end(Whom::Token(token), EndedBy::Logout)
        .await?;
    let mut response = after_logout(oidc, client, params)?;
    response.headers_mut().append(
        axum::http::header::SET_COOKIE,
        header_value(&SessionCookie::clear(server))?,
    );
    Ok(response)
}

/// To the client's registered `post_logout_redirect_uri` (with `state`), or kepgate's own
/// "you have signed out".
fn after_logout(
    oidc: &OidcContext,
    client: Option<&super::clients::OidcClient>,
    params: &LogoutParams,
) -> Result<Response, AppError> {
    let registered = params
        .post_logout_redirect_uri
        .as_deref()
        .filter(|uri| client.is_some_and(|c| c.post_logout_redirect_uri_allowed(uri)));
    let Some(uri) = registered else {
        return signed_out(&oidc.web.settings.server);
    };
    let mut url = url::Url::parse(uri).map_err(anyhow::Error::new)?;
    if let Some(state) = &params.state {
        url.query_pairs_mut().append_pair("state", state);
    }
    see_other_no_store(url.as_str())
}
