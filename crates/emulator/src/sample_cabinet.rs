//! The sample cabinet: a small upstream app for the demo and the tests. It shows the identity it
//! received, verifies the signed assertion against the gateway's JWKS, echoes requests, and
//! serves a WebSocket echo, an SSE stream and large downloads/uploads to exercise the proxy.
//! It trusts nothing it cannot verify: the page says whether the assertion checked out. Like any
//! third-party app behind the gateway it knows kepgate only from the documentation.
//!
//! Its «Підписати звіт» page ([`signing`]) has the person sign a generated report through the
//! gateway's signing API and checks the signed result the gateway returns.

mod signing;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, Request, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, Sse};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{any, get, post};
use futures_util::StreamExt;
use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use url::Url;

/// The JWS `typ` of the gateway's identity assertion (docs/forward-auth.md).
pub const ASSERTION_TYP: &str = "kepgate-assertion+jwt";

/// The claims of kepgate's identity assertion as a cabinet reads them: from the documentation
/// (docs/forward-auth.md and docs/proxy.md's header table), not from the gateway's code, which
/// this crate does not depend on. Claims it does not know are ignored.
#[derive(Debug, Serialize, Deserialize)]
pub struct AssertionClaims {
    /// kepgate's `server.base_url`.
    pub iss: String,
    /// The route's name.
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// As `x-kepgate-subject`: `rnokpp:<РНОКПП>`, or `cert:<issuer hash>:<serial>`.
    pub sub: String,
    pub name: String,
    /// Digits, when the certificate has them.
    pub rnokpp: Option<String>,
    pub edrpou: Option<String>,
    pub organization: Option<String>,
    /// The provider id.
    pub provider: String,
    /// The provider's display name (absent from gateways before it was added).
    #[serde(default)]
    pub provider_name: Option<String>,
    /// Certificate serial (hex) and issuer.
    pub cert_serial: String,
    pub cert_issuer: String,
    /// The session id.
    pub sid: String,
    /// How the person signed in: `kep`, `dig_sign`, `diia_id`, `bank_id` (absent from gateways
    /// before it was added).
    #[serde(default)]
    pub auth_method: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct CabinetArgs {
    /// Socket the sample cabinet listens on.
    #[arg(long, env = "KEPGATE_CABINET_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// The gateway's JWKS (`…/.kepgate/jwks.json`) to verify the identity assertion with.
    #[arg(long, env = "KEPGATE_CABINET_JWKS_URL")]
    pub jwks_url: Option<Url>,
    /// The route name the assertion must be addressed to (`aud`).
    #[arg(long, env = "KEPGATE_CABINET_AUDIENCE", default_value = "cabinet")]
    pub audience: String,
    /// The gateway's `server.base_url`, which the assertion must name as its issuer (`iss`).
    #[arg(long, env = "KEPGATE_CABINET_ISSUER")]
    pub issuer: Option<String>,
    /// PEM CA certificates to trust for the JWKS URL beside the system's (a gateway on HTTPS
    /// with a private CA).
    #[arg(long, env = "KEPGATE_CABINET_CA_FILE")]
    pub ca_file: Option<std::path::PathBuf>,
    /// The gateway's base URL (e.g. http://127.0.0.1:8080), whose signing API
    /// (`/.kepgate/api/signing`) the report page calls; default: beside the JWKS URL.
    #[arg(long, env = "KEPGATE_CABINET_GATEWAY_URL")]
    pub gateway_url: Option<Url>,
}

/// Seconds of clock difference tolerated on `exp`. jsonwebtoken's default is 60, which would
/// double the assertion's 60 s lifetime; cabinet authors copy what the sample does.
const EXPIRY_LEEWAY_SECONDS: u64 = 5;

struct Shared {
    args: CabinetArgs,
    http: reqwest::Client,
    jwks: Mutex<Option<JwkSet>>,
    /// Lets a test hold an SSE stream open after its first event (`/events?hold=1`) and release
    /// it (`POST /release`): proof that the proxy passes each event on at once.
    release: tokio::sync::Notify,
    /// What the gateway answered when each signing started (by signing id): the report's hash
    /// the signed result must name (the cabinet cannot compute GOST 34.311 itself).
    signings: std::sync::Mutex<signing::Started>,
}

pub struct SampleCabinet {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl SampleCabinet {
    pub async fn build(args: CabinetArgs) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        Self::build_on(args, listener)
    }

