//! The id.gov.ua adapter (kind `idgovua`): the browser is sent to id.gov.ua with the request id
//! as `state`, comes back to `{base_url}{prefix}/login/return/{id}` with a code, and kepgate asks
//! server-side for a token (`get-access-token`), then who the person is (`get-user-info`), and
//! ends the person's session there (`get-user-logout`). The wire format and its sources:
//! [`super::wire`].

use std::time::Instant;

use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use url::Url;

use super::person;
use super::settings::IdGovUaSettings;
use super::wire::{self, ErrorAnswer, TokenAnswer, UserInfo};
use crate::provider::common_settings::ProviderCommon;
use crate::provider::exchange::{
    HashAlgorithm, Identified, IdentifyError, ProviderError, RequestId,
};
use crate::provider::http_call;

/// Longer than any code id.gov.ua issues; a code is checked before it is sent anywhere.
const MAX_CODE_LEN: usize = 512;

#[derive(Clone)]
pub struct IdGovUaProvider {
    id: String,
    settings: IdGovUaSettings,
    http: reqwest::Client,
    /// Registered with id.gov.ua and compared by it exactly.
    redirect_uri: Url,
}

impl IdGovUaProvider {
    pub fn new(id: &str, settings: &IdGovUaSettings, redirect_uri: Url) -> anyhow::Result<Self> {
        Ok(Self {
            id: id.to_owned(),
            settings: settings.clone(),
            http: http_call::client(
                settings.common.http_timeout,
                settings.common.ca_file.as_deref(),
            )?,
            redirect_uri,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub(super) fn settings(&self) -> &IdGovUaSettings {
        &self.settings
    }

    /// Where id.gov.ua sends the browser back, as registered there.
    pub(super) fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    pub fn common(&self) -> &ProviderCommon {
        &self.settings.common
    }

    /// What the stored request hash is made with (the `state` is hashed to find the login).
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        HashAlgorithm::Sha256
    }

    /// `scheme://host[:port]` of [`Self::authorize_url`].
    pub fn authorize_origin(&self) -> String {
        self.settings.base_url.origin().ascii_serialization()
    }

    /// Where the browser goes: id.gov.ua's login page for this request.
    pub fn authorize_url(&self, request_id: &RequestId) -> Result<Url, ProviderError> {
        let mut url = self.endpoint(wire::AUTHORIZE_PATH)?;
        let methods: Vec<&str> = self.settings.methods.iter().map(|m| m.as_str()).collect();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("auth_type", &methods.join(","))
            .append_pair("state", &request_id.as_state())
            .append_pair("redirect_uri", self.redirect_uri.as_str());
        Ok(url)
    }

    /// The code the browser brought, exchanged for who the person is: two calls, each within
    /// `http_timeout`, which `check-config` keeps under half of `server.request_timeout`. The
    /// person's session at id.gov.ua is ended afterwards, whatever the answer was.
    pub async fn identify(&self, code: &str) -> Result<Identified, IdentifyError> {
        if code.is_empty()
            || code.len() > MAX_CODE_LEN
            || !code.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(IdentifyError::CodeRefused(
                "the code in the return address is not one id.gov.ua issues".to_owned(),
            ));
        }
        let secret = self.settings.client_secret.expose_secret();
        let token: TokenAnswer = self
            .call(
                "get_access_token",
                wire::TOKEN_PATH,
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", &self.settings.client_id),
                    ("client_secret", secret),
                    ("code", code),
                    ("redirect_uri", self.redirect_uri.as_str()),
                ],
            )
            .await
            .map_err(|failure| match failure {
                Failure::Refused(refusal) => match refusal.of_token() {
                    wire::TokenRefusal::Code => IdentifyError::CodeRefused(refusal.text),
                    wire::TokenRefusal::Client => IdentifyError::ClientRefused(refusal.text),
                },
                Failure::Provider(e) => IdentifyError::Provider(e),
            })?;
        let user_id = token.user_id.0.as_str();
        let info: Result<UserInfo, ProviderError> = self
            .call(
                "get_user_info",
                wire::USER_INFO_PATH,
                &[
                    ("access_token", &token.access_token),
                    ("user_id", user_id),
                    ("fields", wire::FIELDS),
                ],
            )
            .await
            .map_err(Failure::into_provider_error);
        self.end_session_in_background(token.access_token.clone(), user_id.to_owned());
        let info = info?;
        if info.contains_key(wire::ENCRYPTED_USER_INFO) {
            return Err(ProviderError::BadAnswer(
                "the user info came encrypted, which kepgate does not ask for".to_owned(),
            )
            .into());
        }
        person::identified(&info, &self.settings.methods)
    }

