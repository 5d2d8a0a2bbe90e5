//! Diia.Signature adapter (kind `diia`): deeplink + QR, result by server-side callback.

pub mod client;
pub mod wire;

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use url::Url;

use crate::config::{DiiaSettings, DiiaSignAlgo, ProviderCommon};
use crate::provider::exchange::{
    CallbackError, CallbackResult, HashAlgorithm, ProviderCallback, ProviderError, RequestHash,
    StartedRequest,
};
use client::DiiaClient;

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
        let (Some(branch_id), Some(offer_id)) = (&self.settings.branch_id, &self.settings.offer_id)
        else {
            return Err(ProviderError::NotConfigured(format!(
                "providers.{}.branch_id / offer_id are empty: run `kepgate diia setup --provider {}`",
                self.id, self.id
            )));
        };
        let body = wire::DynamicOfferRequest {
            offer_id: offer_id.clone(),
            request_id: request_hash.as_str().to_owned(),
            return_link: None,
            sign_algo: self.sign_algo().0.map(str::to_owned),
        };
        let answer: wire::DeeplinkResponse = self
            .client
            .call(
                "offer_request_dynamic",
                Method::POST,
                &wire::dynamic_request_path(branch_id),
                Some(&body),
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

    /// Creates the branch and the offer (`kepgate diia setup`); returns (branch_id, offer_id).
    pub async fn setup(&self) -> Result<(String, String), ProviderError> {
        let s = &self.settings.setup;
        let branch = wire::BranchRequest {
            name: s.branch_name.clone(),
            email: s.email.clone(),
            region: s.region.clone(),
            district: s.district.clone(),
            location: s.location.clone(),
            street: s.street.clone(),
            house: s.house.clone(),
            custom_full_name: s.custom_full_name.clone(),
            custom_full_address: s.custom_full_address.clone(),
            delivery_types: vec!["api".to_owned()],
            offer_request_type: "dynamic".to_owned(),
            scopes: wire::Scopes::auth(),
        };
        let created: wire::IdResponse = self
            .client
            .call(
                "create_branch",
                Method::POST,
                wire::BRANCH_PATH,
                Some(&branch),
            )
            .await?;
        let offer = wire::OfferRequest {
            name: s.offer_name.clone(),
            scopes: wire::Scopes::auth(),
            return_link: None,
        };
        let offer_created: wire::IdResponse = self
            .client
            .call(
                "create_offer",
                Method::POST,
                &wire::offer_path(&created.id),
                Some(&offer),
            )
            .await?;
        Ok((created.id, offer_created.id))
    }

    /// Reads Diia's callback: multipart (form-data or mixed) with one `encodeData` field.
    pub async fn decode_callback(
        &self,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<ProviderCallback, CallbackError> {
        decode_auth_callback(headers, body).await
    }
}

pub async fn decode_auth_callback(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<ProviderCallback, CallbackError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let action = header(wire::ACTION_HEADER).unwrap_or_default();
    if !action.eq_ignore_ascii_case(wire::ACTION_AUTH) {
        return Err(CallbackError::UnsupportedAction(
            action.chars().take(40).collect(),
        ));
    }
    let trace_id = header(wire::TRACE_ID_HEADER).ok_or_else(|| {
        CallbackError::Malformed(format!("missing {} header", wire::TRACE_ID_HEADER))
    })?;

    let content_type = header(CONTENT_TYPE.as_str()).unwrap_or_default();
    let boundary = multipart_boundary(content_type).ok_or_else(|| {
        CallbackError::Malformed("not a multipart body with a boundary".to_owned())
    })?;
    let encoded = encode_data_field(body.clone(), boundary).await?;

    let json = STANDARD
        .decode(encoded.trim())
        .map_err(|_| CallbackError::Malformed("encodeData is not base64".to_owned()))?;
    let data: wire::AuthCallbackData = serde_json::from_slice(&json).map_err(|e| {
        CallbackError::Malformed(format!("encodeData is not the expected JSON: {e}"))
    })?;
    if data.request_id != trace_id {
        return Err(CallbackError::TraceIdMismatch);
    }
    let request_hash = RequestHash::parse(&data.request_id).ok_or_else(|| {
        CallbackError::Malformed("requestId is not base64 of a 32-byte hash".to_owned())
    })?;
    // A status wins over any signature (the emulator's decline carries an empty one); a status
    // can only ever reject.
    let signature = data.signature.as_deref().map(str::trim).unwrap_or_default();
    let result = match data.status.as_deref() {
        Some(status) => CallbackResult::Declined {
            reason: status.chars().take(40).collect(),
        },
        None if signature.is_empty() => {
            return Err(CallbackError::Malformed(
                "neither signature nor status".to_owned(),
            ));
        }
        None => CallbackResult::Signed(
            STANDARD
                .decode(signature)
                .map_err(|_| CallbackError::Malformed("signature is not base64".to_owned()))?,
        ),
    };
    Ok(ProviderCallback {
        request_hash,
        result,
    })
}

/// The boundary of `multipart/form-data` or `multipart/mixed` (Diia is documented to send either).
fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    let mime = parts.next()?.trim().to_ascii_lowercase();
    if !mime.starts_with("multipart/") {
        return None;
    }
    parts
        .find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| v.trim().trim_matches('"').to_owned())
        })
        .filter(|b| !b.is_empty() && b.len() <= 200)
}

