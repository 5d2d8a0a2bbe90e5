//! Forward-auth mode behind a real nginx (Debian's package): `auth_request` asks kepgate, nginx
//! proxies to the sample cabinet with the identity headers kepgate returned.

use crate::browser::Browser;
use crate::diia_stack::StackOptions;
use crate::helpers::OTHER_PREFIX;
use crate::proxy::spawn_cabinet_stack_with_options;
use crate::sign_in::{DIRECTOR, PERSON, sign_in};
use crate::upstreams::Upstream;

/// nginx's `location` for kepgate's own routes (under `prefix`), passed on to `gateway`.
pub fn own_routes_location(gateway: &str, prefix: &str) -> String {
    let gateway = gateway.trim_start_matches("http://");
    format!(
        r#"
    location {prefix}/ {{
      proxy_pass http://{gateway};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_buffering off;
    }}
"#
    )
}

/// nginx in front: kepgate's own paths (under `prefix`) proxied, everything else behind
/// `auth_request`. The same snippet is documented in docs/forward-auth.md.
pub async fn start_nginx(gateway: &str, prefix: &str, cabinet: &str) -> Upstream {
    let own_routes = own_routes_location(gateway, prefix);
    let gateway = gateway.trim_start_matches("http://").to_owned();
    let cabinet = cabinet
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    crate::upstreams::nginx(|_, _| {
        format!(
            r#"
    absolute_redirect off;
{own_routes}
    location = /_kepgate_auth {{
      internal;
      proxy_pass http://{gateway}{prefix}/auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
    }}
    location / {{
      auth_request /_kepgate_auth;
      auth_request_set $kep_login $upstream_http_location;
      auth_request_set $kep_subject $upstream_http_x_kepgate_subject;
      auth_request_set $kep_name $upstream_http_x_kepgate_name;
      auth_request_set $kep_rnokpp $upstream_http_x_kepgate_rnokpp;
      auth_request_set $kep_edrpou $upstream_http_x_kepgate_edrpou;
      auth_request_set $kep_org $upstream_http_x_kepgate_organization;
      auth_request_set $kep_provider $upstream_http_x_kepgate_provider;
      auth_request_set $kep_serial $upstream_http_x_kepgate_cert_serial;
      auth_request_set $kep_session $upstream_http_x_kepgate_session;
      auth_request_set $kep_assertion $upstream_http_x_kepgate_assertion;
      proxy_set_header X-Kepgate-Subject $kep_subject;
      proxy_set_header X-Kepgate-Name $kep_name;
      proxy_set_header X-Kepgate-Rnokpp $kep_rnokpp;
      proxy_set_header X-Kepgate-Edrpou $kep_edrpou;
      proxy_set_header X-Kepgate-Organization $kep_org;
      proxy_set_header X-Kepgate-Provider $kep_provider;
      proxy_set_header X-Kepgate-Cert-Serial $kep_serial;
      proxy_set_header X-Kepgate-Session $kep_session;
      proxy_set_header X-Kepgate-Assertion $kep_assertion;
      error_page 401 = @kepgate_login;
      proxy_pass http://{cabinet};
    }}
    location @kepgate_login {{
      return 302 $kep_login;
    }}
"#
        )
    })
    .await
}

#[tokio::test]
async fn nginx_auth_request_lets_signed_in_users_through_with_their_identity() {
    nginx_auth_request(StackOptions::default()).await;
}

#[tokio::test]
async fn nginx_auth_request_works_under_another_route_prefix() {
    nginx_auth_request(StackOptions::under(OTHER_PREFIX)).await;
}

async fn nginx_auth_request(options: StackOptions) {
    let env = spawn_cabinet_stack_with_options(options, |s, _| {
        s.proxy.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let app = &env.stack.app;
    let nginx = start_nginx(&app.address, app.prefix(), &env.cabinet).await;
    let http = crate::helpers::client();

    // No session: nginx sends the browser to kepgate's login page with the original path.
    let response = http
        .get(format!("{}/echo?a=1&b=2", nginx.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"],
        app.own_path("/login?rd=%2Fecho%3Fa%3D1%26b%3D2").as_str()
    );
    // …which nginx passes on to kepgate.
    let login = Browser::at(&nginx.address, app.prefix())
        .get(response.headers()["location"].to_str().unwrap())
        .await;
    assert_eq!(login.status(), 200);

    // Signed in (cookies are per host, so the gateway's session cookie works through nginx).
    let browser = sign_in(&env.stack, DIRECTOR).await;
    let cookies = browser.cookie_header();
    // A client's own identity header, in any spelling nginx passes on, stops the request.
    let spoofed = http
        .get(format!("{}/echo", nginx.address))
        .header("cookie", &cookies)
        .header("x-kepgate-rnokpp", "1111111118")
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), 403);
    let seen: serde_json::Value = http
        .get(format!("{}/echo", nginx.address))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        seen["headers"]["x-kepgate-rnokpp"], "2654321099",
        "kepgate's: {seen}"
    );
    assert_eq!(seen["headers"]["x-kepgate-edrpou"], "40123454");
    assert_eq!(seen["assertion_verified"], true, "{seen}");
    assert_eq!(seen["assertion"]["name"], "Коваленко Олена Петрівна");

    // The route policy applies in forward-auth mode too: the person may not see /reports.
    let person = sign_in(&env.stack, PERSON).await;
    let response = http
        .get(format!("{}/reports/2026", nginx.address))
        .header("cookie", person.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn forward_auth_believes_the_original_uri_only_from_trusted_proxies() {
    original_uri_only_from_trusted_proxies(StackOptions::default()).await;
}

#[tokio::test]
async fn forward_auth_works_under_another_route_prefix() {
    original_uri_only_from_trusted_proxies(StackOptions::under(OTHER_PREFIX)).await;
}

async fn original_uri_only_from_trusted_proxies(options: StackOptions) {
    // No trusted proxies: X-Original-URI is ignored and the `/` route decides.
    let env = spawn_cabinet_stack_with_options(options, |_, _| {}).await;
    let auth = env.stack.app.own("/auth");
    let person = sign_in(&env.stack, PERSON).await;
    let http = crate::helpers::client();
    let response = http
        .get(&auth)
        .header("cookie", person.cookie_header())
        .header("x-original-uri", "/static/app.css")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-kepgate-rnokpp"], "3012345670");
    let anonymous = http
        .get(&auth)
        .header("x-original-uri", "/static/app.css")
        .send()
        .await
        .unwrap();
    assert_eq!(
        anonymous.status(),
        401,
        "a spoofed public URI does not open the door"
    );
}
