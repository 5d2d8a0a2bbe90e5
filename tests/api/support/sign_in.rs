//! Signing in, whole or step by step: a browser starts a login (the pages or the JSON API), the
//! phone confirms at the Diia emulator, the browser completes. A test about something else calls
//! [`sign_in`]; a test about one step calls the steps around it and writes that step out.

use crate::browser::{Browser, csrf_of};
use crate::diia_stack::{DiiaStack, PROVIDER};

/// The emulator's test identities: a private person, and a company's director.
pub const PERSON: &str = "person";
pub const DIRECTOR: &str = "director";

// ---------- the whole login ----------

/// A new browser, signed in through the JSON API as `identity`.
pub async fn sign_in(stack: &DiiaStack, identity: &str) -> Browser {
    let mut browser = Browser::new(&stack.app);
    sign_in_as(stack, &mut browser, identity).await;
    browser
}

/// Signs in `browser`, which may already hold cookies (the fixation tests plant some), through
/// the JSON API as `identity`.
pub async fn sign_in_as(stack: &DiiaStack, browser: &mut Browser, identity: &str) {
    let started = start_api(browser).await;
    confirm_on_phone(stack, browser, &started, identity).await;
    let done = complete_api(browser, &started).await;
    assert_eq!(done.status(), 200, "completion");
}

/// Signs in `browser` through the pages: the login form, the waiting page, the phone, then
/// «Продовжити». The completion's answer (303 to the return path, the session cookie).
pub async fn sign_in_on_pages<'a>(
    stack: &DiiaStack,
    browser: &mut Browser,
    form: impl Into<Form<'a>>,
    identity: &str,
) -> reqwest::Response {
    let waiting = wait_for_phone(browser, form).await;
    let deeplink = provider_deeplink(browser, &waiting).await;
    phone_confirms(stack, &deeplink, identity).await;
    let done = complete_on_page(browser, &waiting).await;
    assert_eq!(done.status(), 303, "completion");
    done
}

// ---------- the phone ----------

/// The phone confirms the provider's request behind `deeplink` as `identity` (through the
/// emulator's control endpoint, as its phone page does).
pub async fn phone_confirms(stack: &DiiaStack, deeplink: &str, identity: &str) {
    phone_answers(stack, deeplink, "confirm", identity).await;
}

/// The phone declines the provider's request behind `deeplink`.
pub async fn phone_declines(stack: &DiiaStack, deeplink: &str) {
    phone_answers(stack, deeplink, "decline", PERSON).await;
}

async fn phone_answers(stack: &DiiaStack, deeplink: &str, action: &str, identity: &str) {
    phone_answers_at(&stack.http, &stack.emulator, deeplink, action, identity).await;
}

/// The phone answers at the emulator listening at `emulator` (`http://host:port`).
pub async fn phone_answers_at(
    http: &reqwest::Client,
    emulator: &str,
    deeplink: &str,
    action: &str,
    identity: &str,
) {
    // The deeplink ends in the emulator's request number: `…/offer-request/dynamic/{n}`.
    let n = deeplink.rsplit('/').next().unwrap();
    let response = http
        .post(format!("{emulator}/emulator/requests/{n}/{action}"))
        .json(&serde_json::json!({ "identity": identity }))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "emulator {action}: {}",
        response.status()
    );
}

// ---------- the pages ----------

/// What the login form is sent with: the return path, and the «shared computer» box.
#[derive(Clone, Copy)]
pub struct Form<'a> {
    pub rd: &'a str,
    pub shared_pc: bool,
}

impl<'a> From<&'a str> for Form<'a> {
    /// The return path alone: what most tests need.
    fn from(rd: &'a str) -> Self {
        Form {
            rd,
            shared_pc: false,
        }
    }
}

/// The form with «Це громадський або спільний компʼютер» ticked.
pub fn on_shared_pc(rd: &str) -> Form<'_> {
    Form {
        rd,
        shared_pc: true,
    }
}

