//! The pages (uk/en, with the request id) shown for an error: [`render_error_pages`], a
//! middleware that sees the request, turns [`ErrorKind`] markers, and the bare statuses
//! tower-http layers produce (408, 413), into an HTML or JSON body.

use super::canonical_path;
use super::custom_pages::Page;
use askama::Template;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::context::Web;
use super::error::ErrorKind;
use super::layers::FromUpstream;
use super::pages::PageChrome;
use super::request_id::RequestId;
use crate::config::Settings;
use crate::language::Lang;
use crate::return_path::ReturnPath;

#[derive(Template, Serialize)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    chrome: PageChrome,
    title: &'a str,
    body: &'a str,
    request_id: &'a str,
    status: u16,
}

impl Page for ErrorPage<'_> {
    const FILE: &'static str = "error.html";

    fn samples(settings: &Settings, lang: Lang) -> [Self; 2] {
        [
            (ErrorKind::NotFound, StatusCode::NOT_FOUND),
            (ErrorKind::Unavailable, StatusCode::SERVICE_UNAVAILABLE),
        ]
        .map(|(kind, status)| {
            let chrome = PageChrome::new(settings, lang, &ReturnPath::root());
            let (title, body) = kind.texts(chrome.t);
            ErrorPage {
                chrome,
                title,
                body,
                request_id: "00000000-0000-4000-8000-000000000000",
                status: status.as_u16(),
            }
        })
    }
}

/// Renders an error body for kepgate's own responses that have none.
pub async fn render_error_pages(State(web): State<Web>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let asked = Asked::keep(&parts);
    let request = Request::from_parts(parts, body);
    // A path refused by `canonical_path::canonicalize` gets its 400 as a page here.
    let response = match canonical_path::refusal(&request) {
        Some(refused) => refused,
        None => next.run(request).await,
    };
    if response.extensions().get::<FromUpstream>().is_some() {
        return response;
    }
    let Some(kind) = error_kind(&response) else {
        return response;
    };
    let rendered = asked.error_body(&web, kind, response.status());
    with_body(response, rendered)
}

/// What an error page needs of the request, kept before the request goes on (cheap clones);
/// the page frame itself is built only when there is an error to show, not on every request
/// (the proxy's hot path runs here too).
struct Asked {
    wants_json: bool,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    request_id: String,
}

impl Asked {
    fn keep(parts: &axum::http::request::Parts) -> Self {
        let mut headers = axum::http::HeaderMap::new();
        for name in [
            axum::http::header::COOKIE,
            axum::http::header::ACCEPT_LANGUAGE,
        ] {
            for value in parts.headers.get_all(&name) {
                headers.append(name.clone(), value.clone());
            }
        }
        Asked {
            wants_json: wants_json(parts),
            uri: parts.uri.clone(),
            headers,
            request_id: parts
                .extensions
                .get::<RequestId>()
                .map(|id| id.0.clone())
                .unwrap_or_default(),
        }
    }

    /// The page (or JSON) for `kind`, in the request's language.
    fn error_body(self, web: &Web, kind: ErrorKind, status: StatusCode) -> Response {
        let (mut page_parts, ()) = Request::builder()
            .uri(self.uri)
            .body(())
            .unwrap_or_default()
            .into_parts();
        page_parts.headers = self.headers;
        let chrome = PageChrome::from_parts(&page_parts, &web.settings);
        let (title, text) = kind.texts(chrome.t);
        if self.wants_json {
            let body =
                json!({ "error": kind.code(), "message": title, "request_id": self.request_id });
            return Json(body).into_response();
        }
        let page = ErrorPage {
            chrome,
            title,
            body: text,
            request_id: &self.request_id,
            status: status.as_u16(),
        };
        match web.custom_pages.render(&page) {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "rendering the error page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }
}

/// The error a response stands for: marked by kepgate's own handlers, or a framework rejection
/// (tower-http limits and timeouts, axum extractor errors), which comes bare or as text/plain;
/// kepgate's own handlers never answer errors that way, so those get a page.
fn error_kind(response: &Response) -> Option<ErrorKind> {
    let status = response.status();
    let marked = response.extensions().get::<ErrorKind>().copied();
    let is_bare = response
        .headers()
        .get(CONTENT_TYPE)
        .is_none_or(|ct| ct.as_bytes().starts_with(b"text/plain"));
    marked.or_else(|| {
        (is_bare && (status.is_client_error() || status.is_server_error()))
            .then(|| ErrorKind::from_status(status))
            .flatten()
    })
}

/// `response` with the error body `rendered` instead of its own, never cached.
fn with_body(response: Response, mut rendered: Response) -> Response {
    *rendered.status_mut() = response.status();
    // Keep headers the original response set (Retry-After, Allow, …), but not its length.
    // Nor its encoding: the body is replaced by an uncompressed page, and a `gzip` label left
    // from a compressed framework rejection made browsers show a decoding error.
    let (mut parts, _original_body) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.remove(axum::http::header::CONTENT_ENCODING);
    for (name, value) in rendered.headers() {
        parts.headers.insert(name, value.clone());
    }
    parts
        .headers
        .insert("cache-control", HeaderValue::from_static("no-store"));
    Response::from_parts(parts, rendered.into_body())
}

/// JSON for API clients (Accept names JSON before HTML), HTML for browsers.
fn wants_json(parts: &axum::http::request::Parts) -> bool {
    let accept = parts
        .headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json_at = accept.find("application/json");
    let html_at = accept.find("text/html");
    match (json_at, html_at) {
        (Some(j), Some(h)) => j < h,
        (Some(_), None) => true,
        _ => false,
    }
}
