//! The HTTP surface: kepgate's own routes under the reserved prefix, everything else the cabinet's.

pub mod canonical_path;
pub mod client_addr;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod health;
pub mod metrics;
pub mod pages;
pub mod request_id;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use tower::{ServiceBuilder, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::http::error::AppError;
use crate::http::request_id::RequestId;
use crate::login::{api, completion, form, waiting};
use crate::state::AppState;

/// Marks a response that came from the upstream (or is meant for a front proxy as it is):
/// kepgate's error pages and security headers never replace it.
#[derive(Debug, Clone, Copy)]
pub struct FromUpstream;

/// Content-Security-Policy of every page kepgate renders: no inline script, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn router(state: AppState) -> Router {
    let server = &state.settings.server;
    let security_headers = ServiceBuilder::new()
        .layer(header_if_missing("content-security-policy", CSP))
        .layer(header_if_missing("x-content-type-options", "nosniff"))
        .layer(header_if_missing("x-frame-options", "DENY"))
        // same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` on form
        // posts, which the CSRF origin check must refuse. Cross-origin (the provider) gets nothing.
        .layer(header_if_missing("referrer-policy", "same-origin"));

    let own_routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/language/{code}", get(pages::switch_language))
        .route("/static/kepgate.css", get(pages::stylesheet))
        .route(
            "/callback/{provider}/{secret}",
            post(crate::login::callback::receive),
        )
        .route("/static/login.js", get(pages::login_script))
        .route("/auth", get(crate::proxy::forward_auth::check))
        .route("/jwks.json", get(crate::proxy::forward_auth::jwks))
        .route("/login", get(form::login_page))
        .route("/login/start", post(form::start_form))
        .route("/login/wait/{id}", get(waiting::wait_page))
        .route("/login/events/{id}", get(waiting::events))
        .route("/login/qr/{id}", get(waiting::qr_image))
        .route("/login/complete/{id}", post(completion::complete_form))
        .route("/logout", post(completion::logout))
        // The rotating QR link, opened on the phone.
        .route(
            "/q/{token}",
            get(crate::login::phone_check::open_link).post(crate::login::phone_check::answer),
        )
        .route("/api/login", post(api::api_start))
        .route("/api/login/{id}/complete", post(api::api_complete))
        // Sessions: the person's own sessions and history, ending one or all.
        .route("/me", get(crate::session::pages::me_page))
        .route("/me/sessions/end-all", post(crate::session::pages::end_all))
        .route(
            "/me/sessions/{id}/end",
            post(crate::session::pages::end_one),
        )
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(security_headers)
                .layer(CompressionLayer::new())
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    server.request_timeout,
                ))
                // Both: axum's extractors honour DefaultBodyLimit, streaming bodies the layer.
                .layer(DefaultBodyLimit::max(server.body_limit_bytes))
                .layer(RequestBodyLimitLayer::new(server.body_limit_bytes)),
        );

    // HSTS only on https: sent over plain http (development) it would pin a browser to an
    // https port nobody listens on. The cabinet's responses get it too: it is per host.
    let hsts = (server.base_url.scheme() == "https")
        .then(|| header_if_missing("strict-transport-security", "max-age=31536000"));

    let routed = Router::new()
        .nest(&server.route_prefix, own_routes)
        // The cabinet's space: the reverse proxy (or the signed-in page when no route is set).
        .fallback(crate::proxy::cabinet)
        // Outermost first: every log line and error page carries the request id.
        .layer(
            ServiceBuilder::new()
                .layer(from_fn(request_id::assign_request_id))
                .layer(from_fn(security_headers_unless_upstream))
                .layer(from_fn(refuse_oversized_headers))
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(from_fn(metrics::track))
                .layer(from_fn_with_state(state.clone(), error::render_error_pages))
                .layer(from_fn(canonical_path::refuse_non_canonical)),
        )
        .layer(tower::util::option_layer(hsts))
        .with_state(state);
    // The path is made canonical before the router sees it: own routes, cabinet routes,
    // policies and the upstream all see one spelling (see `crate::canonical_path`).
    Router::new().fallback_service(routed.map_request(canonical_path::canonicalize))
}

/// The span logs the route template, never the raw URI: paths and queries can carry secrets
/// (the provider callback's secret segment, return paths with tokens).
fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("unmatched");
    let id = request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.as_str())
        .unwrap_or("");
    tracing::info_span!("request", method = %request.method(), route, request_id = id)
}

fn header_if_missing(
    name: &'static str,
    value: &'static str,
) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    )
}

/// The security headers of the own routes, also on what kepgate renders in the cabinet's space
/// (error pages such as 502/504, "not allowed", the login redirect, 431). Never on the cabinet's
/// own responses: a CSP of ours would break its pages.
async fn security_headers_unless_upstream(
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    if response.extensions().get::<FromUpstream>().is_some() {
        return response;
    }
    use axum::http::header::{
        CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
    };
    let headers = response.headers_mut();
    // Standard names, not strings: a `&str` name is parsed again on every response.
    for (name, value) in [
        (CONTENT_SECURITY_POLICY, CSP),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (X_FRAME_OPTIONS, "DENY"),
        (REFERRER_POLICY, "same-origin"),
    ] {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
    response
}

/// Request headers beyond this many bytes get a 431 (nginx's default is 4 × 8 KiB). hyper's own
/// limit is about 400 KiB, which would pass a 100 KiB header on to the cabinet.
pub const MAX_REQUEST_HEADER_BYTES: usize = 32 * 1024;

/// Refuses oversized request headers before anything is routed or proxied, with
/// `Connection: close` so no byte after them is read as a request. (Framing conflicts never get
/// here: hyper refuses two different `Content-Length`s, and with `Transfer-Encoding` it drops
/// `Content-Length`, reads the chunks and closes the connection, as RFC 9112 §6.1 allows.)
async fn refuse_oversized_headers(
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let headers = request.headers();
    let size: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > MAX_REQUEST_HEADER_BYTES {
        tracing::warn!(size, "request headers too large");
        return (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            [(
                axum::http::header::CONNECTION,
                HeaderValue::from_static("close"),
            )],
        )
            .into_response();
    }
    next.run(request).await
}

async fn not_found() -> AppError {
    AppError::NotFound
}
