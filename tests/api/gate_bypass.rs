//! The ways around the gate a black-box attack found, each tried through real upstreams: stock
//! nginx serving files with a public and a private location, and a Python WSGI app that reads
//! identity from `environ`. Requests go over raw sockets, so no client library tidies a path
//! before kepgate sees it.

use std::sync::Arc;

use crate::browser::Browser;
use crate::diia_stack::StackOptions;
use crate::helpers::{OTHER_PREFIX, TestApp};
use crate::proxy::{
    CabinetStack, DIRECTOR_EDRPOU, route, spawn_cabinet_stack, spawn_cabinet_stack_clocked,
    spawn_cabinet_stack_with_options,
};
use crate::sign_in::{
    DIRECTOR, PERSON, complete_api, confirm_on_phone, sign_in, sign_in_as, start_api,
};
use crate::upstreams::{Upstream, nginx_files, raw_bytes, raw_get, raw_request, wsgi_environ_app};

const PUBLIC_CSS: &str = "PUBLIC-STYLESHEET";
const SECRET: &str = "SECRET-REPORT-CONTENT";
const ADMIN_ONLY: &str = "ADMIN-ONLY-CONTENT";

/// How kepgate must treat a path shape: as the canonical path given, or refused (400).
#[derive(Clone, Copy, Debug)]
enum Expect {
    Same(&'static str),
    Refused,
}
use Expect::{Refused, Same};

/// Every shape of "from the public location up into the private one".
const TO_PRIVATE: &[(&str, Expect)] = &[
    ("/ng/private/report.txt", Same("/ng/private/report.txt")),
    (
        "/ng/static/../private/report.txt",
        Same("/ng/private/report.txt"),
    ),
    (
        "/ng/static/%2e%2e/private/report.txt",
        Same("/ng/private/report.txt"),
    ),
    (
        "/ng/static/%2E%2E/private/report.txt",
        Same("/ng/private/report.txt"),
    ),
    (
        "/ng/static/%2e%2E/private/report.txt",
        Same("/ng/private/report.txt"),
    ),
    (
        "/ng/static/.%2e/private/report.txt",
        Same("/ng/private/report.txt"),
    ),
    (
        "/ng/static/%2e./private/report.txt",
        Same("/ng/private/report.txt"),
    ),
    (
        "/ng/static/./../private/report.txt",
        Same("/ng/private/report.txt"),
    ),
    (
        "/ng/static//../private/report.txt",
        Same("/ng/private/report.txt"),
    ),
    (
        "/ng/static/x/../../private/report.txt",
        Same("/ng/private/report.txt"),
    ),
    (
        "///ng/static/../private/report.txt",
        Same("/ng/private/report.txt"),
    ),
    (
        "/ng/./static/%2e%2e/private/report.txt",
        Same("/ng/private/report.txt"),
    ),
    (
        "/ng/static/../%70rivate/report.txt",
        Same("/ng/private/report.txt"),
    ),
    ("/ng/static/..%2fprivate/report.txt", Refused),
    ("/ng/static/..%2Fprivate/report.txt", Refused),
    ("/ng/static%2f..%2fprivate/report.txt", Refused),
    ("/ng/static/..%5cprivate/report.txt", Refused),
    ("/ng/static/..%5Cprivate/report.txt", Refused),
    ("/ng/static/..\\private/report.txt", Refused),
    ("/ng/static/%c0%ae%c0%ae/private/report.txt", Refused),
    ("/ng/static/%C0%AE%C0%AE/private/report.txt", Refused),
    ("/ng/static/%e0%80%ae%e0%80%ae/private/report.txt", Refused),
    ("/ng/static/%c0%af../private/report.txt", Refused),
    ("/ng/static/%252e%252e/private/report.txt", Refused),
    ("/ng/static/%252fprivate/report.txt", Refused),
    ("/ng/static/..;/private/report.txt", Refused),
    ("/ng/static/..;x=1/private/report.txt", Refused),
    ("/ng/static/%2e%2e;/private/report.txt", Refused),
    ("/ng/static/..%00/private/report.txt", Refused),
    ("/ng/static/../../../private/report.txt", Refused),
];

/// Every shape of the admin location that a route policy guards.
const TO_ADMIN: &[(&str, Expect)] = &[
    ("/ng/admin/x", Same("/ng/admin/x")),
    ("/ng//admin/x", Same("/ng/admin/x")),
    ("/ng///admin/x", Same("/ng/admin/x")),
    ("//ng/admin/x", Same("/ng/admin/x")),
    ("/ng/admin//x", Same("/ng/admin/x")),
    ("/ng/%61dmin/x", Same("/ng/admin/x")),
    ("/ng/%61%64%6D%69%6E/x", Same("/ng/admin/x")),
    ("/ng/adm%69n/x", Same("/ng/admin/x")),
    ("/ng/./admin/x", Same("/ng/admin/x")),
    ("/ng/%2e/admin/x", Same("/ng/admin/x")),
    ("/ng/admin/./x", Same("/ng/admin/x")),
    ("/ng/private/../admin/x", Same("/ng/admin/x")),
    ("/ng/private/%2E%2E/admin/x", Same("/ng/admin/x")),
    // Servlet containers drop `;` parameters before routing: decided as /ng/admin/x.
    ("/ng/admin;x=1/x", Same("/ng/admin;x=1/x")),
    ("/ng/admin%2fx", Refused),
    ("/ng/%2e%2e;/ng/admin/x", Refused),
];

struct Gate {
    env: CabinetStack,
    files: Upstream,
}

/// kepgate (its own routes under the default prefix) in front of a stock nginx file server:
/// `/ng/static/` public, `/ng/` private, `/ng/admin/` for the director's company only.
async fn gate() -> Gate {
    gate_with(StackOptions::default()).await
}

/// Like [`gate`], the gateway put together as `options` say.
async fn gate_with(options: StackOptions) -> Gate {
    let files = nginx_files(&[
        ("ng/static/app.css", PUBLIC_CSS),
        ("ng/private/report.txt", SECRET),
        ("ng/admin/x", ADMIN_ONLY),
    ])
    .await;
    let upstream = format!("{}/", files.address);
    let env = spawn_cabinet_stack_with_options(options, |s, _| {
        let mut assets = route("/ng/static/", &upstream);
        assets.public = true;
        s.routes.insert("ng_static".to_owned(), assets);
        s.routes.insert("ng".to_owned(), route("/ng/", &upstream));
        let mut admin = route("/ng/admin/", &upstream);
        admin.allow.edrpou = vec![DIRECTOR_EDRPOU.to_owned()];
        s.routes.insert("ng_admin".to_owned(), admin);
        // Forward-auth believes X-Original-URI from here (nginx and the tests' raw calls).
        s.proxy.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    Gate { env, files }
}

fn cookie_line(browser: &Browser) -> Vec<String> {
    vec![format!("Cookie: {}", browser.cookie_header())]
}

#[tokio::test]
async fn no_path_shape_reaches_a_private_location_without_a_session() {
    no_path_shape_reaches_a_private_location(StackOptions::default()).await;
}

#[tokio::test]
async fn no_path_shape_reaches_a_private_location_under_another_route_prefix() {
    no_path_shape_reaches_a_private_location(StackOptions::under(OTHER_PREFIX)).await;
}

async fn no_path_shape_reaches_a_private_location(options: StackOptions) {
    let gate = gate_with(options).await;
    let app = &gate.env.stack.app;
    let gw = &app.address;
    // The public location is served, in any spelling of the same path.
    for path in [
        "/ng/static/app.css",
        "/ng/static/%61pp.css",
        "/ng//static/./app.css",
    ] {
        let r = raw_get(gw, path, &[]).await;
        assert_eq!(r.status, 200, "{path}: {}", r.head);
        assert!(r.body.contains(PUBLIC_CSS), "{path}");
    }
    for (shape, expect) in TO_PRIVATE {
        let r = raw_get(gw, shape, &[]).await;
        assert!(!r.body.contains(SECRET), "{shape} leaked the private file");
        match expect {
            Same(_) => assert_eq!(r.status, 401, "{shape}: {}", r.head),
            Refused => assert_eq!(r.status, 400, "{shape}: {}", r.head),
        }
    }
    // A browser is sent to the login page with the canonical path to come back to.
    let r = raw_get(
        gw,
        "/ng/static/%2e%2e/private/report.txt?y=1",
        &["Accept: text/html".to_owned()],
    )
    .await;
    assert_eq!(r.status, 303);
    let login = app.own_path("/login?rd=%2Fng%2Fprivate%2Freport.txt%3Fy%3D1");
    assert!(
        r.head.contains(&format!("location: {login}\r\n")),
        "{}",
        r.head
    );
    drop(gate.files);
}

#[tokio::test]
async fn the_upstream_receives_the_canonical_path_the_decision_was_made_on() {
    let gate = gate().await;
    let gw = &gate.env.stack.app.address;
    let person = sign_in(&gate.env.stack, PERSON).await;
    for (shape, expect) in TO_PRIVATE {
        let r = raw_get(gw, shape, &cookie_line(&person)).await;
        match expect {
            Same(_) => {
                assert_eq!(r.status, 200, "{shape}: {}", r.head);
                assert!(
                    r.body.contains(SECRET),
                    "{shape}: nginx got the canonical path"
                );
            }
            Refused => assert_eq!(r.status, 400, "{shape}: {}", r.head),
        }
    }
    // What the cabinet sees, exactly: the sample cabinet echoes the path it was asked for.
    let echoed = raw_get(gw, "/echo/a/./b/%2e%2e//c%3b%c3%a9", &cookie_line(&person)).await;
    assert_eq!(echoed.status, 200, "{}", echoed.head);
    assert!(
        echoed.body.contains("\"path\":\"/echo/a/c%3B%C3%A9\""),
        "{}",
        echoed.body
    );
}

#[tokio::test]
async fn no_path_shape_gets_around_a_route_policy() {
    let gate = gate().await;
    let gw = &gate.env.stack.app.address;
    let person = sign_in(&gate.env.stack, PERSON).await;
    let director = sign_in(&gate.env.stack, DIRECTOR).await;
    for (shape, expect) in TO_ADMIN {
        let r = raw_get(gw, shape, &cookie_line(&person)).await;
        assert!(
            !r.body.contains(ADMIN_ONLY),
            "{shape} leaked the admin file"
        );
        match expect {
            Same(_) => assert_eq!(r.status, 403, "{shape}: {}", r.head),
            Refused => assert_eq!(r.status, 400, "{shape}: {}", r.head),
        }
        let r = raw_get(gw, shape, &cookie_line(&director)).await;
        match expect {
            Same("/ng/admin/x") => {
                assert_eq!(r.status, 200, "{shape}: {}", r.head);
                assert!(r.body.contains(ADMIN_ONLY), "{shape}");
            }
            // nginx has no file named `admin;x=1`: passed on as it came, decided as /ng/admin/x.
            Same(_) => assert_eq!(r.status, 404, "{shape}: {}", r.head),
            Refused => assert_eq!(r.status, 400, "{shape}: {}", r.head),
        }
    }
}

/// `GET {prefix}/auth` as nginx's `auth_request` calls it: the raw request URI in
/// X-Original-URI, the client's headers passed along.
async fn forward_auth(app: &TestApp, original: &str, cookie: Option<&Browser>) -> u16 {
    let mut headers = vec![format!("X-Original-URI: {original}")];
    if let Some(browser) = cookie {
        headers.extend(cookie_line(browser));
    }
    raw_get(&app.address, &app.own_path("/auth"), &headers)
        .await
        .status
}

#[tokio::test]
async fn forward_auth_decides_on_the_canonical_path_too() {
    forward_auth_decides_on_the_canonical_path(StackOptions::default()).await;
}

#[tokio::test]
async fn forward_auth_decides_on_the_canonical_path_under_another_route_prefix() {
    forward_auth_decides_on_the_canonical_path(StackOptions::under(OTHER_PREFIX)).await;
}

async fn forward_auth_decides_on_the_canonical_path(options: StackOptions) {
    let gate = gate_with(options).await;
    let app = &gate.env.stack.app;
    let person = sign_in(&gate.env.stack, PERSON).await;
    let director = sign_in(&gate.env.stack, DIRECTOR).await;
    assert_eq!(forward_auth(app, "/ng/static/app.css", None).await, 200);
    assert_eq!(
        forward_auth(app, "/ng/static/%61pp.css?v=2", None).await,
        200
    );
    for (shape, expect) in TO_PRIVATE {
        let anonymous = forward_auth(app, shape, None).await;
        let want = match expect {
            Same(_) => 401,
            // 403, not 400: nginx makes a 500 of any other auth_request answer.
            Refused => 403,
        };
        assert_eq!(anonymous, want, "{shape}");
    }
    for (shape, expect) in TO_ADMIN {
        assert_eq!(
            forward_auth(app, shape, Some(&person)).await,
            403,
            "{shape}"
        );
        let want = match expect {
            Same(_) => 200,
            Refused => 403,
        };
        assert_eq!(
            forward_auth(app, shape, Some(&director)).await,
            want,
            "{shape}"
        );
    }

    // The same through a real nginx in front, proxying to the nginx file server: nothing
    // private comes out for anyone it should not.
    let front = crate::forward_auth::start_nginx(
        &app.address,
        app.prefix(),
        &format!("{}/", gate.files.address),
    )
    .await;
    for (shape, _) in TO_PRIVATE {
        let r = raw_get(&front.address, shape, &[]).await;
        assert!(
            !r.body.contains(SECRET) && r.status != 200,
            "{shape} through nginx: {} {}",
            r.head,
            r.body
        );
    }
    for (shape, _) in TO_ADMIN {
        let r = raw_get(&front.address, shape, &cookie_line(&person)).await;
        assert!(
            !r.body.contains(ADMIN_ONLY) && r.status != 200,
            "{shape} through nginx: {}",
            r.head
        );
    }
    let r = raw_get(&front.address, "/ng//admin/x", &cookie_line(&director)).await;
    assert_eq!(r.status, 200, "{}", r.head);
    assert!(r.body.contains(ADMIN_ONLY));
}

/// Paths that start in kepgate's own space (`prefix`, also spelt encoded) and climb out of it
/// into the private or the admin location, with what kepgate must make of them.
fn through_the_prefix(prefix: &str) -> Vec<(String, Expect)> {
    let encoded = prefix.replace('.', "%2e");
    let mut shapes = Vec::new();
    for canonical in ["/ng/private/report.txt", "/ng/admin/x"] {
        let target = &canonical[1..];
        for (climb, refused) in [
            ("/../", false),
            ("/%2e%2e/", false),
            ("/./../", false),
            ("//../", false),
            ("/..%2f", true),
            ("%2f..%2f", true),
        ] {
            let expect = if refused { Refused } else { Same(canonical) };
            for start in [prefix, encoded.as_str()] {
                shapes.push((format!("{start}{climb}{target}"), expect));
            }
        }
        let back_in_and_out = format!("/ng/static/..{prefix}/../../{target}");
        shapes.push((back_in_and_out, Same(canonical)));
    }
    shapes
}

#[tokio::test]
async fn no_shape_through_the_route_prefix_gets_around_the_gate() {
    through_the_prefix_nothing_leaks(StackOptions::default()).await;
}

#[tokio::test]
async fn no_shape_through_another_route_prefix_gets_around_the_gate() {
    through_the_prefix_nothing_leaks(StackOptions::under(OTHER_PREFIX)).await;
}

async fn through_the_prefix_nothing_leaks(options: StackOptions) {
    let gate = gate_with(options).await;
    let app = &gate.env.stack.app;
    let person = sign_in(&gate.env.stack, PERSON).await;
    for (shape, expect) in through_the_prefix(app.prefix()) {
        let anonymous = raw_get(&app.address, &shape, &[]).await;
        let signed_in = raw_get(&app.address, &shape, &cookie_line(&person)).await;
        assert!(!anonymous.body.contains(SECRET), "{shape} leaked");
        assert!(!signed_in.body.contains(ADMIN_ONLY), "{shape} leaked");
        // Decided as the canonical path: the login for nobody, the file or the policy's 403
        // for the person.
        let (want_anonymous, want_person) = match expect {
            Refused => (400, 400),
            Same("/ng/admin/x") => (401, 403),
            Same(_) => (401, 200),
        };
        assert_eq!(
            anonymous.status, want_anonymous,
            "{shape}: {}",
            anonymous.head
        );
        assert_eq!(signed_in.status, want_person, "{shape}: {}", signed_in.head);
    }
}

/// Header spellings that a WSGI server folds into `HTTP_X_KEPGATE_RNOKPP` and friends.
fn spoofed_identity() -> Vec<String> {
    [
        "x_kepgate_rnokpp: 1111111118",
        "X_Kepgate_Rnokpp: 1111111118",
        "x-kepgate_subject: evil",
        "X-Kepgate_Edrpou: 00000000",
        "x-kepgate-rnokpp: 1111111118",
        "x_forwarded_for: 6.6.6.6",
        "X_Real_IP: 6.6.6.6",
        "x_forwarded_proto: https",
        // Path, method and scheme overrides that frameworks honour.
        "X-Original-URL: /admin/users",
        "X-Rewrite-URL: /admin/users",
        "X-Forwarded-Prefix: //evil.example",
        "X-Forwarded-Port: 8443",
        "X-HTTP-Method-Override: DELETE",
    ]
    .map(str::to_owned)
    .to_vec()
}

#[tokio::test]
async fn identity_headers_in_any_spelling_never_reach_a_wsgi_app() {
    let app = wsgi_environ_app().await;
    let upstream = format!("{}/", app.address);
    let env = spawn_cabinet_stack(|s, _| {
        let mut public = route("/py/", &upstream);
        public.public = true;
        s.routes.insert("py".to_owned(), public);
        s.routes.insert("pyp".to_owned(), route("/pyp/", &upstream));
    })
    .await;
    let gw = &env.stack.app.address;

    // Anonymous, on a public route: the app sees no identity and no forged origin at all.
    let r = raw_get(gw, "/py/whoami", &spoofed_identity()).await;
    assert_eq!(r.status, 200, "{}", r.head);
    let seen: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let keys: Vec<&String> = seen.as_object().unwrap().keys().collect();
    assert!(
        keys.iter().all(|k| !k.starts_with("HTTP_X_KEPGATE")),
        "{seen}"
    );
    assert_eq!(seen["HTTP_X_FORWARDED_FOR"], "127.0.0.1", "{seen}");
    assert_eq!(seen["HTTP_X_REAL_IP"], "127.0.0.1", "{seen}");
    assert_eq!(seen["HTTP_X_FORWARDED_PROTO"], "http", "{seen}");
    for overridden in [
        "HTTP_X_ORIGINAL_URL",
        "HTTP_X_REWRITE_URL",
        "HTTP_X_FORWARDED_PREFIX",
        "HTTP_X_FORWARDED_PORT",
        "HTTP_X_HTTP_METHOD_OVERRIDE",
    ] {
        assert!(seen.get(overridden).is_none(), "{overridden}: {seen}");
    }

    // Signed in: exactly kepgate's values, nothing appended by the client.
    let person = sign_in(&env.stack, PERSON).await;
    let mut headers = spoofed_identity();
    headers.extend(cookie_line(&person));
    let r = raw_get(gw, "/pyp/whoami", &headers).await;
    assert_eq!(r.status, 200, "{}", r.head);
    let seen: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(seen["HTTP_X_KEPGATE_RNOKPP"], "3012345670", "{seen}");
    assert!(seen.get("HTTP_X_KEPGATE_EDRPOU").is_none(), "{seen}");
    let subject = seen["HTTP_X_KEPGATE_SUBJECT"].as_str().unwrap();
    assert!(!subject.contains("evil"), "{seen}");

    // Forward-auth: the front proxy hands the client's headers to the check, which refuses.
    for spoof in [
        "x_kepgate_rnokpp: 1",
        "X-Kepgate_Subject: evil",
        "x-kepgate-name: x",
    ] {
        let r = raw_get(
            gw,
            &env.stack.app.own_path("/auth"),
            &[spoof.to_owned(), cookie_line(&person).remove(0)],
        )
        .await;
        assert_eq!(r.status, 403, "{spoof}");
        assert!(
            !r.head.to_lowercase().contains("x-kepgate-rnokpp"),
            "{}",
            r.head
        );
    }
    drop(app);
}

#[tokio::test]
async fn a_binding_cookie_planted_before_login_binds_nothing() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let stack = &env.stack;
    // The attacker plants a binding value (old bare form, and a guess at the new form) in the
    // victim's browser and keeps a copy.
    let planted = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let mut victim = Browser::new(&stack.app);
    victim
        .cookies
        .insert("kepgate_bind".to_owned(), planted.to_owned());
    let started = start_api(&mut victim).await;
    let issued = victim.cookies["kepgate_bind"].clone();
    assert!(
        !issued.contains(planted),
        "issued {issued}, planted {planted}"
    );
    let id = &started.id;

    // She confirms on her phone; the attacker, holding the planted value and the login id
    // (visible in the QR token), tries to complete first, in both cookie shapes.
    confirm_on_phone(stack, &mut victim, &started, PERSON).await;
    let complete = &started.complete_url;
    for value in [
        planted.to_owned(),
        format!("{}.{planted}", id.replace('-', "")),
    ] {
        let mut attacker = Browser::new(&stack.app);
        attacker.cookies.insert("kepgate_bind".to_owned(), value);
        let stolen = attacker.post_json(complete, serde_json::json!({})).await;
        assert_eq!(stolen.status(), 403);
        assert!(!attacker.cookies.contains_key("kepgate_session"));
    }
    let done = complete_api(&mut victim, &started).await;
    assert_eq!(done.status(), 200);
    assert!(victim.cookies.contains_key("kepgate_session"));
}

#[tokio::test]
async fn logins_started_in_two_tabs_each_complete() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let mut browser = Browser::new(&env.stack.app);
    sign_in_as(&env.stack, &mut browser, PERSON).await;
    // A second login in the same browser after the first (binding cookie entries kept apart).
    sign_in_as(&env.stack, &mut browser, DIRECTOR).await;
    assert!(browser.cookies.contains_key("kepgate_session"));
}

#[tokio::test]
async fn the_sample_cabinet_refuses_an_assertion_past_its_expiry() {
    let clock = kepgate::clock::ManualClock::new(time::OffsetDateTime::now_utc());
    let env = spawn_cabinet_stack_clocked(Some(Arc::new(clock.clone())), |_, _| {}).await;
    let browser = sign_in(&env.stack, PERSON).await;
    let echo = |browser: &Browser| {
        let request = browser
            .http
            .get(browser.url("/echo"))
            .header("cookie", browser.cookie_header());
        async move {
            let r = request.send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    // The gateway's clock 70 s behind: its fresh 60 s assertion expired 10 s ago by the
    // cabinet's clock. jsonwebtoken's default leeway (60 s) would still take it.
    clock.advance(time::Duration::seconds(-70));
    let seen = echo(&browser).await;
    assert_eq!(seen["assertion_verified"], false, "{seen}");
    assert!(
        seen["assertion_error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("expired"),
        "{seen}"
    );
    // Clocks agreeing again, a fresh assertion is taken.
    clock.advance(time::Duration::seconds(70));
    assert_eq!(echo(&browser).await["assertion_verified"], true);
}

#[tokio::test]
async fn error_pages_are_never_labelled_gzip_when_they_are_not() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let http = crate::helpers::client();
    let gw = &env.stack.app.address;
    // A rejected form (422) and bad JSON (400), asked for with gzip.
    let form = http
        .post(env.stack.app.own("/login/start"))
        .header("accept-encoding", "gzip")
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("nonsense=1")
        .send()
        .await
        .unwrap();
    assert!(form.status().is_client_error(), "{}", form.status());
    assert!(form.headers().get("content-encoding").is_none(), "{form:?}");
    let text = form.text().await.unwrap();
    assert!(text.contains("<html"), "{text}");
    let json = http
        .post(env.stack.app.own("/api/login"))
        .header("accept-encoding", "gzip")
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .header("origin", gw.as_str())
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert!(json.status().is_client_error(), "{}", json.status());
    assert!(json.headers().get("content-encoding").is_none(), "{json:?}");
    let body: serde_json::Value = json.json().await.unwrap();
    assert_eq!(body["error"], "bad_request", "{body}");
}

#[tokio::test]
async fn a_malformed_chunked_body_to_the_cabinet_is_the_clients_400() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let gw = &env.stack.app.address;
    let person = sign_in(&env.stack, PERSON).await;
    let cookie = format!("Cookie: {}", person.cookie_header());
    for (what, body) in [
        (
            "overflowing chunk size",
            &b"ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n"[..],
        ),
        ("bare-LF chunk lines", &b"5\nhello\n0\n\n"[..]),
        (
            "a chunk size that is not hex",
            &b"zz\r\nhello\r\n0\r\n\r\n"[..],
        ),
    ] {
        let head = format!(
            "POST /echo HTTP/1.1\r\n{cookie}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked"
        );
        let r = raw_request(gw, &head, body).await;
        assert_eq!(r.status, 400, "{what}: {} {}", r.head, r.body);
    }
    // And the cabinet is still there for well-formed requests.
    let r = raw_request(
        gw,
        &format!("POST /echo HTTP/1.1\r\n{cookie}\r\nTransfer-Encoding: chunked"),
        b"5\r\nhello\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.head);
}

// ---------- found by the attacker's-eye review of every input (docs/security.md) ----------

#[tokio::test]
async fn forward_auth_refuses_a_client_chosen_original_uri_and_paths_no_route_serves() {
    let env = spawn_cabinet_stack(|s, _| {
        // No route for `/`: the cabinet lives under /cabinet only.
        s.routes.remove("cabinet");
        s.proxy.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let gw = &env.stack.app.address;
    let auth = env.stack.app.own_path("/auth");
    let person = sign_in(&env.stack, PERSON).await;
    let cookie = cookie_line(&person).remove(0);
    // Traefik and Caddy set X-Forwarded-Uri and pass the client's X-Original-URI along.
    let r = raw_get(
        gw,
        &auth,
        &[
            "X-Forwarded-Uri: /reports/2026".to_owned(),
            "X-Original-URI: /static/app.css".to_owned(),
        ],
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.head);
    let r = raw_get(
        gw,
        &auth,
        &[
            "X-Forwarded-Uri: /reports/2026".to_owned(),
            "X-Forwarded-Uri: /static/app.css".to_owned(),
        ],
    )
    .await;
    assert_eq!(r.status, 403, "two copies that differ: {}", r.head);
    // Agreeing copies are fine; the public route is public.
    let r = raw_get(
        gw,
        &auth,
        &[
            "X-Forwarded-Uri: /static/app.css".to_owned(),
            "X-Original-URI: /static/app.css".to_owned(),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.head);
    // A path no route serves is nobody's, signed in or not.
    let r = raw_get(
        gw,
        &auth,
        &["X-Forwarded-Uri: /elsewhere".to_owned(), cookie.clone()],
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.head);
    assert!(!r.head.to_lowercase().contains("x-kepgate-assertion"));
}

#[tokio::test]
async fn clients_cannot_grow_the_metrics_with_labels_of_their_own() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let gw = &env.stack.app.address;
    let invented = format!("p{}", uuid::Uuid::new_v4().simple());
    let r = raw_request(
        gw,
        &format!(
            "POST {} HTTP/1.1\r\nContent-Length: 0",
            env.stack
                .app
                .own_path(&format!("/callback/{invented}/secret"))
        ),
        b"",
    )
    .await;
    assert_eq!(r.status, 404);
    let method = format!("M{}", uuid::Uuid::new_v4().simple());
    let healthz = env.stack.app.own_path("/healthz");
    let r = raw_request(gw, &format!("{method} {healthz} HTTP/1.1"), b"").await;
    assert!(r.status >= 400, "{}", r.head);
    let metrics =
        crate::helpers::metrics_text(env.stack.app.metrics_address.as_ref().unwrap()).await;
    assert!(!metrics.contains(&invented), "provider label from the path");
    assert!(
        !metrics.contains(&method),
        "method label from the request line"
    );
    assert!(metrics.contains("provider=\"unknown\""));
    assert!(metrics.contains("method=\"other\""));
}

#[tokio::test]
async fn a_request_without_one_clear_host_or_with_a_tracing_method_is_refused() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let gw = &env.stack.app.address;
    let host = gw.trim_start_matches("http://");
    let person = sign_in(&env.stack, PERSON).await;
    let cookie = cookie_line(&person).remove(0);
    for (what, request) in [
        (
            "no Host",
            format!("GET /echo HTTP/1.1\r\n{cookie}\r\nConnection: close\r\n\r\n"),
        ),
        (
            "two Hosts",
            format!(
                "GET /echo HTTP/1.1\r\nHost: {host}\r\nHost: evil.example\r\n{cookie}\r\nConnection: close\r\n\r\n"
            ),
        ),
        (
            "absolute-form naming another host",
            format!(
                "GET http://evil.example/echo HTTP/1.1\r\nHost: {host}\r\n{cookie}\r\nConnection: close\r\n\r\n"
            ),
        ),
    ] {
        let r = raw_bytes(gw, request.as_bytes()).await;
        assert_eq!(r.status, 400, "{what}: {}", r.head);
        assert!(!r.body.contains("\"path\""), "{what} reached the cabinet");
    }
    // The same request done right is served; absolute-form naming this host too.
    let r = raw_bytes(
        gw,
        format!("GET http://{host}/echo HTTP/1.1\r\nHost: {host}\r\n{cookie}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.head);
    for method in ["TRACE", "TRACK", "CONNECT"] {
        let r = raw_request(gw, &format!("{method} /echo HTTP/1.1\r\n{cookie}"), b"").await;
        assert_eq!(r.status, 405, "{method}: {}", r.head);
        assert!(
            !r.body.contains("x-kepgate-assertion"),
            "{method} echoed identity"
        );
    }
}

#[tokio::test]
async fn a_websocket_tunnel_ends_when_its_session_ends() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let env = spawn_cabinet_stack(|_, _| {}).await;
    let mut browser = sign_in(&env.stack, PERSON).await;
    let mut request = (env.stack.app.address.replace("http://", "ws://") + "/ws")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("cookie", browser.cookie_header().parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket.send(Message::Text("до".into())).await.unwrap();
    let reply = socket.next().await.unwrap().unwrap();
    assert_eq!(reply.into_text().unwrap().as_str(), "echo: до");

    // «Вийти» in another tab of the same browser.
    let me = browser
        .get(&env.stack.app.own_path("/me"))
        .await
        .text()
        .await
        .unwrap();
    let out = browser
        .post_form(
            &env.stack.app.own_path("/logout"),
            &[("csrf", &crate::browser::csrf_of(&me))],
        )
        .await;
    assert_eq!(out.status(), 303);
    let closed = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the tunnel outlived the logout");
}

#[tokio::test]
async fn signing_in_ends_the_session_the_browser_held_before() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let mut browser = sign_in(&env.stack, PERSON).await;
    let before = browser.cookies["kepgate_session"].clone();
    // Someone else signs in at the same shared computer.
    sign_in_as(&env.stack, &mut browser, DIRECTOR).await;
    assert_ne!(browser.cookies["kepgate_session"], before);
    let old = env
        .stack
        .http
        .get(format!("{}/echo", env.stack.app.address))
        .header("cookie", format!("kepgate_session={before}"))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 401, "the earlier session still worked");
}
