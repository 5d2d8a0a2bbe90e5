//! A real relying party for kepgate's OpenID Connect Provider: Debian's Apache httpd with
//! mod_auth_openidc (packages `apache2` and `libapache2-mod-auth-openidc`, which scripts/test.sh
//! installs), on a random port, with a configuration and a folder of its own.
//!
//! The OP's client registration needs the RP's redirect URIs before the OP starts, so a test
//! first asks for an [`ApachePlan`] (a port and the URIs to register), starts the OP, then
//! [`ApacheRp::start`]s Apache against the OP's discovery document.
//!
//! The protected page ([`ApacheRp::protected_url`]) shows what mod_auth_openidc passes to the
//! application: every claim of [`SHOWN_CLAIMS`] in `<dd id="claim-NAME">`, `REMOTE_USER` in
//! `<dd id="remote-user">`, the ID token's payload in `<pre id="id-token-payload">` and the user
//! info as JSON in `<pre id="userinfo-json">`. Values are HTML-escaped UTF-8 (read them with
//! [`text_by_id`] / [`claim_on_page`]); a claim the RP did not get shows as an empty element.
//!
//! Dropping the [`ApacheRp`] kills Apache's whole process group and removes its folder; a
//! watchdog shell leading that group ends it too should the test process die without unwinding.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

use crate::diia_stack::TempDir;

/// The claims the protected page shows, each in `<dd id="claim-NAME">`.
pub const SHOWN_CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "rnokpp",
    "edrpou",
    "organization",
    "cert_serial",
    "cert_issuer",
    "provider",
];

/// The scopes the RP asks for.
pub const SCOPES: &str = "openid profile kep";

/// A port for Apache and the URIs to register for it with the OP, before either starts.
#[derive(Clone, Debug)]
pub struct ApachePlan {
    pub port: u16,
    /// `OIDCRedirectURI`: `http://127.0.0.1:PORT/protected/redirect_uri`.
    pub redirect_uri: String,
    /// Where the OP's end-session endpoint sends the browser back to after logout.
    pub post_logout_redirect_uri: String,
}

/// How mod_auth_openidc authenticates itself at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenEndpointAuth {
    ClientSecretBasic,
    ClientSecretPost,
}

impl TokenEndpointAuth {
    fn directive_value(self) -> &'static str {
        match self {
            TokenEndpointAuth::ClientSecretBasic => "client_secret_basic",
            TokenEndpointAuth::ClientSecretPost => "client_secret_post",
        }
    }
}

/// Apache httpd with mod_auth_openidc as a relying party, running until dropped.
pub struct ApacheRp {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    pub redirect_uri: String,
    pub post_logout_redirect_uri: String,
    /// The configuration file; its path is in every Apache process's command line.
    config: PathBuf,
    /// The watchdog shell, leader of the process group Apache runs in.
    child: Child,
    dir: TempDir,
}

impl ApacheRp {
    /// Reserves a port and says which redirect URIs to register with the OP.
    pub fn plan() -> ApachePlan {
        let port = crate::helpers::free_port();
        ApachePlan {
            port,
            redirect_uri: format!("http://127.0.0.1:{port}/protected/redirect_uri"),
            post_logout_redirect_uri: format!("http://127.0.0.1:{port}/loggedout.html"),
        }
    }

    /// Starts Apache for `plan`, relying on the OP whose discovery document is at
    /// `discovery_url`, as the confidential client `client_id`/`client_secret`
    /// (`client_secret_basic`), asking for [`SCOPES`], with PKCE (S256).
    pub async fn start(
        plan: ApachePlan,
        discovery_url: &str,
        client_id: &str,
        client_secret: &str,
    ) -> ApacheRp {
        Self::start_with(
            plan,
            discovery_url,
            client_id,
            client_secret,
            TokenEndpointAuth::ClientSecretBasic,
        )
        .await
    }

