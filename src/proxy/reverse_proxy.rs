//! The reverse proxy for signed-in users: every request outside kepgate's prefix is matched to
//! a route, stripped of anything a client could use to pose as someone, checked against the
//! session and the route's policy, and streamed to the upstream with the identity headers and
//! the signed assertion. Bodies stream both ways (no buffering); WebSocket upgrades are
//! tunnelled after the upstream's 101.

use std::net::SocketAddr;

use crate::config::Settings;
use crate::http::custom_pages::{Page, placeholder};
use crate::language::Lang;
use crate::return_path::ReturnPath;
use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{CACHE_CONTROL, HOST, ORIGIN, UPGRADE};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tracing::Instrument;

use super::context::ProxyContext;
use super::headers;
use super::idle_body::{ClientBodyFailure, IdleTimeout, Watched};
use super::routes::CabinetRoute;
use super::tunnel;
use super::upstream_connect::{Unreached, chain};
use crate::http::FromUpstream;
use crate::http::csrf;
use crate::http::error::AppError;
use crate::http::page_response::PageResponse;
use crate::http::pages::PageChrome;
use crate::http::session_cookie::SessionCookie;
use crate::http::signed_in::CabinetSession;
use crate::session::Session;
use crate::trace_context;

#[derive(Template, Serialize)]
#[template(path = "not_allowed.html")]
pub struct NotAllowedPage {
    chrome: PageChrome,
    full_name: String,
    rnokpp: Option<String>,
    edrpou: Option<String>,
    logout_action: String,
    csrf: String,
}

impl Page for NotAllowedPage {
    const FILE: &'static str = "not_allowed.html";

    fn samples(settings: &Settings, lang: Lang) -> [Self; 2] {
        [true, false].map(|full| NotAllowedPage {
            chrome: PageChrome::new(settings, lang, &ReturnPath::root()),
            full_name: placeholder::FULL_NAME.to_owned(),
            rnokpp: full.then(|| placeholder::RNOKPP.to_owned()),
            edrpou: full.then(|| placeholder::EDRPOU.to_owned()),
            logout_action: settings.server.path("/logout"),
            csrf: placeholder::CSRF.to_owned(),
        })
    }
}

/// CONNECT would reach the upstream as another target than the one judged (the client rewrites
/// it to the upstream's authority); TRACE and TRACK echo the identity headers back.
pub(super) fn refuse_method(method: &axum::http::Method) -> Result<(), AppError> {
    if matches!(method.as_str(), "CONNECT" | "TRACE" | "TRACK") {
        tracing::info!(%method, "method refused in the cabinet's space");
        return Err(AppError::MethodNotAllowed);
    }
    Ok(())
}

/// The reverse proxy for the cabinet's space.
pub async fn cabinet(
    State(state): State<ProxyContext>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
) -> Result<Response, AppError> {
    // First, always, public routes included: nobody sends our identity headers but us.
    headers::strip_identity(
        request.headers_mut(),
        &state.identity_headers,
        state.web.settings.proxy.underscores_in_headers,
    );

    refuse_method(request.method())?;
    let path = crate::http::canonical_path::take(&mut request)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    // The router leaves `{prefix}/` and `{prefix};x/…` here, where a route at `/` would take
    // them into the cabinet with the identity headers: the whole prefix is kepgate's.
    if state.web.settings.server.reserves(path.for_decisions()) {
        return Err(AppError::NotFound);
    }
    let Some(route) = state.routes.find(path.for_decisions()) else {
        return Err(AppError::NotFound);
    };
    let session = if route.settings.public {
        None
    } else {
        let (mut parts, body) = request.into_parts();
        let session = match CabinetSession::from_request_parts(&mut parts, &state.web).await {
            Ok(CabinetSession(session)) => session,
            // A cookie whose session ended: the login page says so ("your session ended").
            Err(sign_in) => return Ok(sign_in),
        };
        if !session.admitted_by(&route.settings.allow) {
            tracing::info!(route = %route.name, session = %session.id, "signed-in user not allowed on this route");
            metrics::counter!("kepgate_proxy_denied_total", "route" => route.name.clone())
                .increment(1);
            return not_allowed(&state, &parts, &session);
        }
        request = Request::from_parts(parts, body);
        Some(session)
    };
    forward(&state, route, request, peer, session.as_deref()).await
}

