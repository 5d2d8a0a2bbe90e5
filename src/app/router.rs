//! The whole HTTP surface: kepgate's own routes under the reserved prefix (each feature's
//! `router()`), everything else the cabinet's space, and the layers, in the order they run.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request};
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header::CONTENT_SECURITY_POLICY;
use axum::middleware::{from_fn, from_fn_with_state};
use tower::{ServiceBuilder, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use ipnet::IpNet;

use super::state::AppState;
use crate::http::layers::csp_with_form_targets;
use crate::http::{
    CSP, canonical_path, error_pages, front_door, header_if_missing, metrics, not_found,
    request_span,
};
use crate::trace_context;

pub fn router(state: AppState) -> Router {
    let server = &state.web.settings.server;
    // A login's forms may lead on to other origins: «Увійти через id.gov.ua» redirects there,
    // and a completed login whose way back is an OpenID client's authorization request ends at
    // that client. Browsers hold the whole redirect chain to `form-action`.
    let csp = HeaderValue::from_str(&csp_with_form_targets(&form_targets(&state)))
        .unwrap_or_else(|_| HeaderValue::from_static(CSP));
    let security_headers = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(header_if_missing("x-content-type-options", "nosniff"))
        .layer(header_if_missing("x-frame-options", "DENY"))
        // same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` on form
        // posts, which the CSRF origin check must refuse. Cross-origin (the provider) gets nothing.
        .layer(header_if_missing("referrer-policy", "same-origin"));

    // Pages with a secret besides the masked CSRF token go out uncompressed
    // (`pages::uncompressed`, BREACH).
    let compression = CompressionLayer::new()
        .compress_when(DefaultPredicate::new().and(crate::http::pages::compressible));

    let oidc_enabled = state.web.settings.oidc.enabled;
    let timeout =
        TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, server.request_timeout);
    let own_routes = Router::new()
        .merge(crate::http::routes())
        .merge(crate::login::router())
        .merge(crate::provider_callback::router())
        .merge(crate::document_signing::router())
        .merge(crate::account::router())
        .merge(crate::proxy::router())
        .merge(optional(oidc_enabled, crate::oidc::router()))
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(security_headers.clone())
                .layer(compression)
                .layer(timeout)
                // Both: axum's extractors honour DefaultBodyLimit, streaming bodies the layer.
                .layer(DefaultBodyLimit::max(server.body_limit_bytes))
                .layer(RequestBodyLimitLayer::new(server.body_limit_bytes)),
        )
        // The signing API's start carries files: a body limit of its own, the other layers
        // the same.
        .merge(
            crate::document_signing::start_router(state.web.settings.signing.body_limit_bytes())
                .layer(ServiceBuilder::new().layer(security_headers).layer(timeout)),
        );

    // HSTS only on https: sent over plain http (development) it would pin a browser to an
    // https port nobody listens on. The cabinet's responses get it too: it is per host.
    let hsts = (server.base_url.scheme() == "https")
        .then(|| header_if_missing("strict-transport-security", "max-age=31536000"));

    let routes = Router::new()
        .nest(&server.route_prefix, own_routes)
        // The issuer's discovery document is the one path of kepgate's outside the prefix.
        .merge(optional(
            oidc_enabled,
            crate::oidc::discovery_router(server.base_url.path()),
        ));
    let trusted_proxies: Arc<[IpNet]> = state.web.settings.proxy.trusted_proxies.clone().into();
    let routed = crate::proxy::with_cabinet_space(routes, &state.proxy.routes)
        // Outermost first: every log line and error page carries the request id.
        .layer(
            ServiceBuilder::new()
                .layer(from_fn(front_door))
                .layer(
                    TraceLayer::new_for_http().make_span_with(move |request: &Request| {
                        request_span_in_trace(request, &trusted_proxies)
                    }),
                )
                .layer(from_fn(metrics::track))
                .layer(from_fn_with_state(
                    state.web.clone(),
                    error_pages::render_error_pages,
                )),
        )
        .layer(tower::util::option_layer(hsts))
        .with_state(state);
    // The path is made canonical before the router sees it: own routes, cabinet routes,
    // policies and the upstream all see one spelling (see `crate::canonical_path`).
    Router::new().fallback_service(routed.map_request(canonical_path::canonicalize))
}

/// The request's span ([`request_span`]), with traces on in the trace a front proxy's
/// `traceparent` names when that proxy is one of `proxy.trusted_proxies`; from anyone else the
/// header is ignored and a trace begins here (docs/security.md, "Traces").
fn request_span_in_trace(request: &Request, trusted_proxies: &[IpNet]) -> tracing::Span {
    let span = request_span(request);
    if !trace_context::traces_on() {
        return span;
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|connected| connected.0.ip());
    let trusted = peer.is_some_and(|ip| trusted_proxies.iter().any(|net| net.contains(&ip)));
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let traceparent = trusted
        .then(|| header(trace_context::TRACEPARENT))
        .flatten();
    let tracestate = traceparent.and(header(trace_context::TRACESTATE));
    trace_context::join(&span, traceparent, tracestate);
    span
}

/// `routes` when the feature is on, otherwise nothing.
fn optional<S: Clone + Send + Sync + 'static>(on: bool, routes: Router<S>) -> Router<S> {
    if on { routes } else { Router::new() }
}

/// The origins kepgate's own forms may be redirected to: the redirect providers' and, with the
/// OpenID Provider on, its clients' redirect URIs'.
fn form_targets(state: &AppState) -> Vec<String> {
    let mut origins = state.login.providers.redirect_origins();
    if state.web.settings.oidc.enabled {
        origins.extend(state.oidc.clients.redirect_origins());
    }
    origins.sort();
    origins.dedup();
    origins
}