    /// [`ApacheRp::start`] with another way to authenticate at the token endpoint.
    pub async fn start_with(
        plan: ApachePlan,
        discovery_url: &str,
        client_id: &str,
        client_secret: &str,
        token_endpoint_auth: TokenEndpointAuth,
    ) -> ApacheRp {
        use std::os::unix::process::CommandExt;
        let binary = apache_binary();
        let dir = TempDir(
            std::env::temp_dir().join(format!("kepgate-apache-{}", uuid::Uuid::new_v4().simple())),
        );
        let htdocs = dir.0.join("htdocs");
        for folder in [&dir.0, &htdocs, &htdocs.join("protected")] {
            make_dir(folder);
        }
        write_file(&htdocs.join("loggedout.html"), LOGGED_OUT_PAGE);
        write_file(&htdocs.join("index.html"), INDEX_PAGE);
        write_file(&htdocs.join("protected/claims.shtml"), &claims_page());
        let config = dir.0.join("httpd.conf");
        write_file(
            &config,
            &httpd_conf(
                &dir.0,
                &plan,
                discovery_url,
                client_id,
                client_secret,
                token_endpoint_auth,
            ),
        );
        let stderr = dir.0.join("stderr.log");
        // The watchdog leads a process group of its own with Apache (and its children) in it:
        // should this test process die without running Drop, it takes them all down and removes
        // the folder. It also ends when Apache does (a configuration it refused, or Drop's stop),
        // so a failed start leaves nothing running. It outlives the SIGTERM Apache sends its
        // whole group when it stops, to reap Apache (else left a zombie).
        let child = Command::new("bash")
            .arg("-c")
            .arg(
                r#"trap : TERM; test_pid=$1; dir=$2; shift 2; "$@" & apache=$!
                   while kill -0 "$test_pid" 2>/dev/null && kill -0 "$apache" 2>/dev/null; do
                     sleep 0.2
                   done
                   if ! kill -0 "$test_pid" 2>/dev/null; then
                     kill -KILL "$apache" 2>/dev/null; rm -rf -- "$dir"
                   fi
                   kill -KILL 0"#,
            )
            .arg("apache-watchdog")
            .arg(std::process::id().to_string())
            .arg(&dir.0)
            .arg(binary)
            .arg("-f")
            .arg(&config)
            .arg("-DFOREGROUND")
            // Nothing from the test's environment: no proxy settings for mod_auth_openidc's
            // curl (the OP is on loopback), no Debian envvars (the configuration needs none).
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("Apache's stderr file"))
            .process_group(0)
            .spawn()
            .expect("bash starts Apache");
        // Owned before the wait: a start that times out still ends every process.
        let mut rp = ApacheRp {
            base: format!("http://127.0.0.1:{}", plan.port),
            redirect_uri: plan.redirect_uri,
            post_logout_redirect_uri: plan.post_logout_redirect_uri,
            config,
            child,
            dir,
        };
        // Listening, and by this Apache: it writes its PidFile once it has bound the port (should
        // another process have taken the port since `plan`, Apache exits instead).
        let pid_file = rp.dir.0.join("httpd.pid");
        let started = Instant::now();
        while !pid_file.exists() || std::net::TcpStream::connect(("127.0.0.1", plan.port)).is_err()
        {
            let exited = rp.child.try_wait().ok().flatten().is_some();
            assert!(
                !exited && started.elapsed() < Duration::from_secs(20),
                "Apache did not start ({}):\nstderr: {}\nerror log: {}",
                if exited { "it exited" } else { "timed out" },
                std::fs::read_to_string(&stderr).unwrap_or_default(),
                rp.error_log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        rp
    }

    /// The protected page: visitors without a session go to the OP first.
    pub fn protected_url(&self) -> String {
        format!("{}/protected/claims.shtml", self.base)
    }

    /// mod_auth_openidc's RP-initiated logout: ends the RP's session and sends the browser to
    /// the OP's `end_session_endpoint` (with `id_token_hint` and `post_logout_redirect_uri`),
    /// which sends it back to [`ApacheRp::post_logout_redirect_uri`].
    pub fn logout_url(&self) -> String {
        let mut url = url::Url::parse(&self.redirect_uri).expect("redirect URI");
        url.query_pairs_mut()
            .append_pair("logout", &self.post_logout_redirect_uri);
        url.into()
    }

    /// The configuration file; its path is in the command line of every Apache process.
    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// Apache's error log: what mod_auth_openidc says about a flow that failed.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("error.log")).unwrap_or_default()
    }
}

