//! HTTP client for Diia's partner API: session token cache, bounded retries, clear errors.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use tracing::Instrument;
use url::Url;

use super::wire;
use crate::provider::exchange::ProviderError;
use crate::provider::http_call;

/// Diia's session tokens live about 2 h; the SDKs renew a little before. So do we.
const TOKEN_LIFETIME: Duration = Duration::from_secs(2 * 60 * 60 - 5 * 60);

pub struct DiiaClient {
    provider_id: String,
    http: reqwest::Client,
    base: Url,
    acquirer_token: SecretString,
    auth_acquirer_token: Option<SecretString>,
    retries: u32,
    token: Mutex<Option<(SecretString, Instant)>>,
}

impl DiiaClient {
    pub fn new(
        provider_id: &str,
        base: Url,
        acquirer_token: SecretString,
        auth_acquirer_token: Option<SecretString>,
        timeout: Duration,
        retries: u32,
        ca_file: Option<&std::path::Path>,
    ) -> anyhow::Result<Self> {
        let http = http_call::client(timeout, ca_file)?;
        Ok(Self {
            provider_id: provider_id.to_owned(),
            http,
            base,
            acquirer_token,
            auth_acquirer_token,
            retries,
            token: Mutex::new(None),
        })
    }

    fn url(&self, path: &str) -> Result<Url, ProviderError> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| ProviderError::NotConfigured(format!("bad api_base_url: {e}")))
    }

    /// The cached session token, fetched again when older than its lifetime or after a 401.
    async fn session_token(&self, force_renew: bool) -> Result<SecretString, ProviderError> {
        let mut cached = self.token.lock().await;
        if !force_renew
            && let Some((token, at)) = cached.as_ref()
            && at.elapsed() < TOKEN_LIFETIME
        {
            return Ok(token.clone());
        }
        let path = wire::token_path(self.acquirer_token.expose_secret());
        let answer: wire::TokenResponse = self
            .send("token", Method::GET, &path, None::<&()>, None)
            .await?;
        let token = SecretString::from(answer.token);
        *cached = Some((token.clone(), Instant::now()));
        Ok(token)
    }

    /// A call with the session token; a 401 renews the token once and tries again.
    pub async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ProviderError> {
        let token = self.session_token(false).await?;
        match self
            .send(operation, method.clone(), path, body, Some(&token))
            .await
        {
            Err(ProviderError::Refused { status: 401, .. }) => {
                tracing::info!(provider = %self.provider_id, operation, "session token refused; renewing once");
                let token = self.session_token(true).await?;
                self.send(operation, method, path, body, Some(&token)).await
            }
            other => other,
        }
    }

    /// One logical request with bounded retries on 5xx and network errors.
    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        body: Option<&B>,
        bearer: Option<&SecretString>,
    ) -> Result<T, ProviderError> {
        let url = self.url(path)?;
        let started = Instant::now();
        let span = tracing::info_span!("provider.call", provider = %self.provider_id, operation);
        let result = self
            .attempts(operation, &method, &url, body, bearer)
            .instrument(span)
            .await;
        http_call::record(&self.provider_id, operation, started, &result);
        result
    }

    /// [`send`](Self::send)'s attempts: again after a 5xx or a network error, up to the retries.
    async fn attempts<B: Serialize, T: DeserializeOwned>(
        &self,
        operation: &'static str,
        method: &Method,
        url: &Url,
        body: Option<&B>,
        bearer: Option<&SecretString>,
    ) -> Result<T, ProviderError> {
        let mut attempt = 0;
        loop {
            let mut request = http_call::with_trace_context(
                self.http
                    .request(method.clone(), url.clone())
                    .header("accept", "application/json"),
            );
            if let Some(token) = bearer {
                request = request.bearer_auth(token.expose_secret());
            } else if let Some(basic) = &self.auth_acquirer_token {
                request =
                    request.header("authorization", format!("Basic {}", basic.expose_secret()));
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            // No URL in any error: the token path carries the acquirer token.
            let outcome = match request.send().await {
                Err(e) => Err(http_call::send_error(e)),
                Ok(response) => read_answer(response).await,
            };
            let retryable = matches!(outcome, Err(ProviderError::Unavailable(_)));
            if retryable && attempt < self.retries {
                attempt += 1;
                tracing::warn!(provider = %self.provider_id, operation, attempt, "provider call failed; retrying");
                tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt - 1))).await;
                continue;
            }
            return outcome;
        }
    }
}

async fn read_answer<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ProviderError> {
    let (status, bytes) = http_call::answer_bytes(response).await?;
    if !status.is_success() {
        let message = serde_json::from_slice::<wire::ErrorResponse>(&bytes)
            .map(|e| e.message)
            .unwrap_or_else(|_| http_call::snippet(&bytes));
        return Err(ProviderError::Refused {
            status: status.as_u16(),
            message,
        });
    }
    if status == StatusCode::NO_CONTENT {
        return Err(ProviderError::BadAnswer("empty answer".to_owned()));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ProviderError::BadAnswer(format!("{e}; body starts {:?}", http_call::snippet(&bytes)))
    })
}
