//! Into the cabinet: the reverse proxy in front of the sample cabinet, over real HTTP.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kepgate::config::{AccessPolicy, DiiaSignAlgo, ProviderSettings, RouteSettings, Settings};
use kepgate_emulator::sample_cabinet::{CabinetArgs, SampleCabinet};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::browser::Browser;
use crate::diia_stack::{DiiaStack, PROVIDER, StackOptions, spawn_diia_stack_with_options};
use crate::helpers::OTHER_PREFIX;
use crate::sign_in::{DIRECTOR, PERSON, complete_api, confirm_on_phone, sign_in, start_api};

/// The director test identity's company (see the emulator's identities).
pub const DIRECTOR_EDRPOU: &str = "40123454";

pub struct CabinetStack {
    pub stack: DiiaStack,
    pub cabinet: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub fn route(prefix: &str, upstream: &str) -> RouteSettings {
    RouteSettings {
        prefix: prefix.to_owned(),
        upstream: upstream.parse().unwrap(),
        public: false,
        preserve_host: false,
        allow_caching: false,
        connect_timeout: Duration::from_secs(2),
        response_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(30),
        allow: AccessPolicy::default(),
        tls: Default::default(),
    }
}

pub async fn spawn_cabinet_stack(configure: impl FnOnce(&mut Settings, &str)) -> CabinetStack {
    spawn_cabinet_stack_with_options(StackOptions::default(), configure).await
}

/// Like [`spawn_cabinet_stack`], the gateway on `clock` (the cabinet keeps real time).
pub async fn spawn_cabinet_stack_clocked(
    clock: Option<kepgate::clock::SharedClock>,
    configure: impl FnOnce(&mut Settings, &str),
) -> CabinetStack {
    let options = StackOptions {
        clock,
        ..StackOptions::default()
    };
    spawn_cabinet_stack_with_options(options, configure).await
}

/// The cabinet behind a gateway put together as `options` say (no second replica).
pub async fn spawn_cabinet_stack_with_options(
    options: StackOptions,
    configure: impl FnOnce(&mut Settings, &str),
) -> CabinetStack {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cabinet = format!("http://{}/", listener.local_addr().unwrap());
    let (stack, _) = spawn_diia_stack_with_options(options, |s| {
        s.routes.insert("cabinet".to_owned(), route("/", &cabinet));
        let mut assets = route("/static", &cabinet);
        assets.public = true;
        s.routes.insert("assets".to_owned(), assets);
        let mut reports = route("/reports", &cabinet);
        reports.allow.edrpou = vec![DIRECTOR_EDRPOU.to_owned()];
        s.routes.insert("reports".to_owned(), reports);
        configure(s, &cabinet);
    })
    .await;
    let app = SampleCabinet::build_on(
        CabinetArgs {
            listen: listener.local_addr().unwrap(),
            jwks_url: Some(stack.app.own("/jwks.json").parse().unwrap()),
            audience: "cabinet".to_owned(),
            issuer: Some(stack.settings.server.base_url.to_string()),
            ca_file: stack.tls_ca(),
            gateway_url: None,
        },
        listener,
    )
    .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    CabinetStack {
        stack,
        cabinet,
        _stop: stop,
    }
}

pub async fn echo(browser: &mut Browser, path: &str, extra: &[(&str, &str)]) -> serde_json::Value {
    let mut request = browser
        .http
        .get(browser.url(path))
        .header("cookie", browser.cookie_header());
    for (k, v) in extra {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_signed_in_user_sees_the_cabinet_with_their_ukrainian_name() {
    sees_the_cabinet(StackOptions::default()).await;
}

#[tokio::test]
async fn a_signed_in_user_sees_the_cabinet_under_another_route_prefix() {
    sees_the_cabinet(StackOptions::under(OTHER_PREFIX)).await;
}

async fn sees_the_cabinet(options: StackOptions) {
    let env = spawn_cabinet_stack_with_options(options, |_, _| {}).await;
    let mut browser = sign_in(&env.stack, PERSON).await;
    let page = browser.get("/").await;
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["cache-control"],
        "no-store",
        "authenticated pages are not cached"
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<strong id=\"cabinet-name\">Шевченко Тарас Григорович</strong>"),
        "{html}"
    );
    assert!(
        html.contains("перевірено (JWKS)"),
        "the cabinet verified the assertion: {html}"
    );
}

#[tokio::test]
async fn the_assertion_verifies_with_the_published_jwks_and_carries_utf8_claims() {
    assertion_verifies(StackOptions::default()).await;
}

#[tokio::test]
async fn the_assertion_verifies_under_another_route_prefix() {
    assertion_verifies(StackOptions::under(OTHER_PREFIX)).await;
}

async fn assertion_verifies(options: StackOptions) {
    let env = spawn_cabinet_stack_with_options(options, |_, _| {}).await;
    let mut browser = sign_in(&env.stack, DIRECTOR).await;
    let seen = echo(&mut browser, "/echo", &[]).await;
    assert_eq!(seen["assertion_verified"], true, "{seen}");
    let claims = &seen["assertion"];
    assert_eq!(claims["aud"], "cabinet");
    assert_eq!(claims["name"], "Коваленко Олена Петрівна");
    assert_eq!(claims["edrpou"], DIRECTOR_EDRPOU);
    assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() <= 60);
    // The plain headers too, with the name percent-encoded.
    let headers = &seen["headers"];
    assert_eq!(headers["x-kepgate-edrpou"], DIRECTOR_EDRPOU);
    assert!(
        headers["x-kepgate-name"]
            .as_str()
            .unwrap()
            .starts_with("%D0%9A"),
        "{headers}"
    );
    let jwks: serde_json::Value = browser
        .get(&env.stack.app.own("/jwks.json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["alg"], "ES256");
}

#[tokio::test]
async fn spoofed_identity_and_forwarding_headers_never_reach_the_upstream() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let spoof = [
        ("x-kepgate-name", "%D0%A5%D0%B0%D0%BA%D0%B5%D1%80"),
        ("X-Kepgate-Rnokpp", "1111111118"),
        ("x-kepgate-assertion", "forged.jwt.token"),
        ("x-kepgate-anything-else", "1"),
        ("x-forwarded-for", "203.0.113.7"),
        ("forwarded", "for=203.0.113.7"),
        ("x-forwarded-proto", "https"),
    ];
    // Public route, no session: nothing of ours at all.
    let mut anonymous = Browser::new(&env.stack.app);
    let seen = echo(&mut anonymous, "/static/echo", &spoof).await;
    let headers = seen["headers"].as_object().unwrap();
    assert!(
        headers.keys().all(|k| !k.starts_with("x-kepgate-")),
        "{headers:?}"
    );
    assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
    assert_eq!(headers["x-forwarded-proto"], "http");

    // Signed in: ours, never the client's.
    let mut browser = sign_in(&env.stack, PERSON).await;
    browser
        .cookies
        .insert("theme".to_owned(), "dark".to_owned());
    // The OpenID Provider's re-authentication cookie (`prompt=login`) is kepgate's too.
    browser
        .cookies
        .insert("kepgate_reauth".to_owned(), "browser-nonce".to_owned());
    let seen = echo(&mut browser, "/echo", &spoof).await;
    let headers = &seen["headers"];
    assert_eq!(headers["x-kepgate-rnokpp"], "3012345670");
    assert_ne!(headers["x-kepgate-assertion"], "forged.jwt.token");
    assert!(headers.get("x-kepgate-anything-else").is_none());
    let cookie = headers["cookie"].as_str().unwrap();
    assert_eq!(cookie, "theme=dark", "our cookies stay with us");
    assert!(
        headers["x-request-id"].as_str().is_some(),
        "the request id goes upstream"
    );
}

#[tokio::test]
async fn websocket_echo_works_through_the_proxy_with_a_session_and_our_origin_only() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let browser = sign_in(&env.stack, PERSON).await;
    let ws_url = env.stack.app.address.replace("http://", "ws://") + "/ws";

