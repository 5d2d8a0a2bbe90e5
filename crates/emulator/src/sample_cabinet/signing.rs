//! «Підписати звіт»: the cabinet has the signed-in person sign a generated report through
//! kepgate's signing API, as any third-party cabinet would, from the API's contract only:
//!
//! - start: `POST {gateway}/.kepgate/api/signing` with `Authorization: Bearer <assertion>` and
//!   `{"files": [{"name", "content"}], "return_to", "algorithm"?}` → 201 `{"id", "sign_url",
//!   "algorithm", "files": [{"name", "size", "hash"}], "expires_at"}`; the browser goes to
//!   `sign_url` and comes back to `return_to?signing=<id>`;
//! - result: `GET {gateway}/.kepgate/api/signing/{id}` with the Bearer assertion → `{"id",
//!   "state", "reason"?, "reason_text"?, "signed_at"?, "algorithm"?, "signer"?, "files":
//!   [{"name", "size", "hash", "signature"?}], "result"?}`, where `result` is a JWS (`typ`
//!   `kepgate-signing+jwt`) signed with the assertion's key.
//!
//! The cabinet believes a signature only once `result` verifies with the JWKS, names this
//! cabinet and this person, and binds the report's hash (as the start answered it) and every
//! returned signature (by SHA-256).

use std::sync::Arc;

use anyhow::Context;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use jsonwebtoken::DecodingKey;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use time::OffsetDateTime;
use time::macros::format_description;
use url::Url;

use super::{AssertionClaims, CabinetArgs, Shared, assertion_token, signing_key, verify};

/// The JWS `typ` of the signing result.
pub const SIGNING_RESULT_TYP: &str = "kepgate-signing+jwt";
const REPORT_FILE_NAME: &str = "zvit-2026-12.txt";
const RETURN_TO: &str = "/report/signed";
/// Signings remembered (the oldest is forgotten first): a sample, not a database.
const MAX_REMEMBERED: usize = 1000;
/// What the «Перевірено» line lists, in the order [`check_result`] checks it.
const CHECKS_DONE: &str = "підпис шлюзу (JWKS), тип kepgate-signing+jwt, видавець, адресат, \
    строк дії, особа (sub), ідентифікатор підписання, геш звіту, SHA-256 кожного підпису";

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/report", get(report_page))
        .route("/report/sign", post(start))
        .route("/report/signed", get(signed_page))
        .route("/report/signed/{file}", get(download))
}

/// The start answers the cabinet keeps, by signing id.
#[derive(Default)]
pub(super) struct Started(Vec<(String, StartedSigning)>);

#[derive(Clone, Debug)]
pub(crate) struct StartedSigning {
    /// Who started it (the assertion's `sub`).
    sub: String,
    files: Vec<FileDigest>,
}

impl Started {
    fn remember(&mut self, id: String, signing: StartedSigning) {
        if self.0.len() >= MAX_REMEMBERED {
            self.0.remove(0);
        }
        self.0.push((id, signing));
    }

    fn get(&self, id: &str) -> Option<StartedSigning> {
        self.0.iter().find(|(i, _)| i == id).map(|(_, s)| s.clone())
    }
}

// ---------- the signing API's JSON, as the contract gives it ----------

#[derive(Serialize)]
struct StartRequest<'a> {
    files: Vec<FileContent<'a>>,
    return_to: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    algorithm: Option<&'a str>,
}

#[derive(Serialize)]
struct FileContent<'a> {
    name: &'a str,
    /// Standard base64 of the bytes.
    content: String,
}

