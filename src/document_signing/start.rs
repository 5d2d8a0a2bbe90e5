//! `POST {prefix}/api/signing`: the cabinet asks for files to be signed by the signed-in
//! person. Each file comes as its bytes (kepgate hashes them, up to `signing.max_file_bytes`)
//! or as its hash; the provider is asked server-side, then the request is written with its
//! deeplink. A callback cannot outrun the row: the person gets the deeplink only through the
//! signing page, after this answer.

use std::collections::HashSet;
use std::net::IpAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::api_error::ApiError;
use super::context::SigningContext;
use super::request::{FileName, FileToSign, ReturnTo, SigningId};
use super::requester::Requester;
use super::store::{self, NewSigning, StartedBy};
use crate::http::client_addr::Client;
use crate::provider::{FileHash, Provider, SignAlgorithm};
use crate::return_path::ReturnPath;
use crate::session::Session;

/// Signing requests one session may have waiting at once.
const MAX_PENDING_PER_SESSION: i64 = 5;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    files: Vec<FileBody>,
    #[serde(default)]
    algorithm: Option<String>,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    return_to: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBody {
    name: String,
    /// Standard base64 of the bytes.
    #[serde(default)]
    content: Option<String>,
    /// Standard base64 of the 32-byte hash.
    #[serde(default)]
    hash: Option<String>,
}

pub async fn start(
    State(state): State<SigningContext>,
    requester: Requester,
    client: Client,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: StartBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("bad_request", format!("the body: {e}")))?;
    let provider = signing_provider(&state, body.provider.as_deref())?;
    let algorithm = match body.algorithm.as_deref() {
        None => provider.default_sign_algorithm().ok_or_else(cannot_sign)?,
        Some(text) => SignAlgorithm::parse(text).ok_or_else(|| {
            ApiError::bad_request("bad_algorithm", "algorithm is \"dstu4145\" or \"ecdsa\"")
        })?,
    };
    let files = files_to_sign(&state, body.files, algorithm)?;
    let return_to = match body.return_to.as_deref() {
        None => ReturnTo::Cabinet(ReturnPath::root()),
        Some(path) => requester.return_to(path).ok_or_else(|| {
            ApiError::bad_request(
                "bad_return_to",
                "return_to is a path on this site (or an OpenID client's own address)",
            )
        })?,
    };

    let started = begin(
        &state,
        Begin {
            session: &requester.session,
            by: &requester.by,
            provider,
            algorithm,
            files: &files,
            return_to: &return_to,
            client_ip: client.addr,
        },
    )
    .await?;
    let (id, expires_at) = (started.id, started.expires_at);
    let server = &state.web.settings.server;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": id,
            "sign_url": server.path(&format!("/sign/{id}")),
            "provider": provider.id(),
            "algorithm": algorithm.as_str(),
            "files": files.iter().map(|f| json!({
                "name": f.name,
                "size": f.size,
                "hash": STANDARD.encode(f.hash),
            })).collect::<Vec<_>>(),
            "expires_at": super::result::rfc3339(expires_at),
        })),
    )
        .into_response())
}

fn cannot_sign() -> ApiError {
    ApiError::bad_request(
        "provider_cannot_sign",
        "this provider does not sign documents",
    )
}

/// The provider named, or the first configured one that signs.
fn signing_provider<'a>(
    state: &'a SigningContext,
    named: Option<&str>,
) -> Result<&'a Provider, ApiError> {
    match named {
        Some(id) => {
            let provider = state
                .providers
                .get(id)
                .ok_or_else(|| ApiError::bad_request("unknown_provider", "no such provider"))?;
            if provider.can_sign() {
                Ok(provider)
            } else {
                Err(cannot_sign())
            }
        }
        None => state
            .providers
            .iter()
            .find(|p| p.can_sign())
            .map(|p| p.as_ref())
            .ok_or_else(|| {
                ApiError::refused(
                    StatusCode::CONFLICT,
                    "no_signing_provider",
                    "no configured provider signs documents",
                )
            }),
    }
}