    let mut request = ws_url.clone().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", browser.cookie_header().parse().unwrap());
    request
        .headers_mut()
        .insert("origin", env.stack.app.address.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("handshake through the proxy");
    socket.send(Message::Text("привіт".into())).await.unwrap();
    let reply = socket.next().await.unwrap().unwrap();
    assert_eq!(reply.into_text().unwrap().as_str(), "echo: привіт");

    // A foreign page cannot open the socket with the user's cookie.
    let mut request = ws_url.clone().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", browser.cookie_header().parse().unwrap());
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_err());
    // Nor can anyone without a session.
    let request = ws_url.into_client_request().unwrap();
    assert!(tokio_tungstenite::connect_async(request).await.is_err());
}

#[tokio::test]
async fn an_upstream_event_stream_is_passed_on_event_by_event() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let browser = sign_in(&env.stack, PERSON).await;
    let mut events = browser.events("/events?hold=1").await;
    // The upstream holds everything after the first event until released: a buffering proxy
    // would deliver nothing here and the read would time out.
    let (name, data) = events.next_event().await.unwrap();
    assert_eq!((name.as_str(), data), ("tick", serde_json::json!(0)));
    env.stack
        .http
        .post(format!("{}release", env.cabinet))
        .send()
        .await
        .unwrap();
    assert_eq!(events.next_event().await.unwrap().1, serde_json::json!(1));
}

#[tokio::test]
async fn large_uploads_and_downloads_stream_through() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let browser = sign_in(&env.stack, PERSON).await;
    const MB: u64 = 200;
    let response = browser
        .http
        .get(browser.url(&format!("/download?mb={MB}")))
        .header("cookie", browser.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut received = 0u64;
    while let Some(chunk) = stream.next().await {
        received += chunk.unwrap().len() as u64;
    }
    assert_eq!(received, MB * 1024 * 1024);

    let chunk = bytes::Bytes::from(vec![7u8; 1024 * 1024]);
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(
        (0..MB).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
    ));
    let uploaded: serde_json::Value = browser
        .http
        .post(browser.url("/upload"))
        .header("cookie", browser.cookie_header())
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(uploaded["bytes"], MB * 1024 * 1024);
}

