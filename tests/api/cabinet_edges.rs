//! Where the cabinet's space meets kepgate's: an upstream may not set kepgate's own cookies (a
//! planted session signs the victim in as the attacker, a planted CSRF cookie forges forms), and
//! the reserved prefix is kepgate's whole, however a request spells it.

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::browser::Browser;
use crate::diia_stack::StackOptions;
use crate::helpers::OTHER_PREFIX;
use crate::proxy::{CabinetStack, echo, spawn_cabinet_stack, spawn_cabinet_stack_with_options};
use crate::sign_in::{DIRECTOR, PERSON, sign_in};
use crate::upstreams::raw_get;

fn cookie_line(browser: &Browser) -> Vec<String> {
    vec![format!("Cookie: {}", browser.cookie_header())]
}

/// `/echo` (or any other path of the sample cabinet) answering with these `Set-Cookie` headers.
fn setting(path: &str, cookies: &[String]) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(cookies.iter().map(|c| ("set_cookie", c.as_str())))
        .finish();
    format!("{path}?{query}")
}

fn set_cookies(headers: &reqwest::header::HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect()
}

/// Every spelling of kepgate's cookies an upstream might send: both prefixes and none, other
/// cases, whitespace around the name, a nameless cookie (browsers send `=kepgate_session=x` as
/// `kepgate_session=x`), on any path and with any attributes.
fn ours(value: &str) -> Vec<String> {
    vec![
        format!("__Host-kepgate_session={value}; Path=/; Secure; HttpOnly"),
        format!("kepgate_session={value}; Path=/; HttpOnly"),
        "__Host-kepgate_csrf=planted; Path=/; Secure".to_owned(),
        "kepgate_csrf=planted; Path=/".to_owned(),
        "__Host-kepgate_bind=planted; Path=/; Secure".to_owned(),
        "kepgate_bind=planted; Path=/".to_owned(),
        "__Host-kepgate_reauth=planted; Path=/; Secure".to_owned(),
        "kepgate_reauth=planted; Path=/; HttpOnly".to_owned(),
        "kepgate_lang=en; Path=/; Max-Age=31536000".to_owned(),
        format!("__HOST-kepgate_session={value}; Path=/; Secure"),
        format!("__host-KEPGATE_SESSION={value}; Path=/; Secure"),
        format!("__Secure-kepgate_session={value}; Secure"),
        format!(" kepgate_session\t={value}; Path=/"),
        format!("=kepgate_session={value}; Path=/"),
        format!(" = kepgate_csrf=planted; Path=/"),
        "kepgate_session".to_owned(),
        "kepgate_lang=en; Path=/.kepgate".to_owned(),
    ]
}

/// The cabinet's own cookies, which pass untouched.
const THEIRS: [&str; 3] = [
    "app_session=abc; Path=/; HttpOnly",
    "kepgate_session_of_the_app=1; Path=/",
    "theme=dark",
];

#[tokio::test]
async fn the_cabinet_cannot_set_kepgates_cookies_on_any_route() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let mut victim = sign_in(&env.stack, PERSON).await;
    let mut planted = ours("attacker");
    planted.extend(THEIRS.map(str::to_owned));
    // A private route (signed in), a public one (`/static`), and the same without a session.
    let anonymous = Browser::new(&env.stack.app);
    for (who, path) in [
        (&victim, "/echo"),
        (&victim, "/static/x"),
        (&anonymous, "/static/x"),
    ] {
        let response = who
            .http
            .get(who.url(&setting(path, &planted)))
            .header("cookie", who.cookie_header())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(set_cookies(response.headers()), THEIRS, "{path}");
    }

    // The WebSocket handshake's 101 too.
    let url = victim
        .url(&setting("/ws", &planted))
        .replace("http://", "ws://");
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", victim.cookie_header().parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the WebSocket opens");
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(cookies, THEIRS);
    let _ = socket.close(None).await;
    let _ = socket.next().await;

    // The victim's browser is still the victim's.
    let seen = echo(&mut victim, "/echo", &[]).await;
    assert_eq!(seen["headers"]["x-kepgate-rnokpp"], "3012345670", "{seen}");
}

/// Login CSRF through the cabinet: an attacker who can make the cabinet answer with a cookie
/// (a compromised or careless app behind the gateway) would sign the victim in as himself.
#[tokio::test]
async fn a_session_planted_by_the_cabinet_never_signs_the_victim_in_as_someone_else() {
    for tls in [false, true] {
        let options = StackOptions {
            tls,
            ..StackOptions::default()
        };
        let env = spawn_cabinet_stack_with_options(options, |_, _| {}).await;
        let attacker = sign_in(&env.stack, DIRECTOR).await;
        let session_cookie = if tls {
            "__Host-kepgate_session"
        } else {
            "kepgate_session"
        };
        let token = attacker.cookies[session_cookie].clone();
        let mut victim = sign_in(&env.stack, PERSON).await;
        let before = echo(&mut victim, "/echo", &[]).await;

        let secure = if tls { "; Secure" } else { "" };
        let plant = format!("{session_cookie}={token}; Path=/; HttpOnly{secure}");
        let response = victim.get(&setting("/static/x", &[plant])).await;
        assert_eq!(response.status(), 200);
        assert_eq!(set_cookies(response.headers()), Vec::<String>::new());

        let after = echo(&mut victim, "/echo", &[]).await;
        assert_eq!(
            after["headers"]["x-kepgate-subject"], before["headers"]["x-kepgate-subject"],
            "https: {tls}: {after}"
        );
    }
}