    /// `get-user-logout`, after the person is known and without holding up their return: the
    /// browser's request has room for two calls only, and the logout decides nothing (the token
    /// expires on its own; the person is signed in to kepgate either way).
    fn end_session_in_background(&self, access_token: String, user_id: String) {
        let this = self.clone();
        tokio::spawn(async move {
            let logged_out: Result<ErrorAnswer, ProviderError> = this
                .call(
                    "get_user_logout",
                    wire::LOGOUT_PATH,
                    &[("access_token", &access_token), ("user_id", &user_id)],
                )
                .await
                .map_err(Failure::into_provider_error);
            if let Err(e) = logged_out {
                tracing::info!(provider = %this.id, error = %e, "ending the session at id.gov.ua failed");
            }
        });
    }

    fn endpoint(&self, path: &str) -> Result<Url, ProviderError> {
        self.settings
            .base_url
            .join(path)
            .map_err(|e| ProviderError::NotConfigured(format!("bad base_url: {e}")))
    }

    /// One POSTed form, read as JSON; an `error` in the body is a refusal whatever the status.
    /// Not retried: a code is single use, and a repeated token request would spend it twice.
    async fn call<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<T, Failure> {
        let started = Instant::now();
        let result = async {
            let response = http_call::with_trace_context(
                self.http
                    .post(self.endpoint(path)?)
                    .header("accept", "application/json")
                    .form(form),
            )
            .send()
            .await
            .map_err(http_call::send_error)?;
            let (status, bytes) = http_call::answer_bytes(response).await?;
            let answer = serde_json::from_slice::<ErrorAnswer>(&bytes).ok();
            if let Some(text) = answer.as_ref().and_then(ErrorAnswer::failure) {
                return Err(Failure::Refused(Refusal {
                    status: status.as_u16(),
                    error: answer.and_then(|a| a.error).map(|e| e.0),
                    text,
                }));
            }
            if !status.is_success() {
                return Err(Failure::Refused(Refusal {
                    status: status.as_u16(),
                    error: None,
                    text: http_call::snippet(&bytes),
                }));
            }
            serde_json::from_slice(&bytes).map_err(|e| {
                ProviderError::BadAnswer(format!(
                    "{e}; body starts {:?}",
                    http_call::snippet(&bytes)
                ))
                .into()
            })
        }
        .await;
        let recorded = match &result {
            Ok(_) => Ok(()),
            Err(Failure::Provider(e)) => Err(e.clone()),
            Err(Failure::Refused(refusal)) => Err(refusal.clone().into_provider_error()),
        };
        http_call::record(&self.id, operation, started, &recorded);
        result
    }
}

/// Why one call got no usable answer.
enum Failure {
    Provider(ProviderError),
    /// id.gov.ua said no: an `error` in the body, or a 4xx.
    Refused(Refusal),
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Self {
        Failure::Provider(e)
    }
}

impl Failure {
    fn into_provider_error(self) -> ProviderError {
        match self {
            Failure::Provider(e) => e,
            Failure::Refused(refusal) => refusal.into_provider_error(),
        }
    }
}

#[derive(Clone)]
struct Refusal {
    status: u16,
    /// The answer's `error`, as sent.
    error: Option<String>,
    /// What the log says: the error and its description, or the start of the body.
    text: String,
}

impl Refusal {
    fn of_token(&self) -> wire::TokenRefusal {
        wire::token_refusal(self.status, self.error.as_deref())
    }

    fn into_provider_error(self) -> ProviderError {
        ProviderError::Refused {
            status: self.status,
            message: self.text,
        }
    }
}
