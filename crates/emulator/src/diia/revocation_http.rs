//! The routes of the emulator's revocation services (`revocation.rs`): the OCSP responders and
//! CRLs its people's certificates name, and the `/emulator/` routes that revoke and inject
//! responder faults.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::api::{ApiError, parse_json};
use super::identities::{KeyFamily, TestIdentity};
use super::revocation::{OcspFaults, OcspReply, Revocation, Revocations};
use super::state::Shared;
use crate::clock;

struct Services {
    shared: Arc<Shared>,
    revocations: Revocations,
}

/// The routes, with revocation state of their own (so `Shared` needs nothing for them).
pub(crate) fn routes(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    let services = Arc::new(Services {
        shared,
        revocations: Revocations::default(),
    });
    Router::new()
        .route("/ocsp/{family}", post(ocsp_post))
        .route("/ocsp/{family}/{*request}", get(ocsp_get))
        .route("/crl/{file}", get(crl))
        .route("/emulator/revocations", get(list))
        .route("/emulator/revoke", post(revoke))
        .route("/emulator/unrevoke", post(unrevoke))
        .route("/emulator/ocsp-fault", get(get_fault).post(set_fault))
        .with_state(services)
}

fn family(s: &str) -> Result<KeyFamily, ApiError> {
    KeyFamily::parse(s).ok_or_else(|| ApiError::not_found("no such CA (ecdsa or dstu)"))
}

/// `POST /ocsp/{family}` with an `application/ocsp-request` body.
async fn ocsp_post(
    State(s): State<Arc<Services>>,
    Path(f): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    answer_ocsp(&s, family(&f)?, &body).await
}

/// `GET /ocsp/{family}/{base64 of the request}` (RFC 6960 A.1).
async fn ocsp_get(
    State(s): State<Arc<Services>>,
    Path((f, request)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let family = family(&f)?;
    // A malformed request is the responder's to refuse, in OCSP terms.
    let der = base64::engine::general_purpose::STANDARD
        .decode(request.as_bytes())
        .unwrap_or_default();
    answer_ocsp(&s, family, &der).await
}

async fn answer_ocsp(s: &Services, family: KeyFamily, der: &[u8]) -> Result<Response, ApiError> {
    let faults = s.revocations.faults();
    if faults.fault == super::revocation::OcspFault::Slow {
        tokio::time::sleep(std::time::Duration::from_millis(faults.slow_ms)).await;
    }
    let reply = s
        .revocations
        .ocsp(&s.shared.keys, family, der, clock::now())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(match reply {
        OcspReply::Der(der) => (
            [
                (CONTENT_TYPE, "application/ocsp-response"),
                (CACHE_CONTROL, "no-store"),
            ],
            der,
        )
            .into_response(),
        OcspReply::Down => (
            StatusCode::SERVICE_UNAVAILABLE,
            "OCSP responder unavailable (emulated fault)",
        )
            .into_response(),
        OcspReply::Garbage => (
            [(CONTENT_TYPE, "application/ocsp-response")],
            "<html><body>Service temporarily unavailable</body></html>",
        )
            .into_response(),
    })
}

/// `GET /crl/{family}.crl`: the CA's current full CRL (DER).
async fn crl(
    State(s): State<Arc<Services>>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let f = file
        .strip_suffix(".crl")
        .ok_or_else(|| ApiError::not_found("no such CRL"))?;
    let der = s
        .revocations
        .crl(&s.shared.keys, family(f)?, clock::now())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(([(CONTENT_TYPE, "application/pkix-crl")], der).into_response())
}

/// CRLReason names (RFC 5280 §5.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Reason {
    Unspecified = 0,
    KeyCompromise = 1,
    #[serde(rename = "cACompromise", alias = "caCompromise")]
    CaCompromise = 2,
    AffiliationChanged = 3,
    Superseded = 4,
    CessationOfOperation = 5,
    CertificateHold = 6,
    PrivilegeWithdrawn = 9,
    #[serde(rename = "aACompromise", alias = "aaCompromise")]
    AaCompromise = 10,
}

