//! https:// upstreams: Debian's nginx with TLS from a test CA made by OpenSSL, reached through
//! the proxy with the route's CA file, refused without it, and with mutual TLS.

use std::path::Path;

use kepgate::config::Settings;

use crate::proxy::{route, spawn_cabinet_stack};
use crate::sign_in::{PERSON, sign_in};
use crate::test_pki::test_pki;
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