async fn encode_data_field(body: Bytes, boundary: String) -> Result<String, CallbackError> {
    let stream =
        futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut found = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| CallbackError::Malformed(format!("multipart: {e}")))?
    {
        if field.name() == Some(wire::ENCODE_DATA_FIELD) {
            if found.is_some() {
                return Err(CallbackError::Malformed(
                    "encodeData appears twice".to_owned(),
                ));
            }
            found = Some(
                field
                    .text()
                    .await
                    .map_err(|e| CallbackError::Malformed(format!("multipart: {e}")))?,
            );
        }
    }
    found.ok_or_else(|| CallbackError::Malformed("no encodeData field".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callback(content_type: &str, body: String) -> (HeaderMap, Bytes) {
        let mut headers = HeaderMap::new();
        headers.insert(wire::ACTION_HEADER, "auth".parse().unwrap());
        headers.insert(wire::TRACE_ID_HEADER, HASH.parse().unwrap());
        headers.insert(CONTENT_TYPE, content_type.parse().unwrap());
        (headers, Bytes::from(body))
    }

    const HASH: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

    /// The callback as the emulator (and Diia) sends it, under either multipart type.
    async fn decode(media: &str, json: &str) -> Result<CallbackResult, CallbackError> {
        let encoded = STANDARD.encode(json);
        let body = format!(
            "--b\r\nContent-Disposition: form-data; name=\"encodeData\"\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\n{encoded}\r\n--b--\r\n"
        );
        let (headers, body) = callback(&format!("{media}; boundary=b"), body);
        decode_auth_callback(&headers, &body)
            .await
            .map(|c| c.result)
    }

    #[tokio::test]
    async fn mixed_and_form_data_callbacks_decode_and_a_status_declines() {
        let signed = format!(r#"{{"requestId":"{HASH}","signature":"AQID"}}"#);
        let declined = format!(r#"{{"requestId":"{HASH}","signature":"","status":"declined"}}"#);
        for media in ["multipart/mixed", "multipart/form-data"] {
            assert!(matches!(
                decode(media, &signed).await,
                Ok(CallbackResult::Signed(p7s)) if p7s == [1, 2, 3]
            ));
            assert!(matches!(
                decode(media, &declined).await,
                Ok(CallbackResult::Declined { reason }) if reason == "declined"
            ));
            let empty = format!(r#"{{"requestId":"{HASH}","signature":""}}"#);
            assert!(matches!(
                decode(media, &empty).await,
                Err(CallbackError::Malformed(_))
            ));
        }
    }

    #[test]
    fn boundary_of_form_data_and_mixed() {
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            multipart_boundary("multipart/mixed;boundary=\"x y\"").as_deref(),
            Some("x y")
        );
        assert_eq!(multipart_boundary("application/json"), None);
        assert_eq!(multipart_boundary("multipart/form-data"), None);
    }
}
