//! What every provider adapter's HTTP calls share: the client, reading a failure into a
//! [`ProviderError`] without leaking URLs (paths and queries may carry secrets), and the
//! calls' metrics and logs.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::exchange::ProviderError;

/// A client for a provider's API: bounded time, no redirects (following one could carry a
/// bearer token or a client secret elsewhere), kepgate's user agent; trusting the CA
/// certificates of `ca_file` beside the system's (`providers.<id>.ca_file`, a private test
/// stand).
pub fn client(timeout: Duration, ca_file: Option<&Path>) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("kepgate/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = ca_file {
        builder = builder.tls_certs_merge(ca_certificates(path)?);
    }
    Ok(builder.build()?)
}

/// The call carries the W3C trace context of the span it is made in (with traces on), so the
/// provider's side of a login can be found in the login's trace.
pub fn with_trace_context(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match crate::trace_context::current_traceparent() {
        Some(traceparent) => request.header(crate::trace_context::TRACEPARENT, traceparent),
        None => request,
    }
}

/// The PEM certificates of a provider's `ca_file` (also read by `check-config`).
pub fn ca_certificates(path: &Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .with_context(|| format!("{} is not PEM certificates", path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "{} holds no certificate", path.display());
    Ok(certs)
}

/// A request that did not get an answer.
pub fn send_error(error: reqwest::Error) -> ProviderError {
    if error.is_timeout() {
        ProviderError::Timeout(error_chain(error))
    } else {
        ProviderError::Unavailable(error_chain(error))
    }
}

/// The most of a provider's answer kepgate reads: its answers are a few KiB (a deeplink, a
/// token, a person's user info); a larger one is a fault, and reading it whole would let a
/// provider (or whoever answers in its name) fill the gateway's memory.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Reads a whole answer, at most [`MAX_ANSWER_BYTES`]; a 5xx is "unavailable" whatever it says.
pub async fn answer_bytes(
    mut response: reqwest::Response,
) -> Result<(reqwest::StatusCode, axum::body::Bytes), ProviderError> {
    let status = response.status();
    if status.is_server_error() {
        return Err(ProviderError::Unavailable(format!(
            "HTTP {}",
            status.as_u16()
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(send_error)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(ProviderError::Unavailable(format!(
                "an answer of more than {MAX_ANSWER_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body.into()))
}

/// A short printable start of a body, for error messages.
pub fn snippet(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(120)])
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

/// The whole cause chain ("error sending request: connection refused"), without the URL.
pub fn error_chain(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Counts and times one logical call (`kepgate_provider_calls_total`,
/// `kepgate_provider_call_duration_seconds`), and logs and counts a failure
/// (`kepgate_provider_errors_total`).
pub fn record<T>(
    provider_id: &str,
    operation: &'static str,
    started: Instant,
    result: &Result<T, ProviderError>,
) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(e) => e.code(),
    };
    let labels = [
        ("provider", provider_id.to_owned()),
        ("operation", operation.to_owned()),
        ("outcome", outcome.to_owned()),
    ];
    metrics::counter!("kepgate_provider_calls_total", &labels).increment(1);
    metrics::histogram!("kepgate_provider_call_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    if let Err(e) = result {
        tracing::warn!(provider = %provider_id, operation, error = %e, "provider call failed");
        metrics::counter!(
            "kepgate_provider_errors_total",
            "provider" => provider_id.to_owned(),
            "kind" => e.kind()
        )
        .increment(1);
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// One answer of `body_len` bytes from a server on loopback, read by `answer_bytes`.
    async fn answer_of(body_len: usize) -> Result<usize, ProviderError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request).await;
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {body_len}\r\n\r\n");
            let _ = socket.write_all(head.as_bytes()).await;
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 0;
            while sent < body_len {
                let n = chunk.len().min(body_len - sent);
                if socket.write_all(&chunk[..n]).await.is_err() {
                    break;
                }
                sent += n;
            }
        });
        let response = client(Duration::from_secs(10), None)
            .unwrap()
            .get(url)
            .send()
            .await
            .unwrap();
        let answer = answer_bytes(response).await.map(|(_, bytes)| bytes.len());
        server.abort();
        answer
    }

    #[tokio::test]
    async fn an_answer_over_the_bound_is_refused_and_one_within_it_read_whole() {
        assert_eq!(answer_of(MAX_ANSWER_BYTES).await.unwrap(), MAX_ANSWER_BYTES);
        let refused = answer_of(64 * MAX_ANSWER_BYTES).await.unwrap_err();
        assert!(
            matches!(&refused, ProviderError::Unavailable(m) if m.contains("more than")),
            "{refused:?}"
        );
    }
}
