//! id.gov.ua as a second provider: the gateway, the cabinet and the id.gov.ua emulator over real
//! HTTP, a browser of the tests' own walking the redirect, and the attacks on it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kepgate::config::{IdGovUaMethod, IdGovUaSettings, ProviderCommon, ProviderSettings, Settings};
use kepgate_emulator::idgovua::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, IdGovUaEmulator, IdGovUaSettings as EmulatorSettings,
    RegisteredClient,
};
use secrecy::SecretString;
use tokio::net::TcpListener;
use url::Url;

use crate::browser::{Browser, csrf_of};
use crate::proxy::{CabinetStack, echo, spawn_cabinet_stack};
use crate::sign_in::{DIRECTOR, sign_in};

pub const IDGOVUA: &str = "idgovua";
/// Where the tests' logins want to go: a page only the director's company may see.
const REPORT: &str = "/reports/2026?tab=vat";

pub struct IdGovStack {
    pub env: CabinetStack,
    /// The emulator's base URL, `http://127.0.0.1:port/`.
    pub idgov: Url,
    pub http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub fn idgovua_settings(base: &Url, secret: &str) -> IdGovUaSettings {
    IdGovUaSettings {
        common: ProviderCommon {
            display_name: "id.gov.ua".to_owned(),
            display_name_en: None,
            order: 1,
            callback_secret: None,
            callback_allowed_ips: vec![],
            request_ttl: Duration::from_secs(300),
            http_timeout: Duration::from_secs(2),
            http_retries: 0,
            ca_file: None,
            allow_http: false,
        },
        base_url: base.clone(),
        client_id: DEMO_CLIENT_ID.to_owned(),
        client_secret: SecretString::from(secret.to_owned()),
        methods: IdGovUaMethod::ALL.to_vec(),
    }
}

/// The cabinet stack (Diia included) with id.gov.ua beside it, as `configure` leaves it.
pub async fn spawn_idgovua_stack(configure: impl FnOnce(&mut Settings)) -> IdGovStack {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    spawn_idgovua_stack_on(listener, configure).await
}

/// As [`spawn_idgovua_stack`], the emulator on `listener`.
pub async fn spawn_idgovua_stack_on(
    listener: TcpListener,
    configure: impl FnOnce(&mut Settings),
) -> IdGovStack {
    let addr = listener.local_addr().unwrap();
    let idgov: Url = format!("http://{addr}/").parse().unwrap();
    let redirect = Arc::new(Mutex::new(None));
    let env = spawn_cabinet_stack(|s, _| {
        s.providers.insert(
            IDGOVUA.to_owned(),
            ProviderSettings::IdGovUa(idgovua_settings(&idgov, DEMO_CLIENT_SECRET)),
        );
        *redirect.lock().unwrap() =
            Some(kepgate::provider::registry::return_url(&s.server, IDGOVUA).unwrap());
        configure(s);
    })
    .await;
    let redirect_uri = redirect.lock().unwrap().clone().unwrap();
    let emulator = IdGovUaEmulator::build_on(
        EmulatorSettings::new(addr, idgov.clone(), RegisteredClient::demo(redirect_uri)),
        listener,
    )
    .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(emulator.run(async move {
        let _ = stopped.await;
    }));
    IdGovStack {
        env,
        idgov,
        http: crate::helpers::client(),
        _stop: stop,
    }
}

impl IdGovStack {
    pub fn browser(&self) -> Browser {
        Browser::new(&self.env.stack.app)
    }

    /// «Увійти через id.gov.ua» on the login page: the gateway's redirect to id.gov.ua.
    pub async fn start(&self, browser: &mut Browser) -> Url {
        let page = browser
            .get(&browser.own(&format!("/login?rd={}", urlencode(REPORT))))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("data-button=\"Увійти через id.gov.ua\""),
            "{page}"
        );
        let csrf = csrf_of(&page);
        let started = browser
            .post_form(
                &browser.own("/login/start"),
                &[("csrf", &csrf), ("provider", IDGOVUA), ("rd", REPORT)],
            )
            .await;
        assert_eq!(started.status(), 303);
        let to: Url = started.headers()["location"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(to.as_str().starts_with(self.idgov.as_str()), "{to}");
        to
    }

