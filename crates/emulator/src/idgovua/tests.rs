//! The id.gov.ua emulator over real HTTP on loopback, driven the way the public clients named in
//! `wire.rs` drive the real service.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

use super::*;

/// Like the 32-hex-digit ids ІСЕІ issues.
const CLIENT_ID: &str = "0123456789abcdef0123456789abcdef";
const SECRET: &str = "test-client-secret";
const REDIRECT: &str = "https://rp.example/callback/idgovua?from=idgov";

/// The `fields` list of IIT's samples (the spec example).
const IIT_FIELDS: &str = "issuer,issuercn,serial,subject,subjectcn,locality,state,o,ou,title,lastname,middlename,givenname,email,address,phone,dns,edrpoucode,drfocode";

struct TestIdGov {
    base: Url,
    http: reqwest::Client,
    _stop: oneshot::Sender<()>,
}

async fn start() -> TestIdGov {
    start_with(|_| {}).await
}

async fn start_with(tweak: impl FnOnce(&mut IdGovUaSettings)) -> TestIdGov {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = IdGovUaSettings::new(
        addr,
        Url::parse(&format!("http://{addr}")).unwrap(),
        RegisteredClient {
            client_id: CLIENT_ID.to_owned(),
            client_secret: SECRET.to_owned(),
            redirect_uri: Url::parse(REDIRECT).unwrap(),
        },
    );
    tweak(&mut settings);
    let emulator = IdGovUaEmulator::build_on(settings, listener).unwrap();
    assert_eq!(emulator.local_addr().unwrap(), addr);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        emulator
            .run(async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    TestIdGov {
        base: Url::parse(&format!("http://{addr}/")).unwrap(),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        _stop: stop,
    }
}

fn with_query(mut url: Url, pairs: &[(&str, &str)]) -> Url {
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    url
}

fn query_map(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

fn location(resp: &reqwest::Response) -> Url {
    Url::parse(resp.headers()[LOCATION].to_str().unwrap()).unwrap()
}

/// The parts of the redirect that must be exactly the registered URI.
fn assert_back_at_client(url: &Url) {
    let registered = Url::parse(REDIRECT).unwrap();
    assert_eq!(url.origin(), registered.origin());
    assert_eq!(url.path(), registered.path());
    assert_eq!(
        query_map(url)["from"],
        "idgov",
        "the registered query is kept"
    );
}

impl TestIdGov {
    fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap()
    }

    /// The authorize URL in the spec example's parameter order, plus IIT's empty `scope`.
    fn authorize_url(&self, state: Option<&str>, auth_type: Option<&str>) -> Url {
        let mut pairs = vec![("response_type", "code"), ("client_id", CLIENT_ID)];
        if let Some(a) = auth_type {
            pairs.push(("auth_type", a));
        }
        if let Some(s) = state {
            pairs.push(("state", s));
        }
        pairs.push(("redirect_uri", REDIRECT));
        pairs.push(("scope", ""));
        with_query(self.base.clone(), &pairs)
    }

    async fn page(&self, url: Url) -> (StatusCode, String) {
        let resp = self.http.get(url).send().await.unwrap();
        assert!(resp.headers().get(LOCATION).is_none());
        let status = resp.status();
        (status, resp.text().await.unwrap())
    }

    /// Posts the login form as a browser would after the page was shown.
    async fn submit(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("authorize"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Opens the login page, picks `method` and `who`, presses «Увійти»; the redirect's query.
    async fn sign_in(
        &self,
        method: IdGovUaMethod,
        who: IdGovUaIdentity,
        state: Option<&str>,
    ) -> HashMap<String, String> {
        let auth_type = "dig_sign,diia_id,bank_id";
        let (status, html) = self.page(self.authorize_url(state, Some(auth_type))).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains(&format!(r#"name="method" value="{}""#, method.key())));
        assert!(html.contains(&format!(r#"name="identity" value="{}""#, who.key())));
        let mut form = vec![
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("auth_type", auth_type),
            ("method", method.key()),
            ("identity", who.key()),
            ("action", "sign-in"),
        ];
        if let Some(s) = state {
            form.push(("state", s));
        }
        let resp = self.submit(&form).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let url = location(&resp);
        assert_back_at_client(&url);
        query_map(&url)
    }

    async fn code(&self, method: IdGovUaMethod, who: IdGovUaIdentity) -> String {
        let q = self.sign_in(method, who, Some("xyz1234567890")).await;
        assert_eq!(q["state"], "xyz1234567890");
        let code = q["code"].clone();
        assert!(code.len() >= 32 && code.chars().all(|c| c.is_ascii_hexdigit()));
        code
    }

    /// The token request as diklz sends it: a form with all five parameters.
    async fn exchange_form(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(self.url("get-access-token"))
            .form(form)
            .send()
            .await
            .unwrap();
        json_of(resp).await
    }

    async fn exchange(&self, code: &str) -> (StatusCode, Value) {
        self.exchange_form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("code", code),
        ])
        .await
    }

    /// A token for `who` signed in by `method`: `(access_token, user_id)`.
    async fn token(&self, method: IdGovUaMethod, who: IdGovUaIdentity) -> (String, String) {
        let code = self.code(method, who).await;
        let (status, body) = self.exchange(&code).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_token_answer(&body)
    }

    /// User info by GET with a query string, as IIT's Node sample asks.
    async fn user_info(&self, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
        let url = with_query(self.url("get-user-info"), pairs);
        json_of(self.http.get(url).send().await.unwrap()).await
    }

    async fn info_of(&self, method: IdGovUaMethod, who: IdGovUaIdentity) -> Value {
        let (token, user_id) = self.token(method, who).await;
        let fields = format!("{IIT_FIELDS},unzr,surname,nonsense");
        let (status, body) = self
            .user_info(&[
                ("fields", &fields),
                ("user_id", &user_id),
                ("access_token", &token),
            ])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn recorded(&self) -> Vec<Value> {
        let resp = self
            .http
            .get(self.url("emulator/requests"))
            .send()
            .await
            .unwrap();
        let (_, body) = json_of(resp).await;
        body.as_array().unwrap().clone()
    }
}

async fn json_of(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let ct = resp
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    assert!(ct.starts_with("application/json"), "{status} {ct}: {text}");
    (status, serde_json::from_str(&text).unwrap())
}

/// The five keys every client reads; `(access_token, user_id)`.
fn assert_token_answer(body: &Value) -> (String, String) {
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap().to_owned();
    let refresh = body["refresh_token"].as_str().unwrap();
    for t in [token.as_str(), refresh] {
        assert!(
            t.len() >= 32 && t.chars().all(|c| c.is_ascii_hexdigit()),
            "{t}"
        );
    }
    let user_id = body["user_id"].as_str().unwrap().to_owned();
    assert!(user_id.parse::<u64>().is_ok(), "{user_id}");
    assert_eq!(body.as_object().unwrap().len(), 5, "{body}");
    (token, user_id)
}

/// An error answer: `error` a numeric string, Ukrainian `message` and `error_description`.
fn assert_error(status: StatusCode, body: &Value, want_status: StatusCode, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], code, "{body}");
    for key in ["message", "error_description"] {
        assert!(!body[key].as_str().unwrap().is_empty(), "{body}");
    }
}

fn s(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .to_owned()
}

// ---------- the login page ----------

#[tokio::test]
async fn idgovua_login_page_offers_the_requested_methods_and_every_person() {
    let emu = start().await;
    let url = with_query(
        emu.authorize_url(Some("st"), Some("dig_sign,diia_id,bank_id")),
        &[("lang", "ua")],
    );
    let (status, html) = emu.page(url).await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "Інтегрована система електронної ідентифікації · емулятор",
        r#"<link rel="icon" href="data:,">"#,
        r#"id="idgov-login""#,
        r#"action="/authorize""#,
        r#"id="sign-in""#,
        r#"id="cancel""#,
        "Увійти",
        "Скасувати",
        r#"name="method" value="dig_sign""#,
        r#"name="method" value="diia_id""#,
        r#"name="method" value="bank_id""#,
        "Файловий носій, токен або хмарний ключ",
        "Дія.Підпис",
        "BankID",
        r#"name="identity" value="person""#,
        r#"name="identity" value="director""#,
        r#"name="identity" value="passport""#,
        "Шевченко Тарас Григорович",
        "Коваленко Олена Петрівна",
        "Петренко Марія Іванівна",
        "40123454",
        r#"name="state" value="st""#,
    ] {
        assert!(html.contains(needle), "{needle} missing from the page");
    }

    // Only what auth_type names (unknown values skipped), in the page's order.
    let (_, html) = emu
        .page(emu.authorize_url(None, Some("bank_id,mobile_id")))
        .await;
    assert!(html.contains(r#"value="bank_id" checked"#));
    assert!(!html.contains(r#"value="dig_sign""#));
    assert!(!html.contains(r#"value="diia_id""#));
    assert!(!html.contains(r#"name="state""#));

    // No auth_type (IIT's samples, diklz): every method.
    let (status, html) = emu.page(emu.authorize_url(None, None)).await;
    assert_eq!(status, StatusCode::OK);
    for m in IdGovUaMethod::ALL {
        assert!(html.contains(&format!(r#"name="method" value="{}""#, m.key())));
    }
    assert!(!html.contains(r#"name="auth_type""#));
}

#[tokio::test]
async fn idgovua_page_escapes_what_the_client_sent() {
    let emu = start().await;
    let (status, html) = emu
        .page(emu.authorize_url(Some(r#""><script>alert(1)</script>"#), None))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("<script>"));
    // askama writes `&#60;` (or `&lt;`) for `<`.
    assert!(
        html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
        "{html}"
    );
}

#[tokio::test]
async fn idgovua_authorize_refuses_foreign_redirect_uri_with_a_page_not_a_redirect() {
    let emu = start().await;
    let good = emu.authorize_url(Some("st"), None);
    let swap = |key: &str, value: Option<&str>| {
        let pairs: Vec<(String, String)> = good
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| k != key)
            .collect();
        let mut url = emu.base.clone();
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in &pairs {
                q.append_pair(k, v);
            }
            if let Some(v) = value {
                q.append_pair(key, v);
            }
        }
        url
    };
    for (key, value, reason) in [
        (
            "redirect_uri",
            Some("https://evil.example/cb"),
            "не збігається",
        ),
        // Not exactly the registered string: no query.
        (
            "redirect_uri",
            Some("https://rp.example/callback/idgovua"),
            "не збігається",
        ),
        (
            "redirect_uri",
            Some("https://rp.example/callback/idgovua?from=idgov&x=1"),
            "не збігається",
        ),
        ("redirect_uri", None, "не вказано redirect_uri"),
        ("client_id", Some("someone-else"), "не зареєстровано"),
        ("client_id", None, "не вказано client_id"),
    ] {
        let (status, html) = emu.page(swap(key, value)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key}={value:?}");
        assert!(html.contains("Запит на вхід не прийнято"), "{html}");
        assert!(html.contains(reason), "{key}={value:?}: {html}");
    }

    // The form's hidden fields are checked again.
    let resp = emu
        .submit(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", "https://evil.example/cb"),
            ("method", "dig_sign"),
            ("identity", "person"),
            ("action", "sign-in"),
        ])
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get(LOCATION).is_none());
    let resp = emu
        .submit(&[
            ("client_id", "someone-else"),
            ("redirect_uri", REDIRECT),
            ("action", "cancel"),
        ])
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get(LOCATION).is_none());
}

#[tokio::test]
async fn idgovua_other_response_type_goes_back_with_an_error() {
    let emu = start().await;
    let mut url = emu.authorize_url(Some("s1"), None);
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == "response_type" {
                (k, "token".to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let resp = emu.http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let back = location(&resp);
    assert_back_at_client(&back);
    let q = query_map(&back);
    assert_eq!(q["error"], "unsupported_response_type");
    assert_eq!(q["state"], "s1");
    assert!(!q.contains_key("code"));
}

#[tokio::test]
async fn idgovua_cancel_goes_back_with_access_denied_and_the_state() {
    let emu = start().await;
    let state = "a b&c=d/é+";
    let resp = emu
        .submit(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("state", state),
            ("method", "dig_sign"),
            ("identity", "person"),
            ("action", "cancel"),
        ])
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let back = location(&resp);
    assert_back_at_client(&back);
    let q = query_map(&back);
    assert_eq!(q["error"], "access_denied");
    assert!(!q["error_description"].is_empty());
    assert_eq!(q["state"], state, "the state round-trips, encoded");
    assert!(!q.contains_key("code"));
}

#[tokio::test]
async fn idgovua_without_state_the_redirect_has_no_state() {
    let emu = start().await;
    let q = emu
        .sign_in(IdGovUaMethod::DigSign, IdGovUaIdentity::Person, None)
        .await;
    assert!(q.contains_key("code"));
    assert!(!q.contains_key("state"), "{q:?}");
    assert_eq!(q.len(), 2, "code and the registered `from`: {q:?}");
}

#[tokio::test]
async fn idgovua_method_outside_auth_type_is_refused() {
    let emu = start().await;
    let resp = emu
        .submit(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("auth_type", "bank_id"),
            ("method", "dig_sign"),
            ("identity", "person"),
            ("action", "sign-in"),
        ])
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get(LOCATION).is_none());
}

// ---------- the public clients' request shapes ----------

/// IIT's PHP sample: curl POST, parameters in the query string, `Content-Type: application/json`,
/// no body; user info the same way (without `cert`: the emulator does not encrypt).
#[tokio::test]
async fn idgovua_iit_php_sample_post_with_query_and_json_content_type() {
    let emu = start().await;
    let code = emu
        .code(IdGovUaMethod::DigSign, IdGovUaIdentity::Person)
        .await;
    let url = with_query(
        emu.url("get-access-token"),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("code", &code),
        ],
    );
    let resp = emu
        .http
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header("user-agent", "iit.oauth-client")
        .body("")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (token, user_id) = assert_token_answer(&body);

    let url = with_query(
        emu.url("get-user-info"),
        &[
            ("fields", IIT_FIELDS),
            ("user_id", &user_id),
            ("access_token", &token),
        ],
    );
    let resp = emu
        .http
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .body("")
        .send()
        .await
        .unwrap();
    let (status, info) = json_of(resp).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["auth_type"], "dig_sign");
    assert_eq!(info["drfocode"], "3012345670");
    assert_eq!(info["lastname"], "Шевченко");
    // Exactly the 19 requested fields plus auth_type.
    assert_eq!(info.as_object().unwrap().len(), 20, "{info}");
    for f in IIT_FIELDS.split(',') {
        assert!(info[f].is_string(), "{f}");
    }

    // What the emulator saw: names and the declared type, no values.
    let seen = emu.recorded().await;
    let token_req = &seen[0];
    assert_eq!(token_req["path"], "/get-access-token");
    assert_eq!(token_req["method"], "POST");
    assert_eq!(token_req["content_type"], "application/json");
    assert_eq!(
        token_req["query"],
        json!(["grant_type", "client_id", "client_secret", "code"])
    );
    assert_eq!(token_req["body"], json!([]));
    assert_eq!(seen[1]["path"], "/get-user-info");
    let log = serde_json::to_string(&seen).unwrap();
    assert!(!log.contains(SECRET) && !log.contains(&code) && !log.contains(&token));
}

/// IIT's Node sample: `https.get` with a query string for both calls.
#[tokio::test]
async fn idgovua_iit_node_sample_get_with_query() {
    let emu = start().await;
    let code = emu
        .code(IdGovUaMethod::DiiaId, IdGovUaIdentity::Director)
        .await;
    let url = with_query(
        emu.url("get-access-token"),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("code", &code),
        ],
    );
    let (status, body) = json_of(emu.http.get(url).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (token, user_id) = assert_token_answer(&body);
    let (status, info) = emu
        .user_info(&[
            ("fields", IIT_FIELDS),
            ("user_id", &user_id),
            ("access_token", &token),
            ("cert", ""),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["auth_type"], "diia_id");
    assert_eq!(info["edrpoucode"], "40123454");
    assert_eq!(emu.recorded().await[0]["method"], "GET");
}

/// vlbash/diklz: form POSTs; five parameters for the token, only `access_token` and `user_id`
/// for the user info (and it gets every field).
#[tokio::test]
async fn idgovua_diklz_form_posts() {
    let emu = start().await;
    let code = emu
        .code(IdGovUaMethod::DigSign, IdGovUaIdentity::Director)
        .await;
    let (status, body) = emu
        .exchange_form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (token, user_id) = assert_token_answer(&body);
    let resp = emu
        .http
        .post(emu.url("get-user-info"))
        .form(&[("access_token", &token), ("user_id", &user_id)])
        .send()
        .await
        .unwrap();
    let (status, info) = json_of(resp).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    // diklz admits dig_sign logins only.
    assert_eq!(info["auth_type"], "dig_sign");
    assert_eq!(info["drfocode"], "2654321099");
    assert_eq!(info["lastname"], "Коваленко");
    assert_eq!(info["unzr"].as_str().map(str::len), Some(14));
    assert_eq!(info.as_object().unwrap().len(), 21, "every field: {info}");
    let seen = emu.recorded().await;
    assert_eq!(
        seen[0]["body"],
        json!([
            "grant_type",
            "client_id",
            "client_secret",
            "code",
            "redirect_uri"
        ])
    );
    assert!(
        s(&seen[0], "content_type").starts_with("application/x-www-form-urlencoded"),
        "{seen:?}"
    );
}

/// A Python httpx client: `httpx.post(url, params=…)`, no body and no Content-Type, for the
/// token, the user info and the logout.
#[tokio::test]
async fn idgovua_python_httpx_post_with_params() {
    let emu = start().await;
    let code = emu
        .code(IdGovUaMethod::BankId, IdGovUaIdentity::Person)
        .await;
    let post =
        |path: &str, pairs: &[(&str, &str)]| emu.http.post(with_query(emu.url(path), pairs)).send();
    let resp = post(
        "get-access-token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("code", &code),
        ],
    )
    .await
    .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (token, user_id) = assert_token_answer(&body);
    let fields = "givenname,lastname,middlename,drfocode,unzr,email,phone";
    let resp = post(
        "get-user-info",
        &[
            ("access_token", &token),
            ("user_id", &user_id),
            ("fields", fields),
        ],
    )
    .await
    .unwrap();
    let (status, info) = json_of(resp).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["auth_type"], "bank_id");
    assert_eq!(info["givenname"], "Тарас");
    assert_eq!(info["middlename"], "Григорович");
    assert_eq!(info.as_object().unwrap().len(), 8, "{info}");
    let resp = post(
        "get-user-logout",
        &[("access_token", &token), ("user_id", &user_id)],
    )
    .await
    .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["error"], "0");
    assert!(emu.recorded().await[0]["content_type"].is_null());
}

// ---------- the token call ----------

#[tokio::test]
async fn idgovua_code_is_single_use_and_a_replay_revokes_its_tokens() {
    let emu = start().await;
    let code = emu
        .code(IdGovUaMethod::DigSign, IdGovUaIdentity::Person)
        .await;
    let (status, body) = emu.exchange(&code).await;
    assert_eq!(status, StatusCode::OK);
    let (token, user_id) = assert_token_answer(&body);
    let (status, body) = emu.exchange(&code).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "4");
    assert!(s(&body, "error_description").contains("вже використано"));
    let (status, body) = emu
        .user_info(&[("access_token", &token), ("user_id", &user_id)])
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "6");
}

#[tokio::test]
async fn idgovua_wrong_secret_or_client_is_401_and_keeps_the_code() {
    let emu = start().await;
    let code = emu
        .code(IdGovUaMethod::DigSign, IdGovUaIdentity::Person)
        .await;
    for (client_id, secret) in [
        (CLIENT_ID, "wrong-secret"),
        (CLIENT_ID, &SECRET[..SECRET.len() - 1]),
        ("someone-else", SECRET),
    ] {
        let (status, body) = emu
            .exchange_form(&[
                ("grant_type", "authorization_code"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("code", &code),
            ])
            .await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "3");
    }
    let (status, _) = emu.exchange(&code).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn idgovua_token_with_another_redirect_uri_is_refused() {
    let emu = start().await;
    let code = emu
        .code(IdGovUaMethod::DigSign, IdGovUaIdentity::Person)
        .await;
    let (status, body) = emu
        .exchange_form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("code", &code),
            ("redirect_uri", "https://rp.example/callback/idgovua"),
        ])
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "5");
    // redirect_uri is optional: without it the same code works.
    let (status, _) = emu.exchange(&code).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn idgovua_token_request_mistakes() {
    let emu = start().await;
    let code = emu
        .code(IdGovUaMethod::DigSign, IdGovUaIdentity::Person)
        .await;
    let all = [
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("client_secret", SECRET),
        ("code", code.as_str()),
    ];
    for missing in 0..all.len() {
        let form: Vec<_> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != missing)
            .map(|(_, p)| *p)
            .collect();
        let (status, body) = emu.exchange_form(&form).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "1");
        assert!(s(&body, "error_description").contains(all[missing].0));
    }
    let mut refresh = all;
    refresh[0] = ("grant_type", "refresh_token");
    let (status, body) = emu.exchange_form(&refresh).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "2");
    let mut unknown = all;
    unknown[3] = ("code", "00ff");
    let (status, body) = emu.exchange_form(&unknown).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "4");
    // The same name with two values, in the query and in the body.
    let resp = emu
        .http
        .post(with_query(
            emu.url("get-access-token"),
            &[("code", "other")],
        ))
        .form(&all)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "9");
    // None of it used the code up.
    let (status, _) = emu.exchange(&code).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn idgovua_expired_code_is_refused() {
    let emu = start().await;
    let code = emu
        .code(IdGovUaMethod::DigSign, IdGovUaIdentity::Person)
        .await;
    let resp = emu
        .http
        .post(emu.url("emulator/codes/expire"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (status, body) = emu.exchange(&code).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "4");
    assert!(s(&body, "error_description").contains("минув"), "{body}");

    // And by the clock, with a short lifetime.
    let emu = start_with(|s| s.code_ttl = Duration::from_millis(200)).await;
    let code = emu
        .code(IdGovUaMethod::DigSign, IdGovUaIdentity::Person)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) = emu.exchange(&code).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "4");
}

// ---------- user info ----------

#[tokio::test]
async fn idgovua_user_info_for_each_method_and_person() {
    let emu = start().await;
    let mut serials = Vec::new();
    for method in IdGovUaMethod::ALL {
        for who in IdGovUaIdentity::ALL {
            let info = emu.info_of(method, who).await;
            let ctx = format!("{method:?}/{who:?}: {info}");
            assert_eq!(info["auth_type"], method.key(), "{ctx}");
            assert_eq!(info["subjectcn"], who.full_name(), "{ctx}");
            assert!(info.get("surname").is_none() && info.get("nonsense").is_none());
            assert_eq!(info["ou"], "n/a");
            assert_eq!(info["dns"], "n/a");
            let cert = ["issuer", "issuercn", "serial", "subject"];
            if method == IdGovUaMethod::BankId {
                for f in cert {
                    assert_eq!(info[f], "n/a", "{f} of {ctx}");
                }
            } else {
                let serial = s(&info, "serial");
                assert_eq!(serial.len(), 40, "{ctx}");
                assert!(
                    serial
                        .chars()
                        .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
                    "{ctx}"
                );
                serials.push(serial);
                assert!(s(&info, "issuer").contains(&format!("CN={}", s(&info, "issuercn"))));
                assert!(s(&info, "subject").contains(&format!("CN={}", who.full_name())));
                assert!(s(&info, "subject").contains(who.drfocode()), "{ctx}");
            }
            match who {
                IdGovUaIdentity::Person => {
                    assert_eq!(info["lastname"], "Шевченко");
                    assert_eq!(info["givenname"], "Тарас");
                    assert_eq!(info["middlename"], "Григорович");
                    assert_eq!(info["drfocode"], "3012345670");
                    for f in ["edrpoucode", "o", "title"] {
                        assert_eq!(info[f], "n/a", "{f} of {ctx}");
                    }
                }
                IdGovUaIdentity::Director => {
                    assert_eq!(info["lastname"], "Коваленко");
                    assert_eq!(info["drfocode"], "2654321099");
                    assert_eq!(info["edrpoucode"], "40123454");
                    assert_eq!(info["o"], "ТОВ «Тестова компанія»");
                    assert_eq!(info["title"], "Директор");
                }
                IdGovUaIdentity::Passport => {
                    assert_eq!(info["lastname"], "Петренко");
                    assert_eq!(info["givenname"], "Марія");
                    assert_eq!(info["middlename"], "Іванівна");
                    assert_eq!(info["drfocode"], "МЕ123456");
                    assert_eq!(info["unzr"], "n/a");
                    for f in ["edrpoucode", "o", "title"] {
                        assert_eq!(info[f], "n/a", "{f} of {ctx}");
                    }
                }
            }
        }
    }
    // One certificate per person and method: all different, and stable across logins.
    let mut unique = serials.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 6);
    let again = emu
        .info_of(IdGovUaMethod::DigSign, IdGovUaIdentity::Person)
        .await;
    assert_eq!(s(&again, "serial"), serials[0]);
}

#[tokio::test]
async fn idgovua_cert_gets_a_clear_error_not_an_envelope() {
    let emu = start().await;
    let (token, user_id) = emu
        .token(IdGovUaMethod::DigSign, IdGovUaIdentity::Person)
        .await;
    // IIT's samples URL-encode the Base64 twice.
    let cert = "MIIB%252Fake%252Bcert%253D%253D";
    let (status, body) = emu
        .user_info(&[
            ("fields", IIT_FIELDS),
            ("user_id", &user_id),
            ("access_token", &token),
            ("cert", cert),
        ])
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "8");
    assert!(body.get("encryptedUserInfo").is_none());
    assert!(s(&body, "error_description").contains("encryptedUserInfo"));
    // The token still works without it.
    let (status, _) = emu
        .user_info(&[("user_id", &user_id), ("access_token", &token)])
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn idgovua_user_info_needs_the_matching_user_id_and_a_live_token() {
    let emu = start().await;
    let (token, user_id) = emu
        .token(IdGovUaMethod::DigSign, IdGovUaIdentity::Person)
        .await;
    let (other_token, other_user) = emu
        .token(IdGovUaMethod::DigSign, IdGovUaIdentity::Director)
        .await;
    assert_ne!(user_id, other_user);
    let (status, body) = emu
        .user_info(&[("access_token", &token), ("user_id", &other_user)])
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "7");
    let (status, body) = emu
        .user_info(&[("access_token", "deadbeef"), ("user_id", &user_id)])
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "6");
    let (status, body) = emu.user_info(&[("access_token", &token)]).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "1");

    emu.http
        .post(emu.url("emulator/tokens/expire"))
        .send()
        .await
        .unwrap();
    let (status, body) = emu
        .user_info(&[("access_token", &other_token), ("user_id", &other_user)])
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "6");
}

