//! HTTP/2 connections over kepgate's own TLS (`[server.tls]`, ALPN `h2`) are bounded like
//! HTTP/1.1 ones: frame by frame, as an attacker would send them.

use std::time::{Duration, Instant};

use reqwest::Version;

use kepgate::config::Settings;

use crate::diia_stack::{TempDir, serve_https};
use crate::helpers::{TestApp, spawn_app_with};
use crate::raw_h2::*;

/// A gateway on HTTPS with `configure` applied, and the test CA's file.
async fn gateway(configure: impl FnOnce(&mut Settings)) -> (TestApp, TempDir) {
    let dir =
        TempDir(std::env::temp_dir().join(format!("kepgate-h2-{}", uuid::Uuid::new_v4().simple())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let app = spawn_app_with(|s| {
        serve_https(s, &dir.0);
        configure(s);
    })
    .await;
    (app, dir)
}

fn port(app: &TestApp) -> u16 {
    app.state.web.settings.server.listen.port()
}

/// A request that stays open: its body is still coming (the JSON login start reads it first).
fn open_request(stream: u32) -> Vec<u8> {
    request(stream, "POST", "/.kepgate/api/login", false)
}

#[tokio::test]
async fn a_client_that_sends_the_preface_and_then_nothing_gets_a_goaway_and_is_closed() {
    let (app, dir) = gateway(|s| {
        s.server.header_read_timeout = Duration::from_millis(500);
        s.server.http2.keep_alive_timeout = Duration::from_millis(300);
    })
    .await;
    let ca = dir.0.join("ca.pem");
    let started = Instant::now();
    let mut h2 = RawH2::open(port(&app), &ca).await;
    let frames = h2
        .until_closed(Duration::from_secs(5))
        .await
        .expect("the connection is closed");
    let waited = started.elapsed();
    let goaway = frames.iter().find(|f| f.kind == GOAWAY).expect("a GOAWAY");
    assert_eq!(goaway.error_code(), NO_ERROR);
    assert!(
        waited >= Duration::from_millis(450) && waited < Duration::from_secs(3),
        "{waited:?}"
    );

    // Not even the preface after the handshake: closed as well.
    let mut silent = RawH2::tls_only(port(&app), &ca).await;
    silent
        .until_closed(Duration::from_secs(5))
        .await
        .expect("the connection is closed");
}

#[tokio::test]
async fn an_http2_connection_is_closed_after_the_idle_timeout_but_never_while_a_stream_is_open() {
    let (app, dir) = gateway(|s| {
        s.server.http2.idle_timeout = Duration::from_millis(400);
        s.server.http2.keep_alive_timeout = Duration::from_millis(300);
        s.server.http2.keep_alive_interval = Duration::ZERO;
    })
    .await;
    let (mut h2, _) = RawH2::open_settled(port(&app), &dir.0.join("ca.pem")).await;
    h2.send(&open_request(1)).await;
    // Three idle timeouts with the request's body still coming (an upload, a long poll): the
    // connection stays.
    let until = Instant::now() + Duration::from_millis(1200);
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match h2.next(left).await {
            Next::Frame(f) => assert_ne!(f.kind, GOAWAY, "GOAWAY with a stream open: {f:?}"),
            Next::Closed => panic!("closed with a stream open"),
            Next::Silent => break,
        }
    }
    // The body ends, the answer comes; then nothing: GOAWAY after the idle timeout, and closed.
    h2.send(&frame(DATA, END_STREAM, 1, b"{}")).await;
    let answered = Instant::now();
    let frames = h2
        .until_closed(Duration::from_secs(5))
        .await
        .expect("the connection is closed");
    let waited = answered.elapsed();
    assert!(
        frames.iter().any(|f| f.kind == HEADERS && f.stream == 1),
        "the request was answered: {frames:?}"
    );
    let goaway = frames.iter().find(|f| f.kind == GOAWAY).expect("a GOAWAY");
    assert_eq!(goaway.error_code(), NO_ERROR);
    assert!(
        waited >= Duration::from_millis(350) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_client_that_leaves_pings_unanswered_is_closed_even_with_a_stream_open() {
    let (app, dir) = gateway(|s| {
        s.server.http2.keep_alive_interval = Duration::from_millis(300);
        s.server.http2.keep_alive_timeout = Duration::from_millis(300);
    })
    .await;
    let (mut h2, _) = RawH2::open_settled(port(&app), &dir.0.join("ca.pem")).await;
    // A stream open (its body still coming) and then silence, as from a client that vanished:
    // neither the first-request deadline nor the idle timeout applies.
    h2.send(&open_request(1)).await;
    let frames = h2
        .until_closed(Duration::from_secs(5))
        .await
        .expect("the connection is closed");
    assert!(
        frames.iter().any(|f| f.kind == PING && f.flags & ACK == 0),
        "a keep-alive PING first: {frames:?}"
    );
}

#[tokio::test]
async fn streams_beyond_max_concurrent_streams_are_refused() {
    let (app, dir) = gateway(|s| s.server.http2.max_concurrent_streams = 3).await;
    let (mut h2, settings) = RawH2::open_settled(port(&app), &dir.0.join("ca.pem")).await;
    assert_eq!(settings.setting(SETTINGS_MAX_CONCURRENT_STREAMS), Some(3));
    for stream in [1, 3, 5, 7] {
        h2.send(&open_request(stream)).await;
    }
    let reset = h2
        .wait_for(Duration::from_secs(5), |f| f.kind == RST_STREAM)
        .await
        .expect("a stream is refused");
    assert_eq!((reset.stream, reset.error_code()), (7, REFUSED_STREAM));
}

#[tokio::test]
async fn a_client_that_cancels_every_request_it_opens_is_cut_off() {
    let (app, dir) = gateway(|s| s.server.http2.max_cancelled_streams = 10).await;
    let (mut h2, _) = RawH2::open_settled(port(&app), &dir.0.join("ca.pem")).await;
    // Rapid Reset paced to stay under the pending-reset limit: each request is taken up (its
    // handler runs) before the client resets it. The PING's answer says the server has read
    // the HEADERS before it.
    let mut cancelled = 0;
    for round in 0..50u32 {
        let stream = 1 + 2 * round;
        h2.send(&[open_request(stream), frame(PING, 0, 0, &[round as u8; 8])].concat())
            .await;
        let acked = h2
            .wait_for(Duration::from_secs(5), |f| {
                f.kind == PING && f.flags & ACK != 0
            })
            .await;
        if acked.is_none() {
            break;
        }
        h2.send(&rst_stream(stream, CANCEL)).await;
        cancelled += 1;
    }
    assert!(
        cancelled < 50,
        "still served after {cancelled} cancelled requests"
    );
    assert!(cancelled > 10, "cut off after only {cancelled}");
    h2.until_closed(Duration::from_secs(5))
        .await
        .expect("the connection is closed");
}

#[tokio::test]
async fn an_http2_request_has_http1s_header_size_bound() {
    let (app, _dir) = gateway(|_| {}).await;
    for (size, status) in [(20 * 1024, 200), (40 * 1024, 431)] {
        let answer = app
            .client
            .get(app.own("/healthz"))
            .header("x-large", "a".repeat(size))
            .send()
            .await
            .unwrap();
        assert_eq!(
            (answer.version(), answer.status().as_u16()),
            (Version::HTTP_2, status),
            "{size} bytes of headers"
        );
    }
}

#[tokio::test]
async fn connections_beyond_the_cap_per_address_are_closed_at_once() {
    let (app, dir) = gateway(|s| s.server.max_connections_per_address = 3).await;
    let ca = dir.0.join("ca.pem");
    let port = port(&app);
    // HTTP/2 and HTTP/1.1 count alike.
    let first = RawH2::open_settled(port, &ca).await;
    let _second = RawH2::open_settled(port, &ca).await;
    let _third = tls_handshake(port, &ca, b"http/1.1")
        .await
        .expect("the third");
    let refused = tls_handshake(port, &ca, b"h2").await;
    assert!(
        refused.is_err(),
        "a fourth connection from the same address"
    );
    // A closed connection gives its place back.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    while tls_handshake(port, &ca, b"h2").await.is_err() {
        assert!(Instant::now() < deadline, "the place was not given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn plain_http_connections_beyond_the_cap_per_address_are_closed_at_once() {
    use tokio::io::AsyncReadExt;
    let app = crate::helpers::spawn_app_with(|s| s.server.max_connections_per_address = 2).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tokio::net::TcpStream::connect(&address).await.unwrap());
    }
    let mut byte = [0u8; 1];
    // The first two wait for a request; the third is closed by the server without a byte.
    for (i, stream) in held.iter_mut().enumerate() {
        let read = tokio::time::timeout(Duration::from_millis(500), stream.read(&mut byte)).await;
        match i {
            0 | 1 => assert!(read.is_err(), "connection {i} kept"),
            _ => assert!(matches!(read, Ok(Ok(0) | Err(_))), "closed: {read:?}"),
        }
    }
}

async fn tls_handshake(
    port: u16,
    ca: &std::path::Path,
    alpn: &[u8],
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    crate::tls::tls_connector(ca, &[alpn])
        .connect("127.0.0.1".try_into().unwrap(), tcp)
        .await
}

#[tokio::test]
async fn a_burst_of_streams_reset_at_once_gets_enhance_your_calm_and_the_connection_closed() {
    let (app, dir) = gateway(|_| {}).await;
    let (mut h2, _) = RawH2::open_settled(port(&app), &dir.0.join("ca.pem")).await;
    // Rapid Reset (CVE-2023-44487): each pair costs the client two small frames, the server a
    // stream; 100 pairs in one write.
    let burst: Vec<u8> = (0..100u32)
        .flat_map(|i| {
            let id = 1 + 2 * i;
            [
                request(id, "GET", "/.kepgate/healthz", true),
                rst_stream(id, CANCEL),
            ]
            .concat()
        })
        .collect();
    h2.send(&burst).await;
    let frames = h2
        .until_closed(Duration::from_secs(5))
        .await
        .expect("the connection is closed");
    let goaway = frames.iter().find(|f| f.kind == GOAWAY).expect("a GOAWAY");
    assert_eq!(goaway.error_code(), ENHANCE_YOUR_CALM);
}

#[tokio::test]
async fn a_continuation_flood_gets_a_goaway_and_the_connection_closed() {
    let (app, dir) = gateway(|_| {}).await;
    let (mut h2, _) = RawH2::open_settled(port(&app), &dir.0.join("ca.pem")).await;
    // CVE-2024-27316's class: a header block that never ends, in many small CONTINUATION frames.
    let mut flood = frame(
        HEADERS,
        0,
        1,
        &header_block(&[(":method", "GET"), (":scheme", "https"), (":path", "/")]),
    );
    for _ in 0..1000 {
        flood.extend(frame(CONTINUATION, 0, 1, &header_block(&[("x-a", "b")])));
    }
    h2.send(&flood).await;
    let frames = h2
        .until_closed(Duration::from_secs(5))
        .await
        .expect("the connection is closed");
    let goaway = frames.iter().find(|f| f.kind == GOAWAY).expect("a GOAWAY");
    assert_eq!(goaway.error_code(), ENHANCE_YOUR_CALM, "{goaway:?}");
}