/// The files as sent, parsed: 1 to `signing.max_files`, distinct names, each with its bytes
/// (at most `signing.max_file_bytes`) or its hash.
fn files_to_sign(
    state: &SigningContext,
    files: Vec<FileBody>,
    algorithm: SignAlgorithm,
) -> Result<Vec<FileToSign>, ApiError> {
    let limits = &state.web.settings.signing;
    if files.is_empty() || files.len() > limits.max_files {
        return Err(ApiError::bad_request(
            "bad_file_count",
            format!("1 to {} files", limits.max_files),
        ));
    }
    let mut names = HashSet::new();
    files
        .into_iter()
        .map(|file| {
            let name = FileName::parse(&file.name)
                .map_err(|why| ApiError::bad_request("bad_file_name", why))?;
            if !names.insert(name.as_str().to_owned()) {
                return Err(ApiError::bad_request(
                    "duplicate_file_name",
                    "two files have the same name",
                ));
            }
            let (size, hash) = match (file.content, file.hash) {
                (Some(content), None) => {
                    let bytes = STANDARD.decode(content.as_bytes()).map_err(|_| {
                        ApiError::bad_request("bad_content", "content is standard base64")
                    })?;
                    if bytes.len() > limits.max_file_bytes {
                        return Err(ApiError::refused(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "file_too_large",
                            format!("a file is at most {} bytes", limits.max_file_bytes),
                        ));
                    }
                    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
                    (Some(size), algorithm.hash_algorithm().digest(&bytes))
                }
                (None, Some(hash)) => (None, parse_hash(&hash)?),
                _ => {
                    return Err(ApiError::bad_request(
                        "bad_file",
                        "each file has either content or hash",
                    ));
                }
            };
            Ok(FileToSign { name, size, hash })
        })
        .collect()
}

/// Standard base64 of exactly 32 bytes, in its one canonical spelling.
fn parse_hash(text: &str) -> Result<[u8; 32], ApiError> {
    STANDARD
        .decode(text.as_bytes())
        .ok()
        .filter(|bytes| STANDARD.encode(bytes) == text)
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "bad_hash",
                "hash is standard base64 of the file's 32-byte hash",
            )
        })
}

fn too_many() -> ApiError {
    ApiError::refused(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "this session already has signing requests waiting",
    )
}

/// A signing request about to be asked of the provider.
pub struct Begin<'a> {
    pub session: &'a Session,
    pub by: &'a StartedBy,
    pub provider: &'a Provider,
    pub algorithm: SignAlgorithm,
    pub files: &'a [FileToSign],
    pub return_to: &'a ReturnTo,
    pub client_ip: IpAddr,
}

pub struct Begun {
    pub id: SigningId,
    pub expires_at: OffsetDateTime,
}

/// Asks the provider, then writes the request with its deeplink: the API's start and the
/// signing page's «Спробувати ще раз».
pub async fn begin(state: &SigningContext, new: Begin<'_>) -> Result<Begun, ApiError> {
    let (session, provider) = (new.session, new.provider);
    let now = state.web.clock.now();
    if store::pending_for_session(&state.web.db, session.id, now).await? >= MAX_PENDING_PER_SESSION
    {
        return Err(too_many());
    }
    let request_id = Uuid::new_v4().hyphenated().to_string();
    let hashes: Vec<FileHash<'_>> = new
        .files
        .iter()
        .map(|f| FileHash {
            name: f.name.as_str(),
            hash: &f.hash,
        })
        .collect();
    let started = provider
        .start_signing(&request_id, &hashes, new.algorithm)
        .await
        .map_err(|e| {
            tracing::warn!(provider = %provider.id(), error = %e, "signing request not started");
            ApiError::refused(StatusCode::BAD_GATEWAY, e.code(), e.to_string())
        })?;
    let id = SigningId(Uuid::new_v4());
    let expires_at = now + state.web.settings.signing.request_ttl;
    let subject = session.subject();
    let inserted = store::insert(
        &state.web.db,
        &NewSigning {
            id,
            session_id: session.id,
            subject: &subject,
            person_name: &session.identity.full_name,
            provider: provider.id(),
            request_id: &request_id,
            algorithm: new.algorithm,
            started_by: new.by.clone(),
            return_to: new.return_to,
            deeplink: started.link.as_ref().map(url::Url::as_str),
            client_ip: new.client_ip,
            files: new.files,
            created_at: now,
            expires_at,
        },
        MAX_PENDING_PER_SESSION,
    )
    .await?;
    if !inserted {
        return Err(too_many());
    }
    tracing::info!(signing = %id, provider = %provider.id(), files = new.files.len(), by = new.by.as_str(), "signing request started");
    metrics::counter!("kepgate_signing_requests_total", "outcome" => "started").increment(1);
    Ok(Begun { id, expires_at })
}