impl Reason {
    const ALL: [Reason; 9] = [
        Reason::Unspecified,
        Reason::KeyCompromise,
        Reason::CaCompromise,
        Reason::AffiliationChanged,
        Reason::Superseded,
        Reason::CessationOfOperation,
        Reason::CertificateHold,
        Reason::PrivilegeWithdrawn,
        Reason::AaCompromise,
    ];

    fn from_code(code: u8) -> Option<Reason> {
        Self::ALL.into_iter().find(|r| *r as u8 == code)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Families {
    Ecdsa,
    Dstu,
    #[default]
    Both,
}

impl Families {
    fn list(self) -> &'static [KeyFamily] {
        match self {
            Families::Ecdsa => &[KeyFamily::Ecdsa],
            Families::Dstu => &[KeyFamily::Dstu],
            Families::Both => &KeyFamily::ALL,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    identity: TestIdentity,
    #[serde(default)]
    family: Families,
    #[serde(default)]
    reason: Option<Reason>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct UnrevokeBody {
    /// None: everyone.
    #[serde(default)]
    identity: Option<TestIdentity>,
    #[serde(default)]
    family: Families,
}

/// JSON of the revocation routes.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RevokedView {
    identity: TestIdentity,
    family: &'static str,
    /// Lowercase hex, as `openssl x509 -serial` shows it (but lowercase).
    serial: String,
    #[serde(with = "time::serde::rfc3339")]
    revoked_at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Reason>,
}

impl From<Revocation> for RevokedView {
    fn from(r: Revocation) -> Self {
        RevokedView {
            identity: r.identity,
            family: r.family.key(),
            serial: r.serial.iter().map(|b| format!("{b:02x}")).collect(),
            revoked_at: r.at,
            reason: r.reason.and_then(Reason::from_code),
        }
    }
}

fn revoked_json(s: &Services) -> Json<Vec<RevokedView>> {
    Json(s.revocations.list().into_iter().map(Into::into).collect())
}

/// `GET /emulator/revocations`: what is revoked now.
async fn list(State(s): State<Arc<Services>>) -> Json<Vec<RevokedView>> {
    revoked_json(&s)
}

/// `POST /emulator/revoke` `{"identity", "family"?: "ecdsa"|"dstu"|"both", "reason"?}`.
async fn revoke(
    State(s): State<Arc<Services>>,
    body: Bytes,
) -> Result<Json<Vec<RevokedView>>, ApiError> {
    let body: RevokeBody = parse_json(&body)?;
    let reason = body.reason.map(|r| r as u8);
    let families = body.family.list();
    s.revocations.revoke(
        &s.shared.keys,
        body.identity,
        families,
        reason,
        clock::now(),
    );
    tracing::info!(
        identity = body.identity.key(),
        ?families,
        ?reason,
        "emulator revoked a key"
    );
    Ok(revoked_json(&s))
}

/// `POST /emulator/unrevoke` `{"identity"?, "family"?}` (an empty body: everyone, both CAs).
async fn unrevoke(
    State(s): State<Arc<Services>>,
    body: Bytes,
) -> Result<Json<Vec<RevokedView>>, ApiError> {
    let body: UnrevokeBody = if body.iter().all(u8::is_ascii_whitespace) {
        UnrevokeBody::default()
    } else {
        parse_json(&body)?
    };
    s.revocations.unrevoke(body.identity, body.family.list());
    Ok(revoked_json(&s))
}

async fn get_fault(State(s): State<Arc<Services>>) -> Json<OcspFaults> {
    Json(s.revocations.faults())
}

/// `POST /emulator/ocsp-fault` `{"fault": "none"|"down"|…, "slowMs"?}`.
async fn set_fault(
    State(s): State<Arc<Services>>,
    body: Bytes,
) -> Result<Json<OcspFaults>, ApiError> {
    let faults: OcspFaults = parse_json(&body)?;
    s.revocations.set_faults(faults);
    tracing::info!(?faults, "emulator OCSP faults set");
    Ok(Json(faults))
}