/// The login page for `form.rd`, then «Отримати посилання» with Diia chosen: the answer to the
/// press.
pub async fn press_get_link<'a>(
    browser: &mut Browser,
    form: impl Into<Form<'a>>,
) -> reqwest::Response {
    let form = form.into();
    let login = format!("{}?rd={}", browser.own("/login"), urlencode(form.rd));
    let response = browser.get(&login).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Хмарне сховище") || html.contains("Cloud storage"));
    assert!(html.contains("Дія.Підпис"), "the provider is offered");
    let csrf = csrf_of(&html);
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("provider", PROVIDER),
        ("rd", form.rd),
    ];
    if form.shared_pc {
        fields.push(("shared_pc", "on"));
    }
    let start = browser.own("/login/start");
    browser.post_form(&start, &fields).await
}

/// Starts a login on the pages: the pending login's id, from the waiting page's address.
pub async fn start_on_page<'a>(browser: &mut Browser, form: impl Into<Form<'a>>) -> String {
    let response = press_get_link(browser, form).await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&browser.own("/login/wait/")),
        "{location}"
    );
    location.rsplit('/').next().unwrap().to_owned()
}

/// A login waiting for the phone, as its browser sees it.
pub struct Waiting {
    pub id: String,
    /// The waiting page: link, QR code, the code to match, the CSRF token for «Продовжити».
    pub page: String,
}

impl Waiting {
    pub fn csrf(&self) -> String {
        csrf_of(&self.page)
    }

    /// The link the page shows (kepgate's rotating link, or the provider's in direct mode).
    pub fn link(&self) -> String {
        deeplink_of(&self.page)
    }
}

/// Starts a login on the pages and opens its waiting page.
pub async fn wait_for_phone<'a>(browser: &mut Browser, form: impl Into<Form<'a>>) -> Waiting {
    let id = start_on_page(browser, form).await;
    let page = waiting_page(browser, &id).await;
    Waiting { id, page }
}

/// The waiting page of login `id`.
pub async fn waiting_page(browser: &mut Browser, id: &str) -> String {
    let path = browser.own(&format!("/login/wait/{id}"));
    let response = browser.get(&path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

/// The provider's deeplink behind the waiting page's link, where the gateway sends the browser
/// that started the login (the same-device path).
pub async fn provider_deeplink(browser: &mut Browser, waiting: &Waiting) -> String {
    browser.provider_link(&waiting.link()).await
}

/// «Продовжити»: the completion, posted from the waiting page.
pub async fn complete_on_page(browser: &mut Browser, waiting: &Waiting) -> reqwest::Response {
    let complete = browser.own(&format!("/login/complete/{}", waiting.id));
    browser
        .post_form(&complete, &[("csrf", &waiting.csrf())])
        .await
}

/// The `href` of the waiting page's `#deeplink`, unescaped.
pub fn deeplink_of(html: &str) -> String {
    let at = html
        .find("id=\"deeplink\" href=\"")
        .expect("deeplink on the page")
        + "id=\"deeplink\" href=\"".len();
    html[at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&amp;", "&")
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ---------- the JSON API ----------

/// A login started through the JSON API: the addresses its answer gives.
pub struct ApiLogin {
    pub id: String,
    /// What the phone opens (kepgate's rotating link, or the provider's in direct mode).
    pub link: String,
    pub complete_url: String,
}

/// `POST {prefix}/api/login` for Diia.
pub async fn start_api(browser: &mut Browser) -> ApiLogin {
    let start = browser.own("/api/login");
    let response = browser
        .post_json(&start, serde_json::json!({ "provider": PROVIDER }))
        .await;
    assert_eq!(response.status(), 201, "JSON start");
    let answer: serde_json::Value = response.json().await.unwrap();
    let field = |name: &str| {
        answer[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {answer}"))
            .to_owned()
    };
    ApiLogin {
        id: field("id"),
        link: field("link"),
        complete_url: field("complete_url"),
    }
}

/// The phone's part: the starting browser follows the link (same device) to the provider, and
/// the phone confirms there as `identity`.
pub async fn confirm_on_phone(
    stack: &DiiaStack,
    browser: &mut Browser,
    started: &ApiLogin,
    identity: &str,
) {
    let deeplink = browser.provider_link(&started.link).await;
    phone_confirms(stack, &deeplink, identity).await;
}

/// `POST {complete_url}`: the JSON completion.
pub async fn complete_api(browser: &mut Browser, started: &ApiLogin) -> reqwest::Response {
    browser
        .post_json(&started.complete_url, serde_json::json!({}))
        .await
}
