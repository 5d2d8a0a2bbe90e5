//! Prometheus metrics, labelled by route template (`/.kepgate/language/{code}`), never by the raw
//! path: raw paths would let any client create unbounded label values.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Label, SharedString};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The process-wide recorder. `metrics` allows one global recorder, and several gateways in one
/// test process must share it.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
            .map(|b| b.build_recorder())
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Fails only if another recorder is installed; then ours just collects nothing new.
        let _ = metrics::set_global_recorder(recorder);
        let upkeep = handle.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(crate::periodic::every(
                std::time::Duration::from_secs(5),
                move || {
                    upkeep.run_upkeep();
                    std::future::ready(())
                },
            ));
        }
        handle
    })
}

pub async fn track(request: Request, next: Next) -> Response {
    // Static label values where there are few (the method, and "unmatched" for the cabinet's
    // space: every proxied request), so the proxy's path allocates for the status only.
    let route = match request.extensions().get::<MatchedPath>() {
        Some(path) => SharedString::from(path.as_str().to_owned()),
        None => SharedString::const_str("unmatched"),
    };
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = vec![
        Label::from_static_parts("method", method),
        Label::new("route", route),
        Label::new("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("kepgate_http_requests_total", labels.clone()).increment(1);
    metrics::histogram!("kepgate_http_request_duration_seconds", labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Standard methods by name, anything else as `other`: a client may send any token as a method,
/// and every distinct label value would stay in the registry for ever.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

pub async fn render() -> String {
    recorder().render()
}