    pub fn build_on(args: CabinetArgs, listener: TcpListener) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5));
        let http = crate::extra_ca::trusting(http, args.ca_file.as_deref())?.build()?;
        Ok(Self {
            listener,
            shared: Arc::new(Shared {
                args,
                http,
                jwks: Mutex::new(None),
                release: tokio::sync::Notify::new(),
                signings: std::sync::Mutex::default(),
            }),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "sample cabinet listening");
        let app = Router::new()
            .route("/", get(home))
            .route("/echo", any(echo))
            .route("/echo/{*rest}", any(echo))
            .route("/ws", get(websocket))
            .route("/events", get(events))
            .route("/download", get(download))
            .route("/upload", post(upload))
            .route(
                "/static/app.css",
                get(|| async { ([("content-type", "text/css")], CABINET_CSS) }),
            )
            .route("/slow", get(slow))
            .route("/release", post(release))
            .route("/status/{code}", get(status))
            .merge(signing::routes())
            .fallback(any(echo))
            .with_state(self.shared);
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await?;
        Ok(())
    }
}

/// The sample cabinet's only stylesheet (served at `/static/app.css`, a public route in the demo).
const CABINET_CSS: &str = "body { margin: 0; font-family: system-ui, -apple-system, \"Segoe UI\", Roboto, \"Noto Sans\", sans-serif; line-height: 1.5; color: #1b1f24; }
main { max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { color: #5b6472; } dd { margin: 0; font-variant-numeric: tabular-nums; }
a { color: #0b57d0; } a:focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }";

#[derive(Template)]
#[template(path = "sample_cabinet.html")]
struct HomePage {
    name: Option<String>,
    rnokpp: Option<String>,
    edrpou: Option<String>,
    organization: Option<String>,
    provider: Option<String>,
    verified: bool,
    verify_error: Option<String>,
    /// The gateway's account page, beside its JWKS (same route prefix).
    account_href: String,
}

async fn home(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (verified, verify_error, provider_name) = match verify(&shared, &headers).await {
        Ok(claims) => (true, None, claims.provider_name),
        Err(e) => (false, Some(e.to_string()), None),
    };
    let page = HomePage {
        name: header("x-kepgate-name").map(|n| percent_decode(&n)),
        rnokpp: header("x-kepgate-rnokpp"),
        edrpou: header("x-kepgate-edrpou"),
        organization: header("x-kepgate-organization").map(|n| percent_decode(&n)),
        // The name people know the provider by, from the verified assertion; else its id.
        provider: provider_name.or_else(|| header("x-kepgate-provider")),
        verified,
        verify_error,
        account_href: account_href(shared.args.jwks_url.as_ref()),
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The gateway publishes its keys at `{prefix}/jwks.json` and the account page at `{prefix}/me`:
/// the cabinet links to the latter whatever the prefix is.
fn account_href(jwks_url: Option<&Url>) -> String {
    jwks_url
        .and_then(|url| url.path().strip_suffix("/jwks.json").map(str::to_owned))
        .map_or_else(
            || "/.kepgate/me".to_owned(),
            |prefix| format!("{prefix}/me"),
        )
}

/// The header carrying kepgate's identity assertion.
const ASSERTION_HEADER: &str = "x-kepgate-assertion";

/// Verifies `x-kepgate-assertion` against the gateway's JWKS (fetched once, again on a new kid).
async fn verify(shared: &Shared, headers: &HeaderMap) -> anyhow::Result<AssertionClaims> {
    let token = assertion_token(headers)?;
    let key = signing_key(shared, token, ASSERTION_TYP).await?;
    Ok(jsonwebtoken::decode::<AssertionClaims>(token, &key, &validation(&shared.args))?.claims)
}

fn assertion_token(headers: &HeaderMap) -> anyhow::Result<&str> {
    headers
        .get(ASSERTION_HEADER)
        .and_then(|v| v.to_str().ok())
        .context("no assertion header")
}

/// The JWKS key a token of type `typ` names by kid. Its own type: an ID token of the gateway's
/// (`JWT`), signed with the same key, is no assertion (docs/forward-auth.md), and an assertion is
/// no signing result.
async fn signing_key(shared: &Shared, token: &str, typ: &str) -> anyhow::Result<DecodingKey> {
    let url = shared
        .args
        .jwks_url
        .clone()
        .context("no --jwks-url configured")?;
    let header = jsonwebtoken::decode_header(token)?;
    anyhow::ensure!(
        header.typ.as_deref() == Some(typ),
        "not a {typ}: typ {:?}",
        header.typ
    );
    let kid = header.kid.context("token without kid")?;
    let mut cached = shared.jwks.lock().await;
    if cached.as_ref().and_then(|set| set.find(&kid)).is_none() {
        *cached = Some(
            shared
                .http
                .get(url)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?,
        );
    }
    let jwk = cached
        .as_ref()
        .and_then(|set| set.find(&kid))
        .context("unknown key id")?;
    Ok(DecodingKey::from_jwk(jwk)?)
}

/// The algorithm is pinned (never taken from the token's header), the key comes from the JWKS
/// by kid, and aud, exp and (when configured) iss are required.
fn validation(args: &CabinetArgs) -> Validation {
    let mut validation = Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.leeway = EXPIRY_LEEWAY_SECONDS;
    validation.set_audience(&[&args.audience]);
    validation.set_required_spec_claims(&["exp", "aud", "iss"]);
    if let Some(issuer) = &args.issuer {
        validation.set_issuer(&[issuer]);
    }
    validation
}

async fn echo(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let cookies = set_cookies(parts.uri.query());
    let mut bytes = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        bytes += chunk.len() as u64;
    }
    let headers: serde_json::Map<String, serde_json::Value> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                json!(v.to_str().unwrap_or("<binary>")),
            )
        })
        .collect();
    let assertion = verify(&shared, &parts.headers).await;
    let echoed = Json(json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": headers,
        "body_bytes": bytes,
        "assertion_verified": assertion.is_ok(),
        "assertion_error": assertion.as_ref().err().map(|e| format!("{e:#}")),
        "assertion": assertion.ok(),
    }));
    (cookies, echoed).into_response()
}

