//! https:// upstreams: Debian's nginx with TLS from a test CA made by OpenSSL, reached through
//! the proxy with the route's CA file, refused without it, and with mutual TLS; certificates
//! refused for each reason, and a handshake that never ends.

use std::path::Path;
use std::time::{Duration, Instant};

use kepgate::config::Settings;

use crate::proxy::{CabinetStack, route, spawn_cabinet_stack};
use crate::sign_in::{PERSON, sign_in};
use crate::test_pki::{LOCAL_NAMES, issue_dated, issue_for, self_signed, test_pki};
use crate::upstreams::{Upstream, nginx_listening};

/// nginx on TLS with the test CA's server certificate, serving `/secure/page.txt`; asking for a
/// client certificate of the same CA when `mutual`.
async fn tls_upstream(mutual: bool) -> (Upstream, String) {
    let mut https = String::new();
    let upstream = nginx_listening("ssl", |port, dir| {
        test_pki(dir);
        let www = dir.join("www/secure");
        std::fs::create_dir_all(&www).unwrap();
        std::fs::write(www.join("page.txt"), "over TLS").unwrap();
        https = format!("https://127.0.0.1:{port}/");
        let client_check = if mutual {
            format!(
                "    ssl_verify_client on;\n    ssl_client_certificate {}/ca.pem;\n",
                dir.display()
            )
        } else {
            String::new()
        };
        format!(
            "    ssl_certificate {d}/server.pem;\n    ssl_certificate_key {d}/server.key;\n{client_check}    location / {{ root {d}/www; }}",
            d = dir.display()
        )
    })
    .await;
    (upstream, https)
}

fn secure_route(s: &mut Settings, upstream: &str, dir: &Path, ca: bool, client: bool) {
    let mut secure = route("/secure", upstream);
    if ca {
        secure.tls.ca_file = Some(dir.join("ca.pem"));
    }
    if client {
        secure.tls.client_cert_file = Some(dir.join("client.pem"));
        secure.tls.client_key_file = Some(dir.join("client.key"));
    }
    s.routes.insert("secure".to_owned(), secure);
}

#[tokio::test]
async fn an_https_upstream_is_reached_with_its_ca_and_refused_without() {
    let (upstream, https) = tls_upstream(false).await;
    let dir = upstream.dir().to_owned();
    for (trust_ca, expected) in [(true, 200), (false, 502)] {
        let env = spawn_cabinet_stack(|s, _| secure_route(s, &https, &dir, trust_ca, false)).await;
        let mut browser = sign_in(&env.stack, PERSON).await;
        let response = browser.get("/secure/page.txt").await;
        assert_eq!(
            response.status(),
            expected,
            "trusting the test CA: {trust_ca}"
        );
        if expected == 200 {
            assert_eq!(response.text().await.unwrap(), "over TLS");
        }
    }
}

#[tokio::test]
async fn mutual_tls_presents_kepgates_client_certificate() {
    let (upstream, https) = tls_upstream(true).await;
    let dir = upstream.dir().to_owned();
    for (client_cert, expected) in [(true, 200), (false, 400)] {
        let env =
            spawn_cabinet_stack(|s, _| secure_route(s, &https, &dir, true, client_cert)).await;
        let mut browser = sign_in(&env.stack, PERSON).await;
        let response = browser.get("/secure/page.txt").await;
        assert_eq!(
            response.status(),
            expected,
            "with a client certificate: {client_cert}"
        );
    }
}