#[tokio::test]
async fn idgovua_logout_invalidates_the_token() {
    let emu = start().await;
    let (token, user_id) = emu
        .token(IdGovUaMethod::DigSign, IdGovUaIdentity::Passport)
        .await;
    let (status, _) = emu
        .user_info(&[("access_token", &token), ("user_id", &user_id)])
        .await;
    assert_eq!(status, StatusCode::OK);
    // liquio: axios.post(url with the query, {}), a JSON body of `{}`.
    let url = with_query(
        emu.url("get-user-logout"),
        &[("access_token", &token), ("user_id", &user_id)],
    );
    let (status, body) = json_of(
        emu.http
            .post(url.clone())
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "error": "0",
            "error_description": format!("Дані користувача із ID = {user_id} видалено успішно"),
        })
    );
    let (status, body) = emu
        .user_info(&[("access_token", &token), ("user_id", &user_id)])
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "6");
    let (status, body) = json_of(emu.http.get(url).send().await.unwrap()).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "6");
}

// ---------- faults and axum's own refusals ----------

#[tokio::test]
async fn idgovua_faults_delay_and_fail() {
    let emu = start().await;
    let (token, user_id) = emu
        .token(IdGovUaMethod::DigSign, IdGovUaIdentity::Person)
        .await;
    let code = emu
        .code(IdGovUaMethod::DigSign, IdGovUaIdentity::Person)
        .await;
    let set = |faults: Value| {
        emu.http
            .post(emu.url("emulator/faults"))
            .json(&faults)
            .send()
    };

    assert_eq!(
        set(json!({"delay_ms": 400})).await.unwrap().status(),
        StatusCode::OK
    );
    let started = Instant::now();
    let (status, _) = emu
        .user_info(&[("access_token", &token), ("user_id", &user_id)])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(400));

    assert_eq!(
        set(json!({"fail_status": 503})).await.unwrap().status(),
        StatusCode::OK
    );
    let (status, body) = emu.exchange(&code).await;
    assert_error(status, &body, StatusCode::SERVICE_UNAVAILABLE, "10");
    let (status, body) = emu
        .user_info(&[("access_token", &token), ("user_id", &user_id)])
        .await;
    assert_error(status, &body, StatusCode::SERVICE_UNAVAILABLE, "10");

    // Not an error status, or not JSON: refused.
    let (status, body) = json_of(set(json!({"fail_status": 200})).await.unwrap()).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "9");
    let resp = emu
        .http
        .post(emu.url("emulator/faults"))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    let resp = emu
        .http
        .delete(emu.url("emulator/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let started = Instant::now();
    let (status, _) = emu.exchange(&code).await;
    assert_eq!(status, StatusCode::OK, "the failed exchange left the code");
    assert!(started.elapsed() < Duration::from_millis(400));
}

#[tokio::test]
async fn idgovua_axum_refusals_are_json_too() {
    let emu = start().await;
    let resp = emu
        .http
        .put(emu.url("get-access-token"))
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("allow").is_some());
    let (status, body) = json_of(resp).await;
    assert_error(status, &body, StatusCode::METHOD_NOT_ALLOWED, "11");

    let (status, body) =
        json_of(emu.http.get(emu.url("no/such/route")).send().await.unwrap()).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "11");

    let resp = emu
        .http
        .post(emu.url("get-access-token"))
        .header(CONTENT_TYPE, "text/plain")
        .body("grant_type=authorization_code")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_error(status, &body, StatusCode::UNSUPPORTED_MEDIA_TYPE, "9");

    let resp = emu
        .http
        .post(emu.url("get-user-info"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(vec![b'a'; 3 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "9");

    // The favicon is never asked for, and is not a page.
    let (status, body) = json_of(emu.http.get(emu.url("favicon.ico")).send().await.unwrap()).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "11");
}

// ---------- settings ----------

#[test]
fn idgovua_settings_debug_redacts_the_secret() {
    let settings = IdGovUaSettings::new(
        "127.0.0.1:0".parse().unwrap(),
        Url::parse("http://127.0.0.1/").unwrap(),
        RegisteredClient::demo(Url::parse("http://127.0.0.1:3000/cb").unwrap()),
    );
    let debug = format!("{settings:?}");
    assert!(debug.contains(DEMO_CLIENT_ID), "{debug}");
    assert!(!debug.contains(DEMO_CLIENT_SECRET), "{debug}");
    assert!(debug.contains("REDACTED"));
}

#[tokio::test]
async fn idgovua_build_checks_the_clients() {
    let client = RegisteredClient::demo(Url::parse("http://127.0.0.1:3000/cb").unwrap());
    let settings = |clients: Vec<RegisteredClient>| {
        let mut s = IdGovUaSettings::new(
            "127.0.0.1:0".parse().unwrap(),
            Url::parse("http://127.0.0.1/").unwrap(),
            client.clone(),
        );
        s.clients = clients;
        s
    };
    for clients in [
        vec![],
        vec![client.clone(), client.clone()],
        vec![RegisteredClient {
            client_secret: String::new(),
            ..client.clone()
        }],
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        assert!(IdGovUaEmulator::build_on(settings(clients), listener).is_err());
    }
    let emulator = IdGovUaEmulator::build(settings(vec![client.clone()]))
        .await
        .unwrap();
    assert!(emulator.local_addr().unwrap().port() != 0);
}

/// Behind a path prefix the form posts under it.
#[tokio::test]
async fn idgovua_form_action_follows_the_public_base_path() {
    let emu = start_with(|s| {
        s.public_base_url = Url::parse("https://idgov.example/prefix").unwrap();
    })
    .await;
    let (status, html) = emu.page(emu.authorize_url(None, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"action="/prefix/authorize""#), "{html}");
}