/// A `Set-Cookie` header for every `set_cookie` query parameter, as given: an app that sets
/// cookies, whichever they are.
fn set_cookies(query: Option<&str>) -> axum::response::AppendHeaders<Vec<(&'static str, String)>> {
    let cookies = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(name, _)| name == "set_cookie")
        .map(|(_, value)| ("set-cookie", value.into_owned()))
        .collect();
    axum::response::AppendHeaders(cookies)
}

async fn websocket(
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    upgrade: WebSocketUpgrade,
) -> Response {
    let cookies = set_cookies(query.as_deref());
    let switching = upgrade.on_upgrade(|mut socket: WebSocket| async move {
        while let Some(Ok(message)) = socket.recv().await {
            let reply = match message {
                Message::Text(text) => Message::Text(format!("echo: {}", text.as_str()).into()),
                Message::Binary(bytes) => Message::Binary(bytes),
                Message::Close(_) => break,
                _ => continue,
            };
            if socket.send(reply).await.is_err() {
                break;
            }
        }
    });
    (cookies, switching).into_response()
}

#[derive(Deserialize)]
struct EventsQuery {
    hold: Option<u8>,
}

/// Three `tick` events, 200 ms apart; with `hold=1` the later ones wait for `POST /release`.
async fn events(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<EventsQuery>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>> {
    let hold = q.hold == Some(1);
    let stream = futures_util::stream::unfold(0u32, move |n| {
        let shared = shared.clone();
        async move {
            if n >= 3 {
                return None;
            }
            if n == 1 && hold {
                shared.release.notified().await;
            } else if n > 0 {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Some((
                Ok(Event::default().event("tick").data(n.to_string())),
                n + 1,
            ))
        }
    });
    Sse::new(stream)
}

/// Answers with the given status and a plain-text body, like an app's own error page.
async fn status(axum::extract::Path(code): axum::extract::Path<u16>) -> Response {
    let status =
        axum::http::StatusCode::from_u16(code).unwrap_or(axum::http::StatusCode::BAD_REQUEST);
    (
        status,
        [("content-type", "text/plain")],
        format!("upstream says {code}"),
    )
        .into_response()
}

async fn release(State(shared): State<Arc<Shared>>) -> &'static str {
    shared.release.notify_waiters();
    "released"
}

#[derive(Deserialize)]
struct SizeQuery {
    mb: Option<u64>,
}

/// `mb` MiB of a repeating pattern, generated as it is sent.
async fn download(Query(q): Query<SizeQuery>) -> Response {
    const CHUNK: usize = 64 * 1024;
    let chunks = q.mb.unwrap_or(1).min(4096) * 16;
    let block = Bytes::from((0..CHUNK).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let stream = futures_util::stream::iter(
        (0..chunks).map(move |_| Ok::<Bytes, std::convert::Infallible>(block.clone())),
    );
    let mut response = Body::from_stream(stream).into_response();
    response.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/octet-stream"),
    );
    response
}

async fn upload(body: Body) -> Json<serde_json::Value> {
    let mut bytes = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => bytes += chunk.len() as u64,
            Err(_) => break,
        }
    }
    Json(json!({ "bytes": bytes }))
}

#[derive(Deserialize)]
struct SlowQuery {
    ms: Option<u64>,
}

async fn slow(Query(q): Query<SlowQuery>) -> &'static str {
    tokio::time::sleep(Duration::from_millis(q.ms.unwrap_or(1000).min(120_000))).await;
    "finally"
}

fn percent_decode(value: &str) -> String {
    let bytes: Vec<u8> =
        url::form_urlencoded::parse(format!("v={}", value.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned().into_bytes())
            .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}
