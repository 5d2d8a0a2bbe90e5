//! The organisation's own pages (`ui.pages_dir`) with hostile values in every one: a folder that
//! replaces all eight pages, each printing every value it gets in text and in a quoted
//! attribute, and a login in real Chromium that brings `<`, `"`, `'`, `</script>` and
//! `javascript:` into them from everywhere they come from — a certificate's name and
//! organisation (a key of the tests' own CA), the browser's `User-Agent`, the return path and
//! query, the provider's and the service's names, and the branding. Each page must show the
//! text as it is, with no element or attribute of the input's in the DOM, and no raw `<` of it
//! in the HTML the gateway sent.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use kepgate::config::{ProviderSettings, Settings};
use kepgate::identity::Rnokpp;
use kepgate::login::pending::PendingLoginId;
use kepgate_signature::dstu4145::DstuCurve;
use kepgate_signature::test_ca::{KeyKind, TestIdentitySpec};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::browser_e2e::{Chromedriver, Device};
use crate::diia_stack::{
    DiiaStack, PROVIDER, TempDir, encode_data, now, spawn_diia_stack_configured,
};
use crate::helpers::{TestApp, settings_for, spawn_app_on};
use crate::proxy::route;

/// What an attacker puts wherever text reaches a page: an element of its own, quotes that
/// would end an attribute, the end of a script, a script, and a `javascript:` URL.
pub const HOSTILE: &str = r#"Pwn"'><pwn-el data-pwn>x</pwn-el></script><script>document.title='pwned'</script>javascript:alert(1)"#;
/// The browser's `User-Agent`: short and naming no known browser, so «Мої сеанси» shows it as
/// it is.
const HOSTILE_UA: &str = r#"Pwn"'><pwn-el data-pwn>ua</pwn-el>"#;
/// Where the login returns to: the URL parser keeps `'` and encodes the rest.
const HOSTILE_RD: &str = r#"/back'"<pwn-el>"#;
/// How long a step may take (the machines are slow and shared).
const STEP: Duration = Duration::from_secs(20);

// ---------- the folder ----------

/// A value in text and in a quoted attribute: `<p class="v" data-name="…" title="…">…</p>`.
fn shown(name: &str, expression: &str) -> String {
    format!(
        r#"<p class="v" data-name="{name}" title="{{{{ {expression} }}}}">{{{{ {expression} }}}}</p>"#
    )
}

/// Every value of a list's items.
fn each(list: &str, fields: &[&str]) -> String {
    let item: String = fields
        .iter()
        .map(|f| shown(&format!("{list}.{f}"), &format!("item.{f}")))
        .collect();
    format!("{{% for item in {list} %}}{item}{{% endfor %}}")
}

fn values(names: &[&str]) -> String {
    names.iter().map(|n| shown(n, n)).collect()
}

fn page(file: &str, body: &str) -> String {
    let id = file.trim_end_matches(".html");
    format!(
        r#"{{% extends "layout.html" %}}{{% block content %}}<div id="own-{id}">{body}</div>{{% endblock %}}"#
    )
}