impl Drop for ApacheRp {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "Apache RP error log ({}):\n{}",
                self.config.display(),
                self.error_log()
            );
        }
        // Apache's own stop first (SIGTERM to its parent, which ends and reaps its children),
        // after which the watchdog reaps it and ends too: nothing is left, not even a zombie…
        let pid = std::fs::read_to_string(self.dir.0.join("httpd.pid")).unwrap_or_default();
        if let Ok(pid) = pid.trim().parse::<u32>() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // …else the whole process group: the watchdog, Apache's parent and its children…
        let group = self.child.id();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{group}")])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
        // …and anything that got away from it, by the configuration in its command line.
        let config = self.config.display().to_string();
        crate::processes::end_all("apache2", |p| {
            p.group == group || p.cmdline.contains(&config)
        });
        // The folder goes when `dir` drops, after this.
    }
}

/// The text of the element with `id="ID"` on an HTML page, HTML entities decoded.
pub fn text_by_id(page: &str, id: &str) -> Option<String> {
    let marker = format!(" id=\"{id}\">");
    let start = page.find(&marker)? + marker.len();
    let end = start + page[start..].find("</")?;
    Some(unescape_html(&page[start..end]))
}

/// A claim as the protected page shows it (`<dd id="claim-NAME">`); empty when the RP did not
/// get that claim, `None` when the page does not show it at all.
pub fn claim_on_page(page: &str, claim: &str) -> Option<String> {
    text_by_id(page, &format!("claim-{claim}"))
}

fn unescape_html(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn apache_binary() -> &'static str {
    ["/usr/sbin/apache2", "/usr/sbin/httpd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect(
            "Apache is not installed: scripts/test.sh installs Debian's apache2 and \
             libapache2-mod-auth-openidc",
        )
}

fn modules_dir() -> &'static str {
    const DIR: &str = "/usr/lib/apache2/modules";
    assert!(
        Path::new(DIR).join("mod_auth_openidc.so").exists(),
        "mod_auth_openidc is not installed: scripts/test.sh installs Debian's \
         libapache2-mod-auth-openidc"
    );
    DIR
}

