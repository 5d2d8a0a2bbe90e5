//! Traces (OpenTelemetry, `[log.traces]`): a `kepgate serve` process exports to a real OTLP/HTTP
//! receiver (tests/tools/otlp_receiver.py, which decodes with OpenTelemetry's own generated
//! protobuf definitions). One login through the Diia emulator is one trace from its start to its
//! session, though it spans three HTTP requests; a proxied request is a span whose context the
//! cabinet receives; a `traceparent` is adopted from a trusted front proxy only.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kepgate::provider::diia::DiiaProvider;
use kepgate_emulator::{Emulator, EmulatorSettings};
use serde::Deserialize;
use tokio::net::TcpListener;

use crate::browser::Browser;
use crate::diia_stack::{TempDir, diia_settings};
use crate::helpers::{client, free_port, fresh_database_url, kepgate_bin};
use crate::processes::KillOnDrop;
use crate::sign_in::{PERSON, complete_api, phone_answers_at, start_api};

/// What a client that is not a trusted proxy sends: ignored, a trace begins at the gateway.
const CLIENT_TRACEPARENT: &str = "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-aaaaaaaaaaaaaaaa-01";
/// What the trusted front proxy (127.0.0.2) sends: the gateway's spans continue its trace.
const PROXY_TRACEPARENT: &str = "00-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-bbbbbbbbbbbbbbbb-01";

#[derive(Debug, Clone, Deserialize)]
struct ExportedSpan {
    name: String,
    service: Option<String>,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    start: u64,
    attributes: BTreeMap<String, serde_json::Value>,
}

/// tests/tools/otlp_receiver.py, running.
struct Receiver {
    // Held for its drop: the receiver ends with the test.
    _process: KillOnDrop,
    port: u16,
}

impl Receiver {
    fn start() -> Receiver {
        let python = crate::compose_stack::python_tools().join("bin/python");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/otlp_receiver.py");
        let mut child = Command::new(python)
            .arg(script)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the OTLP receiver starts");
        let stdout = child.stdout.take().unwrap();
        let process = KillOnDrop(child);
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let port = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the receiver said {line:?}"));
        Receiver {
            _process: process,
            port,
        }
    }

