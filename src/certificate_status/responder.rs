//! Talking to a CA's revocation services over HTTP: an OCSP responder (RFC 6960 appendix A.1,
//! the DER request POSTed as `application/ocsp-request`) and its CRL distribution points (a GET),
//! each answer bounded in size and time. A responder that does not answer within the timeout is
//! given up on, so it never holds a login longer than that.

use std::time::Duration;

use futures_util::StreamExt;

/// Real answers are a few KiB; anything far larger is not an OCSP answer.
const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// The full CRLs of the largest national CAs are tens of MiB.
const MAX_CRL_BYTES: usize = 128 * 1024 * 1024;
/// A CRL is downloaded in the background, never while a login waits: a slow link may take long.
const CRL_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponderError {
    #[error("the responder did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the responder cannot be reached: {0}")]
    Unreachable(String),
    #[error("the responder answered HTTP {0}")]
    Status(u16),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
}

impl ResponderError {
    pub fn code(&self) -> &'static str {
        match self {
            ResponderError::Timeout(_) => "ocsp_timeout",
            ResponderError::Unreachable(_) => "ocsp_unreachable",
            ResponderError::Status(_) => "ocsp_http_error",
            ResponderError::TooLarge(_) => "ocsp_too_large",
        }
    }
}

pub(crate) struct ResponderClient {
    http: reqwest::Client,
    timeout: Duration,
}

impl ResponderClient {
    pub(crate) fn new(timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            // Responders are named by the CA; a redirect elsewhere is not followed.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("kepgate/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, timeout })
    }

    /// One request to `url`, the whole exchange (connect, send, read) within the timeout.
    pub(crate) async fn ask(&self, url: &str, request: &[u8]) -> Result<Vec<u8>, ResponderError> {
        tokio::time::timeout(self.timeout, self.exchange(url, request))
            .await
            .map_err(|_| ResponderError::Timeout(self.timeout))?
    }

    /// The CRL at `url` (a distribution point), within its own, longer bounds.
    pub(crate) async fn download(&self, url: &str) -> Result<Vec<u8>, ResponderError> {
        let request = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/pkix-crl");
        tokio::time::timeout(CRL_TIMEOUT, bounded(request, MAX_CRL_BYTES))
            .await
            .map_err(|_| ResponderError::Timeout(CRL_TIMEOUT))?
    }

    async fn exchange(&self, url: &str, request: &[u8]) -> Result<Vec<u8>, ResponderError> {
        let request = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/ocsp-request")
            .header(reqwest::header::ACCEPT, "application/ocsp-response")
            .body(request.to_vec());
        bounded(request, MAX_ANSWER_BYTES).await
    }
}

/// Sends `request` and reads a successful answer of at most `max` bytes.
async fn bounded(request: reqwest::RequestBuilder, max: usize) -> Result<Vec<u8>, ResponderError> {
    let response = request
        .send()
        .await
        .map_err(|e| ResponderError::Unreachable(without_url(&e)))?;
    if !response.status().is_success() {
        return Err(ResponderError::Status(response.status().as_u16()));
    }
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| ResponderError::Unreachable(without_url(&e)))?;
        if body.len() + chunk.len() > max {
            return Err(ResponderError::TooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
/// reqwest's message without the URL, which the caller logs once on its own.
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(&format!(" ({url})"), "");
    }
    s
}
