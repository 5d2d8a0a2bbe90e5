//! The Diia.Signature adapter: asks Diia for a deeplink to a request hash (the phone signs it
//! and Diia calls kepgate back, `callback.rs`).

use axum::body::Bytes;
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use url::Url;

use super::callback::decode_callback;
use super::client::DiiaClient;
use super::settings::{DiiaSettings, DiiaSignAlgo};
use super::wire;
use crate::provider::common_settings::ProviderCommon;
use crate::provider::exchange::{
    CallbackError, HashAlgorithm, ProviderError, RequestHash, StartedRequest,
};
use crate::provider::signing::{DecodedCallback, FileHash, SignAlgorithm};

pub struct DiiaProvider {
    id: String,
    settings: DiiaSettings,
    client: DiiaClient,
}

impl DiiaProvider {
    pub fn new(id: &str, settings: &DiiaSettings) -> anyhow::Result<Self> {
        let client = DiiaClient::new(
            id,
            settings.api_base_url.clone(),
            settings.acquirer_token.clone(),
            settings.auth_acquirer_token.clone(),
            settings.common.http_timeout,
            settings.common.http_retries,
            settings.common.ca_file.as_deref(),
        )?;
        Ok(Self {
            id: id.to_owned(),
            settings: settings.clone(),
            client,
        })
    }

    pub(super) fn settings(&self) -> &DiiaSettings {
        &self.settings
    }

    pub(super) fn client(&self) -> &DiiaClient {
        &self.client
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn common(&self) -> &ProviderCommon {
        &self.settings.common
    }

    /// The one place deciding what `sign_algo` means: the `signAlgo` sent (none for `default`,
    /// like the official SDKs) and the hash of the request id, which the phone signs as is.
    fn sign_algo(&self) -> (Option<&'static str>, HashAlgorithm) {
        match self.settings.sign_algo {
            DiiaSignAlgo::Default => (None, HashAlgorithm::Gost34311),
            DiiaSignAlgo::Dstu => (Some("DSTU"), HashAlgorithm::Gost34311),
            DiiaSignAlgo::Ecdsa => (Some("ECDSA"), HashAlgorithm::Sha256),
        }
    }

    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.sign_algo().1
    }

    /// Asks Diia for a deeplink for this request hash, made with [`Self::hash_algorithm`].
    pub async fn start(
        &self,
        request_hash: &RequestHash,
        _user_hint: Option<&str>,
    ) -> Result<StartedRequest, ProviderError> {
        let (branch_id, offer_id) = self.branch_and_offer()?;
        let body = wire::DynamicOfferRequest {
            offer_id: offer_id.to_owned(),
            request_id: request_hash.as_str().to_owned(),
            return_link: None,
            sign_algo: self.sign_algo().0.map(str::to_owned),
            data: None,
        };
        self.ask_for_deeplink(branch_id, &body).await
    }

    /// The key family document signing uses unless a request asks for another.
    pub fn default_sign_algorithm(&self) -> SignAlgorithm {
        match self.settings.sign_algo {
            DiiaSignAlgo::Default | DiiaSignAlgo::Dstu => SignAlgorithm::Dstu4145,
            DiiaSignAlgo::Ecdsa => SignAlgorithm::Ecdsa,
        }
    }

    /// Asks Diia for a deeplink to sign `files` (`hashedFilesSigning`). `request_id` is sent as
    /// is, as the SDKs send a signing request's id; each file's hash is of `algorithm`'s.
    /// `signAlgo` is sent only for ECDSA: without it Diia signs with DSTU 4145, as every SDK
    /// but PHP's relies on.
    pub async fn start_signing(
        &self,
        request_id: &str,
        files: &[FileHash<'_>],
        algorithm: SignAlgorithm,
    ) -> Result<StartedRequest, ProviderError> {
        let (branch_id, offer_id) = self.branch_and_offer()?;
        let body = wire::DynamicOfferRequest {
            offer_id: offer_id.to_owned(),
            request_id: request_id.to_owned(),
            return_link: None,
            sign_algo: match algorithm {
                SignAlgorithm::Dstu4145 => None,
                SignAlgorithm::Ecdsa => Some("ECDSA".to_owned()),
            },
            data: Some(wire::OfferRequestData {
                hashed_files_signing: wire::HashedFilesSigning {
                    hashed_files: files
                        .iter()
                        .map(|f| wire::HashedFile {
                            file_name: f.name.to_owned(),
                            file_hash: STANDARD.encode(f.hash),
                        })
                        .collect(),
                },
            }),
        };
        self.ask_for_deeplink(branch_id, &body).await
    }

    fn branch_and_offer(&self) -> Result<(&str, &str), ProviderError> {
        match (&self.settings.branch_id, &self.settings.offer_id) {
            (Some(branch_id), Some(offer_id)) => Ok((branch_id, offer_id)),
            _ => Err(ProviderError::NotConfigured(format!(
                "providers.{}.branch_id / offer_id are empty: run `kepgate diia setup --provider {}`",
                self.id, self.id
            ))),
        }
    }

    async fn ask_for_deeplink(
        &self,
        branch_id: &str,
        body: &wire::DynamicOfferRequest,
    ) -> Result<StartedRequest, ProviderError> {
        let answer: wire::DeeplinkResponse = self
            .client
            .call(
                "offer_request_dynamic",
                Method::POST,
                &wire::dynamic_request_path(branch_id),
                Some(body),
            )
            .await?;
        let link = Url::parse(&answer.deeplink)
            .map_err(|e| ProviderError::BadAnswer(format!("deeplink is not a URL: {e}")))?;
        if !matches!(link.scheme(), "https" | "http") {
            return Err(ProviderError::BadAnswer(
                "deeplink is not an http(s) link".to_owned(),
            ));
        }
        Ok(StartedRequest {
            link: Some(link),
            show_qr: true,
            pushed_to_phone: false,
        })
    }

    /// Reads Diia's callback: multipart (form-data or mixed) with one `encodeData` field.
    pub async fn decode_callback(
        &self,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<DecodedCallback, CallbackError> {
        decode_callback(headers, body).await
    }
}