    /// The person at id.gov.ua presses `action` («sign-in» or «cancel») having picked `method`
    /// and `identity`; where id.gov.ua sends the browser back (kepgate's return address).
    pub async fn at_idgovua(
        &self,
        authorize: &Url,
        method: &str,
        identity: &str,
        action: &str,
    ) -> Url {
        let page = self.http.get(authorize.clone()).send().await.unwrap();
        assert_eq!(page.status(), 200, "id.gov.ua's login page");
        let mut form: Vec<(String, String)> = authorize
            .query_pairs()
            .filter(|(k, _)| matches!(&**k, "client_id" | "redirect_uri" | "state" | "auth_type"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (k, v) in [
            ("method", method),
            ("identity", identity),
            ("action", action),
        ] {
            form.push((k.to_owned(), v.to_owned()));
        }
        let answer = self
            .http
            .post(self.idgov.join("authorize").unwrap())
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 303, "{}", answer.text().await.unwrap());
        answer.headers()["location"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// A new browser that started a login and did `action` at id.gov.ua as `identity` with
    /// `method`: the browser, and where id.gov.ua sends it back.
    pub async fn new_login(&self, method: &str, identity: &str, action: &str) -> (Browser, Url) {
        let mut browser = self.browser();
        let authorize = self.start(&mut browser).await;
        let back = self.at_idgovua(&authorize, method, identity, action).await;
        (browser, back)
    }

    /// A new browser signed in through id.gov.ua as `identity` with `method`, at the report.
    pub async fn sign_in(&self, method: &str, identity: &str) -> Browser {
        let (mut browser, back) = self.new_login(method, identity, "sign-in").await;
        let done = browser.get(back.as_str()).await;
        assert_eq!(done.status(), 303, "{}", done.text().await.unwrap());
        assert_eq!(done.headers()["location"], REPORT);
        browser
    }

    /// What the emulator received at its token and user-info endpoints.
    pub async fn requests_at_idgovua(&self) -> Vec<serde_json::Value> {
        let seen: serde_json::Value = self
            .http
            .get(self.idgov.join("emulator/requests").unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen.as_array()
            .or_else(|| seen["requests"].as_array())
            .cloned()
            .unwrap_or_default()
    }

    pub async fn fault(&self, delay_ms: u64, fail_status: Option<u16>) {
        let set = self
            .http
            .post(self.idgov.join("emulator/faults").unwrap())
            .json(&serde_json::json!({ "delay_ms": delay_ms, "fail_status": fail_status }))
            .send()
            .await
            .unwrap();
        assert!(set.status().is_success());
    }

    /// Every later user-info answer carries these values in these fields (an empty map: the
    /// people's own values again).
    pub async fn user_info_says(&self, fields: serde_json::Value) {
        let set = self
            .http
            .post(self.idgov.join("emulator/user-info").unwrap())
            .json(&fields)
            .send()
            .await
            .unwrap();
        assert!(set.status().is_success(), "{}", set.status());
    }

    /// The latest login's history rows: (event, reason).
    pub async fn history(&self) -> Vec<(String, Option<String>)> {
        sqlx::query_as(
            "SELECT event, reason FROM login_history WHERE pending_login_id =
               (SELECT id FROM pending_logins ORDER BY created_at DESC LIMIT 1) ORDER BY id",
        )
        .fetch_all(&self.env.stack.app.db)
        .await
        .unwrap()
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

const IDENTITY_HEADERS: [&str; 5] = [
    "x-kepgate-subject",
    "x-kepgate-name",
    "x-kepgate-rnokpp",
    "x-kepgate-edrpou",
    "x-kepgate-organization",
];

#[tokio::test]
async fn the_director_signs_in_through_idgovua_and_the_cabinet_sees_the_same_identity_as_through_diia()
 {
    let stack = spawn_idgovua_stack(|_| {}).await;
    let mut via_diia = sign_in(&stack.env.stack, DIRECTOR).await;
    let mut via_idgov = stack.sign_in("dig_sign", "director").await;
    // The report is the director's company's only: the policy admits them either way.
    let report = via_idgov.get(REPORT).await;
    assert_eq!(report.status(), 200);
    let diia = echo(&mut via_diia, "/echo", &[]).await;
    let idgov = echo(&mut via_idgov, "/echo", &[]).await;
    for name in IDENTITY_HEADERS {
        assert_eq!(
            diia["headers"][name], idgov["headers"][name],
            "{name}: {diia} / {idgov}"
        );
        assert!(idgov["headers"][name].is_string(), "{name}: {idgov}");
    }
    assert_eq!(idgov["headers"]["x-kepgate-provider"], IDGOVUA);
    assert_eq!(idgov["assertion_verified"], true);
    assert_eq!(idgov["assertion"]["provider"], IDGOVUA);
    // How each signed in: kepgate's own check of the signature, or id.gov.ua's.
    assert_eq!(diia["headers"]["x-kepgate-auth-method"], "kep");
    assert_eq!(idgov["headers"]["x-kepgate-auth-method"], "dig_sign");
    // Which method the person used is in the history.
    let history = stack.history().await;
    assert!(
        history.contains(&(
            "confirmed".to_owned(),
            Some("auth_type:dig_sign".to_owned())
        )),
        "{history:?}"
    );
    assert!(
        history.iter().any(|(event, _)| event == "completed"),
        "{history:?}"
    );
    // The token, the user info and the logout at id.gov.ua, each POSTed as a form: the secret
    // never in a URL.
    let requests = stack.requests_at_idgovua().await;
    let token = requests
        .iter()
        .find(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("get-access-token"))
        })
        .expect("a token request");
    assert_eq!(token["method"], "POST", "{token}");
    let in_query = token["query"].as_array().cloned().unwrap_or_default();
    assert!(!in_query.contains(&"client_secret".into()), "{token}");
}

#[tokio::test]
async fn a_forged_state_finds_no_login_and_spends_no_code() {
    let stack = spawn_idgovua_stack(|_| {}).await;
    let (mut browser, back) = stack.new_login("dig_sign", "director", "sign-in").await;
    let code = query(&back, "code").unwrap();
    let forged = [
        // The right form, but no login of kepgate's.
        format!("state={}", "A".repeat(43)),
        // Not even the form kepgate writes.
        "state=%3Cscript%3E".to_owned(),
        String::new(),
    ];
    for state in forged {
        let page = browser
            .get(&browser.own(&format!("/login/return/{IDGOVUA}?code={code}&{state}")))
            .await;
        assert!(
            matches!(page.status().as_u16(), 400 | 404),
            "{state}: {}",
            page.status()
        );
        assert!(!browser.cookies.keys().any(|k| k.contains("session")));
    }
    assert!(
        stack.requests_at_idgovua().await.is_empty(),
        "no code was exchanged"
    );
    // The real return still works: nothing was spent.
    let done = browser.get(back.as_str()).await;
    assert_eq!(done.status(), 303);
}

#[tokio::test]
async fn another_browsers_return_is_refused_before_its_code_is_spent() {
    let stack = spawn_idgovua_stack(|_| {}).await;
    let (mut starter, back) = stack.new_login("dig_sign", "director", "sign-in").await;
    // An attacker's return address, opened in the victim's browser (login CSRF), or a return
    // address stolen from the starter and opened elsewhere: neither started this login.
    let mut other = stack.browser();
    let refused = other.get(back.as_str()).await;
    assert_eq!(refused.status(), 403);
    assert!(!other.cookies.keys().any(|k| k.contains("session")));
    assert!(stack.requests_at_idgovua().await.is_empty());
    let done = starter.get(back.as_str()).await;
    assert_eq!(done.status(), 303, "the starter still signs in");
}

#[tokio::test]
async fn a_replayed_return_signs_nobody_in_again() {
    let stack = spawn_idgovua_stack(|_| {}).await;
    let (mut browser, back) = stack.new_login("dig_sign", "director", "sign-in").await;
    assert_eq!(browser.get(back.as_str()).await.status(), 303);
    let exchanged = stack.requests_at_idgovua().await.len();
    // The same return again, in the same browser: the login is spent, the code not sent again.
    let again = browser.get(back.as_str()).await;
    assert!(
        matches!(again.status().as_u16(), 403 | 409),
        "{}",
        again.status()
    );
    assert!(
        again
            .headers()
            .get("set-cookie")
            .is_none_or(|c| !c.to_str().unwrap().contains("session"))
    );
    assert_eq!(stack.requests_at_idgovua().await.len(), exchanged);
    // A code swapped into another login of the same browser: id.gov.ua refuses a spent code.
    let authorize = stack.start(&mut browser).await;
    let fresh = stack
        .at_idgovua(&authorize, "dig_sign", "person", "sign-in")
        .await;
    let mut swapped = fresh.clone();
    let old_code = query(&back, "code").unwrap();
    let state = query(&fresh, "state").unwrap();
    swapped
        .query_pairs_mut()
        .clear()
        .append_pair("code", &old_code)
        .append_pair("state", &state);
    let page = browser.get(swapped.as_str()).await;
    assert_eq!(page.status(), 409, "a spent code is refused by id.gov.ua");
    let text = page.text().await.unwrap();
    assert!(text.contains("Вхід не завершено"), "{text}");
    assert!(text.contains("Почніть вхід знову"), "{text}");
    assert!(!text.contains("Шевченко") && !text.contains("Коваленко"));
}

#[tokio::test]
async fn cancelling_at_idgovua_declines_the_login_and_offers_a_new_start() {
    let stack = spawn_idgovua_stack(|_| {}).await;
    let (mut browser, back) = stack.new_login("dig_sign", "director", "cancel").await;
    assert_eq!(query(&back, "error").as_deref(), Some("access_denied"));
    let page = browser.get(back.as_str()).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Вхід скасовано на сторінці провайдера."),
        "{html}"
    );
    assert!(html.contains("provider=idgovua"), "a new start: {html}");
    let history = stack.history().await;
    assert!(
        history.contains(&(
            "declined".to_owned(),
            Some("cancelled:access_denied".to_owned())
        )),
        "{history:?}"
    );
}

#[tokio::test]
async fn a_slow_or_failing_idgovua_fails_the_login_with_a_clear_message() {
    let stack = spawn_idgovua_stack(|_| {}).await;
    for (delay_ms, fail_status, says, reason) in [
        (3_000, None, "Провайдер не відповідає", "provider_timeout"),
        (
            0,
            Some(503),
            "Провайдер зараз недоступний",
            "provider_unavailable",
        ),
    ] {
        let (mut browser, back) = stack.new_login("dig_sign", "director", "sign-in").await;
        stack.fault(delay_ms, fail_status).await;
        let page = browser.get(back.as_str()).await;
        assert_eq!(page.status(), 502, "{reason}");
        let html = page.text().await.unwrap();
        assert!(html.contains(says), "{reason}: {html}");
        // The page's links (the language switch) never carry the single-use code.
        let code = back.query_pairs().find(|(k, _)| k == "code").unwrap().1;
        assert!(
            code.len() >= 16 && !html.contains(&*code),
            "{reason}: {html}"
        );
        assert!(!browser.cookies.keys().any(|k| k.contains("session")));
        let history = stack.history().await;
        assert!(
            history.contains(&("refused".to_owned(), Some(reason.to_owned()))),
            "{history:?}"
        );
        stack.fault(0, None).await;
    }
}

#[tokio::test]
async fn a_slow_logout_at_idgovua_does_not_cost_the_login_and_still_happens() {
    // Token and user info each just under `http_timeout` (2 s) fit in `request_timeout`, as
    // check-config promises; a third call as slow inside the return (before: the logout) did not.
    let stack =
        spawn_idgovua_stack(|s| s.server.request_timeout = Duration::from_millis(4_200)).await;
    let (mut browser, back) = stack.new_login("dig_sign", "director", "sign-in").await;
    let set = stack
        .http
        .post(stack.idgov.join("emulator/faults").unwrap())
        .json(&serde_json::json!({ "delay_ms": 1_500, "logout_delay_ms": 1_500 }))
        .send()
        .await
        .unwrap();
    assert!(set.status().is_success());
    let done = browser.get(back.as_str()).await;
    assert_eq!(done.status(), 303, "{}", done.text().await.unwrap());
    assert_eq!(done.headers()["location"], REPORT);
    let report = browser.get(REPORT).await;
    assert_eq!(report.status(), 200);
    // The person's session at id.gov.ua is still ended, after the return.
    let mut logged_out = false;
    for _ in 0..50 {
        logged_out = stack.requests_at_idgovua().await.iter().any(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("get-user-logout"))
        });
        if logged_out {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(logged_out, "no logout reached id.gov.ua");
}

#[tokio::test]
async fn an_error_answer_from_idgovua_is_a_refusal_not_a_sign_in() {
    // A client secret id.gov.ua does not accept: its token endpoint answers with an error.
    let stack = spawn_idgovua_stack(|s| {
        if let Some(ProviderSettings::IdGovUa(p)) = s.providers.get_mut(IDGOVUA) {
            p.client_secret = SecretString::from("not-the-secret".to_owned());
        }
    })
    .await;
    let (mut browser, back) = stack.new_login("dig_sign", "director", "sign-in").await;
    let page = browser.get(back.as_str()).await;
    assert_eq!(page.status(), 502);
    // The operator's mistake, not a passing fault: no "try again in a minute".
    let html = page.text().await.unwrap();
    assert!(html.contains("Зверніться до адміністратора"), "{html}");
    assert!(!html.contains("Спробуйте"), "{html}");
    assert!(!browser.cookies.keys().any(|k| k.contains("session")));
    let history = stack.history().await;
    assert!(
        history.contains(&("refused".to_owned(), Some("client_refused".to_owned()))),
        "{history:?}"
    );
}

#[tokio::test]
async fn a_passport_number_is_not_a_rnokpp_and_without_a_certificate_nobody_signs_in() {
    let stack = spawn_idgovua_stack(|_| {}).await;
    // With a key: known by the certificate, no РНОКПП header.
    let (mut with_key, back) = stack.new_login("dig_sign", "passport", "sign-in").await;
    assert_eq!(with_key.get(back.as_str()).await.status(), 303);
    let seen = echo(&mut with_key, "/echo", &[]).await;
    let headers = &seen["headers"];
    assert!(headers.get("x-kepgate-rnokpp").is_none(), "{headers}");
    assert!(
        headers["x-kepgate-subject"]
            .as_str()
            .unwrap()
            .starts_with("cert:"),
        "{headers}"
    );
    // With BankID: no РНОКПП and no certificate, nothing to know the person by.
    let (mut bank, back) = stack.new_login("bank_id", "passport", "sign-in").await;
    let page = bank.get(back.as_str()).await;
    assert_eq!(page.status(), 422);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Провайдер не повідомив ні РНОКПП, ні сертифіката"),
        "{html}"
    );
    assert!(!bank.cookies.keys().any(|k| k.contains("session")));
}

/// id.gov.ua's user info is unsigned: what it (or whoever stands between) says about the person
/// reaches the cabinet's headers, the ID tokens and the administrators' terminal. A NUL made the
/// return a 500 "database query failed" with the code spent and the login pending for ever;
/// terminal escapes, line breaks and bidi overrides were stored and shown as they came.
#[tokio::test]
async fn a_name_from_idgovua_that_is_not_text_fails_the_login_at_once_and_says_why() {
    let stack = spawn_idgovua_stack(|_| {}).await;
    let too_long = "я".repeat(257);
    for (what, field, value) in [
        ("NUL in the name", "subjectcn", "Коваленко\0Олена Петрівна"),
        (
            "a terminal escape in the name",
            "subjectcn",
            "\u{1b}]0;pwned\u{7}\u{1b}[2JКоваленко Олена Петрівна",
        ),
        (
            "a forged line in the surname",
            "lastname",
            "Коваленко\r\n2026-01-01T00:00:00Z  completed  idgovua  Інша Особа",
        ),
        ("a C1 escape in the organisation", "o", "ТОВ\u{9b}2J"),
        ("a bidi override in the title", "title", "\u{202E}ротиреД"),
        ("NUL in the issuer", "issuer", "O=Надавач;CN=КНЕДП\0;C=UA"),
        ("a name of 257 characters", "subjectcn", too_long.as_str()),
    ] {
        stack
            .user_info_says(serde_json::json!({ field: value }))
            .await;
        let (mut browser, back) = stack.new_login("dig_sign", "director", "sign-in").await;
        let page = browser.get(back.as_str()).await;
        assert_eq!(page.status(), 422, "{what}");
        let html = page.text().await.unwrap();
        assert!(
            html.contains("містять недопустимі символи"),
            "{what}: the person is told why: {html}"
        );
        assert!(
            !browser.cookies.keys().any(|k| k.contains("session")),
            "{what}"
        );
        let history = stack.history().await;
        assert!(
            history.contains(&("refused".to_owned(), Some("unusable_name".to_owned()))),
            "{what}: the login failed at once: {history:?}"
        );
    }
    // The director's own answer signs in again.
    stack.user_info_says(serde_json::json!({})).await;
    stack.sign_in("dig_sign", "director").await;
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn the_json_api_sends_a_script_to_idgovua_and_the_browser_comes_back_signed_in() {
    let stack = spawn_idgovua_stack(|_| {}).await;
    let mut browser = stack.browser();
    let started = browser
        .post_json(
            &browser.own("/api/login"),
            serde_json::json!({ "provider": IDGOVUA, "return_path": REPORT }),
        )
        .await;
    assert_eq!(started.status(), 201);
    let answer: serde_json::Value = started.json().await.unwrap();
    assert!(
        answer["link"].is_null() && answer["qr_url"].is_null(),
        "{answer}"
    );
    let authorize: Url = answer["redirect"].as_str().unwrap().parse().unwrap();
    assert_eq!(query(&authorize, "response_type").as_deref(), Some("code"));
    assert_eq!(
        query(&authorize, "client_id").as_deref(),
        Some(DEMO_CLIENT_ID)
    );
    assert_eq!(
        query(&authorize, "auth_type").as_deref(),
        Some("dig_sign,diia_id,bank_id")
    );
    let back = stack
        .at_idgovua(&authorize, "diia_id", "director", "sign-in")
        .await;
    let done = browser.get(back.as_str()).await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], REPORT);
    let history = stack.history().await;
    assert!(
        history.contains(&("confirmed".to_owned(), Some("auth_type:diia_id".to_owned()))),
        "{history:?}"
    );
}

/// `authorize` with its `auth_type` replaced, as a browser can: the request travels through it.
fn asking_for(authorize: &Url, auth_type: &str) -> Url {
    let pairs: Vec<(String, String)> = authorize
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "auth_type" {
                auth_type.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    let mut tampered = authorize.clone();
    tampered.query_pairs_mut().clear().extend_pairs(pairs);
    tampered
}

#[tokio::test]
async fn a_method_the_operator_did_not_allow_is_refused_though_the_browser_asked_idgovua_for_it() {
    let stack = spawn_idgovua_stack(|s| {
        if let Some(ProviderSettings::IdGovUa(p)) = s.providers.get_mut(IDGOVUA) {
            p.methods = vec![IdGovUaMethod::DigSign, IdGovUaMethod::DiiaId];
        }
    })
    .await;
    let mut browser = stack.browser();
    let authorize = stack.start(&mut browser).await;
    assert_eq!(
        query(&authorize, "auth_type").as_deref(),
        Some("dig_sign,diia_id")
    );
    // The browser carries the request to id.gov.ua and asks for BankID instead.
    let back = stack
        .at_idgovua(
            &asking_for(&authorize, "bank_id"),
            "bank_id",
            "director",
            "sign-in",
        )
        .await;
    let page = browser.get(back.as_str()).await;
    assert_eq!(page.status(), 403);
    let html = page.text().await.unwrap();
    assert!(html.contains("Цей спосіб входу тут не дозволено"), "{html}");
    assert!(html.contains("provider=idgovua"), "a new start: {html}");
    assert!(!browser.cookies.keys().any(|k| k.contains("session")));
    let history = stack.history().await;
    assert!(
        history.contains(&(
            "refused".to_owned(),
            Some("method_not_allowed:bank_id".to_owned())
        )),
        "{history:?}"
    );
    // An allowed method still signs in.
    let authorize = stack.start(&mut browser).await;
    let back = stack
        .at_idgovua(&authorize, "diia_id", "director", "sign-in")
        .await;
    assert_eq!(browser.get(back.as_str()).await.status(), 303);
}

#[tokio::test]
async fn the_method_reaches_the_cabinet_the_assertion_and_acr_and_routes_and_clients_can_require_a_signature()
 {
    use crate::oidc::{AuthRequest, RP, RP_REDIRECT, RP_SECRET, SPA, authorize, param};
    let stack = spawn_idgovua_stack(|s| {
        let cabinet = s.routes["cabinet"].upstream.to_string();
        let mut signed = crate::proxy::route("/signed", &cabinet);
        signed.allow.qualified_signature = true;
        s.routes.insert("signed".to_owned(), signed);
        s.oidc.enabled = true;
        let mut rp = crate::oidc::client(RP_REDIRECT);
        rp.secret_sha256 = Some(crate::oidc::secret_hash(RP_SECRET));
        s.oidc.clients.insert(RP.to_owned(), rp);
        let mut strict = crate::oidc::client(RP_REDIRECT);
        strict.allow.qualified_signature = true;
        s.oidc.clients.insert(SPA.to_owned(), strict);
    })
    .await;
    let refused_by_policy = |status: u16| status == 403;
    let mut via_diia = sign_in(&stack.env.stack, DIRECTOR).await;
    let seen = echo(&mut via_diia, "/echo", &[]).await;
    assert_eq!(seen["headers"]["x-kepgate-auth-method"], "kep");
    assert_eq!(seen["assertion"]["auth_method"], "kep");
    assert!(!refused_by_policy(
        via_diia.get("/signed/echo").await.status().as_u16()
    ));
    for (method, qualified) in [("dig_sign", true), ("diia_id", true), ("bank_id", false)] {
        let mut browser = stack.sign_in(method, "director").await;
        // A client's own copy of the header, in either spelling, is never what the cabinet sees.
        let seen = echo(
            &mut browser,
            "/echo",
            &[
                ("x-kepgate-auth-method", "kep"),
                ("x_kepgate_auth_method", "kep"),
            ],
        )
        .await;
        let headers = &seen["headers"];
        assert_eq!(headers["x-kepgate-auth-method"], method, "{headers}");
        assert!(headers.get("x_kepgate_auth_method").is_none(), "{headers}");
        assert_eq!(seen["assertion_verified"], true);
        assert_eq!(seen["assertion"]["auth_method"], method, "{seen}");
        let signed = browser.get("/signed/echo").await.status().as_u16();
        assert_eq!(refused_by_policy(signed), !qualified, "{method}: {signed}");

        let request = AuthRequest::new(RP);
        let back = authorize(&mut browser, &request).await;
        let code = param(&back, "code").unwrap_or_else(|| panic!("{back}"));
        let answer = crate::oidc::tokens(&browser, &request, &code, Some(RP_SECRET), false).await;
        let claims =
            crate::oidc::verified_id_token(&browser, answer["id_token"].as_str().unwrap(), RP)
                .await;
        assert_eq!(claims["amr"], serde_json::json!(["idgovua", method]));
        let acr = if qualified {
            "urn:kepgate:acr:idgovua:qualified-signature"
        } else {
            "urn:kepgate:acr:idgovua"
        };
        assert_eq!(claims["acr"], acr);
        let back = authorize(&mut browser, &AuthRequest::new(SPA)).await;
        assert_eq!(
            param(&back, "error").as_deref(),
            (!qualified).then_some("access_denied"),
            "{method}: {back}"
        );
    }
}

#[tokio::test]
async fn the_same_return_twice_at_once_spends_the_code_once_and_signs_the_person_in() {
    let stack = spawn_idgovua_stack(|_| {}).await;
    let (mut browser, back) = stack.new_login("dig_sign", "director", "sign-in").await;
    // id.gov.ua is slow, and the person reloads the page (or clicks twice) meanwhile.
    stack.fault(500, None).await;
    let cookie = browser.cookie_header();
    let returning = |after_ms: u64| {
        let request = browser
            .http
            .get(back.as_str())
            .header("cookie", cookie.clone());
        async move {
            tokio::time::sleep(Duration::from_millis(after_ms)).await;
            request.send().await.unwrap()
        }
    };
    let (first, second) = tokio::join!(returning(0), returning(150));
    stack.fault(0, None).await;
    let mut sessions = 0;
    for answer in [&first, &second] {
        assert_eq!(answer.status(), 303, "{:?}", answer.headers());
        assert_eq!(answer.headers()["location"], REPORT);
        sessions += answer
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter(|c| c.to_str().unwrap().contains("session="))
            .count();
        browser.remember(answer);
    }
    assert_eq!(sessions, 1, "one session for one login");
    assert_eq!(browser.get(REPORT).await.status(), 200, "signed in");
    let history = stack.history().await;
    assert!(
        !history.iter().any(|(event, _)| event == "refused"),
        "{history:?}"
    );
    assert!(
        history.iter().any(|(event, _)| event == "completed"),
        "{history:?}"
    );
    let token_requests = stack
        .requests_at_idgovua()
        .await
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("get-access-token"))
        })
        .count();
    assert_eq!(token_requests, 1, "the code left kepgate once");
}