/// Apache's children run as www-data when it starts as root: everything they read must be
/// readable by others, whatever the umask.
fn make_dir(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn write_file(path: &Path, content: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
}

fn running_as_root() -> bool {
    // `Uid:` real, effective, saved and filesystem user ids.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let uids = status.lines().find(|l| l.starts_with("Uid:"))?;
            uids.split_whitespace().nth(2).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// 256 random bits, in hex.
fn random_hex() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Quotes a value for an Apache directive (which has no escape for everything: a value that
/// would need one is refused, as is `${…}`, which Apache would expand).
fn quoted(value: &str) -> String {
    assert!(
        !value.contains(['"', '\\', '\n', '\r']) && !value.contains("${"),
        "{value:?} cannot go into Apache's configuration"
    );
    format!("\"{value}\"")
}

fn httpd_conf(
    dir: &Path,
    plan: &ApachePlan,
    discovery_url: &str,
    client_id: &str,
    client_secret: &str,
    token_endpoint_auth: TokenEndpointAuth,
) -> String {
    let modules = modules_dir();
    let dir = dir.display();
    let port = plan.port;
    // As root, Apache insists on a user for its children.
    let user = if running_as_root() {
        "User www-data\nGroup www-data\n"
    } else {
        ""
    };
    format!(
        r#"# kepgate's tests: Apache httpd with mod_auth_openidc as an OpenID Connect RP.
ServerRoot "{dir}"
DefaultRuntimeDir "{dir}"
PidFile "{dir}/httpd.pid"
ErrorLog "{dir}/error.log"
LogLevel warn auth_openidc:info
Listen 127.0.0.1:{port}
ServerName 127.0.0.1:{port}
{user}
LoadModule mpm_prefork_module {modules}/mod_mpm_prefork.so
LoadModule authn_core_module {modules}/mod_authn_core.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule authz_user_module {modules}/mod_authz_user.so
LoadModule mime_module {modules}/mod_mime.so
LoadModule dir_module {modules}/mod_dir.so
LoadModule include_module {modules}/mod_include.so
LoadModule auth_openidc_module {modules}/mod_auth_openidc.so

StartServers 1
MinSpareServers 1
MaxSpareServers 3
MaxRequestWorkers 10
Timeout 30

TypesConfig /dev/null
AddType "text/html; charset=utf-8" .html .shtml
AddOutputFilter INCLUDES .shtml
LogFormat "%h \"%r\" %>s" brief
CustomLog "{dir}/access.log" brief

DocumentRoot "{dir}/htdocs"
DirectoryIndex index.html
<Directory />
  Options None
  AllowOverride None
  Require all granted
</Directory>
<Directory "{dir}/htdocs/protected">
  Options +IncludesNoExec
</Directory>

OIDCProviderMetadataURL {discovery}
OIDCClientID {client_id}
OIDCClientSecret {client_secret}
OIDCRedirectURI {redirect_uri}
OIDCCryptoPassphrase {passphrase}
OIDCScope "{SCOPES}"
OIDCProviderTokenEndpointAuth {token_endpoint_auth}
OIDCPKCEMethod S256
OIDCSessionType server-cache
OIDCCacheType shm
OIDCDefaultLoggedOutURL {logged_out}
# Claims as environment variables (OIDC_CLAIM_*), UTF-8 as it came: the page shows them by SSI.
OIDCPassClaimsAs environment
OIDCPassIDTokenAs claims payload
OIDCPassUserInfoAs claims json

<Location /protected/>
  AuthType openid-connect
  Require valid-user
</Location>
"#,
        discovery = quoted(discovery_url),
        client_id = quoted(client_id),
        client_secret = quoted(client_secret),
        redirect_uri = quoted(&plan.redirect_uri),
        passphrase = quoted(&random_hex()),
        token_endpoint_auth = token_endpoint_auth.directive_value(),
        logged_out = quoted(&plan.post_logout_redirect_uri),
    )
}

/// The protected page: mod_include echoes mod_auth_openidc's environment variables,
/// HTML-escaped (`encoding="entity"` leaves UTF-8 as it is); unset ones come out empty.
fn claims_page() -> String {
    let claims: String = SHOWN_CLAIMS
        .iter()
        .map(|claim| {
            format!(
                "  <dt>{claim}</dt><dd id=\"claim-{claim}\"><!--#echo var=\"OIDC_CLAIM_{claim}\" \
                 encoding=\"entity\" --></dd>\n"
            )
        })
        .collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="uk">
<head><meta charset="utf-8"><title>Apache RP</title></head>
<body>
<!--#config echomsg="" -->
<h1>Signed in at the Apache RP</h1>
<dl>
{claims}  <dt>REMOTE_USER</dt><dd id="remote-user"><!--#echo var="REMOTE_USER" encoding="entity" --></dd>
</dl>
<h2>ID token</h2>
<pre id="id-token-payload"><!--#echo var="OIDC_id_token_payload" encoding="entity" --></pre>
<h2>User info</h2>
<pre id="userinfo-json"><!--#echo var="OIDC_userinfo_json" encoding="entity" --></pre>
</body>
</html>
"#
    )
}

const LOGGED_OUT_PAGE: &str = r#"<!DOCTYPE html>
<html lang="uk">
<head><meta charset="utf-8"><title>Apache RP: signed out</title></head>
<body><h1 id="logged-out">Ви вийшли</h1></body>
</html>
"#;

const INDEX_PAGE: &str = r#"<!DOCTYPE html>
<html lang="uk">
<head><meta charset="utf-8"><title>Apache RP</title></head>
<body><h1 id="public">Apache RP</h1></body>
</html>
"#;

// ---------- the harness's own tests, against a stand-in OP ----------

const CLIENT_ID: &str = "apache-rp";
const CLIENT_SECRET: &str = "apache-rp-secret";
const NAME: &str = "Шевченко Тарас Григорович";
const ORGANIZATION: &str = r#"ТОВ "Ромашка & Ко" <тест>"#;

/// What the stand-in OP saw.
#[derive(Default)]
struct Seen {
    authorize: Option<HashMap<String, String>>,
    token_requests: Vec<(Option<String>, HashMap<String, String>)>,
    logout: Option<HashMap<String, String>>,
}

#[derive(Clone)]
struct StandIn {
    issuer: String,
    key: Arc<EncodingKey>,
    jwks: Value,
    seen: Arc<Mutex<Seen>>,
}

/// A stand-in for kepgate's OP with the same discovery contract: it sends every visitor
/// straight back with a code, and answers the token and user-info requests of a client
/// that presents CLIENT_ID/CLIENT_SECRET (basic or post) and the right PKCE verifier.
async fn stand_in_op() -> (StandIn, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let secret = <p256::SecretKey as p256::elliptic_curve::Generate>::try_generate().unwrap();
    let point = secret.public_key().to_sec1_bytes();
    let jwks = json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "k1",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    }]});
    let state = StandIn {
        issuer: format!("http://127.0.0.1:{port}/"),
        key: Arc::new(EncodingKey::from_ec_der(
            secret.to_pkcs8_der().unwrap().as_bytes(),
        )),
        jwks,
        seen: Arc::default(),
    };
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route(
            "/.kepgate/jwks.json",
            get(|State(s): State<StandIn>| async move { axum::Json(s.jwks) }),
        )
        .route("/.kepgate/oidc/authorize", get(authorize))
        .route("/.kepgate/oidc/token", post(token))
        .route("/.kepgate/oidc/userinfo", get(userinfo))
        .route("/.kepgate/oidc/logout", get(logout))
        .with_state(state.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    (state, stop)
}

