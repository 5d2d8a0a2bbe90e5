//! Downloading the two sources: https (unless `allow_http`), a time limit, a size cap, the
//! sources' own CA file beside the system's.

use crate::config::TrustSources;

/// A download that brought nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: the body is over {max_bytes} bytes")]
    TooLarge { url: String, max_bytes: usize },
}

impl FetchError {
    /// The metric's outcome label.
    pub fn outcome(&self) -> &'static str {
        match self {
            FetchError::Unreachable { .. } => "unreachable",
            FetchError::Status { .. } => "http_error",
            FetchError::TooLarge { .. } => "too_large",
        }
    }
}

/// The client for `sources`: redirects followed a few times, never from https to http.
pub fn client(sources: &TrustSources) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .timeout(sources.timeout)
        .connect_timeout(sources.timeout.min(std::time::Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            // `https_only` is off with `allow_http`: a redirect must still never leave https.
            let downgrade = attempt.url().scheme() == "http"
                && attempt.previous().iter().any(|url| url.scheme() == "https");
            if downgrade {
                attempt.error("a redirect from https to plain http")
            } else if attempt.previous().len() > 3 {
                attempt.error("more than 3 redirects")
            } else {
                attempt.follow()
            }
        }))
        .https_only(!sources.allow_http)
        .user_agent(concat!("kepgate/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &sources.ca_file {
        builder = builder.tls_certs_merge(crate::provider::ca_certificates(path)?);
    }
    Ok(builder.build()?)
}

/// The body at `url`, at most `max_bytes`, read as it comes (a larger one is not read whole).
pub async fn download(
    client: &reqwest::Client,
    url: &url::Url,
    max_bytes: usize,
) -> Result<Vec<u8>, FetchError> {
    let unreachable = |e: reqwest::Error| FetchError::Unreachable {
        url: url.to_string(),
        reason: crate::provider::error_chain(e),
    };
    let mut response = client.get(url.clone()).send().await.map_err(unreachable)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let too_large = || FetchError::TooLarge {
        url: url.to_string(),
        max_bytes,
    };
    if response
        .content_length()
        .is_some_and(|n| n > max_bytes as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if body.len() + chunk.len() > max_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
