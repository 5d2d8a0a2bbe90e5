//! kepgate on HTTPS itself (`[server.tls]`): HTTP/2 and HTTP/1.1 by ALPN, TLS 1.2 and 1.3, a
//! login whose provider calls back over HTTPS, the cabinet, SSE, WebSocket and forward-auth
//! through it, `__Host-` cookies, and a renewed certificate served without a restart.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use reqwest::Version;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::browser::Browser;
use crate::diia_stack::{StackOptions, TempDir, serve_https};
use crate::helpers::{spawn_app_with, test_settings};
use crate::proxy::{echo, spawn_cabinet_stack_with_options};
use crate::sign_in::{DIRECTOR, complete_api, confirm_on_phone, start_api};
use crate::test_pki::{issue_server_certificate, serial_of};

fn tls_stack() -> StackOptions {
    StackOptions {
        tls: true,
        ..StackOptions::default()
    }
}

#[tokio::test]
async fn a_director_signs_in_over_https_with_http2_and_reaches_the_cabinet() {
    let env = spawn_cabinet_stack_with_options(tls_stack(), |_, _| {}).await;
    let stack = &env.stack;
    assert!(stack.app.address.starts_with("https://"));
    let mut browser = Browser::new(&stack.app);

    let started = start_api(&mut browser).await;
    // The waiting browser's stream, over the same HTTP/2 connection as everything else.
    let mut events = browser
        .events(&browser.own(&format!("/login/events/{}", started.id)))
        .await;
    assert_eq!(events.next_event().await.unwrap().1["state"], "pending");
    // The emulator's callback reaches the gateway over HTTPS (it trusts the test CA).
    confirm_on_phone(stack, &mut browser, &started, DIRECTOR).await;
    let (_, data) = events.next_event().await.expect("the stream goes on");
    assert_eq!(data["state"], "confirmed", "{data}");

    let done = complete_api(&mut browser, &started).await;
    assert_eq!(done.status(), 200);
    assert_eq!(done.version(), Version::HTTP_2, "ALPN chose h2");
    let cookies: Vec<&str> = done
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-kepgate_session="))
        .unwrap_or_else(|| panic!("a __Host- session cookie in {cookies:?}"));
    assert!(session.contains("; Secure"), "{session}");
    assert!(session.contains("; Path=/"), "{session}");

    // The cabinet, through the proxy, over HTTP/2 towards the browser.
    let seen = echo(&mut browser, "/echo", &[]).await;
    assert_eq!(seen["headers"]["x-kepgate-edrpou"], "40123454", "{seen}");
    let page = browser.get("/echo").await;
    assert_eq!(
        (page.status().as_u16(), page.version()),
        (200, Version::HTTP_2)
    );

    // Forward-auth answers over TLS too.
    let auth = browser.get(&browser.own("/auth")).await;
    assert_eq!(auth.status(), 200);
    assert!(auth.headers().contains_key("x-kepgate-subject"));
}