async fn discovery(State(s): State<StandIn>) -> axum::Json<Value> {
    let iss = &s.issuer;
    axum::Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}.kepgate/oidc/authorize"),
        "token_endpoint": format!("{iss}.kepgate/oidc/token"),
        "userinfo_endpoint": format!("{iss}.kepgate/oidc/userinfo"),
        "end_session_endpoint": format!("{iss}.kepgate/oidc/logout"),
        "jwks_uri": format!("{iss}.kepgate/jwks.json"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "profile", "kep"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code"],
    }))
}

async fn authorize(State(s): State<StandIn>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut back = Url::parse(&q["redirect_uri"]).unwrap();
    back.query_pairs_mut()
        .append_pair("code", "the-code")
        .append_pair("state", &q["state"]);
    s.seen.lock().unwrap().authorize = Some(q);
    Redirect::to(back.as_str()).into_response()
}

async fn token(
    State(s): State<StandIn>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let authorize = {
        let mut seen = s.seen.lock().unwrap();
        seen.token_requests
            .push((authorization.clone(), form.clone()));
        seen.authorize.clone().unwrap_or_default()
    };
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let client_ok = authorization.as_deref() == Some(basic.as_str())
        || (form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
            && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET));
    let challenge = form
        .get("code_verifier")
        .map(|v| URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())));
    if !client_ok
        || form.get("code").map(String::as_str) != Some("the-code")
        || challenge.as_ref() != authorize.get("code_challenge")
        || form.get("redirect_uri") != authorize.get("redirect_uri")
    {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "iss": s.issuer, "aud": CLIENT_ID, "sub": "rnokpp:1234567890",
        "iat": now, "exp": now + 300, "nonce": authorize["nonce"], "name": NAME,
    });
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("k1".to_owned());
    let id_token = jsonwebtoken::encode(&header, &claims, &s.key).unwrap();
    axum::Json(json!({
        "access_token": "the-access-token", "token_type": "Bearer", "expires_in": 300,
        "id_token": id_token,
    }))
    .into_response()
}

