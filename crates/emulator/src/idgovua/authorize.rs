//! The login page: `GET /?response_type=code&client_id=…&redirect_uri=…&state=…&auth_type=…`
//! (the site root, as in the spec's example quoted by the Yii client and in IIT's samples), and
//! `POST /authorize`, where the page's form sends the person's choice.
//!
//! A request naming an unknown client, or a `redirect_uri` other than the registered one (compared
//! as strings, exactly), gets an HTML error page and never a redirect: the emulator is no open
//! redirector. Other mistakes go back to the client as RFC 6749 errors (`?error=…&state=…`), and
//! so does «Скасувати» (`error=access_denied`, what the Yii client IitAuthClient takes for a
//! cancel). No public source documents id.gov.ua's own error redirect; this is the RFC's.

use std::sync::Arc;
use std::time::Instant;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, LOCATION};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use url::Url;

use super::params::Params;
use super::people::{IdGovUaIdentity, IdGovUaMethod};
use super::settings::RegisteredClient;
use super::state::{Grant, Shared, deadline, random_hex};

/// Where the login form posts, relative to `public_base_url`.
const AUTHORIZE_PATH: &str = "authorize";

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(login_page))
        .route("/authorize", post(submit))
}

struct MethodChoice {
    key: &'static str,
    label: &'static str,
    checked: bool,
}

struct PersonChoice {
    key: &'static str,
    name: &'static str,
    description: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "idgovua/login.html")]
struct LoginPage<'a> {
    action: String,
    client_id: &'a str,
    redirect_uri: &'a str,
    state: Option<&'a str>,
    auth_type: Option<&'a str>,
    methods: Vec<MethodChoice>,
    people: Vec<PersonChoice>,
}

#[derive(Template)]
#[template(path = "idgovua/error.html")]
struct ErrorPage {
    reason: String,
}