/// Every page replaced; no filter used (the folder must render the same with any engine
/// setting), and the forms the login goes through kept.
pub fn hostile_folder() -> TempDir {
    let chrome = values(&[
        "chrome.lang",
        "chrome.other_lang",
        "chrome.switch_href",
        "chrome.service_name",
        "chrome.css_href",
        "chrome.script_href",
        "chrome.favicon_href",
        "chrome.site_href",
        "chrome.brand.organization",
        "chrome.brand.logo_href",
        "chrome.brand.stylesheet_href",
        "chrome.brand.support",
        "chrome.brand.support_href",
        "chrome.brand.footer",
    ]);
    let layout = format!(
        r#"<!doctype html><html lang="{{{{ chrome.lang }}}}"><head><meta charset="utf-8"><title>{{{{ chrome.service_name }}}}</title></head><body>
<header>{chrome}{{% if chrome.brand.support_href %}}<a id="support-link" href="{{{{ chrome.brand.support_href }}}}">help</a>{{% endif %}}<a id="switch" href="{{{{ chrome.switch_href }}}}">switch</a></header>
<main>{{% block content %}}{{% endblock %}}</main></body></html>"#
    );
    let login = format!(
        r#"{}{}<form id="start-form" method="post" action="{{{{ action }}}}"><input type="hidden" name="csrf" value="{{{{ csrf }}}}"><input type="hidden" name="rd" value="{{{{ return_path }}}}"><select id="provider" name="provider">{{% for p in providers %}}<option value="{{{{ p.id }}}}">{{{{ p.name }}}}</option>{{% endfor %}}</select><button id="start-button" type="submit">go</button></form>"#,
        values(&[
            "action",
            "csrf",
            "return_path",
            "button_label",
            "any_hint",
            "error",
            "notice",
            "shared_pc",
        ]),
        each(
            "providers",
            &["id", "name", "selected", "hint_label", "button_label"]
        ),
    );
    let wait = format!(
        r#"{}<div id="qr">{{{{ qr_svg }}}}</div><a id="deeplink" href="{{{{ link }}}}">link</a><form id="complete-form" method="post" action="{{{{ complete_action }}}}"><input type="hidden" name="csrf" value="{{{{ csrf }}}}"><button id="continue" type="submit">continue</button></form>"#,
        values(&[
            "provider_name",
            "link",
            "verification_code",
            "state",
            "status_text",
            "finished",
            "expires_at",
            "seconds_left",
            "events_url",
            "complete_action",
            "csrf",
            "restart_href",
            "refresh_seconds",
            "wait_href",
            "notice",
        ])
    );
    let phone_check = format!(
        "{}{{% for code in choices %}}{}{{% endfor %}}",
        values(&[
            "action",
            "csrf",
            "opened",
            "service_name",
            "domain",
            "started_at",
            "computer",
        ]),
        shown("choices", "code")
    );
    let me = format!(
        "{}{}{}",
        values(&[
            "full_name",
            "notice",
            "logout_action",
            "end_all_action",
            "csrf",
        ]),
        each(
            "sessions",
            &[
                "id",
                "current",
                "provider",
                "started",
                "last_seen",
                "ends",
                "address",
                "device",
                "shared_pc",
                "end_action",
            ]
        ),
        each("history", &["at", "event", "provider", "address", "device"]),
    );
    let files = [
        ("layout.html", layout),
        ("login.html", page("login.html", &login)),
        ("wait.html", page("wait.html", &wait)),
        ("phone_check.html", page("phone_check.html", &phone_check)),
        (
            "phone_notice.html",
            page("phone_notice.html", &values(&["title", "body", "danger"])),
        ),
        (
            "signed_in.html",
            page(
                "signed_in.html",
                &values(&[
                    "full_name",
                    "rnokpp",
                    "edrpou",
                    "organization",
                    "provider",
                    "me_href",
                    "logout_action",
                    "csrf",
                ]),
            ),
        ),
        (
            "not_allowed.html",
            page(
                "not_allowed.html",
                &values(&["full_name", "rnokpp", "edrpou", "logout_action", "csrf"]),
            ),
        ),
        ("me.html", page("me.html", &me)),
        (
            "error.html",
            page(
                "error.html",
                &values(&["title", "body", "request_id", "status"]),
            ),
        ),
    ];
    let dir = TempDir(
        std::env::temp_dir().join(format!("kepgate-hostile-{}", uuid::Uuid::new_v4().simple())),
    );
    std::fs::create_dir_all(&dir.0).unwrap();
    for (name, content) in files {
        std::fs::write(dir.0.join(name), content).unwrap();
    }
    dir
}

/// The branding, the service's and the provider's names all hostile; the help link a
/// `javascript:` URL (as a configuration built in code, not checked at start, would carry it).
fn hostile_settings(s: &mut Settings) {
    s.ui.service_name = HOSTILE.to_owned();
    let b = &mut s.ui.branding;
    b.organization = Some(HOSTILE.to_owned());
    b.support = Some(HOSTILE.to_owned());
    b.footer = Some(HOSTILE.to_owned());
    b.support_url = Some("javascript:alert(document.domain)".to_owned());
    if let Some(ProviderSettings::Diia(diia)) = s.providers.get_mut(PROVIDER) {
        diia.common.display_name = HOSTILE.to_owned();
        diia.common.display_name_en = Some(HOSTILE.to_owned());
    }
}