#[tokio::test]
async fn a_route_policy_admits_the_company_and_shows_others_who_they_are() {
    route_policy(StackOptions::default()).await;
}

#[tokio::test]
async fn a_route_policy_holds_under_another_route_prefix() {
    route_policy(StackOptions::under(OTHER_PREFIX)).await;
}

async fn route_policy(options: StackOptions) {
    let env = spawn_cabinet_stack_with_options(options, |_, _| {}).await;
    let mut person = sign_in(&env.stack, PERSON).await;
    let denied = person.get("/reports/2026").await;
    assert_eq!(denied.status(), 403);
    let html = denied.text().await.unwrap();
    assert!(
        html.contains("Шевченко Тарас Григорович"),
        "says who is signed in: {html}"
    );
    assert!(html.contains("id=\"logout\""), "and offers to sign out");

    let mut director = sign_in(&env.stack, DIRECTOR).await;
    let allowed = director.get("/reports/2026").await;
    assert_eq!(allowed.status(), 200);

    // Public assets need no session at all.
    let mut anonymous = Browser::new(&env.stack.app);
    let css = anonymous.get("/static/app.css").await;
    assert_eq!(css.status(), 200);
    // And everything else does: the login page, under the configured prefix.
    let login = anonymous.get("/reports/2026").await;
    assert_eq!(login.status(), 303);
    assert_eq!(
        login.headers()["location"],
        env.stack
            .app
            .own_path("/login?rd=%2Freports%2F2026")
            .as_str()
    );
}

#[tokio::test]
async fn an_unreachable_or_slow_upstream_gets_a_502_or_504_page_that_leaks_nothing() {
    let env = spawn_cabinet_stack(|s, _| {
        // Nothing listens on port 9.
        s.routes
            .insert("down".to_owned(), route("/down", "http://127.0.0.1:9/"));
        let cabinet_url = s.routes["cabinet"].upstream.to_string();
        let mut slow = route("/slow", &cabinet_url);
        slow.response_timeout = Duration::from_secs(1);
        s.routes.insert("slow".to_owned(), slow);
    })
    .await;
    let mut browser = sign_in(&env.stack, PERSON).await;
    let response = browser.get("/down/page").await;
    assert_eq!(response.status(), 502);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Кабінет тимчасово недоступний")
            || html.contains("The application is unavailable"),
        "{html}"
    );
    assert!(
        !html.contains("127.0.0.1:9") && !html.contains("Connection refused"),
        "{html}"
    );

    let response = browser.get("/slow?ms=5000").await;
    assert_eq!(response.status(), 504);
    // An upstream's own error page passes through untouched.
    let response = browser.get("/status/404").await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.text().await.unwrap(), "upstream says 404");
}

/// Diia's default (no `signAlgo`: DSTU 4145 over a GOST 34.311 hash) and ECDSA on request: a
/// director signed in through the JSON API reaches the cabinet with name, РНОКПП and ЄДРПОУ.
#[tokio::test]
async fn a_director_reaches_the_cabinet_with_a_dstu_signature_by_default_and_with_ecdsa() {
    for (sign_algo, on_the_phone) in [
        (DiiaSignAlgo::Default, "DSTU"),
        (DiiaSignAlgo::Ecdsa, "ECDSA"),
    ] {
        let env = spawn_cabinet_stack(|s, _| {
            if let Some(ProviderSettings::Diia(diia)) = s.providers.get_mut(PROVIDER) {
                diia.sign_algo = sign_algo;
            }
        })
        .await;
        let mut browser = Browser::new(&env.stack.app);
        let started = start_api(&mut browser).await;
        confirm_on_phone(&env.stack, &mut browser, &started, DIRECTOR).await;
        let done = complete_api(&mut browser, &started).await;
        assert_eq!(done.status(), 200, "{sign_algo:?}");

        // What the emulator's phone signed with, as Diia would for this request.
        let requests: serde_json::Value = env
            .stack
            .http
            .get(format!("{}/emulator/requests", env.stack.emulator))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(requests[0]["signAlgo"], on_the_phone, "{requests}");

        let seen = echo(&mut browser, "/echo", &[]).await;
        let headers = &seen["headers"];
        assert_eq!(
            headers["x-kepgate-rnokpp"], "2654321099",
            "{sign_algo:?}: {seen}"
        );
        assert_eq!(headers["x-kepgate-edrpou"], DIRECTOR_EDRPOU);
        assert_eq!(seen["assertion"]["name"], "Коваленко Олена Петрівна");
        assert_eq!(seen["assertion_verified"], true);
    }
}