fn not_allowed(
    state: &ProxyContext,
    parts: &axum::http::request::Parts,
    session: &Session,
) -> Result<Response, AppError> {
    let token = csrf::issue(&parts.headers, &state.web.settings.server)?;
    let page = NotAllowedPage {
        chrome: PageChrome::from_parts(parts, &state.web.settings),
        full_name: session.identity.full_name.clone(),
        rnokpp: session.identity.rnokpp.as_ref().map(|r| r.to_string()),
        edrpou: session.identity.edrpou.as_ref().map(|e| e.to_string()),
        logout_action: state.web.settings.server.path("/logout"),
        csrf: token.value.clone(),
    };
    Ok(PageResponse::render(&state.web.custom_pages, &page)?
        .status(StatusCode::FORBIDDEN)
        .with_csrf(&token)
        .into_response())
}

async fn forward(
    state: &ProxyContext,
    route: &CabinetRoute,
    mut request: Request,
    peer: SocketAddr,
    session: Option<&Session>,
) -> Result<Response, AppError> {
    let wants_upgrade = request
        .headers()
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if wants_upgrade && !websocket_origin_allowed(state, &request) {
        tracing::warn!(route = %route.name, "WebSocket handshake from a foreign origin refused");
        return Err(AppError::Forbidden);
    }
    // Taken before the request is handed on: the client's side of a future tunnel.
    let client_upgrade = wants_upgrade.then(|| hyper::upgrade::on(&mut request));
    let (parts, body) = request.into_parts();
    // The session's own token, read before our cookies are stripped: a tunnel re-checks it.
    let tunnel_token = wants_upgrade
        .then(|| SessionCookie::read(&parts.headers, &state.web.settings.server))
        .and_then(SessionCookie::into_token);
    let outgoing = Outgoing {
        peer,
        session,
        wants_upgrade,
    };
    let (upstream_request, client_body) = upstream_request(state, route, parts, body, &outgoing)?;
    let mut response = send(route, upstream_request, &client_body).await?;

    if response.status() == StatusCode::SWITCHING_PROTOCOLS
        && let Some(client_upgrade) = client_upgrade
    {
        let upstream_upgrade = hyper::upgrade::on(&mut response);
        let watch = session
            .zip(tunnel_token)
            .map(|(s, token)| tunnel::SessionWatch {
                session_id: s.id,
                token,
                expires_at: s.expires_at,
                db: state.web.db.clone(),
                clock: state.web.clock.clone(),
                revocations: state.web.sessions.cache().revocations(),
            });
        tunnel::spawn(client_upgrade, upstream_upgrade, watch, route.name.clone());
        let (mut parts, _) = response.into_parts();
        drop_our_cookies(&route.name, &mut parts.headers);
        let mut response = Response::from_parts(parts, Body::empty());
        response.extensions_mut().insert(FromUpstream);
        return Ok(response);
    }

    let (mut parts, body) = response.into_parts();
    headers::strip_hop_by_hop(&mut parts.headers, false);
    drop_our_cookies(&route.name, &mut parts.headers);
    // Shared office PCs never cache authenticated pages, whatever the route allows.
    if session.is_some_and(|s| !route.settings.allow_caching || s.shared_pc) {
        parts
            .headers
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let idle = route.settings.idle_timeout;
    let mut response = Response::from_parts(parts, Body::new(IdleTimeout::new(body, idle)));
    response.extensions_mut().insert(FromUpstream);
    Ok(response)
}

/// kepgate's cookies are kepgate's: an upstream setting one is refused and logged (the names
/// only; a value may be a session).
fn drop_our_cookies(route: &str, headers: &mut axum::http::HeaderMap) {
    let dropped = headers::strip_our_set_cookies(headers);
    if !dropped.is_empty() {
        tracing::warn!(route, cookies = ?dropped, "the upstream set kepgate's own cookies; dropped");
        metrics::counter!("kepgate_proxy_cookies_dropped_total", "route" => route.to_owned())
            .increment(1);
    }
}

/// Who a request goes to the upstream for.
struct Outgoing<'a> {
    peer: SocketAddr,
    session: Option<&'a Session>,
    wants_upgrade: bool,
}

