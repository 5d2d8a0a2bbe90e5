//! `GET|POST {prefix}/oidc/authorize`: a person without a (fresh enough) session signs in with
//! kepgate's own login and comes back here; then a single-use code goes to the client's
//! registered redirect URI.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use time::OffsetDateTime;

use super::context::OidcContext;
use super::reauthentication::{self, BrowserNonce};
use super::request::{AuthorizeError, AuthorizeParams, AuthorizeRequest, Prompt};
use super::store::{self, NewCode};
use crate::http::cookies::{self, CookieKind};
use crate::http::error::AppError;
use crate::http::pages::{header_value, see_other_no_store};
use crate::http::signed_in::MaybeSession;
use crate::return_path::ReturnPath;
use crate::session::{Authentication, Session};

pub async fn authorize_get(
    State(oidc): State<OidcContext>,
    MaybeSession(auth): MaybeSession,
    headers: HeaderMap,
    Query(params): Query<AuthorizeParams>,
) -> Result<Response, AppError> {
    authorize(&oidc, auth, &headers, &params).await
}

pub async fn authorize_post(
    State(oidc): State<OidcContext>,
    MaybeSession(auth): MaybeSession,
    headers: HeaderMap,
    axum::Form(params): axum::Form<AuthorizeParams>,
) -> Result<Response, AppError> {
    authorize(&oidc, auth, &headers, &params).await
}

/// HEAD makes nothing: a code, a re-authentication cookie or a marker only for a GET or a POST.
pub async fn authorize_head() -> AppError {
    AppError::MethodNotAllowed
}

async fn authorize(
    oidc: &OidcContext,
    auth: Authentication,
    headers: &HeaderMap,
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
    let session = match auth {
        Authentication::Authenticated(session) => {
            let counts = !needs_login(&request, &session, now)
                || signed_in_again(oidc, &request, headers, &session, now).await?;
            counts.then_some(session)
        }
        Authentication::Expired | Authentication::None => None,
    };
    let Some(session) = session else {
        if request.prompt == Prompt::None {
            return to_client(
                &request.redirect_uri,
                &[
                    ("error", "login_required"),
                    ("error_description", "the person is not signed in"),
                ],
                request.state.as_deref(),
            );
        }
        return to_login(oidc, params, &request, headers, now);
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
    issue_code(oidc, &request, &session, now).await
}

/// A single-use code for the session, sent to the client's redirect URI.
async fn issue_code(
    oidc: &OidcContext,
    request: &AuthorizeRequest<'_>,
    session: &Session,
    now: OffsetDateTime,
) -> Result<Response, AppError> {
    let code = store::random_value()?;
    let sid = store::random_value()?;
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
            // The session's start: after a `prompt=login`, the new login's.
            auth_time: session.created_at,
            now,
            expires_at: now + ttl,
            sid: &sid,
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

/// The session is not enough by itself: `prompt=login`, or older than `max_age`.
fn needs_login(request: &AuthorizeRequest<'_>, session: &Session, now: OffsetDateTime) -> bool {
    match request.prompt {
        Prompt::Login => true,
        _ => request
            .max_age
            .is_some_and(|max| (now - session.created_at).whole_seconds() > max),
    }
}

/// The request comes back with the marker kepgate sent this browser away with, for this very
/// request, unexpired, the session begun since, and this is the marker's one use.
async fn signed_in_again(
    oidc: &OidcContext,
    request: &AuthorizeRequest<'_>,
    headers: &HeaderMap,
    session: &Session,
    now: OffsetDateTime,
) -> Result<bool, AppError> {
    let (Some(marker), Some(browser)) = (
        request.reauthentication.as_deref(),
        browser_nonce(oidc, headers),
    ) else {
        return Ok(false);
    };
    let binding = reauthentication::request_binding(request);
    let Some(marked) = oidc
        .reauthentication_markers()?
        .check(marker, &binding, &browser, now)
    else {
        return Ok(false);
    };
    if session.created_at < marked.at {
        return Ok(false);
    }
    let spent = reauthentication::spend(&oidc.web.db, &marked, now).await?;
    if !spent {
        tracing::warn!(client = %request.client.id, "a re-authentication marker used again: sent to sign in again");
    }
    Ok(spent)
}

fn browser_nonce(oidc: &OidcContext, headers: &HeaderMap) -> Option<BrowserNonce> {
    cookies::get(
        headers,
        &oidc.web.settings.server,
        CookieKind::Reauthentication,
    )
    .and_then(|value| BrowserNonce::parse(&value))
}

/// To kepgate's login page, which comes back to this request. For `prompt=login` and
/// `max_age`, the request comes back with a marker of this moment, this request and this
/// browser (given a re-authentication cookie if it has none).
fn to_login(
    oidc: &OidcContext,
    params: &AuthorizeParams,
    request: &AuthorizeRequest<'_>,
    headers: &HeaderMap,
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
        ("response_mode", &params.response_mode),
    ] {
        if let Some(value) = value {
            back.append_pair(name, value);
        }
    }
    let mut set_cookie = None;
    if request.prompt == Prompt::Login || request.max_age.is_some() {
        let browser = match browser_nonce(oidc, headers) {
            Some(browser) => browser,
            None => {
                let fresh = BrowserNonce::fresh()?;
                set_cookie = Some(cookies::set(
                    server,
                    CookieKind::Reauthentication,
                    &fresh.value(),
                    None,
                ));
                fresh
            }
        };
        let marker = oidc.reauthentication_markers()?.mint(
            &reauthentication::request_binding(request),
            &browser,
            now,
        );
        back.append_pair("kepgate_reauth", &marker);
    }
    let return_path = format!("{}?{}", server.path("/oidc/authorize"), back.finish());
    // The login comes back to the request only by a return path it accepts (2,048 bytes once
    // encoded): a request too long for it is refused now, not lost after the person signs in.
    if ReturnPath::parse(&return_path).is_err() {
        return to_client(
            &request.redirect_uri,
            &[
                ("error", "invalid_request"),
                (
                    "error_description",
                    "the request is too long to come back to after signing in: shorten state or nonce",
                ),
            ],
            request.state.as_deref(),
        );
    }
    let login = format!(
        "{}?rd={}",
        server.path("/login"),
        url::form_urlencoded::byte_serialize(return_path.as_bytes()).collect::<String>()
    );
    let mut response = see_other_no_store(&login)?;
    if let Some(cookie) = set_cookie {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, header_value(&cookie)?);
    }
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
    see_other_no_store(url.as_str())
}
