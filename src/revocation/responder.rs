//! Talking to an OCSP responder over HTTP (RFC 6960 appendix A.1): the DER request POSTed as
//! `application/ocsp-request`, a bounded answer back. A responder that does not answer within
//! the timeout is given up on, so it never holds a login longer than that.

use std::time::Duration;

use futures_util::StreamExt;

/// Real answers are a few KiB; anything far larger is not an OCSP answer.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponderError {
    #[error("the responder did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the responder cannot be reached: {0}")]
    Unreachable(String),
    #[error("the responder answered HTTP {0}")]
    Status(u16),
    #[error("the responder's answer is larger than {MAX_ANSWER_BYTES} bytes")]
    TooLarge,
}

impl ResponderError {
    pub fn code(&self) -> &'static str {
        match self {
            ResponderError::Timeout(_) => "ocsp_timeout",
            ResponderError::Unreachable(_) => "ocsp_unreachable",
            ResponderError::Status(_) => "ocsp_http_error",
            ResponderError::TooLarge => "ocsp_too_large",
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

    async fn exchange(&self, url: &str, request: &[u8]) -> Result<Vec<u8>, ResponderError> {
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/ocsp-request")
            .header(reqwest::header::ACCEPT, "application/ocsp-response")
            .body(request.to_vec())
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
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(ResponderError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// reqwest's message without the URL, which the caller logs once on its own.
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(&format!(" ({url})"), "");
    }
    s
}