#[tokio::test]
async fn a_spent_or_expired_code_says_start_again_and_a_new_start_signs_in() {
    let stack = spawn_idgovua_stack(|_| {}).await;
    let (mut browser, back) = stack.new_login("dig_sign", "director", "sign-in").await;
    let expired = stack
        .http
        .post(stack.idgov.join("emulator/codes/expire").unwrap())
        .send()
        .await
        .unwrap();
    assert!(expired.status().is_success());
    let page = browser.get(back.as_str()).await;
    assert_eq!(page.status(), 409);
    let html = page.text().await.unwrap();
    assert!(html.contains("Почніть вхід знову"), "{html}");
    assert!(!html.contains("недоступний"), "not an outage: {html}");
    assert!(html.contains("provider=idgovua"), "a new start: {html}");
    let history = stack.history().await;
    assert!(
        history.contains(&("refused".to_owned(), Some("code_refused".to_owned()))),
        "{history:?}"
    );
    let authorize = stack.start(&mut browser).await;
    let back = stack
        .at_idgovua(&authorize, "dig_sign", "director", "sign-in")
        .await;
    assert_eq!(browser.get(back.as_str()).await.status(), 303);
}

#[tokio::test]
async fn an_idgovua_only_gateway_does_not_say_at_start_that_every_signature_will_be_refused() {
    use crate::helpers::{client, fresh_database_url, kepgate_bin, spawn_app};
    let dir = std::env::temp_dir().join(format!("kepgate-idgovua-only-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let admin = spawn_app().await;
    let (url, name) = fresh_database_url();
    let idgovua: &[(&str, &str)] = &[
        ("KEPGATE_PROVIDERS__IDGOVUA__KIND", "idgovua"),
        ("KEPGATE_PROVIDERS__IDGOVUA__DISPLAY_NAME", "id.gov.ua"),
        (
            "KEPGATE_PROVIDERS__IDGOVUA__BASE_URL",
            "https://test.id.gov.ua/",
        ),
        ("KEPGATE_PROVIDERS__IDGOVUA__CLIENT_ID", "client"),
        ("KEPGATE_PROVIDERS__IDGOVUA__CLIENT_SECRET", "secret"),
    ];
    let diia: &[(&str, &str)] = &[
        ("KEPGATE_PROVIDERS__DIIA__KIND", "diia"),
        ("KEPGATE_PROVIDERS__DIIA__DISPLAY_NAME", "Дія"),
        (
            "KEPGATE_PROVIDERS__DIIA__API_BASE_URL",
            "https://api2s.diia.gov.ua/",
        ),
        ("KEPGATE_PROVIDERS__DIIA__ACQUIRER_TOKEN", "token"),
        (
            "KEPGATE_PROVIDERS__DIIA__CALLBACK_SECRET",
            "0123456789abcdef0123456789abcdef",
        ),
    ];
    let mut logs = Vec::new();
    for (n, providers) in [idgovua.to_vec(), [idgovua, diia].concat()]
        .into_iter()
        .enumerate()
    {
        let port = crate::helpers::free_port();
        let address = format!("http://127.0.0.1:{port}");
        let log = dir.join(format!("gateway-{n}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let process = crate::processes::KillOnDrop(
            kepgate_bin()
                .arg("serve")
                .env("KEPGATE_DATABASE__URL", &url)
                .env("KEPGATE_DATABASE__CREATE_IF_MISSING", "true")
                .env("KEPGATE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
                .env("KEPGATE_SERVER__BASE_URL", format!("{address}/"))
                .env("KEPGATE_METRICS__ENABLED", "false")
                .envs(providers.iter().copied())
                .stdout(std::process::Stdio::from(file.try_clone().unwrap()))
                .stderr(std::process::Stdio::from(file))
                .spawn()
                .unwrap(),
        );
        let http = client();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let ready = http.get(format!("{address}/.kepgate/readyz")).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                break;
            }
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            assert!(std::time::Instant::now() < deadline, "not ready:\n{text}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        drop(process);
        logs.push(std::fs::read_to_string(&log).unwrap());
    }
    assert!(
        !logs[0].contains("will be refused"),
        "id.gov.ua verifies its own signatures: {}",
        logs[0]
    );
    assert!(
        logs[1].contains("trust.files is empty") && logs[1].contains("diia"),
        "Diia's signatures are kepgate's to verify: {}",
        logs[1]
    );
    admin
        .admin(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A login through an id.gov.ua test stand that serves https with a CA of its own (nginx with an
/// OpenSSL test CA in front of the emulator), with or without the CA as the provider's
/// `ca_file`: the status of the return.
async fn through_a_test_stand_with_its_own_ca(trusting_its_ca: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let emulator = listener.local_addr().unwrap();
    let mut https = String::new();
    let front = crate::upstreams::nginx_listening("ssl", |port, dir| {
        crate::test_pki::test_pki(dir);
        https = format!("https://127.0.0.1:{port}/");
        format!(
            "    ssl_certificate {d}/server.pem;\n    ssl_certificate_key {d}/server.key;\n    \
             location / {{ proxy_pass http://{emulator}; }}",
            d = dir.display()
        )
    })
    .await;
    let ca = front.dir().join("ca.pem");
    let stack = spawn_idgovua_stack_on(listener, |s| {
        if let Some(ProviderSettings::IdGovUa(p)) = s.providers.get_mut(IDGOVUA) {
            p.base_url = https.parse().unwrap();
            p.common.ca_file = trusting_its_ca.then(|| ca.clone());
        }
    })
    .await;
    let mut browser = stack.browser();
    let page = browser
        .get(&browser.own("/login"))
        .await
        .text()
        .await
        .unwrap();
    let started = browser
        .post_form(
            &browser.own("/login/start"),
            &[
                ("csrf", &csrf_of(&page)),
                ("provider", IDGOVUA),
                ("rd", REPORT),
            ],
        )
        .await;
    let to = started.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        to.starts_with(&https),
        "the browser goes to the stand: {to}"
    );
    // The test's own person at the stand: straight to the emulator behind it.
    let authorize: Url = to
        .replacen(&https, stack.idgov.as_str(), 1)
        .parse()
        .unwrap();
    let back = stack
        .at_idgovua(&authorize, "dig_sign", "director", "sign-in")
        .await;
    let status = browser.get(back.as_str()).await.status().as_u16();
    drop(front);
    status
}

#[tokio::test]
async fn a_test_stand_with_its_own_ca_is_reached_with_its_ca_file_and_refused_without() {
    assert_eq!(through_a_test_stand_with_its_own_ca(true).await, 303);
    assert_eq!(
        through_a_test_stand_with_its_own_ca(false).await,
        502,
        "an unknown CA is no id.gov.ua"
    );
}
