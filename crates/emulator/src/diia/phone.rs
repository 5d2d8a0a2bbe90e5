//! The phone: the page the deeplink opens, where a person picks a test key and confirms or
//! declines a login, or signs or declines the documents a signing request lists. Plain HTML forms (no JavaScript), Ukrainian, one small stylesheet.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, LOCATION};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use time::OffsetDateTime;
use time::macros::format_description;
use url::Url;

use super::api::DEEPLINK_PREFIX;
use super::callback::{AnswerError, answer};
use super::identities::TestIdentity;
use super::state::{Action, Answer, PhoneRequest, Progress, Shared};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/acquirers/offer-request/dynamic/{n}", get(show))
        .route(
            "/acquirers/offer-request/dynamic/{n}/confirm",
            post(confirm),
        )
        .route(
            "/acquirers/offer-request/dynamic/{n}/decline",
            post(decline),
        )
}

struct Choice {
    key: &'static str,
    name: &'static str,
    description: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "emulator/phone.html")]
struct PhonePage {
    service_name: String,
    css_href: String,
    n: u64,
    branch_name: String,
    offer_name: String,
    created: String,
    confirm_action: String,
    decline_action: String,
    choices: Vec<Choice>,
    /// For a signing request: the documents (the names are the partner's, escaped by askama).
    files: Option<Vec<FileLine>>,
    hash_name: &'static str,
}

struct FileLine {
    name: String,
    /// The first bytes of the hash, to compare with what the service shows.
    fingerprint: String,
}

/// `a1b2 c3d4 e5f6 0718`: enough of a hash for a person to compare by eye.
fn fingerprint(hash: &[u8]) -> String {
    hash.chunks(2)
        .take(4)
        .map(|pair| pair.iter().map(|b| format!("{b:02x}")).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Template)]
#[template(path = "emulator/result.html")]
struct ResultPage {
    service_name: String,
    css_href: String,
    n: u64,
    heading: &'static str,
    text: String,
    /// Why the partner did not take the answer, if it did not.
    failure: Option<String>,
    /// Shown when the person answers a request that was already answered.
    note: Option<&'static str>,
    return_link: Option<String>,
}

#[derive(Template)]
#[template(path = "emulator/not_found.html")]
struct NotFoundPage {
    service_name: String,
    css_href: String,
}

/// Links start at `public_base_url`'s path, so the emulator also works behind a path prefix.
fn base_path(shared: &Shared) -> String {
    shared.settings.public_base_url.path().to_owned()
}

fn css_href(shared: &Shared) -> String {
    format!("{}emulator/static/phone.css", base_path(shared))
}