#[tokio::test]
async fn a_websocket_runs_over_tls_in_http1_beside_http2() {
    let env = spawn_cabinet_stack_with_options(tls_stack(), |_, _| {}).await;
    let stack = &env.stack;
    let mut browser = Browser::new(&stack.app);
    let started = start_api(&mut browser).await;
    confirm_on_phone(stack, &mut browser, &started, DIRECTOR).await;
    let done = complete_api(&mut browser, &started).await;
    assert_eq!(done.status(), 200);

    // A browser opens WebSockets on a connection of their own, ALPN `http/1.1` only.
    let ca = stack.tls_ca().unwrap();
    let connector = tls_connector(&ca, &[b"http/1.1"]);
    let port = stack.settings.server.listen.port();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let tls = connector
        .connect("127.0.0.1".try_into().unwrap(), tcp)
        .await
        .expect("TLS handshake");
    let url = stack.app.address.replace("https://", "wss://") + "/ws";
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", browser.cookie_header().parse().unwrap());
    request
        .headers_mut()
        .insert("origin", stack.app.address.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::client_async(request, tls)
        .await
        .expect("WebSocket handshake through the proxy over TLS");
    socket.send(Message::Text("привіт".into())).await.unwrap();
    let reply = socket.next().await.unwrap().unwrap();
    assert_eq!(reply.into_text().unwrap().as_str(), "echo: привіт");
}

#[tokio::test]
async fn curl_with_openssl_speaks_http2_and_http1_over_tls_1_2_and_1_3() {
    let dir = temp_dir();
    let app = spawn_app_with(|s| serve_https(s, &dir.0)).await;
    let health = app.own("/healthz");
    let ca = dir.0.join("ca.pem");
    for (tls, http, expected) in [
        ("--tlsv1.3", "--http2", "2"),
        ("--tlsv1.2", "--http2", "2"),
        ("--tlsv1.3", "--http1.1", "1.1"),
        ("--tlsv1.2", "--http1.1", "1.1"),
    ] {
        let max = if tls == "--tlsv1.2" { "1.2" } else { "1.3" };
        let mut curl = Command::new("curl");
        curl.args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version} %{http_code}",
        ])
        .args([tls, "--tls-max", max, http, "--cacert"])
        .arg(&ca)
        .arg(&health);
        let out = beside_the_gateway(curl).await;
        let answer = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            answer,
            format!("{expected} 200"),
            "curl {tls} {http}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Without the test CA, the certificate is not trusted: TLS is real.
    let mut curl = Command::new("curl");
    curl.args(["-sS", "-o", "/dev/null"]).arg(&health);
    assert!(!beside_the_gateway(curl).await.status.success());
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_a_restart_and_a_broken_one_is_not() {
    let dir = temp_dir();
    let app = spawn_app_with(|s| serve_https(s, &dir.0)).await;
    let port = app.state.web.settings.server.listen.port();
    let first = served_serial(port).await;
    assert_eq!(
        first,
        serial_of(&std::fs::read(dir.0.join("server.pem")).unwrap())
    );

    // A renewal tool writes the new pair in place; the file check (every second here) sees it.
    let (cert, key) = issue_server_certificate(&dir.0, "renewed");
    let renewed = serial_of(&std::fs::read(&cert).unwrap());
    std::fs::copy(&cert, dir.0.join("server.pem")).unwrap();
    std::fs::copy(&key, dir.0.join("server.key")).unwrap();
    wait_until_served(port, &renewed).await;

    // A key that is not the certificate's: the renewed pair stays in service.
    let (_, other_key) = issue_server_certificate(&dir.0, "other");
    std::fs::copy(&other_key, dir.0.join("server.key")).unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(served_serial(port).await, renewed);
    let health = app.client.get(app.own("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn sighup_reloads_the_certificate_when_the_file_check_is_off() {
    let dir = temp_dir();
    let app = spawn_app_with(|s| {
        serve_https(s, &dir.0);
        s.server.tls.as_mut().unwrap().watch_interval = Duration::ZERO;
    })
    .await;
    let port = app.state.web.settings.server.listen.port();
    let (cert, key) = issue_server_certificate(&dir.0, "renewed");
    let renewed = serial_of(&std::fs::read(&cert).unwrap());
    std::fs::copy(&cert, dir.0.join("server.pem")).unwrap();
    std::fs::copy(&key, dir.0.join("server.key")).unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_ne!(served_serial(port).await, renewed, "no file check: not yet");

    // This test process is the gateway's: the signal goes to it.
    let sent = Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    wait_until_served(port, &renewed).await;
}

#[tokio::test]
async fn a_key_that_is_not_the_certificates_stops_the_start_with_both_paths() {
    let dir = temp_dir();
    let mut settings = test_settings();
    serve_https(&mut settings, &dir.0);
    let (_, other_key) = issue_server_certificate(&dir.0, "other");
    settings.server.tls.as_mut().unwrap().key_file = other_key.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let error = kepgate::startup::Application::build_on(settings, listener)
        .await
        .err()
        .expect("refused");
    let message = format!("{error:#}");
    assert!(
        message.contains(&other_key.display().to_string()) && message.contains("server.pem"),
        "{message}"
    );
}

fn temp_dir() -> TempDir {
    let dir = TempDir(
        std::env::temp_dir().join(format!("kepgate-tls-{}", uuid::Uuid::new_v4().simple())),
    );
    std::fs::create_dir_all(&dir.0).unwrap();
    dir
}

/// Runs a client of the gateway's to its end without blocking the test's runtime, which also
/// runs the gateway.
async fn beside_the_gateway(mut command: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output().expect("the client runs"))
        .await
        .unwrap()
}

/// The serial of the certificate a TLS client is shown now (OpenSSL's `s_client`).
async fn served_serial(port: u16) -> String {
    let mut s_client = Command::new("openssl");
    s_client
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .stdin(std::process::Stdio::null());
    let out = beside_the_gateway(s_client).await;
    let text = String::from_utf8_lossy(&out.stdout);
    let begin = text
        .find("-----BEGIN CERTIFICATE-----")
        .expect("a certificate");
    let end = text.find("-----END CERTIFICATE-----").unwrap() + "-----END CERTIFICATE-----".len();
    serial_of(text[begin..end].as_bytes())
}

async fn wait_until_served(port: u16, serial: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while served_serial(port).await != serial {
        assert!(Instant::now() < deadline, "{serial} not served");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn tls_connector(ca: &Path, alpn: &[&[u8]]) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
}

#[tokio::test]
async fn an_http2_host_header_naming_another_host_than_the_authority_is_refused() {
    let dir = temp_dir();
    let app = spawn_app_with(|s| serve_https(s, &dir.0)).await;
    let health = app.own("/healthz");
    let fine = app.client.get(&health).send().await.unwrap();
    assert_eq!(
        (fine.status().as_u16(), fine.version()),
        (200, Version::HTTP_2)
    );
    // `:authority` from the URL, and a Host header naming another host beside it.
    let two_names = app
        .client
        .get(&health)
        .header("host", "intranet.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (two_names.status().as_u16(), two_names.version()),
        (400, Version::HTTP_2)
    );
}