    async fn spans(&self) -> Vec<ExportedSpan> {
        client()
            .get(format!("http://127.0.0.1:{}/spans", self.port))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// The cabinet: answers every request, remembering the `traceparent` each one came with.
async fn cabinet() -> (u16, Arc<Mutex<Vec<(String, Option<String>)>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let record = record.clone();
        async move {
            let traceparent = request
                .headers()
                .get("traceparent")
                .map(|v| v.to_str().unwrap().to_owned());
            record
                .lock()
                .unwrap()
                .push((request.uri().path().to_owned(), traceparent));
            "the cabinet"
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, seen)
}

/// A client whose connections come from `local` (the whole of 127/8 is loopback), sending
/// `traceparent` with every request.
fn client_from(local: [u8; 4], traceparent: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("traceparent", traceparent.parse().unwrap());
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .local_address(std::net::IpAddr::from(local))
        .default_headers(headers)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_login_is_one_trace_from_start_to_session_and_a_proxied_request_passes_its_span_on() {
    let receiver = Receiver::start();
    let dir =
        TempDir(std::env::temp_dir().join(format!("kepgate-traces-{}", uuid::Uuid::new_v4())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let (cabinet_port, cabinet_seen) = cabinet().await;

    // The emulator, calling back the gateway process's callback URL.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let secret = uuid::Uuid::new_v4().simple().to_string() + "x";
    let callback_url = format!("{base}/.kepgate/callback/diia/{secret}");
    let emulator_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let emulator_addr = emulator_listener.local_addr().unwrap();
    let emulator = format!("http://{emulator_addr}");
    let emulator_settings = EmulatorSettings::new(
        emulator_addr,
        format!("{emulator}/").parse().unwrap(),
        callback_url.parse().unwrap(),
    );
    let built = Emulator::build_on(emulator_settings, emulator_listener)
        .await
        .unwrap();
    let emulator_ca = dir.0.join("emulator-ca.pem");
    std::fs::write(&emulator_ca, built.ca_pem()).unwrap();
    let (stop_emulator, emulator_stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(built.run(async move {
        let _ = emulator_stopped.await;
    }));
    let (branch_id, offer_id) = DiiaProvider::new("diia", &diia_settings(&emulator, &secret))
        .unwrap()
        .setup()
        .await
        .unwrap();

    let (database_url, _) = fresh_database_url();
    let config = dir.0.join("kepgate.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[server]
listen = "127.0.0.1:{port}"
base_url = "{base}/"
shutdown_grace = 1
[database]
url = "{database_url}"
create_if_missing = true
[metrics]
enabled = false
[log]
format = "json"
[log.traces]
enabled = true
endpoint = "http://127.0.0.1:{receiver}/v1/traces"
service_name = "kepgate-under-test"
[trust]
files = ["{emulator_ca}"]
[providers.diia]
kind = "diia"
display_name = "Дія.Підпис"
api_base_url = "{emulator}/"
acquirer_token = "{token}"
branch_id = "{branch_id}"
offer_id = "{offer_id}"
callback_secret = "{secret}"
[routes.cabinet]
prefix = "/"
upstream = "http://127.0.0.1:{cabinet_port}/"
[proxy]
trusted_proxies = ["127.0.0.2/32"]
"#,
            receiver = receiver.port,
            emulator_ca = emulator_ca.display(),
            token = kepgate_emulator::DEFAULT_ACQUIRER_TOKEN,
        ),
    )
    .unwrap();
    let log = dir.0.join("kepgate.log");
    let log_file = std::fs::File::create(&log).unwrap();
    let mut gateway = KillOnDrop(
        kepgate_bin()
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .stdout(Stdio::from(log_file.try_clone().unwrap()))
            .stderr(Stdio::from(log_file))
            .spawn()
            .unwrap(),
    );
    ready(&mut gateway, &base, &log).await;

    // A browser that is nobody's proxy signs in, sending a traceparent of its own.
    let mut browser = Browser::at(&base, "/.kepgate");
    browser.http = client_from([127, 0, 0, 1], CLIENT_TRACEPARENT);
    let started = start_api(&mut browser).await;
    let deeplink = browser.provider_link(&started.link).await;
    phone_answers_at(&client(), &emulator, &deeplink, "confirm", PERSON).await;
    let done = complete_api(&mut browser, &started).await;
    assert_eq!(done.status(), 200, "completion");
    browser.remember(&done);

    // Then a page of the cabinet, directly and through the trusted front proxy.
    let direct = browser.get("/direct").await;
    assert_eq!(direct.status(), 200);
    let mut proxied = Browser::at(&base, "/.kepgate");
    proxied.cookies = browser.cookies.clone();
    proxied.http = client_from([127, 0, 0, 2], PROXY_TRACEPARENT);
    let through_proxy = proxied.get("/through-proxy").await;
    assert_eq!(through_proxy.status(), 200);

    // SIGTERM: the last batch is exported at shutdown.
    Command::new("kill")
        .arg("-TERM")
        .arg(gateway.0.id().to_string())
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while gateway.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the gateway did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop_emulator.send(());
    let spans = receiver.spans().await;
    assert!(
        spans
            .iter()
            .all(|s| s.service.as_deref() == Some("kepgate-under-test")),
        "service.name"
    );

    // One trace from the start to the session.
    let named =
        |name: &str| -> Vec<&ExportedSpan> { spans.iter().filter(|s| s.name == name).collect() };
    let start = named("login.start");
    assert_eq!(start.len(), 1, "one login start in {spans:#?}");
    let start = start[0];
    let trace = &start.trace_id;
    assert_ne!(
        trace, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "a client's traceparent is not adopted"
    );
    let only = |name: &str| -> &ExportedSpan {
        let found: Vec<_> = named(name)
            .into_iter()
            .filter(|s| &s.trace_id == trace)
            .collect();
        assert_eq!(found.len(), 1, "{name} once in the login's trace");
        found[0]
    };
    let root = spans
        .iter()
        .find(|s| s.span_id == start.parent_span_id)
        .expect("the start's request span");
    assert_eq!(root.name, "request");
    assert_eq!(
        root.parent_span_id, "",
        "the start's request begins the trace"
    );
    let provider_start = only("provider.start");
    let callback = only("login.callback");
    let verify = only("signature.verify");
    let chain = only("certificate.chain");
    let status = only("certificate.status");
    let completion = only("login.completion");
    assert_eq!(provider_start.parent_span_id, start.span_id);
    let provider_calls: Vec<_> = named("provider.call")
        .into_iter()
        .filter(|s| s.parent_span_id == provider_start.span_id)
        .collect();
    assert!(
        !provider_calls.is_empty(),
        "the provider's calls in the trace"
    );
    assert!(provider_calls.iter().all(|s| &s.trace_id == trace));
    assert_eq!(
        callback.parent_span_id, start.span_id,
        "the callback joins the login"
    );
    assert_eq!(verify.parent_span_id, callback.span_id);
    assert_eq!(chain.parent_span_id, verify.span_id);
    assert_eq!(status.parent_span_id, callback.span_id);
    assert_eq!(
        completion.parent_span_id, start.span_id,
        "the completion joins the login"
    );

    // The proxied requests: each a span whose context the cabinet received.
    let seen = cabinet_seen.lock().unwrap().clone();
    let received = |path: &str| -> String {
        seen.iter()
            .find(|(p, _)| p == path)
            .and_then(|(_, t)| t.clone())
            .unwrap_or_else(|| panic!("the cabinet got {path} with a traceparent: {seen:?}"))
    };
    let upstream_spans = named("proxy.upstream");
    assert_eq!(upstream_spans.len(), 2, "{upstream_spans:#?}");
    for (path, adopted) in [("/direct", false), ("/through-proxy", true)] {
        let traceparent = received(path);
        let parts: Vec<&str> = traceparent.split('-').collect();
        let span = upstream_spans
            .iter()
            .find(|s| s.span_id == parts[2])
            .unwrap_or_else(|| {
                panic!("{path}: the cabinet's traceparent {traceparent} names the upstream span")
            });
        assert_eq!(span.trace_id, parts[1], "{path}");
        assert_eq!(span.attributes["route"], "cabinet");
        let request = spans
            .iter()
            .find(|s| s.span_id == span.parent_span_id)
            .expect("the proxied request's span");
        assert_eq!(request.name, "request");
        if adopted {
            assert_eq!(
                span.trace_id, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                "a trusted proxy's trace continues"
            );
            assert_eq!(request.parent_span_id, "bbbbbbbbbbbbbbbb");
        } else {
            assert_ne!(
                span.trace_id, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "a client's traceparent is ignored"
            );
            assert_eq!(request.parent_span_id, "", "a trace of its own");
        }
    }

    // The log lines name the trace: the completion's «signed in» carries the login's.
    let lines = std::fs::read_to_string(&log).unwrap();
    let signed_in = lines
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| line["message"] == "signed in")
        .unwrap_or_else(|| panic!("a «signed in» line in\n{lines}"));
    assert!(
        signed_in["spans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|span| span["trace_id"] == trace.as_str()),
        "{signed_in}"
    );

    println!("The login's trace ({trace}):\n{}", tree(&spans, trace));
    let through = upstream_spans
        .iter()
        .find(|s| s.trace_id.starts_with('b'))
        .unwrap();
    println!(
        "A request through the trusted front proxy ({}):\n{}",
        through.trace_id,
        tree(&spans, &through.trace_id)
    );
}

/// The spans of `trace` as a tree, each under its parent, in the order they started; a span
/// whose parent is not among them (a front proxy's) at the top.
fn tree(spans: &[ExportedSpan], trace: &str) -> String {
    let mut in_trace: Vec<&ExportedSpan> = spans.iter().filter(|s| s.trace_id == trace).collect();
    in_trace.sort_by_key(|s| s.start);
    let ids: Vec<&str> = in_trace.iter().map(|s| s.span_id.as_str()).collect();
    let mut out = String::new();
    fn walk(out: &mut String, spans: &[&ExportedSpan], parent: &str, depth: usize) {
        for span in spans.iter().filter(|s| s.parent_span_id == parent) {
            let route = span
                .attributes
                .get("route")
                .and_then(|r| r.as_str())
                .map(|r| format!(" {r}"))
                .unwrap_or_default();
            out.push_str(&format!("{}{}{route}\n", "  ".repeat(depth), span.name));
            walk(out, spans, &span.span_id, depth + 1);
        }
    }
    if let Some(top) = in_trace
        .iter()
        .find(|s| !ids.contains(&s.parent_span_id.as_str()))
    {
        walk(&mut out, &in_trace, &top.parent_span_id, 0);
    }
    out
}

/// Waits until `/readyz` says 200; panics with the log if the process exits first.
async fn ready(gateway: &mut KillOnDrop, base: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = gateway.0.try_wait().unwrap() {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("the gateway exited ({status}):\n{log}");
        }
        let answer = client().get(format!("{base}/.kepgate/readyz")).send().await;
        if answer.is_ok_and(|r| r.status() == 200) {
            return;
        }
        assert!(Instant::now() < deadline, "not ready in 30 s");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
