//! The result for the cabinet: `GET {prefix}/api/signing/{id}` (JSON: where the request
//! stands, who signed, each file's signature, and when signed a JWS of it all signed with
//! kepgate's key) and `GET {prefix}/api/signing/{id}/files/{n}/signature.p7s`. Only the session
//! that asked may read them, by its cookie or its assertion (`requester.rs`); the first read of
//! a signed result starts `signing.keep_after_fetch`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::api_error::ApiError;
use super::context::SigningContext;
use super::refusal::reason_text;
use super::request::{SigningId, SigningState};
use super::requester::Requester;
use super::store::{self, SigningRequest};
use crate::config::SigningAlg;
use crate::language::Lang;

/// The result's JWS `typ` (RFC 8725 §3.11): neither an assertion nor an ID token.
pub const RESULT_TYP: &str = "kepgate-signing+jwt";

/// How long the result's JWS is valid: the cabinet checks it as it fetches it.
const RESULT_TTL: time::Duration = time::Duration::minutes(5);

pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// The signer as the result names them.
#[derive(Serialize)]
struct Signer<'a> {
    name: &'a str,
    rnokpp: Option<&'a str>,
    edrpou: Option<&'a str>,
    organization: Option<&'a str>,
    cert_serial: &'a str,
    cert_issuer: &'a str,
}

#[derive(Serialize)]
struct ResultFile<'a> {
    name: &'a str,
    size: Option<u64>,
    hash: String,
    signature_sha256: Option<String>,
}

#[derive(Serialize)]
struct ResultClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    iat: i64,
    exp: i64,
    sid: String,
    signing_id: SigningId,
    signed_at: i64,
    algorithm: &'a str,
    signer: Signer<'a>,
    files: Vec<ResultFile<'a>>,
}

/// The request `id`, when it is the requester's session's.
async fn owned_request(
    state: &SigningContext,
    requester: &Requester,
    id: &str,
) -> Result<SigningRequest, ApiError> {
    store::find_of_session(&state.web.db, id, requester.session.id)
        .await?
        .ok_or_else(ApiError::not_found)
}

pub async fn result(
    State(state): State<SigningContext>,
    requester: Requester,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let request = owned_request(&state, &requester, &id).await?;
    let now = state.web.clock.now();
    let signed = request.state == SigningState::Signed;
    if signed {
        store::mark_fetched(&state.web.db, request.id, now).await?;
    }
    let mut body = json!({
        "id": request.id,
        "state": request.state_at(now).as_str(),
        "provider": request.provider,
        "created_at": rfc3339(request.created_at),
        "expires_at": rfc3339(request.expires_at),
        "files": request.files.iter().map(|f| json!({
            "name": f.name,
            "size": f.size,
            "hash": STANDARD.encode(f.hash),
            "signature": f.signature.as_ref().map(|s| STANDARD.encode(s)),
        })).collect::<Vec<_>>(),
    });
    if let Some(reason) = &request.reason {
        body["reason"] = json!(reason);
        body["reason_text"] = json!(reason_text(reason, Lang::Uk));
    }
    if signed {
        let signer = request.signer.as_ref().ok_or_else(|| {
            anyhow::anyhow!("signing request {} is signed without a signer", request.id)
        })?;
        body["signed_at"] = json!(request.signed_at.map(rfc3339));
        body["algorithm"] = json!(request.signature_algorithm);
        body["signer"] = json!(signer_of(signer));
        if request.signatures_deleted_at.is_none() {
            body["result"] = json!(result_token(&state, &requester, &request, signer, now)?);
        } else {
            body["signatures_deleted_at"] = json!(request.signatures_deleted_at.map(rfc3339));
        }
    }
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        CACHE_CONTROL,
        "no-store".parse().map_err(anyhow::Error::from)?,
    );
    Ok(response)
}

fn signer_of(identity: &crate::identity::SignerIdentity) -> Signer<'_> {
    Signer {
        name: &identity.full_name,
        rnokpp: identity.rnokpp.as_ref().map(|r| r.as_str()),
        edrpou: identity.edrpou.as_ref().map(|e| e.as_str()),
        organization: identity.organization.as_deref(),
        cert_serial: &identity.cert_serial_hex,
        cert_issuer: &identity.issuer,
    }
}

/// The JWS of a signed result, for the cabinet that fetched it (`aud`: its route from the
/// assertion, or kepgate itself for a browser, which a cabinet must refuse).
fn result_token(
    state: &SigningContext,
    requester: &Requester,
    request: &SigningRequest,
    signer: &crate::identity::SignerIdentity,
    now: OffsetDateTime,
) -> Result<String, ApiError> {
    let claims = ResultClaims {
        iss: &state.issuer,
        aud: requester.audience.as_deref().unwrap_or(&state.issuer),
        sub: &requester.subject,
        iat: now.unix_timestamp(),
        exp: (now + RESULT_TTL).unix_timestamp(),
        sid: requester.session.id.to_string(),
        signing_id: request.id,
        signed_at: request.signed_at.unwrap_or(now).unix_timestamp(),
        algorithm: request.signature_algorithm.as_deref().unwrap_or_default(),
        signer: signer_of(signer),
        files: request
            .files
            .iter()
            .map(|f| ResultFile {
                name: f.name.as_str(),
                size: f.size,
                hash: STANDARD.encode(f.hash),
                signature_sha256: f
                    .signature
                    .as_ref()
                    .map(|s| STANDARD.encode(Sha256::digest(s))),
            })
            .collect(),
    };
    Ok(state.key.sign(SigningAlg::Es256, RESULT_TYP, &claims)?)
}

/// `GET {prefix}/api/signing/{id}/files/{n}/signature.p7s`: one file's detached signature.
pub async fn signature_file(
    State(state): State<SigningContext>,
    requester: Requester,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let request = owned_request(&state, &requester, &id).await?;
    let file = n
        .parse::<usize>()
        .ok()
        .filter(|index| index.to_string() == n)
        .and_then(|index| request.files.get(index))
        .ok_or_else(ApiError::not_found)?;
    let signature = file.signature.clone().ok_or_else(ApiError::not_found)?;
    store::mark_fetched(&state.web.db, request.id, state.web.clock.now()).await?;
    let utf8: String =
        url::form_urlencoded::byte_serialize(format!("{}.p7s", file.name.as_str()).as_bytes())
            .collect::<String>()
            .replace('+', "%20");
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{utf8}",
        file.name.p7s_ascii()
    );
    Ok((
        [
            (CONTENT_TYPE, "application/pkcs7-signature".to_owned()),
            (CONTENT_DISPOSITION, disposition),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        signature,
    )
        .into_response())
}