async fn userinfo(headers: HeaderMap) -> Response {
    if headers.get(header::AUTHORIZATION).map(|v| v.as_bytes())
        != Some(b"Bearer the-access-token".as_slice())
    {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    axum::Json(json!({
        "sub": "rnokpp:1234567890", "name": NAME, "given_name": "Тарас",
        "family_name": "Шевченко", "middle_name": "Григорович", "rnokpp": "1234567890",
        "edrpou": "12345678", "organization": ORGANIZATION, "cert_serial": "0A1B2C",
        "cert_issuer": "КНЕДП ДПС", "provider": "diia",
    }))
    .into_response()
}

async fn logout(State(s): State<StandIn>, Query(q): Query<HashMap<String, String>>) -> Response {
    let back = q["post_logout_redirect_uri"].clone();
    s.seen.lock().unwrap().logout = Some(q);
    Redirect::to(&back).into_response()
}

fn query_of(location: &str) -> HashMap<String, String> {
    Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn location(response: &reqwest::Response) -> String {
    assert!(
        response.status().is_redirection(),
        "expected a redirect, got {}",
        response.status()
    );
    response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

/// A browser's cookie jar, for one host: what Set-Cookie set and did not expire again.
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn take(&mut self, response: &reqwest::Response) {
        for set in response.headers().get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.0.retain(|(n, _)| n != name);
            if !value.is_empty() && !set.contains("Expires=Thu, 01 Jan 1970") {
                self.0.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, http: &reqwest::Client, url: &str) -> reqwest::Response {
        let mut request = http.get(url);
        if !self.0.is_empty() {
            request = request.header(header::COOKIE, self.header());
        }
        let response = request.send().await.unwrap();
        self.take(&response);
        response
    }
}

fn apache_processes(config: &str) -> Vec<String> {
    crate::processes::running()
        .into_iter()
        .filter(|p| p.cmdline.contains(config))
        .map(|p| format!("{} {}", p.pid, p.cmdline))
        .collect()
}

#[tokio::test]
async fn apache_rp_sends_an_unauthenticated_visitor_to_the_op_s_authorization_endpoint() {
    let (op, _stop) = stand_in_op().await;
    let plan = ApacheRp::plan();
    let rp = ApacheRp::start(
        plan.clone(),
        &format!("{}.well-known/openid-configuration", op.issuer),
        CLIENT_ID,
        CLIENT_SECRET,
    )
    .await;
    let config = rp.config_path().display().to_string();
    let folder = rp.dir.0.clone();
    assert!(!apache_processes(&config).is_empty(), "Apache runs");
    assert_eq!(rp.redirect_uri, plan.redirect_uri);
    assert_eq!(
        rp.logout_url(),
        format!(
            "{}?logout=http%3A%2F%2F127.0.0.1%3A{}%2Floggedout.html",
            plan.redirect_uri, plan.port
        )
    );

    let http = crate::helpers::client();
    let response = http.get(rp.protected_url()).send().await.unwrap();
    assert!(
        matches!(response.status().as_u16(), 302 | 303),
        "{}: {}",
        response.status(),
        rp.error_log()
    );
    let to = location(&response);
    assert!(
        to.starts_with(&format!("{}.kepgate/oidc/authorize?", op.issuer)),
        "{to}"
    );
    let q = query_of(&to);
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["redirect_uri"], plan.redirect_uri);
    assert_eq!(q["response_type"], "code");
    let scopes: Vec<&str> = q["scope"].split(' ').collect();
    assert_eq!(scopes, ["openid", "profile", "kep"]);
    assert!(q["state"].len() >= 16, "{q:?}");
    assert!(q["nonce"].len() >= 16, "{q:?}");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43, "{q:?}");
    // The state is bound to this browser by a cookie.
    assert!(
        response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("mod_auth_openidc_state_")),
        "{:?}",
        response.headers()
    );
    // Public pages stay public.
    let public = http.get(format!("{}/", rp.base)).send().await.unwrap();
    assert_eq!(public.status(), 200);

    drop(rp);
    assert_eq!(apache_processes(&config), Vec::<String>::new());
    assert!(!folder.exists(), "{} is left behind", folder.display());
}