fn page(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
    match rendered {
        Ok(html) => (status, [(CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering an emulator page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

fn not_found_page(shared: &Shared) -> Response {
    let p = NotFoundPage {
        service_name: shared.settings.service_name.clone(),
        css_href: css_href(shared),
    };
    page(StatusCode::NOT_FOUND, p.render())
}

fn format_time(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[day].[month].[year], [hour]:[minute]:[second] UTC"
    ))
    .unwrap_or_else(|_| t.to_string())
}

/// Only web links are offered back to the person (the partner supplies this string).
fn safe_link(link: Option<&str>) -> Option<String> {
    let url = Url::parse(link?).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.into())
}

fn render_waiting(shared: &Shared, r: &PhoneRequest) -> Response {
    let base = base_path(shared);
    let p = PhonePage {
        service_name: shared.settings.service_name.clone(),
        css_href: css_href(shared),
        n: r.n,
        branch_name: r.branch_name.clone(),
        offer_name: r.offer_name.clone(),
        created: format_time(r.created_at),
        files: match &r.action {
            Action::Auth { .. } => None,
            Action::Signing { files } => Some(
                files
                    .iter()
                    .map(|f| FileLine {
                        name: f.name.clone(),
                        fingerprint: fingerprint(&f.hash),
                    })
                    .collect(),
            ),
        },
        hash_name: r.sign_algo.hash_name(),
        confirm_action: format!("{base}{DEEPLINK_PREFIX}{}/confirm", r.n),
        decline_action: format!("{base}{DEEPLINK_PREFIX}{}/decline", r.n),
        choices: TestIdentity::ALL
            .iter()
            .map(|who| Choice {
                key: who.key(),
                name: who.full_name(),
                description: who.description(),
                checked: *who == TestIdentity::default(),
            })
            .collect(),
    };
    page(StatusCode::OK, p.render())
}

fn render_answered(
    shared: &Shared,
    r: &PhoneRequest,
    status: StatusCode,
    note: Option<&'static str>,
) -> Response {
    let (heading, text) = match &r.progress {
        Progress::Waiting => return render_waiting(shared, r),
        Progress::Sending(_) => (
            "Надсилаємо відповідь…",
            "Відповідь ще передається сервісу. Оновіть сторінку за мить.".to_owned(),
        ),
        Progress::Done(Answer::Confirm(who), _) => (
            "Готово — поверніться до компʼютера",
            match &r.action {
                Action::Auth { .. } => format!(
                    "Ви підписали запит сервісу «{}» ключем «{}».",
                    r.branch_name,
                    who.full_name()
                ),
                Action::Signing { files } => format!(
                    "Ви підписали документи ({}) для сервісу «{}» ключем «{}».",
                    files.len(),
                    r.branch_name,
                    who.full_name()
                ),
            },
        ),
        Progress::Done(Answer::Decline, _) => (
            "Запит відхилено",
            format!("Сервіс «{}» отримав вашу відмову.", r.branch_name),
        ),
    };
    let failure = r.delivery().and_then(|d| {
        d.failure.as_ref().map(|reason| match &d.partner_body {
            Some(body) if !body.is_empty() => format!("{reason}. Відповідь сервісу: {body}"),
            _ => reason.clone(),
        })
    });
    let p = ResultPage {
        service_name: shared.settings.service_name.clone(),
        css_href: css_href(shared),
        n: r.n,
        heading,
        text,
        failure,
        note,
        return_link: safe_link(r.return_link.as_deref()),
    };
    page(status, p.render())
}

/// `GET /acquirers/offer-request/dynamic/{n}`: the question, or the outcome once answered.
async fn show(State(shared): State<Arc<Shared>>, Path(n): Path<String>) -> Response {
    let inner = shared.lock();
    match n.parse().ok().and_then(|n: u64| inner.requests.get(&n)) {
        None => not_found_page(&shared),
        Some(r) if matches!(r.progress, Progress::Waiting) => render_waiting(&shared, r),
        Some(r) => render_answered(&shared, r, StatusCode::OK, None),
    }
}

async fn confirm(
    State(shared): State<Arc<Shared>>,
    Path(n): Path<String>,
    body: Bytes,
) -> Response {
    let chosen = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "identity")
        .map(|(_, v)| v.into_owned());
    let who = match chosen.as_deref() {
        None => TestIdentity::default(),
        Some(key) => match TestIdentity::parse(key) {
            Some(who) => who,
            None => {
                return (StatusCode::BAD_REQUEST, "невідомий тестовий ключ").into_response();
            }
        },
    };
    respond(&shared, &n, Answer::Confirm(who)).await
}

async fn decline(State(shared): State<Arc<Shared>>, Path(n): Path<String>) -> Response {
    respond(&shared, &n, Answer::Decline).await
}

/// Answers, then sends the browser back to the deeplink page (which now shows the outcome), so
/// reloading the result does not post again.
async fn respond(shared: &Shared, n: &str, what: Answer) -> Response {
    let Ok(n) = n.parse::<u64>() else {
        return not_found_page(shared);
    };
    match answer(shared, n, what).await {
        Ok(_) => (
            StatusCode::SEE_OTHER,
            [(
                LOCATION,
                format!("{}{DEEPLINK_PREFIX}{n}", base_path(shared)),
            )],
        )
            .into_response(),
        Err(AnswerError::NotFound) => not_found_page(shared),
        Err(AnswerError::AlreadyAnswered(_)) => {
            let inner = shared.lock();
            match inner.requests.get(&n) {
                Some(r) => render_answered(
                    shared,
                    r,
                    StatusCode::CONFLICT,
                    Some("На цей запит уже відповіли раніше; повторна відповідь не надсилалась."),
                ),
                None => not_found_page(shared),
            }
        }
    }
}
