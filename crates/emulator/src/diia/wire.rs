//! Diia.Signature's partner ("acquirer") API from the server's side: the JSON the public acquirer
//! SDKs send (read here) and the JSON and callback they read (written here), field for field as
//! in diiaintegration/ua-acquirers-sdk-{php,java,dotnet}.
//!
//! Written from those sources on its own, not shared with the gateway's client types
//! (`src/provider/diia/wire.rs`): a misreading on either side then fails the tests instead of
//! being mirrored by the other.

use serde::{Deserialize, Serialize};

/// `POST` here creates a branch (the other routes are spelled out in `api.rs`).
pub(crate) const BRANCH_PATH: &str = "/api/v2/acquirers/branch";

/// Header on the callback naming the action: `auth` for authorization.
pub(crate) const ACTION_HEADER: &str = "x-diia-id-action";
pub(crate) const ACTION_AUTH: &str = "auth";
/// Header on the callback carrying the `requestId` as the partner sent it.
pub(crate) const TRACE_ID_HEADER: &str = "x-document-request-trace-id";
/// The one multipart form field of the callback: base64 of [`AuthCallbackData`] JSON.
pub(crate) const ENCODE_DATA_FIELD: &str = "encodeData";

/// Answer to `GET /api/v1/auth/acquirer/{acquirer_token}`.
#[derive(Debug, Serialize)]
pub(crate) struct TokenResponse {
    pub token: String,
}

/// `{"diiaId": ["auth"]}` in branches and offers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Scopes {
    #[serde(rename = "diiaId", default, skip_serializing_if = "Vec::is_empty")]
    pub diia_id: Vec<String>,
}

/// Body of `POST /api/v2/acquirers/branch` (and `PUT …/branch/{id}`); read back by
/// `GET …/branch/{id}` and `GET …/branches` with its `_id` added.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BranchRequest {
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

/// `{"_id": "…"}`: the answer to creating a branch or an offer.
#[derive(Debug, Serialize)]
pub(crate) struct IdResponse {
    #[serde(rename = "_id")]
    pub id: String,
}

/// Body of `POST /api/v1/acquirers/branch/{branchId}/offer`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OfferRequest {
    pub name: String,
    pub scopes: Scopes,
    /// Absent, or `null` (the PHP SDK encodes an unset link so).
    #[serde(default)]
    pub return_link: Option<String>,
}

/// Body of `POST /api/v2/acquirers/branch/{branchId}/offer-request/dynamic` for an
/// authorization (a signing request adds `data.hashedFilesSigning`, which the emulator ignores).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DynamicOfferRequest {
    pub offer_id: String,
    /// base64 of the hash of the partner's own request id: what the phone signs.
    pub request_id: String,
    #[serde(default)]
    pub return_link: Option<String>,
    /// "ECDSA" (SHA-256) or "DSTU" (GOST 34.311). The PHP SDK sends it; the Java and .NET SDKs'
    /// request types have no such field, so its absence is read here and answered in words.
    #[serde(default)]
    pub sign_algo: Option<String>,
}

/// `{"deeplink": "…"}`: the answer to a dynamic offer request.
#[derive(Debug, Serialize)]
pub(crate) struct DeeplinkResponse {
    pub deeplink: String,
}

/// The JSON inside `encodeData` for `X-Diia-Id-Action: auth`: `requestId` and `signature`
/// (base64 CAdES). Diia documents no decline callback; the emulator reports a decline with no
/// `signature` and `status: "declined"`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuthCallbackData {
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// The partner's acknowledgement of a callback, `{"success": true}`.
#[derive(Debug, Deserialize)]
pub(crate) struct CallbackAck {
    pub success: bool,
}

/// Diia's error body, `{"message": …}` (what the SDKs read of a failed call).
#[derive(Debug, Serialize)]
pub(crate) struct ErrorResponse {
    pub message: String,
}
