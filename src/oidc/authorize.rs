//! `GET|POST {prefix}/oidc/authorize`: a person without a (fresh enough) session signs in with
//! kepgate's own login and comes back here; then a single-use code goes to the client's
//! registered redirect URI.

use axum::extract::{Query, State};
use axum::response::Response;
use time::OffsetDateTime;

use super::context::OidcContext;
use super::request::{AuthorizeError, AuthorizeParams, AuthorizeRequest, Prompt};
use super::store::{self, NewCode};
use crate::http::error::AppError;
use crate::http::pages::{no_store, see_other};
use crate::http::signed_in::MaybeSession;
use crate::session::{Authentication, Session};

pub async fn authorize_get(
    State(oidc): State<OidcContext>,
    MaybeSession(auth): MaybeSession,
    Query(params): Query<AuthorizeParams>,
) -> Result<Response, AppError> {
    authorize(&oidc, auth, &params).await
}

pub async fn authorize_post(
    State(oidc): State<OidcContext>,
    MaybeSession(auth): MaybeSession,
    axum::Form(params): axum::Form<AuthorizeParams>,
) -> Result<Response, AppError> {
    authorize(&oidc, auth, &params).await
}

async fn authorize(
    oidc: &OidcContext,
    auth: Authentication,
    params: &AuthorizeParams,
) -> Result<Response, AppError> {
    let request = match AuthorizeRequest::parse(params, &oidc.clients) {
        Ok(request) => request,
        Err(AuthorizeError::Page(text)) => return Err(AppError::BadRequest(text)),
        Err(AuthorizeError::Redirect {
            redirect_uri,
            state,
            error,
            description,
        }) => {
            return to_client(
                &redirect_uri,
                &[("error", error), ("error_description", &description)],
                state.as_deref(),
            );
        }
    };
    let now = oidc.web.clock.now();
    let auth_after = request
        .auth_after
        .as_deref()
        .and_then(|marked| checked_auth_after(oidc, marked));
    let session = match auth {
        Authentication::Authenticated(session)
            if !needs_login(&request, auth_after, &session, now) =>
        {
            session
        }
        _ if request.prompt == Prompt::None => {
            return to_client(
                &request.redirect_uri,
                &[
                    ("error", "login_required"),
                    ("error_description", "the person is not signed in"),
                ],
                request.state.as_deref(),
            );
        }
        _ => return to_login(oidc, params, &request, now),
    };
    if !session.admitted_by(&request.client.allow) {
        tracing::info!(client = %request.client.id, session = %session.id, "OpenID client refused by its policy");
        return to_client(
            &request.redirect_uri,
            &[
                ("error", "access_denied"),
                (
                    "error_description",
                    "this person may not sign in to this application",
                ),
            ],
            request.state.as_deref(),
        );
    }
    let code = store::random_value().map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let ttl =
        time::Duration::try_from(oidc.web.settings.oidc.code_ttl).map_err(anyhow::Error::new)?;
    store::insert_code(
        &oidc.web.db,
        &NewCode {
            code: &code,
            client_id: &request.client.id,
            redirect_uri: &request.redirect_uri,
            session_id: session.id,
            scope: &request.scope,
            nonce: request.nonce.as_deref(),
            code_challenge: request.code_challenge.as_deref(),
            auth_time: session.created_at,
            now,
            expires_at: now + ttl,
        },
    )
    .await?;
    metrics::counter!("kepgate_oidc_codes_issued_total", "client" => request.client.id.clone())
        .increment(1);
    to_client(
        &request.redirect_uri,
        &[("code", &code)],
        request.state.as_deref(),
    )
}

/// The person must sign in (again): no session, `prompt=login` not yet honoured, or the
/// session older than `max_age`.
fn needs_login(
    request: &AuthorizeRequest<'_>,
    auth_after: Option<i64>,
    session: &Session,
    now: OffsetDateTime,
) -> bool {
    let since_sent_away = auth_after.is_some_and(|after| unix_millis(session.created_at) >= after);
    let too_old = match request.prompt {
        Prompt::Login => true,
        _ => request
            .max_age
            .is_some_and(|max| (now - session.created_at).whole_seconds() > max),
    };
    too_old && !since_sent_away
}

/// `kepgate_auth_after`'s time, if kepgate wrote it.
fn checked_auth_after(oidc: &OidcContext, marked: &str) -> Option<i64> {
    let (time, tag) = marked.split_once('.')?;
    let expected = auth_after_tag(oidc, time);
    bool::from(subtle::ConstantTimeEq::ct_eq(
        tag.as_bytes(),
        expected.as_bytes(),
    ))
    .then(|| time.parse().ok())
    .flatten()
}

fn auth_after_tag(oidc: &OidcContext, time: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(oidc.key.derived_secret("oidc auth_after"));
    hash.update(time.as_bytes());
    crate::signing_key::hex(&hash.finalize()[..16])
}

/// To kepgate's login page, which comes back to this request. For `prompt=login` and
/// `max_age`, the request comes back marked with the moment it sent the person away, and only a
/// session from after it counts.
fn to_login(
    oidc: &OidcContext,
    params: &AuthorizeParams,
    request: &AuthorizeRequest<'_>,
    now: OffsetDateTime,
) -> Result<Response, AppError> {
    let server = &oidc.web.settings.server;
    let mut back = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("response_type", &params.response_type),
        ("client_id", &params.client_id),
        ("redirect_uri", &params.redirect_uri),
        ("scope", &params.scope),
        ("state", &params.state),
        ("nonce", &params.nonce),
        ("code_challenge", &params.code_challenge),
        ("code_challenge_method", &params.code_challenge_method),
        ("prompt", &params.prompt),
        ("max_age", &params.max_age),
    ] {
        if let Some(value) = value {
            back.append_pair(name, value);
        }
    }
    if request.prompt == Prompt::Login || request.max_age.is_some() {
        let time = unix_millis(now).to_string();
        let tag = auth_after_tag(oidc, &time);
        back.append_pair("kepgate_auth_after", &format!("{time}.{tag}"));
    }
    let return_path = format!("{}?{}", server.path("/oidc/authorize"), back.finish());
    let login = format!(
        "{}?rd={}",
        server.path("/login"),
        url::form_urlencoded::byte_serialize(return_path.as_bytes()).collect::<String>()
    );
    let mut response = see_other(&login)?;
    no_store(&mut response);
    Ok(response)
}

/// A 303 to the client's (registered) redirect URI with `pairs` and the `state` added.
fn to_client(
    redirect_uri: &str,
    pairs: &[(&str, &str)],
    state: Option<&str>,
) -> Result<Response, AppError> {
    let mut url = url::Url::parse(redirect_uri).map_err(anyhow::Error::new)?;
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
    }
    let mut response = see_other(url.as_str())?;
    no_store(&mut response);
    Ok(response)
}

/// Milliseconds: a session begun in the same second as the request that sent the person away
/// is still older than it.
fn unix_millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}
