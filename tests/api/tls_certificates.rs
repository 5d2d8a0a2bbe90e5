//! The gateway's own certificate (`[server.tls]`) is one browsers accept: an expired or not yet
//! valid one, or one not for TLS servers, stops the start and `check-config`, and a reload to
//! one keeps the previous pair in service; one for another name than `base_url`'s is served
//! with a warning; its expiry is a metric.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kepgate::config::ServerTls;
use time::OffsetDateTime;

use crate::diia_stack::{TempDir, serve_https};
use crate::helpers::{TestApp, kepgate_bin, spawn_app_with, test_settings};
use crate::test_pki::{LOCAL_NAMES, issue_dated, issue_for, not_after_of, serial_of, test_pki};

fn temp_dir() -> TempDir {
    let dir = TempDir(
        std::env::temp_dir().join(format!("kepgate-cert-{}", uuid::Uuid::new_v4().simple())),
    );
    std::fs::create_dir_all(&dir.0).unwrap();
    dir
}

/// The certificates browsers refuse, each with what the refusal must say.
fn refused_certificates(dir: &Path) -> Vec<((PathBuf, PathBuf), &'static str)> {
    let now = OffsetDateTime::now_utc();
    let day = time::Duration::days(1);
    vec![
        (
            issue_dated(dir, "expired", LOCAL_NAMES, now - 3 * day, now - day),
            "expired",
        ),
        (
            issue_dated(dir, "early", LOCAL_NAMES, now + day, now + 3 * day),
            "not valid before",
        ),
        (
            issue_for(dir, "client-only", "clientAuth", LOCAL_NAMES),
            "serverAuth",
        ),
    ]
}

/// `kepgate check-config` with `[server.tls]` serving `cert`/`key` for `base_url`.
fn check_config(dir: &Path, base_url: &str, cert: &Path, key: &Path) -> (Option<i32>, String) {
    let config = dir.join("kepgate.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:8443\"\nbase_url = \"{base_url}\"\n\
             [server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    let out = kepgate_bin()
        .args(["check-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[tokio::test]
async fn a_certificate_browsers_refuse_stops_the_start_and_check_config() {
    let dir = temp_dir();
    test_pki(&dir.0);
    for ((cert, key), reason) in refused_certificates(&dir.0) {
        let (code, text) = check_config(&dir.0, "https://127.0.0.1:8443/", &cert, &key);
        assert_eq!(code, Some(2), "{reason}: {text}");
        assert!(
            text.contains(reason) && text.contains(&cert.display().to_string()),
            "{reason}: {text}"
        );

        let mut settings = test_settings();
        settings.server.base_url = "https://127.0.0.1:8443/".parse().unwrap();
        settings.server.tls = Some(ServerTls {
            cert_file: cert.clone(),
            key_file: key,
            watch_interval: Duration::from_secs(1),
            http2: true,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let error = kepgate::startup::Application::build_on(settings, listener)
            .await
            .err()
            .unwrap_or_else(|| panic!("{reason}: started"));
        let message = format!("{error:#}");
        assert!(
            message.contains(reason) && message.contains(&cert.display().to_string()),
            "{message}"
        );
    }
}

/// A certificate for a front name (a TLS terminator that re-encrypts towards kepgate by another
/// name than the one people browse) can be right: served, with a warning.
#[tokio::test]
async fn a_certificate_for_another_name_than_base_urls_is_served_with_a_warning() {
    let dir = temp_dir();
    test_pki(&dir.0);
    let (cert, key) = issue_for(
        &dir.0,
        "front",
        "serverAuth",
        "subjectAltName=DNS:gateway.internal\n",
    );
    let (code, text) = check_config(&dir.0, "https://kep.example.ua/", &cert, &key);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("warning") && text.contains("kep.example.ua"),
        "{text}"
    );
    // Covered by the certificate: no warning.
    let (code, text) = check_config(&dir.0, "https://gateway.internal/", &cert, &key);
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("warning"), "{text}");

    let app = spawn_app_with(|s| {
        serve_https(s, &dir.0);
        let tls = s.server.tls.as_mut().unwrap();
        tls.cert_file = cert.clone();
        tls.key_file = key.clone();
    })
    .await;
    assert_eq!(
        served_serial(&app).await,
        serial_of(&std::fs::read(&cert).unwrap())
    );
}

#[tokio::test]
async fn a_reload_to_a_certificate_browsers_refuse_keeps_the_previous_one_and_its_expiry() {
    let dir = temp_dir();
    let app = spawn_app_with(|s| serve_https(s, &dir.0)).await;
    let served = dir.0.join("server.pem");
    let first = serial_of(&std::fs::read(&served).unwrap());
    assert_eq!(served_serial(&app).await, first);
    let first_expiry = not_after_of(&served);

    for ((cert, key), reason) in refused_certificates(&dir.0) {
        std::fs::copy(&cert, &served).unwrap();
        std::fs::copy(&key, dir.0.join("server.key")).unwrap();
        // The file check runs every second here.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(served_serial(&app).await, first, "{reason}: replaced");
    }
    // The metric still says when the certificate in service ends.
    assert_eq!(expiry_metric(&app, &served).await, Some(first_expiry));

    // A good renewal is served, and the metric follows it.
    let now = OffsetDateTime::now_utc();
    let (cert, key) = issue_dated(
        &dir.0,
        "renewed",
        LOCAL_NAMES,
        now - time::Duration::hours(1),
        now + time::Duration::days(30),
    );
    let renewed = serial_of(&std::fs::read(&cert).unwrap());
    std::fs::copy(&cert, &served).unwrap();
    std::fs::copy(&key, dir.0.join("server.key")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while served_serial(&app).await != renewed {
        assert!(Instant::now() < deadline, "the renewal was not served");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        expiry_metric(&app, &served).await,
        Some(not_after_of(&cert))
    );
}

/// `kepgate_tls_certificate_expiry_timestamp_seconds` for the certificate file, as a time.
async fn expiry_metric(app: &TestApp, cert_file: &Path) -> Option<OffsetDateTime> {
    let metrics = app.metrics_address.as_ref().expect("metrics on");
    let text = crate::helpers::metrics_text(metrics).await;
    let wanted = format!(
        "kepgate_tls_certificate_expiry_timestamp_seconds{{cert_file=\"{}\"}} ",
        cert_file.display()
    );
    let line = text.lines().find(|l| l.starts_with(&wanted))?;
    let seconds: f64 = line[wanted.len()..].trim().parse().unwrap();
    Some(OffsetDateTime::from_unix_timestamp(seconds as i64).unwrap())
}

/// The serial of the certificate a TLS client is shown now (OpenSSL's `s_client`).
async fn served_serial(app: &TestApp) -> String {
    let port = app.state.web.settings.server.listen.port();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("openssl")
            .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let begin = text
        .find("-----BEGIN CERTIFICATE-----")
        .expect("a certificate");
    let end = text.find("-----END CERTIFICATE-----").unwrap() + "-----END CERTIFICATE-----".len();
    serial_of(text[begin..end].as_bytes())
}