/// An https upstream that accepts the connection and never answers the TLS handshake (a
/// firewall, a stuck process) is given the route's `connect_timeout`, not `response_timeout`.
#[tokio::test]
async fn a_tls_handshake_that_never_ends_is_given_the_connect_timeout() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = silent.local_addr().unwrap();
    // Every connection is accepted and held open without a byte.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let env = spawn_cabinet_stack(|s, _| {
        let mut stuck = route("/stuck", &format!("https://{address}/"));
        stuck.connect_timeout = Duration::from_secs(1);
        stuck.response_timeout = Duration::from_secs(8);
        s.routes.insert("stuck_handshake".to_owned(), stuck);
    })
    .await;
    let mut browser = sign_in(&env.stack, PERSON).await;
    let started = Instant::now();
    let response = browser.get("/stuck/page").await;
    let took = started.elapsed();
    assert_eq!(response.status(), 502, "after {took:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    let metrics = metrics_of(&env).await;
    assert!(
        metrics.contains(r#"route="stuck_handshake",outcome="connect_timeout""#),
        "{metrics}"
    );
    holder.abort();
}

/// What the upstream presents, each refused by the route that trusts the test CA.
enum Presented {
    /// Valid, from the test CA, for another host.
    AnotherName,
    /// From the test CA, for 127.0.0.1, expired yesterday.
    Expired,
    /// For 127.0.0.1 from a CA the route does not trust.
    AnotherCa,
    /// For 127.0.0.1, signed by its own key.
    SelfSigned,
}

/// nginx on TLS presenting the certificate `presented` says; its folder has the trusted CA.
async fn upstream_presenting(presented: Presented) -> (Upstream, String) {
    let mut https = String::new();
    let upstream = nginx_listening("ssl", |port, dir| {
        test_pki(dir);
        let now = time::OffsetDateTime::now_utc();
        let (cert, key) = match presented {
            Presented::AnotherName => {
                issue_for(dir, "named", "serverAuth", "subjectAltName=DNS:other.example\n")
            }
            Presented::Expired => issue_dated(
                dir,
                "expired",
                LOCAL_NAMES,
                now - time::Duration::days(3),
                now - time::Duration::days(1),
            ),
            Presented::AnotherCa => {
                let other = dir.join("other-ca");
                std::fs::create_dir_all(&other).unwrap();
                test_pki(&other);
                (other.join("server.pem"), other.join("server.key"))
            }
            Presented::SelfSigned => self_signed(dir, "self"),
        };
        https = format!("https://127.0.0.1:{port}/");
        format!(
            "    ssl_certificate {};\n    ssl_certificate_key {};\n    location / {{ return 200 \"over TLS\"; }}",
            cert.display(),
            key.display()
        )
    })
    .await;
    (upstream, https)
}

/// A certificate kepgate refuses is a 502 page that says nothing about it, counted and logged
/// apart from an upstream that cannot be reached.
#[tokio::test]
async fn certificate_failures_are_told_apart_from_unreachable_and_leak_nothing() {
    let cases = [
        ("tls_another_name", Presented::AnotherName),
        ("tls_dated", Presented::Expired),
        ("tls_another_ca", Presented::AnotherCa),
        ("tls_self_signed", Presented::SelfSigned),
    ];
    let mut upstreams = Vec::new();
    for (name, presented) in cases {
        let (upstream, https) = upstream_presenting(presented).await;
        upstreams.push((name, upstream, https));
    }
    let env = spawn_cabinet_stack(|s, _| {
        for (name, upstream, https) in &upstreams {
            let mut refused = route(&format!("/{name}"), https);
            refused.tls.ca_file = Some(upstream.dir().join("ca.pem"));
            s.routes.insert((*name).to_owned(), refused);
        }
        s.routes.insert(
            "tls_unreachable".to_owned(),
            route("/tls_unreachable", "https://127.0.0.1:9/"),
        );
    })
    .await;
    let mut browser = sign_in(&env.stack, PERSON).await;
    for (name, _, https) in &upstreams {
        let response = browser.get(&format!("/{name}/page")).await;
        assert_eq!(response.status(), 502, "{name}");
        let page = response.text().await.unwrap().to_lowercase();
        let port = https.trim_end_matches('/').rsplit(':').next().unwrap();
        for secret in ["certificate", "expired", "issuer", "rustls", port] {
            assert!(!page.contains(secret), "{name}: {secret} in {page}");
        }
    }
    assert_eq!(browser.get("/tls_unreachable/page").await.status(), 502);
    let metrics = metrics_of(&env).await;
    for (name, _, _) in &upstreams {
        assert!(
            metrics.contains(&format!(r#"route="{name}",outcome="tls_certificate""#)),
            "{name}: {metrics}"
        );
    }
    assert!(
        metrics.contains(r#"route="tls_unreachable",outcome="unavailable""#),
        "{metrics}"
    );
}

async fn metrics_of(env: &CabinetStack) -> String {
    let metrics = env.stack.app.metrics_address.as_ref().expect("metrics on");
    crate::helpers::metrics_text(metrics).await
}