// ---------- what a page must look like ----------

/// Whose pages the gateway shows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Pages {
    /// The folder's: each prints all its values (`.v`) in text and in an attribute.
    Own,
    /// kepgate's built-in (askama) pages.
    BuiltIn,
}

impl Pages {
    /// What shows that `file` is the page on screen.
    fn marker(self, file: &str) -> String {
        match self {
            Pages::Own => format!("#own-{}", file.trim_end_matches(".html")),
            Pages::BuiltIn => match file {
                "login.html" => "#start-form",
                "wait.html" => "#login-wait",
                "phone_check.html" => "#phone-check",
                "phone_notice.html" => "#phone-notice",
                "signed_in.html" => "#my-account",
                "me.html" => "#sessions",
                "not_allowed.html" => "main > form #logout",
                _ => ".request-id",
            }
            .to_owned(),
        }
    }
}

/// What Chromium made of the page: what of the input became markup, and each value of the
/// folder's pages as text and as attribute.
async fn dom_of(c: &Client) -> Value {
    c.execute(
        r#"
        return {
            injected: [...document.querySelectorAll('[data-pwn], pwn-el, script:not([src]), a[href^="javascript:" i], [onerror]')]
                .map(e => e.outerHTML.slice(0, 200)),
            attributes: [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
                .filter(a => /pwn|'|"|</.test(a.name)).map(a => e.tagName + ' ' + a.name)),
            values: [...document.querySelectorAll('.v')].map(e => ({
                name: e.getAttribute('data-name'), text: e.textContent, title: e.getAttribute('title'),
            })),
            text: document.body.innerText,
            title: document.title,
        };
        "#,
        vec![],
    )
    .await
    .unwrap()
}

/// The page on screen is `file`, nothing of the input is markup in Chromium's DOM, and the
/// input reads as it was written: on the folder's pages each value the same as text and as
/// attribute, the `hostile` ones as given; on the built-in ones the page's text shows it. And
/// the HTML the gateway sent for the same URL (fetched again with Chromium's cookies) has the
/// input's `<` escaped.
async fn assert_shown_literally(c: &Client, pages: Pages, file: &str, hostile: &[(&str, &str)]) {
    find(c, &pages.marker(file)).await;
    let dom = dom_of(c).await;
    assert_eq!(
        dom["injected"],
        json!([]),
        "{file}: markup from the input: {dom}"
    );
    assert_eq!(
        dom["attributes"],
        json!([]),
        "{file}: attributes from the input: {dom}"
    );
    assert_ne!(dom["title"], "pwned", "{file}");
    let text = dom["text"].as_str().unwrap();
    assert!(
        text.contains("<pwn-el data-pwn>"),
        "{file}: the input as text: {text}"
    );
    if pages == Pages::Own {
        let values = dom["values"].as_array().unwrap();
        for v in values {
            assert_eq!(
                v["text"], v["title"],
                "{file}: text and attribute differ: {v}"
            );
        }
        for (name, expected) in hostile {
            let shown: Vec<&str> = values
                .iter()
                .filter(|v| v["name"] == *name)
                .map(|v| v["text"].as_str().unwrap())
                .collect();
            assert!(
                !shown.is_empty() && shown.iter().all(|s| s.contains(expected)),
                "{file}: {name} shows {shown:?}, not {expected:?}"
            );
        }
    } else {
        // The built-in pages show people's words as text; addresses stay in attributes.
        let words = hostile
            .iter()
            .filter(|(_, e)| [HOSTILE, HOSTILE_UA].contains(e));
        for (name, expected) in words {
            assert!(
                text.contains(expected),
                "{file}: {name} ({expected:?}) in {text}"
            );
        }
    }
    let url = c.current_url().await.unwrap();
    let html = raw_html(c, url.as_str()).await;
    assert!(
        !html.contains("<pwn-el"),
        "{file}: raw markup in the HTML: {html}"
    );
    // MiniJinja writes `&lt;`, askama `&#60;`.
    assert!(
        html.contains("&lt;pwn-el") || html.contains("&#60;pwn-el"),
        "{file}: the input is escaped: {html}"
    );
    assert!(!html.contains("href=\"javascript:"), "{file}: {html}");
}

/// The page at `url` as the gateway sends it to this Chromium (its cookies and `User-Agent`).
async fn raw_html(c: &Client, url: &str) -> String {
    let cookies: Vec<String> = c
        .get_all_cookies()
        .await
        .unwrap()
        .iter()
        .map(|k| format!("{}={}", k.name(), k.value()))
        .collect();
    let user_agent: String = serde_json::from_value(
        c.execute("return navigator.userAgent;", vec![])
            .await
            .unwrap(),
    )
    .unwrap();
    crate::helpers::client()
        .get(url)
        .header("cookie", cookies.join("; "))
        .header("user-agent", user_agent)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn find(c: &Client, css: &str) -> fantoccini::elements::Element {
    match c.wait().at_most(STEP).for_element(Locator::Css(css)).await {
        Ok(e) => e,
        Err(e) => {
            let html = c.source().await.unwrap_or_default();
            panic!("`{css}` did not appear: {e}\n{html}")
        }
    }
}

async fn wait_for_path(c: &Client, prefix: &str) {
    let started = Instant::now();
    loop {
        let path = c.current_url().await.unwrap().path().to_owned();
        if path.starts_with(prefix) {
            return;
        }
        assert!(started.elapsed() < STEP, "at {path}, not {prefix}…");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------- the login ----------

/// The phone's answer, signed with a key of the tests' own CA whose certificate names the
/// person `HOSTILE` and their organisation `HOSTILE`.
async fn hostile_signature_confirms(stack: &DiiaStack, login: PendingLoginId) {
    let hash = stack.pending(login).await.request_hash;
    let signer = stack
        .own_ca
        .issue_with(
            &TestIdentitySpec {
                full_name: HOSTILE.to_owned(),
                surname: HOSTILE.to_owned(),
                given_name: HOSTILE.to_owned(),
                rnokpp: Rnokpp::parse("3184710691").unwrap(),
                edrpou: None,
                organization: Some(HOSTILE.to_owned()),
                title: Some(HOSTILE.to_owned()),
            },
            now() - time::Duration::days(1),
            now() + time::Duration::days(30),
            KeyKind::Dstu4145(DstuCurve::M431),
        )
        .unwrap();
    let p7s = signer.sign_hash_cades(&hash.digest(), now()).unwrap();
    let response = stack
        .post_callback(hash.as_str(), encode_data(hash.as_str(), Some(&p7s), None))
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// A second gateway on the same database whose `/reports` the person may not open (the
/// "not allowed" page is the cabinet's space's, which the first gateway, without routes, has
/// none of: its `/` is the signed-in page).
async fn gateway_with_a_refusing_route(stack: &DiiaStack) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut settings = stack.settings.clone();
    let own = settings_for(&listener);
    settings.server.listen = own.server.listen;
    settings.server.base_url = own.server.base_url;
    let mut reports = route("/reports", "http://127.0.0.1:9/");
    reports.allow.edrpou = vec!["40123454".to_owned()];
    settings.routes.insert("reports".to_owned(), reports);
    spawn_app_on(listener, settings).await
}

/// Every page the folder can replace, in Chromium, with hostile input from every source: the
/// folder's own versions of them.
#[tokio::test]
async fn browser_e2e_hostile_values_are_text_on_every_page_of_the_organisations_folder() {
    let folder = hostile_folder();
    walk_every_page(Pages::Own, Some(folder.0.clone())).await;
}

/// The same walk through kepgate's built-in pages.
#[tokio::test]
async fn browser_e2e_hostile_values_are_text_on_every_built_in_page() {
    walk_every_page(Pages::BuiltIn, None).await;
}

async fn walk_every_page(pages: Pages, folder: Option<std::path::PathBuf>) {
    let (stack, _) = spawn_diia_stack_configured(false, move |s| {
        hostile_settings(s);
        s.ui.pages_dir = folder;
    })
    .await;
    let refusing = gateway_with_a_refusing_route(&stack).await;
    let app = &stack.app;
    let driver = Chromedriver::start().await;
    let desktop = driver
        .open_with(
            Device::Desktop,
            true,
            "uk-UA,uk",
            &[format!("--user-agent={HOSTILE_UA}")],
        )
        .await;
    let phone = driver.open(Device::Phone, true, "uk-UA,uk").await;
    let chrome_values = [
        ("chrome.service_name", HOSTILE),
        ("chrome.brand.organization", HOSTILE),
        ("chrome.brand.support", HOSTILE),
        ("chrome.brand.footer", HOSTILE),
    ];
    let with_chrome = |more: &[(&'static str, &'static str)]| {
        let mut all = chrome_values.to_vec();
        all.extend_from_slice(more);
        all
    };

    // The login page: the return path and a query of the attacker's (the language switch's way
    // back), the provider's name.
    let rd: String = url::form_urlencoded::byte_serialize(HOSTILE_RD.as_bytes()).collect();
    let q: String = url::form_urlencoded::byte_serialize(HOSTILE.as_bytes()).collect();
    desktop
        .goto(&app.own(&format!("/login?rd={rd}&notice={q}&q={q}")))
        .await
        .unwrap();
    assert_shown_literally(
        &desktop,
        pages,
        "login.html",
        &with_chrome(&[("return_path", "/back'"), ("providers.name", HOSTILE)]),
    )
    .await;

    // The waiting page.
    find(&desktop, "#start-button").await.click().await.unwrap();
    wait_for_path(&desktop, &app.own_path("/login/wait/")).await;
    assert_shown_literally(
        &desktop,
        pages,
        "wait.html",
        &with_chrome(&[("provider_name", HOSTILE)]),
    )
    .await;
    let qr_drawn: bool = serde_json::from_value(
        desktop
            .execute("return !!document.querySelector('#qr svg');", vec![])
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(qr_drawn, "kepgate's own markup (the QR code) stays markup");
    let link = find(&desktop, "#deeplink")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let login_id: uuid::Uuid = desktop
        .current_url()
        .await
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // The phone's check page, with the service's name.
    phone.goto(&link).await.unwrap();
    assert_shown_literally(
        &phone,
        pages,
        "phone_check.html",
        &with_chrome(&[("service_name", HOSTILE)]),
    )
    .await;

    // Signed in with a certificate whose name and organisation are hostile: the built-in
    // waiting page hears it and goes on by itself, the folder's has no script.
    hostile_signature_confirms(&stack, PendingLoginId(login_id)).await;
    if pages == Pages::Own {
        find(&desktop, "#continue").await.click().await.unwrap();
    }
    assert_shown_literally(
        &desktop,
        pages,
        "signed_in.html",
        &with_chrome(&[
            ("full_name", HOSTILE),
            ("organization", HOSTILE),
            ("provider", HOSTILE),
        ]),
    )
    .await;

    // «Мої сеанси»: the device from the User-Agent.
    desktop.goto(&app.own("/me")).await.unwrap();
    assert_shown_literally(
        &desktop,
        pages,
        "me.html",
        &with_chrome(&[
            ("full_name", HOSTILE),
            ("sessions.device", HOSTILE_UA),
            ("sessions.provider", HOSTILE),
            ("history.device", HOSTILE_UA),
        ]),
    )
    .await;

    // Not allowed on a route of the other gateway (same session, same database).
    desktop
        .goto(&refusing.url(&format!("/reports?q={q}")))
        .await
        .unwrap();
    assert_shown_literally(
        &desktop,
        pages,
        "not_allowed.html",
        &with_chrome(&[("full_name", HOSTILE)]),
    )
    .await;

    // The phone opens the link again: the login is over.
    phone.goto(&link).await.unwrap();
    assert_shown_literally(&phone, pages, "phone_notice.html", &with_chrome(&[])).await;

    // An error page, with the attacker's query.
    desktop
        .goto(&app.own(&format!("/no-such-page?q={q}")))
        .await
        .unwrap();
    assert_shown_literally(&desktop, pages, "error.html", &with_chrome(&[])).await;

    let _ = desktop.close().await;
    let _ = phone.close().await;
}