async fn sign_in_and_out(token_endpoint_auth: TokenEndpointAuth) {
    let (op, _stop) = stand_in_op().await;
    let plan = ApacheRp::plan();
    let rp = ApacheRp::start_with(
        plan,
        &format!("{}.well-known/openid-configuration", op.issuer),
        CLIENT_ID,
        CLIENT_SECRET,
        token_endpoint_auth,
    )
    .await;
    let http = crate::helpers::client();
    let mut jar = Jar::default();

    // RP → OP → RP's redirect URI (code exchanged) → the protected page.
    let to_op = location(&jar.get(&http, &rp.protected_url()).await);
    let to_rp = location(&jar.get(&http, &to_op).await);
    assert!(to_rp.starts_with(&rp.redirect_uri), "{to_rp}");
    let response = jar.get(&http, &to_rp).await;
    assert!(
        response.status().is_redirection(),
        "{}: {}",
        response.status(),
        rp.error_log()
    );
    assert_eq!(location(&response), rp.protected_url());
    let response = jar.get(&http, &rp.protected_url()).await;
    assert_eq!(response.status(), 200, "{}", rp.error_log());
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let page = response.text().await.unwrap();

    {
        let seen = op.seen.lock().unwrap();
        let (authorization, form) = &seen.token_requests[0];
        match token_endpoint_auth {
            TokenEndpointAuth::ClientSecretBasic => {
                assert!(authorization.as_deref().unwrap().starts_with("Basic "));
                assert!(!form.contains_key("client_secret"));
            }
            TokenEndpointAuth::ClientSecretPost => {
                assert_eq!(authorization, &None);
                assert_eq!(form["client_secret"], CLIENT_SECRET);
            }
        }
    }
    let claim = |name: &str| claim_on_page(&page, name).unwrap_or_default();
    assert_eq!(claim("name"), NAME, "{page}");
    assert_eq!(claim("given_name"), "Тарас");
    assert_eq!(claim("family_name"), "Шевченко");
    assert_eq!(claim("middle_name"), "Григорович");
    assert_eq!(claim("rnokpp"), "1234567890");
    assert_eq!(claim("edrpou"), "12345678");
    assert_eq!(claim("organization"), ORGANIZATION);
    assert!(page.contains("&lt;тест&gt;"), "escaped: {page}");
    assert_eq!(claim("cert_serial"), "0A1B2C");
    assert_eq!(claim("cert_issuer"), "КНЕДП ДПС");
    assert_eq!(claim("provider"), "diia");
    assert_eq!(claim("sub"), "rnokpp:1234567890");
    assert_eq!(claim("iss"), op.issuer);
    assert_eq!(claim("aud"), CLIENT_ID);
    assert_eq!(
        text_by_id(&page, "remote-user").unwrap(),
        format!("rnokpp:1234567890@{}", op.issuer)
    );
    let id_token: Value =
        serde_json::from_str(&text_by_id(&page, "id-token-payload").unwrap()).unwrap();
    assert_eq!(id_token["name"], NAME);
    assert_eq!(id_token.get("rnokpp"), None);
    let userinfo: Value =
        serde_json::from_str(&text_by_id(&page, "userinfo-json").unwrap()).unwrap();
    assert_eq!(userinfo["organization"], ORGANIZATION);

    // RP-initiated logout: through the OP's end-session endpoint, back to the RP.
    let to_op = location(&jar.get(&http, &rp.logout_url()).await);
    assert!(
        to_op.starts_with(&format!("{}.kepgate/oidc/logout?", op.issuer)),
        "{to_op}"
    );
    let q = query_of(&to_op);
    assert_eq!(q["post_logout_redirect_uri"], rp.post_logout_redirect_uri);
    assert_eq!(q["id_token_hint"].split('.').count(), 3);
    let back = location(&jar.get(&http, &to_op).await);
    assert_eq!(back, rp.post_logout_redirect_uri);
    let page = jar.get(&http, &back).await.text().await.unwrap();
    assert_eq!(text_by_id(&page, "logged-out").unwrap(), "Ви вийшли");
    assert!(op.seen.lock().unwrap().logout.is_some());
    // The RP's session is gone: the protected page sends the browser to the OP again.
    let again = location(&jar.get(&http, &rp.protected_url()).await);
    assert!(again.contains("/.kepgate/oidc/authorize?"), "{again}");
}

/// The harness itself, end to end against the stand-in: sign-in, claims on the page (UTF-8,
/// HTML-escaped), RP-initiated logout through the end-session endpoint.
#[tokio::test]
async fn apache_rp_signs_in_through_a_stand_in_op_shows_the_claims_and_logs_out() {
    sign_in_and_out(TokenEndpointAuth::ClientSecretBasic).await;
}

#[tokio::test]
async fn apache_rp_can_authenticate_with_client_secret_post() {
    sign_in_and_out(TokenEndpointAuth::ClientSecretPost).await;
}