#[derive(Debug, Deserialize)]
struct StartAnswer {
    id: String,
    sign_url: String,
    files: Vec<FileDigest>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileDigest {
    name: String,
    size: u64,
    /// base64 of the hash the person signs (GOST 34.311 or SHA-256).
    hash: String,
}

/// `{"error", "message"}`: every 4xx of the API.
#[derive(Debug, Deserialize)]
struct ApiError {
    error: String,
    message: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SigningStatus {
    id: String,
    /// `pending`, `signed`, `declined`, `failed` or `expired`.
    state: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    reason_text: Option<String>,
    #[serde(default)]
    files: Vec<ResultFile>,
    /// The signed result (JWS), when `state` is `signed`.
    #[serde(default)]
    result: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ResultFile {
    name: String,
    size: u64,
    hash: String,
    /// base64 of the DER CMS (.p7s).
    #[serde(default)]
    signature: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Signer {
    name: String,
    #[serde(default)]
    rnokpp: Option<String>,
    #[serde(default)]
    edrpou: Option<String>,
    #[serde(default)]
    organization: Option<String>,
    #[serde(default)]
    cert_serial: String,
    #[serde(default)]
    cert_issuer: String,
}

/// The claims of `result`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SigningClaims {
    iss: String,
    aud: String,
    exp: i64,
    sub: String,
    signing_id: String,
    /// Unix seconds.
    signed_at: i64,
    algorithm: String,
    signer: Signer,
    files: Vec<SignedFileClaim>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SignedFileClaim {
    name: String,
    size: u64,
    hash: String,
    /// Standard base64 of SHA-256 of the .p7s DER bytes.
    signature_sha256: String,
}

/// A result that passed [`check_result`]: its claims and the signatures they bind (DER).
#[derive(Debug)]
pub(crate) struct Checked {
    claims: SigningClaims,
    signatures: Vec<Vec<u8>>,
}

/// Everything the cabinet checks before it shows or serves a signature. `key` is the JWKS key
/// the result's kid names; `assertion` the current request's verified assertion.
pub(crate) fn check_result(
    status: &SigningStatus,
    started: Option<&StartedSigning>,
    assertion: &AssertionClaims,
    key: &DecodingKey,
) -> anyhow::Result<Checked> {
    let token = status.result.as_deref().context("no signed result")?;
    let header = jsonwebtoken::decode_header(token)?;
    anyhow::ensure!(
        header.typ.as_deref() == Some(SIGNING_RESULT_TYP),
        "the result's typ is {:?}",
        header.typ
    );
    // The same rules as for the assertion, with its issuer and audience.
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.leeway = super::EXPIRY_LEEWAY_SECONDS;
    validation.set_audience(&[&assertion.aud]);
    validation.set_issuer(&[&assertion.iss]);
    validation.set_required_spec_claims(&["exp", "aud", "iss"]);
    let claims = jsonwebtoken::decode::<SigningClaims>(token, key, &validation)
        .context("the result's JWS does not verify")?
        .claims;
    anyhow::ensure!(
        claims.sub == assertion.sub,
        "the result is about another person"
    );
    anyhow::ensure!(
        claims.signing_id == status.id,
        "the result is about another signing"
    );
    let started = started.context("this cabinet did not start this signing")?;
    anyhow::ensure!(
        started.sub == assertion.sub,
        "another person started this signing"
    );
    anyhow::ensure!(
        claims.files.len() == started.files.len() && status.files.len() == started.files.len(),
        "the result does not list the files the signing started with"
    );
    let mut signatures = Vec::with_capacity(started.files.len());
    for ((ours, claimed), returned) in started.files.iter().zip(&claims.files).zip(&status.files) {
        anyhow::ensure!(
            claimed.name == ours.name
                && claimed.size == ours.size
                && claimed.hash == ours.hash
                && returned.hash == ours.hash,
            "the hash of {:?} is not the one the signing started with",
            ours.name
        );
        let p7s = returned
            .signature
            .as_deref()
            .and_then(|s| BASE64.decode(s).ok())
            .with_context(|| format!("no signature for {:?}", ours.name))?;
        anyhow::ensure!(
            BASE64.encode(sha2::Sha256::digest(&p7s)) == claimed.signature_sha256,
            "the signature of {:?} is not the one the result binds",
            ours.name
        );
        signatures.push(p7s);
    }
    Ok(Checked { claims, signatures })
}

// ---------- pages ----------

#[derive(Template)]
#[template(path = "sample_cabinet_report.html")]
struct ReportPage {
    name: String,
    report: String,
}

#[derive(Template)]
#[template(path = "sample_cabinet_signed.html")]
struct SignedPage {
    heading: String,
    /// «Підписано: …» when the result checked out.
    signed: Option<String>,
    verified: Option<&'static str>,
    /// Why the report is not (shown as) signed.
    problem: Option<String>,
    download: Option<String>,
}

fn html(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
    match rendered {
        Ok(page) => (status, [(CACHE_CONTROL, "no-store")], Html(page)).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn problem_page(status: StatusCode, heading: &str, problem: String) -> Response {
    let page = SignedPage {
        heading: heading.to_owned(),
        signed: None,
        verified: None,
        problem: Some(problem),
        download: None,
    };
    html(status, page.render())
}

/// The report of the person the assertion names (the same text for the page and the signing).
fn report_text(claims: &AssertionClaims) -> String {
    let mut lines = vec![
        "Звіт за грудень 2026".to_owned(),
        format!("Платник: {}", claims.name),
    ];
    if let Some(rnokpp) = &claims.rnokpp {
        lines.push(format!("РНОКПП: {rnokpp}"));
    }
    if let Some(org) = &claims.organization {
        lines.push(format!("Організація: {org}"));
    }
    lines.extend(
        [
            "Дохід за місяць: 48 000,00 грн",
            "Єдиний податок (5 %): 2 400,00 грн",
            "Єдиний соціальний внесок: 1 760,00 грн",
            "Звіт сформовано кабінетом-прикладом kepgate.",
        ]
        .map(str::to_owned),
    );
    lines.join("\n") + "\n"
}

async fn report_page(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    match verify(&shared, &headers).await {
        Ok(claims) => {
            let page = ReportPage {
                report: report_text(&claims),
                name: claims.name,
            };
            html(StatusCode::OK, page.render())
        }
        Err(e) => problem_page(
            StatusCode::UNAUTHORIZED,
            "Звіт недоступний",
            format!("Твердження шлюзу не перевірено: {e:#}"),
        ),
    }
}

/// Where the signing API lives: `{gateway}/.kepgate/api/signing`, or beside the JWKS
/// (`{prefix}/jwks.json` → `{prefix}/api/signing`) when no gateway URL is configured.
fn signing_api(args: &CabinetArgs) -> anyhow::Result<Url> {
    if let Some(gateway) = &args.gateway_url {
        return Ok(Url::parse(&format!(
            "{}/.kepgate/api/signing",
            gateway.as_str().trim_end_matches('/')
        ))?);
    }
    let mut url = args
        .jwks_url
        .clone()
        .context("neither --gateway-url nor --jwks-url is configured")?;
    let prefix = url
        .path()
        .strip_suffix("/jwks.json")
        .context("the JWKS URL does not end in /jwks.json: set --gateway-url")?
        .to_owned();
    url.set_path(&format!("{prefix}/api/signing"));
    url.set_query(None);
    Ok(url)
}

/// Signing ids are UUIDs: anything else never reaches a URL path.
fn is_signing_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

#[derive(Deserialize)]
struct StartForm {
    #[serde(default)]
    algorithm: Option<String>,
}

/// The request's assertion and its verified claims: without them no signing API call is made.
async fn verified<'h>(
    shared: &Shared,
    headers: &'h HeaderMap,
) -> Result<(&'h str, AssertionClaims), Response> {
    let checked = async {
        Ok::<_, anyhow::Error>((assertion_token(headers)?, verify(shared, headers).await?))
    };
    checked.await.map_err(|e| {
        problem_page(
            StatusCode::UNAUTHORIZED,
            "Немає перевіреної особи",
            format!("Твердження шлюзу не перевірено: {e:#}"),
        )
    })
}

/// `POST /report/sign`: starts the signing and sends the browser to kepgate's signing page.
async fn start(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(form): Form<StartForm>,
) -> Response {
    let (assertion, claims) = match verified(&shared, &headers).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    match start_signing(&shared, assertion, claims, form.algorithm.as_deref()).await {
        Ok(sign_url) => (StatusCode::SEE_OTHER, [(LOCATION, sign_url)]).into_response(),
        Err(e) => problem_page(
            StatusCode::BAD_GATEWAY,
            "Підписання не почалося",
            format!("{e:#}"),
        ),
    }
}

async fn start_signing(
    shared: &Shared,
    assertion: &str,
    claims: AssertionClaims,
    algorithm: Option<&str>,
) -> anyhow::Result<String> {
    let algorithm = match algorithm {
        None | Some("") => None,
        Some(a @ ("dstu4145" | "ecdsa")) => Some(a),
        Some(other) => anyhow::bail!("unknown algorithm {other:?}"),
    };
    let report = report_text(&claims);
    let body = StartRequest {
        files: vec![FileContent {
            name: REPORT_FILE_NAME,
            content: BASE64.encode(report.as_bytes()),
        }],
        return_to: RETURN_TO,
        algorithm,
    };
    let response = shared
        .http
        .post(signing_api(&shared.args)?)
        .bearer_auth(assertion)
        .json(&body)
        .send()
        .await
        .context("the gateway's signing API is unreachable")?;
    let status = response.status();
    if status != StatusCode::CREATED {
        return Err(api_error(status, response).await);
    }
    let answer: StartAnswer = response.json().await.context("the start answer")?;
    anyhow::ensure!(is_signing_id(&answer.id), "a strange signing id");
    // Same origin only: never send the person to a URL the answer could point anywhere.
    anyhow::ensure!(
        answer.sign_url.starts_with('/') && !answer.sign_url.starts_with("//"),
        "sign_url is not a path on this site"
    );
    let ours = report.len() as u64;
    anyhow::ensure!(
        answer.files.len() == 1
            && answer.files[0].name == REPORT_FILE_NAME
            && answer.files[0].size == ours,
        "the gateway did not take the report as sent"
    );
    shared
        .signings
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .remember(
            answer.id,
            StartedSigning {
                sub: claims.sub,
                files: answer.files,
            },
        );
    Ok(answer.sign_url)
}

async fn api_error(status: StatusCode, response: reqwest::Response) -> anyhow::Error {
    match response.json::<ApiError>().await {
        Ok(e) => anyhow::anyhow!(
            "the gateway answered {}: {} ({})",
            status.as_u16(),
            e.message,
            e.error
        ),
        Err(_) => anyhow::anyhow!("the gateway answered {}", status.as_u16()),
    }
}

/// The signing's state from the gateway, and the checked result when it is signed.
async fn fetch(
    shared: &Shared,
    assertion: &str,
    claims: &AssertionClaims,
    id: &str,
) -> anyhow::Result<(SigningStatus, Option<anyhow::Result<Checked>>)> {
    anyhow::ensure!(is_signing_id(id), "no such signing");
    let mut url = signing_api(&shared.args)?;
    url.path_segments_mut()
        .map_err(|()| anyhow::anyhow!("the signing API URL cannot have a path"))?
        .push(id);
    let response = shared
        .http
        .get(url)
        .bearer_auth(assertion)
        .send()
        .await
        .context("the gateway's signing API is unreachable")?;
    let status = response.status();
    if status != StatusCode::OK {
        return Err(api_error(status, response).await);
    }
    let signing: SigningStatus = response.json().await.context("the result answer")?;
    anyhow::ensure!(
        signing.id == id,
        "the gateway answered about another signing"
    );
    if signing.state != "signed" {
        return Ok((signing, None));
    }
    let checked = async {
        let token = signing.result.as_deref().context("no signed result")?;
        let key = signing_key(shared, token, super::signing::SIGNING_RESULT_TYP).await?;
        let started = shared
            .signings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id);
        check_result(&signing, started.as_ref(), claims, &key)
    }
    .await;
    Ok((signing, Some(checked)))
}

#[derive(Deserialize)]
struct SignedQuery {
    signing: Option<String>,
}

fn format_unix(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[day].[month].[year], [hour]:[minute]:[second] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| seconds.to_string())
}

fn state_text(state: &str) -> &'static str {
    match state {
        "pending" => "очікує підпису",
        "signed" => "підписано",
        "declined" => "відхилено",
        "failed" => "не вдалося",
        "expired" => "час вичерпано",
        _ => "невідомий стан",
    }
}

/// `GET /report/signed?signing=<id>`: where kepgate sends the person back.
async fn signed_page(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<SignedQuery>,
) -> Response {
    let Some(id) = query.signing.filter(|id| is_signing_id(id)) else {
        return problem_page(
            StatusCode::NOT_FOUND,
            "Немає підписання",
            "Адреса не називає підписання (?signing=…).".to_owned(),
        );
    };
    let (assertion, claims) = match verified(&shared, &headers).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let (signing, checked) = match fetch(&shared, assertion, &claims, &id).await {
        Ok(fetched) => fetched,
        Err(e) => {
            return problem_page(
                StatusCode::BAD_GATEWAY,
                "Результат недоступний",
                format!("{e:#}"),
            );
        }
    };
    let page = match checked {
        None => SignedPage {
            heading: format!("Звіт не підписано: {}", state_text(&signing.state)),
            signed: None,
            verified: None,
            problem: Some(
                signing
                    .reason_text
                    .or(signing.reason)
                    .unwrap_or_else(|| format!("Стан: {}", signing.state)),
            ),
            download: None,
        },
        Some(Err(e)) => SignedPage {
            heading: "Підпис не перевірено".to_owned(),
            signed: None,
            verified: None,
            problem: Some(format!("Не перевірено: {e:#}")),
            download: None,
        },
        Some(Ok(checked)) => {
            let c = &checked.claims;
            SignedPage {
                heading: "Звіт підписано".to_owned(),
                signed: Some(format!(
                    "Підписано: {}, {}, {}, сертифікат {} / {}",
                    c.signer.name,
                    format_unix(c.signed_at),
                    c.algorithm,
                    c.signer.cert_issuer,
                    c.signer.cert_serial
                )),
                verified: Some(CHECKS_DONE),
                problem: None,
                download: Some(format!("/report/signed/{id}.p7s")),
            }
        }
    };
    html(StatusCode::OK, page.render())
}

/// `<name>.p7s` with anything but ASCII letters, digits, `.`, `-` and `_` replaced.
fn attachment_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.p7s")
}

/// `GET /report/signed/<id>.p7s`: the report's signature, once the result checks out.
async fn download(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let Some(id) = file.strip_suffix(".p7s").filter(|id| is_signing_id(id)) else {
        return (StatusCode::NOT_FOUND, "no such signature").into_response();
    };
    let (assertion, claims) = match verified(&shared, &headers).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let checked = match fetch(&shared, assertion, &claims, id).await {
        Ok((_, Some(Ok(checked)))) => checked,
        Ok((signing, None)) => {
            return (
                StatusCode::NOT_FOUND,
                format!("not signed: {}", signing.state),
            )
                .into_response();
        }
        Ok((_, Some(Err(e)))) | Err(e) => {
            return (StatusCode::BAD_GATEWAY, format!("{e:#}")).into_response();
        }
    };
    let (Some(p7s), Some(file)) = (
        checked.signatures.into_iter().next(),
        checked.claims.files.first(),
    ) else {
        return (StatusCode::NOT_FOUND, "no signature").into_response();
    };
    (
        [
            (CONTENT_TYPE, "application/pkcs7-signature".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", attachment_name(&file.name)),
            ),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        p7s,
    )
        .into_response()
}

#[cfg(test)]
#[path = "signing_http_tests.rs"]
mod http_tests;
#[cfg(test)]
#[path = "signing_tests.rs"]
mod tests;
