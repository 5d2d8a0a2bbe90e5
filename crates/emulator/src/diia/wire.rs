//! Diia.Signature's partner ("acquirer") API from the server's side: the JSON the public acquirer
//! SDKs send (read here) and the JSON and callback they read (written here), field for field as
//! in diiaintegration/ua-acquirers-sdk-{php,java,dotnet,js} and the Python port
//! (A-App-Main/ua-acquirers-sdk-python-main). Every SDK's exact requests are replayed in
//! `official_sdk_tests.rs`.
//!
//! Written from those sources on its own, not shared with the gateway's client types
//! (`src/provider/diia/wire.rs`): a misreading on either side then fails the tests instead of
//! being mirrored by the other.

use serde::{Deserialize, Serialize};

/// `POST` here creates a branch (the other routes are spelled out in `api.rs`).
pub(crate) const BRANCH_PATH: &str = "/api/v2/acquirers/branch";

/// Header on the callback naming the action: `auth` for authorization, `hashedFilesSigning` for
/// signed file hashes (Java `UploadController.java` routes on
/// `x-diia-id-action=hashedFilesSigning`, .NET `DiiaSignApiImpl.DecodeSignaturePackage`).
pub(crate) const ACTION_HEADER: &str = "x-diia-id-action";
pub(crate) const ACTION_AUTH: &str = "auth";
pub(crate) const ACTION_HASHED_FILES_SIGNING: &str = "hashedFilesSigning";
/// Header on the callback carrying the `requestId` as the partner sent it.
pub(crate) const TRACE_ID_HEADER: &str = "x-document-request-trace-id";
/// The one multipart form field of the callback: base64 of [`AuthCallbackData`] JSON.
pub(crate) const ENCODE_DATA_FIELD: &str = "encodeData";
/// What Diia's callback body is: the SDK examples parse `multipart/mixed` for `X-Diia-Id-Action`
/// callbacks (.NET `MutipartMixedHelper`, Java `UploadController` consumes `MULTIPART_MIXED`).
pub(crate) const CALLBACK_MEDIA_TYPE: &str = "multipart/mixed";

/// Answer to `GET /api/v1/auth/acquirer/{acquirer_token}`.
#[derive(Debug, Serialize)]
pub(crate) struct TokenResponse {
    pub token: String,
}

/// `{"diiaId": ["auth"]}` in branches and offers. Every list may be absent or `null`: the .NET
/// SDK writes unset lists as `null` on `PUT` and the Python SDK on every branch; the other scopes
/// (`sharing`, …) are kept so that a branch reads back as it was written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Scopes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diia_id: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharing: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identification: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_identification: Option<Vec<String>>,
}

impl Scopes {
    pub fn has_auth(&self) -> bool {
        self.diia_id.iter().flatten().any(|s| s == ACTION_AUTH)
    }

    /// `{"diiaId": ["hashedFilesSigning"]}` (PHP `createOffer($branchId, $name, $scope)` puts
    /// the one scope it is given there): offers that may ask to sign file hashes.
    pub fn has_signing(&self) -> bool {
        self.diia_id
            .iter()
            .flatten()
            .any(|s| s == ACTION_HASHED_FILES_SIGNING)
    }
}

/// Body of `POST /api/v2/acquirers/branch` (and `PUT …/branch/{id}`); read back by
/// `GET …/branch/{id}` and `GET …/branches` with its `_id` added. Text fields are `Option` so a
/// missing or `null` one is answered with Diia's 400 naming it rather than a serde message.
/// `email`, `region`, `district` and the `customFull*` pair are optional (`Optional[str] =
/// Field(default=None)` in the Python SDK's `sdk/remote/model/branch.py`; "if necessary" in the
/// PHP SDK's test). An `_id`/`id` in the body (JS, Python and .NET send one) is ignored.
///
/// Every field is written back, an absent one as `null`: the Python SDK's branch model of
/// `diia_client/sdk/remote/model/branch.py` (A-App-Main/ua-acquirers-sdk-python-main, first
/// version) declares `custom_full_name: Optional[str] = Field(..., min_length=1)`, a key that
/// must be there and may be `null` but not `""`; .NET `Models/Remote/Branch.cs` reads every key
/// as a nullable `string`. So `null`, not an empty string, is the reading every SDK accepts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BranchRequest {
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub district: Option<String>,
    pub location: Option<String>,
    pub street: Option<String>,
    pub house: Option<String>,
    #[serde(default)]
    pub custom_full_name: Option<String>,
    #[serde(default)]
    pub custom_full_address: Option<String>,
    pub delivery_types: Option<Vec<String>>,
    pub offer_request_type: Option<String>,
    #[serde(default)]
    pub scopes: Option<Scopes>,
}