/// The request as the upstream gets it: nothing of the client's that could pose as an identity
/// or a hop, our cookies gone, the forwarding headers and (for a session) the identity headers
/// and the assertion set, the body watched so a failing client is told apart from the upstream.
fn upstream_request(
    state: &ProxyContext,
    route: &CabinetRoute,
    mut parts: axum::http::request::Parts,
    body: Body,
    outgoing: &Outgoing<'_>,
) -> Result<(Request, ClientBody), AppError> {
    let settings = &state.web.settings;
    let origin = crate::http::client_addr::client_origin(
        &parts.headers,
        outgoing.peer.ip(),
        &settings.proxy.trusted_proxies,
        settings.server.base_url.scheme(),
    );
    headers::strip_hop_by_hop(&mut parts.headers, outgoing.wants_upgrade);
    headers::strip_our_cookies(&mut parts.headers, &settings.server);
    headers::set_forwarded(&mut parts.headers, &origin);
    if let Some(session) = outgoing.session {
        let now = state.web.clock.now();
        state
            .assertions
            .stamp(session, &route.name, now)
            .map_err(AppError::Internal)?
            .apply(&mut parts.headers);
    }
    let authority = upstream_authority(&route.settings.upstream)?;
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    parts.uri = Uri::builder()
        // The route's own scheme: the connector speaks TLS to an https upstream.
        .scheme(route.settings.upstream.scheme())
        .authority(authority.as_str())
        .path_and_query(path_and_query)
        .build()
        .map_err(|e| AppError::Internal(anyhow::Error::new(e)))?;
    if !route.settings.preserve_host {
        parts.headers.insert(
            HOST,
            HeaderValue::from_str(&authority)
                .map_err(|e| AppError::Internal(anyhow::Error::new(e)))?,
        );
    }
    parts.version = axum::http::Version::HTTP_11;
    let (body, client_body) = Watched::new(IdleTimeout::new(body, route.settings.idle_timeout));
    Ok((Request::from_parts(parts, Body::new(body)), client_body))
}

/// How the client's request body ended, if it failed (set by [`Watched`]).
type ClientBody = std::sync::Arc<std::sync::OnceLock<ClientBodyFailure>>;

/// Sends the request within the route's response timeout; a failure is the client's when its
/// body broke off or stalled, else the upstream's.
async fn send(
    route: &CabinetRoute,
    mut request: Request,
    client_body: &ClientBody,
) -> Result<axum::http::Response<hyper::body::Incoming>, AppError> {
    let span = tracing::info_span!("proxy.upstream", route = %route.name);
    pass_trace_context(&span, request.headers_mut());
    send_in_span(route, request, client_body)
        .instrument(span)
        .await
}

/// With traces on, the cabinet gets the context of the upstream call's span in place of
/// whatever the client sent (a client's `traceparent` was ignored, a trusted front proxy's is
/// this span's parent), and no other format's context: a cabinet propagating B3, Jaeger's or
/// a vendor's headers, or reading `baggage`, would otherwise continue a trace (or take values)
/// the client chose. With traces off, the headers pass through as they came.
fn pass_trace_context(span: &tracing::Span, headers: &mut axum::http::HeaderMap) {
    let Some(trace) = trace_context::headers_of(span) else {
        return;
    };
    let foreign: Vec<axum::http::HeaderName> = headers
        .keys()
        .filter(|name| is_foreign_trace_context(name.as_str()))
        .cloned()
        .collect();
    for name in foreign {
        headers.remove(name);
    }
    if let Ok(value) = HeaderValue::from_str(&trace.traceparent) {
        headers.insert(trace_context::TRACEPARENT, value);
    }
    match trace.tracestate.map(|state| HeaderValue::from_str(&state)) {
        Some(Ok(value)) => {
            headers.insert(trace_context::TRACESTATE, value);
        }
        _ => {
            headers.remove(trace_context::TRACESTATE);
        }
    }
}