/// What kepgate's reserved prefix may be spelt as in the cabinet's space: the prefix alone,
/// with a trailing slash, with `;` parameters (a servlet container's `/.kepgate/`), encoded,
/// and below it — every one kepgate's, never the cabinet's.
fn reserved_shapes(prefix: &str) -> Vec<String> {
    let encoded = prefix.replacen('.', "%2E", 1);
    let mut shapes = Vec::new();
    for start in [prefix.to_owned(), encoded] {
        for rest in [
            "",
            "/",
            "//",
            "/./",
            ";x",
            ";x/",
            ";jsessionid=1/login",
            "/nothing-here",
            "/nothing/here/",
        ] {
            shapes.push(format!("{start}{rest}"));
        }
    }
    shapes.push(format!("{prefix}/x/.."));
    shapes.push(format!("/static/..{prefix}/"));
    shapes
}

#[tokio::test]
async fn the_reserved_prefix_is_kepgates_whole_with_a_route_at_the_root() {
    reserved_prefix_is_kepgates(StackOptions::default()).await;
}

#[tokio::test]
async fn another_reserved_prefix_is_kepgates_whole_with_a_route_at_the_root() {
    reserved_prefix_is_kepgates(StackOptions::under(OTHER_PREFIX)).await;
}

async fn reserved_prefix_is_kepgates(options: StackOptions) {
    let env: CabinetStack = spawn_cabinet_stack_with_options(options, |s, _| {
        s.proxy.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let app = &env.stack.app;
    let person = sign_in(&env.stack, PERSON).await;
    let prefix = app.prefix();
    let mut wrong = Vec::new();
    for shape in reserved_shapes(prefix) {
        for cookies in [vec![], cookie_line(&person)] {
            let r = raw_get(&app.address, &shape, &cookies).await;
            if r.status != 404 || r.body.contains("x-kepgate-") || r.body.contains("\"path\"") {
                let who = if cookies.is_empty() {
                    "anonymous"
                } else {
                    "signed in"
                };
                wrong.push(format!("{shape} ({who}): {}", r.status));
            }
        }
        // Forward-auth never admits a request into the prefix for a front proxy either.
        let r = raw_get(
            &app.address,
            &app.own_path("/auth"),
            &[
                format!("X-Original-URI: {shape}"),
                cookie_line(&person).remove(0),
            ],
        )
        .await;
        if r.status != 403 || r.head.to_lowercase().contains("x-kepgate-assertion") {
            wrong.push(format!("forward-auth for {shape}: {}", r.status));
        }
    }
    assert!(
        wrong.is_empty(),
        "not kepgate's 404 (403 from forward-auth):\n{}",
        wrong.join("\n")
    );
    // Paths are case-sensitive (RFC 3986 §6.2.2.1), as every route is: another spelling of the
    // letters is another path, the cabinet's.
    let upper = prefix.to_uppercase();
    let r = raw_get(&app.address, &format!("{upper}/"), &cookie_line(&person)).await;
    assert_eq!(r.status, 200, "{}", r.head);
    // kepgate's own routes still answer.
    let r = raw_get(&app.address, &app.own_path("/healthz"), &[]).await;
    assert_eq!(r.status, 200, "{}", r.head);
}

/// Behind a trusted proxy that appends to the client's `X-Forwarded-For` (nginx's
/// `$proxy_add_x_forwarded_for`), bytes the client wrote that are not text must not make the
/// proxy's own entry unreadable: the client would then be taken for the proxy (its rate limit,
/// the history, the phone check, a callback allow-list naming the proxy).
#[tokio::test]
async fn an_unreadable_entry_a_client_wrote_into_x_forwarded_for_does_not_make_it_the_proxy() {
    let env = spawn_cabinet_stack(|s, _| {
        s.proxy.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let browser = sign_in(&env.stack, PERSON).await;
    for written in [
        &b"203.0.113.9"[..],
        b"bogus, 203.0.113.9",
        b"\xff, 203.0.113.9",
        b"\xc3\xbf\x80,203.0.113.9",
    ] {
        let seen: serde_json::Value = browser
            .http
            .get(browser.url("/echo"))
            .header("cookie", browser.cookie_header())
            .header(
                "x-forwarded-for",
                reqwest::header::HeaderValue::from_bytes(written).unwrap(),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let shown = String::from_utf8_lossy(written);
        assert_eq!(
            seen["headers"]["x-real-ip"], "203.0.113.9",
            "{shown}: {seen}"
        );
        assert!(
            seen["headers"]["forwarded"]
                .as_str()
                .is_some_and(|f| f.contains("for=203.0.113.9")),
            "{shown}: {seen}"
        );
    }
}