/// `{"_id": "…"}`: the answer to creating a branch or an offer.
#[derive(Debug, Serialize)]
pub(crate) struct IdResponse {
    #[serde(rename = "_id")]
    pub id: String,
}

/// Body of `POST /api/v1/acquirers/branch/{branchId}/offer`; read back by
/// `GET …/branch/{branchId}/offers` with its `_id` added.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OfferRequest {
    pub name: Option<String>,
    #[serde(default)]
    pub scopes: Option<Scopes>,
    /// Absent (Python, .NET drop unset fields) or `null` (PHP's `json_encode`, Java's models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_link: Option<String>,
}

/// Body of `POST /api/v2/acquirers/branch/{branchId}/offer-request/dynamic`: an authorization,
/// or with `data.hashedFilesSigning` a request to sign file hashes. Built by Python
/// `diia_api.py` `get_deep_link` (via `sign_service.py`), Java `DiiaIdServiceImpl.java`
/// (`getSignDeepLink`, `DeepLinkRequest.java`, `FileHash.java`), .NET
/// `DiiaSharingApiImpl.GetDeepLink` (via `DiiaSignApiImpl.GetSignDeepLink`) and PHP
/// `DiiaApi.php` `getSignLink`; absent fields are omitted except by PHP, which writes `null`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DynamicOfferRequest {
    pub offer_id: String,
    /// For an authorization: base64 of the hash of the partner's own request id, what the phone
    /// signs. For signing: the partner's id as is (a UUID in the SDK examples), only echoed.
    pub request_id: String,
    #[serde(default)]
    pub return_link: Option<String>,
    /// "ECDSA" (SHA-256) or "DSTU" (GOST 34.311). Only the PHP SDK sends it; the JS, Python,
    /// Java and .NET SDKs never do, and then Diia signs DSTU (its default).
    #[serde(default)]
    pub sign_algo: Option<String>,
    #[serde(default)]
    pub data: Option<DynamicRequestData>,
}

/// `data` of a dynamic request: `{"hashedFilesSigning": {"hashedFiles": [...]}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DynamicRequestData {
    #[serde(default)]
    pub hashed_files_signing: Option<HashedFilesSigning>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HashedFilesSigning {
    #[serde(default)]
    pub hashed_files: Option<Vec<HashedFile>>,
}

/// One file to sign: `fileHash` is base64 of its 32-byte hash (GOST 34.311 by default, SHA-256
/// for `signAlgo: "ECDSA"`), computed by the partner (Java `cryptoService.getHash(file.getData())`).
/// `Option`s so that a missing field gets Diia's 400 naming it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HashedFile {
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub file_hash: Option<String>,
}

/// `{"deeplink": "…"}`: the answer to a dynamic offer request.
#[derive(Debug, Serialize)]
pub(crate) struct DeeplinkResponse {
    pub deeplink: String,
}

/// The JSON inside `encodeData` for `X-Diia-Id-Action: auth`: `requestId` and `signature`
/// (base64 CAdES).
///
/// Diia documents no decline callback. The emulator still tells the partner, in the same shape
/// plus `status: "declined"` and an EMPTY `signature`: the official decoders read `signature`
/// unconditionally (Java `Base64.decode(authData.getSignature())` throws on null, Python
/// `request_data["signature"]` raises KeyError), and "" decodes to an empty .p7s that no
/// verification accepts, so an SDK-based partner fails the login instead of crashing.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuthCallbackData {
    pub request_id: String,
    pub signature: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// The JSON inside `encodeData` for `X-Diia-Id-Action: hashedFilesSigning`: one signed item
/// per requested file, in the request's order, each `signature` base64 of a detached CAdES over
/// the file's hash. Read as `request_data["signedItems"]` → `s["name"]`, `s["signature"]` by
/// Python `sign_service.py` `decode_signature_package`, and as `signedItems[].name/signature` by
/// .NET `SignaturePackage.cs`.
///
/// A decline (which Diia documents no more than for auth) is `{"signedItems": [], "status":
/// "declined"}`: the SDK decoders then find nothing signed rather than crash.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SigningCallbackData {
    pub signed_items: Vec<SignedItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct SignedItem {
    /// The `fileName` as the partner sent it.
    pub name: String,
    pub signature: String,
}

/// The partner's acknowledgement of a callback, `{"success": true}`.
#[derive(Debug, Deserialize)]
pub(crate) struct CallbackAck {
    pub success: bool,
}

/// Diia's error body: `{"name", "message", "code"}` as the Java SDK's `ErrorMessage` reads it
/// (its `data` map is optional). The Python SDK calls `r.json()` on every 4xx, so no error may
/// be anything but JSON; the gateway reads `message`.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorResponse {
    pub name: &'static str,
    pub message: String,
    pub code: u16,
}