fn page(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
    match rendered {
        Ok(html) => (status, [(CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering an id.gov.ua emulator page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// The 400 page for a request the emulator will not send back anywhere.
fn error_page(reason: impl Into<String>) -> Response {
    let p = ErrorPage {
        reason: reason.into(),
    };
    page(StatusCode::BAD_REQUEST, p.render())
}

/// A request whose client and return address check out: from here on, errors go back there.
struct Checked<'a> {
    client: &'a RegisteredClient,
    state: Option<&'a str>,
    /// As the client sent it (for the form), if it did.
    auth_type: Option<&'a str>,
    /// What `auth_type` allows, in page order; `None` when it names no method the emulator knows.
    methods: Option<Vec<IdGovUaMethod>>,
}

/// Checks `client_id` and `redirect_uri`; `Err` is why not, for the error page.
fn check<'a>(shared: &'a Shared, params: &'a Params) -> Result<Checked<'a>, String> {
    let get = |name| params.get(name).map_err(|e| e.description);
    let client_id = match get("client_id")? {
        Some(id) if !id.is_empty() => id,
        _ => return Err("У запиті не вказано client_id.".to_owned()),
    };
    let Some(client) = shared.settings.client(client_id) else {
        return Err(format!(
            "Сервіс із client_id «{client_id}» не зареєстровано в ІСЕІ."
        ));
    };
    match get("redirect_uri")? {
        Some(uri) if uri == client.redirect_uri.as_str() => {}
        Some(uri) => {
            return Err(format!(
                "redirect_uri «{uri}» не збігається з адресою, зареєстрованою для цього сервісу."
            ));
        }
        None => return Err("У запиті не вказано redirect_uri.".to_owned()),
    }
    let auth_type = get("auth_type")?;
    Ok(Checked {
        client,
        state: get("state")?,
        auth_type,
        methods: allowed_methods(auth_type),
    })
}

/// `auth_type` is a comma-separated list (`dig_sign,bank_id,diia_id`); absent or empty means every
/// method. Values the emulator does not offer (`mobile_id`, `diia_oauth`) are skipped.
fn allowed_methods(auth_type: Option<&str>) -> Option<Vec<IdGovUaMethod>> {
    let listed: Vec<&str> = auth_type
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if listed.is_empty() {
        return Some(IdGovUaMethod::ALL.to_vec());
    }
    let methods: Vec<_> = IdGovUaMethod::ALL
        .into_iter()
        .filter(|m| listed.contains(&m.key()))
        .collect();
    (!methods.is_empty()).then_some(methods)
}

/// `redirect_uri` with `pairs` and the state appended (encoded by `url`), as a 303.
fn back_to_client(checked: &Checked<'_>, pairs: &[(&str, &str)]) -> Response {
    let mut url: Url = checked.client.redirect_uri.clone();
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
        if let Some(state) = checked.state {
            query.append_pair("state", state);
        }
    }
    (
        StatusCode::SEE_OTHER,
        [(LOCATION, url.as_str()), (CACHE_CONTROL, "no-store")],
    )
        .into_response()
}

fn error_back(checked: &Checked<'_>, error: &str, description: &str) -> Response {
    back_to_client(
        checked,
        &[("error", error), ("error_description", description)],
    )
}

/// The error redirect for an `auth_type` naming no method the emulator offers.
fn no_methods(checked: &Checked<'_>) -> Response {
    error_back(
        checked,
        "invalid_request",
        "auth_type не містить жодного способу, який підтримує емулятор (dig_sign, diia_id, bank_id)",
    )
}

/// `GET /?response_type=code&…`: the login page.
async fn login_page(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    let checked = match check(&shared, &params) {
        Ok(c) => c,
        Err(reason) => return error_page(reason),
    };
    match params.get("response_type") {
        Ok(Some("code")) => {}
        Ok(None | Some("")) => {
            return error_back(&checked, "invalid_request", "Не вказано response_type");
        }
        Ok(Some(_)) | Err(_) => {
            return error_back(
                &checked,
                "unsupported_response_type",
                "Підтримується лише response_type=code",
            );
        }
    }
    let Some(methods) = &checked.methods else {
        return no_methods(&checked);
    };
    let p = LoginPage {
        action: format!("{}{AUTHORIZE_PATH}", shared.settings.public_base_url.path()),
        client_id: &checked.client.client_id,
        redirect_uri: checked.client.redirect_uri.as_str(),
        state: checked.state,
        auth_type: checked.auth_type,
        methods: methods
            .iter()
            .enumerate()
            .map(|(i, m)| MethodChoice {
                key: m.key(),
                label: m.label(),
                checked: i == 0,
            })
            .collect(),
        people: IdGovUaIdentity::ALL
            .into_iter()
            .map(|who| PersonChoice {
                key: who.key(),
                name: who.full_name(),
                description: who.description(),
                checked: who == IdGovUaIdentity::default(),
            })
            .collect(),
    };
    page(StatusCode::OK, p.render())
}

/// `POST /authorize`: the form's hidden fields are checked again (anyone can post here), then
/// «Увійти» issues a code and «Скасувати» reports `access_denied`.
async fn submit(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let params = Params::parse(&body);
    let checked = match check(&shared, &params) {
        Ok(c) => c,
        Err(reason) => return error_page(reason),
    };
    match params.get("action") {
        Ok(Some("cancel")) => {
            return error_back(
                &checked,
                "access_denied",
                "Користувач скасував ідентифікацію",
            );
        }
        // Enter in a field submits without the button's value: that is «Увійти».
        Ok(None | Some("sign-in")) => {}
        Ok(Some(_)) | Err(_) => return error_page("Невідома дія форми входу."),
    }
    let Some(methods) = &checked.methods else {
        return no_methods(&checked);
    };
    let method = match params.get("method") {
        Ok(Some(key)) => match IdGovUaMethod::parse(key) {
            Some(m) if methods.contains(&m) => m,
            _ => return error_page(format!("Спосіб ідентифікації «{key}» не дозволено.")),
        },
        _ => return error_page("Не вибрано спосіб ідентифікації."),
    };
    let identity = match params.get("identity") {
        Ok(Some(key)) => match IdGovUaIdentity::parse(key) {
            Some(who) => who,
            None => return error_page(format!("Невідома тестова особа «{key}».")),
        },
        _ => return error_page("Не вибрано тестову особу."),
    };
    // 160 bits, hex.
    let code = match random_hex(20) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "no randomness for an authorization code");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let now = Instant::now();
    {
        let mut inner = shared.lock();
        inner.prune(now);
        inner.codes.insert(
            code.clone(),
            Grant {
                client_id: checked.client.client_id.clone(),
                redirect_uri: checked.client.redirect_uri.as_str().to_owned(),
                identity,
                method,
                issued_at: now,
                expires_at: deadline(now, shared.settings.code_ttl),
                used: false,
            },
        );
    }
    tracing::info!(
        client_id = %checked.client.client_id,
        identity = identity.key(),
        method = method.key(),
        "id.gov.ua emulator: signed in"
    );
    back_to_client(&checked, &[("code", &code)])
}