/// Trace context and baggage in the formats other than W3C's `traceparent`/`tracestate`.
fn is_foreign_trace_context(name: &str) -> bool {
    matches!(
        name,
        "b3" | "baggage"
            | "uber-trace-id"
            | "sentry-trace"
            | "x-amzn-trace-id"
            | "x-cloud-trace-context"
            | "x-datadog-trace-id"
            | "x-datadog-parent-id"
            | "x-datadog-sampling-priority"
    ) || name.starts_with("x-b3-")
        || name.starts_with("uberctx-")
        || name.starts_with("ot-baggage-")
        || name.starts_with("ot-tracer-")
}

async fn send_in_span(
    route: &CabinetRoute,
    request: Request,
    client_body: &ClientBody,
) -> Result<axum::http::Response<hyper::body::Incoming>, AppError> {
    let started = std::time::Instant::now();
    let outcome = tokio::time::timeout(
        route.settings.response_timeout,
        route.client.request(request),
    )
    .await;
    match outcome {
        Err(_) => {
            record(&route.name, "timeout", started);
            tracing::warn!(route = %route.name, "upstream did not answer in time");
            Err(AppError::UpstreamTimeout)
        }
        Ok(Err(e)) if client_body.get().is_some() => {
            record(&route.name, "client_error", started);
            tracing::info!(route = %route.name, error = %e, "the client's request body failed");
            Err(match client_body.get() {
                Some(ClientBodyFailure::Stalled) => AppError::RequestTimeout,
                _ => AppError::BadRequest("malformed request body".to_owned()),
            })
        }
        Ok(Err(e)) => {
            let unreached = Unreached::of(&e);
            record(&route.name, unreached.outcome(), started);
            match unreached {
                Unreached::Certificate(tls) => {
                    tracing::warn!(route = %route.name, error = %tls, "the upstream's TLS certificate was refused");
                }
                Unreached::Tls(tls) => {
                    tracing::warn!(route = %route.name, error = %tls, "the TLS handshake with the upstream failed");
                }
                Unreached::TimedOut => {
                    tracing::warn!(route = %route.name, connect_timeout = ?route.settings.connect_timeout, "no connection to the upstream (TCP and TLS) within connect_timeout");
                }
                Unreached::Unavailable => {
                    tracing::warn!(route = %route.name, error = %chain(&e), "upstream unreachable");
                }
            }
            // The page says the same whatever the cause: nothing about the upstream.
            Err(AppError::UpstreamUnavailable)
        }
        Ok(Ok(response)) => {
            record(&route.name, "ok", started);
            Ok(response)
        }
    }
}

fn record(route: &str, outcome: &'static str, started: std::time::Instant) {
    let labels = [("route", route.to_owned()), ("outcome", outcome.to_owned())];
    metrics::counter!("kepgate_proxy_requests_total", &labels).increment(1);
    metrics::histogram!("kepgate_proxy_upstream_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
}

fn upstream_authority(upstream: &url::Url) -> Result<String, AppError> {
    let host = upstream
        .host_str()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("upstream without host")))?;
    Ok(match upstream.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// Cross-site WebSocket hijacking: the handshake carries cookies, so its Origin must be ours.
fn websocket_origin_allowed(state: &ProxyContext, request: &Request) -> bool {
    let Some(origin) = request.headers().get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Non-browser clients send no Origin; they still need the session cookie.
        return true;
    };
    let server = &state.web.settings.server;
    let ours = [
        server.base_url.origin().ascii_serialization(),
        server.public_base_url().origin().ascii_serialization(),
    ];
    ours.iter().any(|o| o == origin)
        || state
            .web
            .settings
            .proxy
            .websocket_origins
            .iter()
            .any(|o| o == origin)
}
