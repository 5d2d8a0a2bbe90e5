//! Diia.Signature partner ("acquirer") API from the client's side: the JSON and form shapes the
//! adapter sends and reads, field for field as the public acquirer SDKs do
//! (diiaintegration/ua-acquirers-sdk-{php,java,dotnet,js}, and the Python port). The emulator (`crates/emulator`) reads
//! the same sources for the server's side with types of its own, so a mistake here is not
//! mirrored there.

use serde::{Deserialize, Serialize};

/// `GET /api/v1/auth/acquirer/{acquirer_token}` → session token, valid ~2 h.
pub fn token_path(acquirer_token: &str) -> String {
    format!("/api/v1/auth/acquirer/{acquirer_token}")
}
pub const BRANCH_PATH: &str = "/api/v2/acquirers/branch";
pub fn offer_path(branch_id: &str) -> String {
    format!("/api/v1/acquirers/branch/{branch_id}/offer")
}
pub fn dynamic_request_path(branch_id: &str) -> String {
    format!("/api/v2/acquirers/branch/{branch_id}/offer-request/dynamic")
}

/// Header on the callback naming the action: `auth` for authorization.
pub const ACTION_HEADER: &str = "x-diia-id-action";
pub const ACTION_AUTH: &str = "auth";
/// The action of a document-signing callback (and the scope an offer needs for it).
pub const ACTION_HASHED_FILES_SIGNING: &str = "hashedFilesSigning";
/// Header on the callback carrying the `requestId` as sent (the base64 hash).
pub const TRACE_ID_HEADER: &str = "x-document-request-trace-id";
/// The one multipart form field of the callback: base64 of [`AuthCallbackData`] JSON.
pub const ENCODE_DATA_FIELD: &str = "encodeData";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Scopes {
    #[serde(rename = "diiaId", default, skip_serializing_if = "Vec::is_empty")]
    pub diia_id: Vec<String>,
}

impl Scopes {
    /// Login and document signing: what `kepgate diia setup` asks for, the scopes of the
    /// Python SDK's `DiiaIDAction` (`sdk/remote/model/offer_scopes.py`) and of the .NET
    /// example's branch for hashed-files signing (`createBranchHFS`).
    pub fn auth_and_signing() -> Self {
        Scopes {
            diia_id: vec![
                ACTION_AUTH.to_owned(),
                ACTION_HASHED_FILES_SIGNING.to_owned(),
            ],
        }
    }
}

/// `POST /api/v2/acquirers/branch`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BranchRequest {
    pub name: String,
    pub email: String,
    pub region: String,
    pub district: String,
    pub location: String,
    pub street: String,
    pub house: String,
    pub custom_full_name: String,
    pub custom_full_address: String,
    pub delivery_types: Vec<String>,
    pub offer_request_type: String,
    pub scopes: Scopes,
}

/// `{"_id": "..."}`, the answer to creating a branch or an offer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdResponse {
    #[serde(rename = "_id")]
    pub id: String,
}

/// `POST /api/v1/acquirers/branch/{branchId}/offer`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferRequest {
    pub name: String,
    pub scopes: Scopes,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub return_link: Option<String>,
}

/// `POST /api/v2/acquirers/branch/{branchId}/offer-request/dynamic`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicOfferRequest {
    pub offer_id: String,
    /// base64(hash(partner's own random request id)).
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub return_link: Option<String>,
    /// "ECDSA" (SHA-256) or "DSTU" (GOST 34.311); absent = Diia's default, DSTU, as the JS,
    /// Python, Java and .NET SDKs send it (only PHP's sets it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sign_algo: Option<String>,
    /// For document signing only: the files' names and hashes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub data: Option<OfferRequestData>,
}

/// `data` of a signing request, as the SDKs build it: Python `sdk/service/sign_service.py`
/// `get_sign_deep_link` → `diia_api.py` `get_deep_link`; Java `DiiaIdServiceImpl.getSignDeepLink`
/// with `remote/model/DeepLinkRequest.java` and `model/FileHash.java`; .NET
/// `DiiaSignApiImpl.GetSignDeepLink`; PHP `DiiaApi.php` `getSignLink`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferRequestData {
    pub hashed_files_signing: HashedFilesSigning,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HashedFilesSigning {
    pub hashed_files: Vec<HashedFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HashedFile {
    pub file_name: String,
    /// Standard base64 of the file's hash (GOST 34.311 by default, SHA-256 with ECDSA).
    pub file_hash: String,
}

/// The JSON inside `encodeData` for `X-Diia-Id-Action: hashedFilesSigning`, as the SDKs'
/// receivers read it (Java `UploadController.java`, .NET `DocEndpointController.cs`, Python
/// `examples/fast_api/app/routers/api.py` `documents_receiver`): one signature per file. A
/// decline carries `status` and no items, as the emulator's auth decline does.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningCallbackData {
    #[serde(default)]
    pub signed_items: Vec<SignedItemData>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedItemData {
    pub name: String,
    /// Standard base64 of the CMS signature (DER).
    pub signature: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeeplinkResponse {
    pub deeplink: String,
}

/// The JSON inside `encodeData` for `X-Diia-Id-Action: auth`.
///
/// Real Diia sends `requestId` and `signature` (base64 CAdES .p7s). Diia documents no decline
/// callback; the emulator reports a decline with `status: "declined"` and an empty `signature`
/// (so that the official SDKs' decoders, which read `signature` unconditionally, do not crash).
/// The adapter turns any `status` into a rejection (and nothing unsigned can ever confirm a
/// login).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthCallbackData {
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<String>,
}

/// The partner's answer to a callback once the result is durably recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallbackAck {
    pub success: bool,
}

/// Error body shape of Diia's API (`{"name", "message", "code"}`, the Java SDK's
/// `ErrorMessage`); the adapter reads the message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub message: String,
}
