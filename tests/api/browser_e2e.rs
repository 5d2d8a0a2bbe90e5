//! Real-browser end-to-end tests: headless Chromium (Debian's `chromium` + `chromium-driver`,
//! which scripts/test.sh installs) driven over WebDriver against the in-process stack — gateway,
//! Diia emulator and the sample cabinet behind the gateway, over loopback HTTP.
//!
//! One browser "context" is one WebDriver session with its own fresh `--user-data-dir`, so the
//! desktop and the phone share nothing. `cargo test --test api browser_e2e` runs only these.
//! Screenshots go to `target/tmp/screenshots/`; with `KEPGATE_UPDATE_SCREENSHOTS=1` also to
//! `docs/screenshots/` (the ones docs/screenshots.md shows). The accessibility check injects
//! axe-core from `KEPGATE_AXE_JS` (scripts/test.sh fetches a pinned, checksummed copy from npm).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use kepgate::config::ProviderSettings;
use serde_json::{Value, json};

use crate::diia_stack::StackOptions;
use crate::diia_stack::TempDir;
use crate::helpers::TestApp;
use crate::proxy::{CabinetStack, spawn_cabinet_stack, spawn_cabinet_stack_with_options};
use crate::sign_in::{PERSON, phone_confirms};

/// The emulator's default test identity ("person").
const PERSON_NAME: &str = "Шевченко Тарас Григорович";
/// How long a step may take before the test gives up (the machines are slow and shared).
const STEP: Duration = Duration::from_secs(20);
/// A phone: what the tests emulate for the "phone-sized" contexts.
const PHONE_WIDTH: u32 = 390;
const PHONE_HEIGHT: u32 = 844;
const PHONE_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
                        (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36";
const DESKTOP_WIDTH: u32 = 1280;
const DESKTOP_HEIGHT: u32 = 860;

// ---------- chromedriver and Chromium ----------

fn find_binary(env: &str, candidates: &[&str], what: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        return path.into();
    }
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{what} is not installed: scripts/test.sh installs Debian's chromium and \
                 chromium-driver (or set {env})"
            )
        })
}

fn chromium_binary() -> PathBuf {
    find_binary(
        "KEPGATE_CHROMIUM",
        &["/usr/bin/chromium", "/usr/lib/chromium/chromium"],
        "Chromium",
    )
}

/// chromedriver on a random port, in its own process group together with every Chromium it
/// starts: dropping it kills them all (and Chromium's crash handlers, which leave the group),
/// even when a test fails half-way.
pub struct Chromedriver {
    url: String,
    child: Child,
    dir: TempDir,
}

impl Chromedriver {
    pub async fn start() -> Self {
        use std::os::unix::process::CommandExt;
        let binary = find_binary(
            "KEPGATE_CHROMEDRIVER",
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
            "chromedriver",
        );
        let dir = TempDir(
            std::env::temp_dir().join(format!("kepgate-e2e-{}", uuid::Uuid::new_v4().simple())),
        );
        std::fs::create_dir_all(&dir.0).unwrap();
        let port = crate::helpers::free_port();
        // A small watchdog shell leads the process group: should this test process die without
        // running Drop (killed, aborted), it takes chromedriver and its Chromiums down with it.
        let child = Command::new("bash")
            .arg("-c")
            .arg(
                r#"test_pid=$1; shift; "$@" &
                   while kill -0 "$test_pid" 2>/dev/null; do sleep 1; done; kill -KILL 0"#,
            )
            .arg("chromedriver-watchdog")
            .arg(std::process::id().to_string())
            .arg(binary)
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.0.join("chromedriver.log").display()
            ))
            // Chromium keeps its crash database under the user's configuration folder: here, in
            // this driver's folder, which is how Drop finds the crash handlers.
            .env("XDG_CONFIG_HOME", dir.0.join("config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let driver = Chromedriver {
            url: format!("http://127.0.0.1:{port}"),
            child,
            dir,
        };
        let http = crate::helpers::client();
        let started = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{}/status", driver.url)).send().await
                && let Ok(status) = r.json::<Value>().await
                && status["value"]["ready"] == true
            {
                return driver;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "chromedriver did not get ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A new browser context: its own Chromium with a fresh profile.
    pub async fn open(&self, device: Device, javascript: bool, language: &str) -> Client {
        self.open_with(device, javascript, language, &[]).await
    }

    /// [`Chromedriver::open`] with more Chromium switches.
    pub async fn open_with(
        &self,
        device: Device,
        javascript: bool,
        language: &str,
        switches: &[String],
    ) -> Client {
        let profile = self
            .dir
            .0
            .join(format!("profile-{}", uuid::Uuid::new_v4().simple()));
        let (width, height) = match device {
            Device::Desktop => (DESKTOP_WIDTH, DESKTOP_HEIGHT),
            Device::Phone => (PHONE_WIDTH, PHONE_HEIGHT),
        };
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.push(format!("--window-size={width},{height}"));
        args.push(format!("--lang={language}"));
        if !javascript {
            args.push("--blink-settings=scriptEnabled=false".to_owned());
        }
        args.extend(switches.iter().cloned());
        let mut options = json!({
            "binary": chromium_binary(),
            "args": args,
            "prefs": {
                // What Accept-Language says (headless Chromium sends en-US otherwise).
                "intl.accept_languages": language,
                "profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 },
            },
        });
        if device == Device::Phone {
            options["mobileEmulation"] = json!({
                "deviceMetrics": {
                    "width": PHONE_WIDTH, "height": PHONE_HEIGHT, "pixelRatio": 2.0,
                    "touch": true, "mobile": true,
                },
                "userAgent": PHONE_UA,
            });
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": options,
            // A stuck page fails the step in time instead of after WebDriver's 5 minutes.
            "timeouts": { "pageLoad": 30_000, "script": 30_000 },
            // The console, for the tests that no page logs an error.
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| {
                let log = std::fs::read_to_string(self.dir.0.join("chromedriver.log"))
                    .unwrap_or_default();
                let tail: String = log
                    .lines()
                    .rev()
                    .take(30)
                    .collect::<Vec<_>>()
                    .join("\n");
                panic!("Chromium did not start: {e}\nchromedriver log (last lines, newest first):\n{tail}")
            })
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The whole process group: the watchdog, chromedriver and the Chromiums it started…
        let group = self.child.id();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{group}")])
            .status();
        let _ = self.child.wait();
        // …and Chromium's crash handlers, which start a session of their own (so leave the
        // group) and would otherwise linger a moment after their Chromium is gone.
        let dir = self.dir.0.display().to_string();
        crate::processes::end_all("chromedriver", |p| {
            p.group == group || p.cmdline.contains(&dir)
        });
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Device {
    Desktop,
    Phone,
}

// ---------- small helpers over WebDriver ----------

async fn find(c: &Client, css: &str) -> Element {
    match c.wait().at_most(STEP).for_element(Locator::Css(css)).await {
        Ok(e) => e,
        Err(e) => {
            let url = c.current_url().await.map(|u| u.to_string());
            let body = text_of(c, "body").await;
            panic!("`{css}` did not appear: {e}\nat {url:?}\npage text: {body}")
        }
    }
}

async fn text(c: &Client, css: &str) -> String {
    // A form post or a redirect can replace the page between finding the element and reading
    // it (a stale element): find it again on the new page rather than fail.
    for _ in 0..5 {
        match find(c, css).await.text().await {
            Ok(text) => return text,
            Err(fantoccini::error::CmdError::Standard(e))
                if e.error == fantoccini::error::ErrorStatus::StaleElementReference =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("reading `{css}`: {e}"),
        }
    }
    panic!("`{css}` kept going stale")
}

async fn text_of(c: &Client, css: &str) -> String {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Waits for `#id`'s text to be `expected` (the live status line, say).
async fn wait_for_text(c: &Client, css: &str, expected: &str) {
    let started = Instant::now();
    loop {
        let now = text_of(c, css).await;
        if now == expected {
            return;
        }
        if started.elapsed() > STEP {
            let url = c.current_url().await.map(|u| u.to_string());
            let body = text_of(c, "body").await;
            panic!("`{css}` says {now:?}, expected {expected:?}\nat {url:?}\npage text: {body}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn path_of(c: &Client) -> String {
    let url = c.current_url().await.unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

async fn displayed(c: &Client, css: &str) -> bool {
    // The live page swaps the QR picture in place: an element found a moment earlier can be
    // detached (stale) when asked; found again, the new one answers.
    for _ in 0..3 {
        match c.find(Locator::Css(css)).await {
            Ok(e) => match e.is_displayed().await {
                Ok(shown) => return shown,
                Err(_) => continue,
            },
            Err(_) => return false,
        }
    }
    false
}

/// Saves a PNG of the viewport as `name.png` (and into docs/screenshots/ when asked to).
async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    if std::env::var_os("KEPGATE_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join(format!("{name}.png")), &png).unwrap();
    }
}

/// The login page after a cabinet URL: pick the provider, «Отримати посилання», wait for the
/// waiting page of `app`; returns the deeplink.
async fn get_link(app: &TestApp, c: &Client) -> String {
    find(c, "#provider")
        .await
        .select_by_value("diia")
        .await
        .unwrap();
    let button = find(c, "#start-form button[type=submit]").await;
    button.click().await.unwrap();
    let link = find(c, "#deeplink").await;
    assert!(path_of(c).await.starts_with(&app.own_path("/login/wait/")));
    link.attr("href").await.unwrap().expect("the deeplink")
}

/// The link and verification code the desktop shows right now (the link rotates).
async fn shown_on(desktop: &Client) -> (String, Option<String>) {
    let link = find(desktop, "#deeplink")
        .await
        .attr("href")
        .await
        .unwrap()
        .expect("the link");
    let code = desktop
        .execute(
            r#"var c = document.getElementById("verification-code"); return c ? c.textContent : null;"#,
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .map(str::to_owned);
    (link, code)
}

/// The phone's side: kepgate's check (pick the code the computer shows), then the emulator's
/// page: pick the identity, press confirm or decline.
async fn answer_on_phone(
    phone: &Client,
    link: &str,
    code: Option<&str>,
    confirm: bool,
    shot: Option<&str>,
) {
    answer_on_phone_as(phone, link, code, "person", confirm, shot).await;
}

/// As [`answer_on_phone`], with the emulator's test identity `identity` picked.
async fn answer_on_phone_as(
    phone: &Client,
    link: &str,
    code: Option<&str>,
    identity: &str,
    confirm: bool,
    shot: Option<&str>,
) {
    phone.goto(link).await.unwrap();
    if let Some(code) = code {
        find(phone, "#phone-check").await;
        find(phone, &format!("button.code-choice[value=\"{code}\"]"))
            .await
            .click()
            .await
            .unwrap();
    }
    find(phone, &format!("input[name=identity][value={identity}]"))
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(text(phone, "h1").await, "Запит на підпис");
    // No request for /favicon.ico at the emulator either (a 404 in the console).
    let icon = find(phone, "link[rel=icon]")
        .await
        .attr("href")
        .await
        .unwrap();
    assert_eq!(icon.as_deref(), Some("data:,"));
    if let Some(name) = shot {
        screenshot(phone, name).await;
    }
    let button = if confirm {
        "button.confirm"
    } else {
        "button.decline"
    };
    find(phone, button).await.click().await.unwrap();
    let expected = if confirm {
        "Готово — поверніться до компʼютера"
    } else {
        "Запит відхилено"
    };
    wait_for_text(phone, "h1", expected).await;
}

/// Chromium's console since the last call (chromedriver's log endpoint).
#[derive(Debug)]
struct ConsoleLog;

impl fantoccini::wd::WebDriverCompatibleCommand for ConsoleLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(r#"{"type":"browser"}"#.to_owned()),
        )
    }
}

/// A Chrome DevTools command through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp {
    command: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({ "cmd": self.command, "params": self.params });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

async fn cdp(c: &Client, command: &'static str, params: Value) {
    c.issue_cmd(Cdp { command, params })
        .await
        .unwrap_or_else(|e| panic!("{command}: {e}"));
}

/// The errors the console logged since the last call: failed loads (a 401 for an icon), script
/// errors, CSP violations.
async fn console_errors(c: &Client) -> Vec<String> {
    let entries = c.issue_cmd(ConsoleLog).await.unwrap();
    entries
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn close(c: Client) {
    let _ = c.close().await;
}

// ---------- the scenarios ----------

/// 1. Desktop + a phone: cabinet URL → login → link and QR → the phone confirms on the emulator →
///    the desktop lands in the cabinet by itself, showing the person's name.
#[tokio::test]
async fn browser_e2e_desktop_signs_in_with_the_phone_confirming() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let driver = Chromedriver::start().await;
    let desktop = driver.open(Device::Desktop, true, "uk-UA,uk").await;
    let phone = driver.open(Device::Phone, true, "uk-UA,uk").await;
    let base = &env.stack.app.address;

    desktop.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(text(&desktop, "h1").await, "Вхід за допомогою КЕП");
    assert_eq!(
        path_of(&desktop).await,
        env.stack.app.own_path("/login?rd=%2F")
    );
    assert_eq!(
        text(&desktop, "#start-form button[type=submit]").await,
        "Отримати посилання"
    );
    screenshot(&desktop, "login-desktop").await;

    let link = get_link(&env.stack.app, &desktop).await;
    assert!(
        link.starts_with(&env.stack.app.own("/q/")),
        "a short rotating kepgate link: {link}"
    );
    assert!(displayed(&desktop, "#deeplink").await);
    assert!(
        displayed(&desktop, "#qr svg").await,
        "the QR code is visible"
    );
    assert_eq!(
        text(&desktop, "#status-text").await,
        "Очікуємо підтвердження в застосунку…"
    );
    // With JavaScript the page needs no «Продовжити».
    assert!(!displayed(&desktop, "#continue").await);
    assert_eq!(
        text(&desktop, "#qr figcaption").await,
        "Відскануйте QR-код камерою телефону"
    );
    // kepgate's pages name their icon, so the browser never asks the cabinet for
    // /favicon.ico (a 401 without a session, an error in the console on every page).
    let icon = find(&desktop, "link[rel=icon]")
        .await
        .attr("href")
        .await
        .unwrap()
        .expect("an icon link");
    assert_eq!(icon, env.stack.app.own_path("/static/favicon.svg"));
    let served = env.stack.app.get(&icon).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/svg+xml");
    screenshot(&desktop, "wait-desktop").await;

    let (link, code) = shown_on(&desktop).await;
    assert!(code.is_some(), "the computer shows the verification code");
    answer_on_phone(
        &phone,
        &link,
        code.as_deref(),
        true,
        Some("phone-page-phone"),
    )
    .await;
    screenshot(&phone, "phone-done-phone").await;

    // No click on the desktop: the page hears the confirmation and completes by itself.
    assert_eq!(text(&desktop, "#cabinet-name").await, PERSON_NAME);
    // The provider as people know it, from the signed assertion (not its id «diia»).
    assert_eq!(text(&desktop, "#cabinet-provider").await, "Дія.Підпис");
    assert_eq!(path_of(&desktop).await, "/");
    screenshot(&desktop, "cabinet-desktop").await;
    close(desktop).await;
    close(phone).await;
}

/// 2. One phone does everything: the login on its browser, the provider's app (here the emulator
///    in another tab, as the real app is another app) and back to the waiting tab, which signs in.
#[tokio::test]
async fn browser_e2e_phone_only_same_device() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let driver = Chromedriver::start().await;
    let phone = driver.open(Device::Phone, true, "uk-UA,uk").await;
    let base = &env.stack.app.address;

    phone.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(text(&phone, "h1").await, "Вхід за допомогою КЕП");
    screenshot(&phone, "login-phone").await;
    let link = get_link(&env.stack.app, &phone).await;
    // On a phone the button to the app is the main action and comes before the QR code.
    let (_, button_y, button_w, _) = find(&phone, "#deeplink").await.rectangle().await.unwrap();
    let (_, qr_y, _, _) = find(&phone, "#qr").await.rectangle().await.unwrap();
    assert!(button_y < qr_y, "the app button comes first");
    assert!(
        button_w >= f64::from(PHONE_WIDTH) * 0.6,
        "the app button is wide enough to hit: {button_w}"
    );
    screenshot(&phone, "wait-phone").await;

    let waiting_tab = phone.window().await.unwrap();
    let app = phone.new_window(true).await.unwrap();
    phone.switch_to_window(app.handle).await.unwrap();
    // The same device: kepgate's check does not apply and is skipped.
    answer_on_phone(&phone, &link, None, true, None).await;
    phone.close_window().await.unwrap();
    phone.switch_to_window(waiting_tab).await.unwrap();

    assert_eq!(text(&phone, "#cabinet-name").await, PERSON_NAME);
    screenshot(&phone, "cabinet-phone").await;
    close(phone).await;
}

/// 3a. Declined on the phone: the desktop says so, hides the link and offers a new one.
#[tokio::test]
async fn browser_e2e_decline_says_so_and_offers_a_new_link() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let driver = Chromedriver::start().await;
    let desktop = driver.open(Device::Desktop, true, "uk-UA,uk").await;
    let phone = driver.open(Device::Phone, true, "uk-UA,uk").await;
    desktop
        .goto(&format!("{}/reports", env.stack.app.address))
        .await
        .unwrap();
    get_link(&env.stack.app, &desktop).await;
    let (link, code) = shown_on(&desktop).await;
    answer_on_phone(&phone, &link, code.as_deref(), false, None).await;

    wait_for_text(&desktop, "#status-text", "Запит відхилено в застосунку.").await;
    // No longer "confirm on your phone"; declining was the person's choice, not an error.
    assert_eq!(text(&desktop, "h1").await, "Вхід не завершено");
    assert!(
        desktop
            .title()
            .await
            .unwrap()
            .starts_with("Вхід не завершено · ")
    );
    assert_ne!(
        desktop
            .execute(
                "return getComputedStyle(document.getElementById('status')).color",
                vec![]
            )
            .await
            .unwrap(),
        "rgb(179, 38, 30)",
        "a decline is not shown in the error red"
    );
    assert!(
        !displayed(&desktop, "#qr").await,
        "no QR code after a decline"
    );
    assert!(!displayed(&desktop, "#deeplink").await);
    let again = find(&desktop, "#restart a").await;
    assert!(again.is_displayed().await.unwrap());
    assert_eq!(again.text().await.unwrap(), "Отримати нове посилання");
    screenshot(&desktop, "declined-desktop").await;

    // The new link starts over with the same provider and the same return path.
    again.click().await.unwrap();
    find(&desktop, "#start-form").await;
    assert_eq!(
        path_of(&desktop).await,
        env.stack.app.own_path("/login?provider=diia&rd=%2Freports")
    );
    let second = get_link(&env.stack.app, &desktop).await;
    assert_ne!(second, link, "a fresh link");
    assert!(displayed(&desktop, "#qr svg").await);
    close(desktop).await;
    close(phone).await;
}

/// 3a. A key its CA has revoked: the phone confirms, the desktop says the certificate is revoked
///     and nobody gets in; another person's good key still signs in; the audit shows both.
#[tokio::test]
async fn browser_e2e_a_revoked_key_is_refused_with_the_reason_and_a_good_one_signs_in() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    env.stack.revoke_at_emulator("person").await;
    let driver = Chromedriver::start().await;
    let desktop = driver.open(Device::Desktop, true, "uk-UA,uk").await;
    let phone = driver.open(Device::Phone, true, "uk-UA,uk").await;
    desktop
        .goto(&format!("{}/", env.stack.app.address))
        .await
        .unwrap();
    get_link(&env.stack.app, &desktop).await;
    let (link, code) = shown_on(&desktop).await;
    answer_on_phone(&phone, &link, code.as_deref(), true, None).await;
    wait_for_text(
        &desktop,
        "#status-text",
        "Сертифікат цього ключа відкликано центром сертифікації: увійти ним не можна. \
         Зверніться до свого надавача послуг, щоб отримати новий ключ.",
    )
    .await;
    assert!(!displayed(&desktop, "#qr").await);
    assert_eq!(text(&desktop, "h1").await, "Вхід не завершено");
    screenshot(&desktop, "revoked-desktop").await;

    // The director's key is good: the same page, a new link, and in.
    find(&desktop, "#restart a").await.click().await.unwrap();
    get_link(&env.stack.app, &desktop).await;
    let (link, code) = shown_on(&desktop).await;
    answer_on_phone_as(&phone, &link, code.as_deref(), "director", true, None).await;
    assert_eq!(
        text(&desktop, "#cabinet-name").await,
        "Коваленко Олена Петрівна"
    );
    close(desktop).await;
    close(phone).await;

    let (ok, stdout, stderr) =
        crate::sessions::run_cli(&env.stack.app, &["audit", "--since", "1h", "--json"]);
    assert!(ok, "{stderr}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let row = |event: &str| {
        rows.iter()
            .find(|r| r["event"] == event)
            .unwrap_or_else(|| panic!("no {event} in {stdout}"))
    };
    assert_eq!(row("refused")["reason"], "certificate_revoked", "{stdout}");
    assert_eq!(
        row("completed")["full_name"],
        "Коваленко Олена Петрівна",
        "{stdout}"
    );
}

/// 3c. The language switch keeps the way back: from a deep link into the cabinet, the login page
///     switched to English, the waiting page switched back without losing the login, signed in
///     at the report it started from.
#[tokio::test]
async fn browser_e2e_the_language_switch_keeps_the_return_path_and_the_waiting_login() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let app = &env.stack.app;
    let driver = Chromedriver::start().await;
    let desktop = driver.open(Device::Desktop, true, "uk-UA,uk").await;
    let phone = driver.open(Device::Phone, true, "uk-UA,uk").await;
    desktop
        .goto(&format!("{}/reports/2026?tab=vat", app.address))
        .await
        .unwrap();
    let login_page = app.own_path("/login?rd=%2Freports%2F2026%3Ftab%3Dvat");
    assert_eq!(path_of(&desktop).await, login_page);
    find(&desktop, "a.lang-switch").await.click().await.unwrap();
    wait_for_text(&desktop, "h1", "Sign in with a qualified e-signature").await;
    assert_eq!(
        path_of(&desktop).await,
        login_page,
        "the same login, in English"
    );

    get_link(app, &desktop).await;
    let waiting = path_of(&desktop).await;
    find(&desktop, "a.lang-switch").await.click().await.unwrap();
    wait_for_text(&desktop, "h1", "Підтвердіть вхід на телефоні").await;
    assert_eq!(path_of(&desktop).await, waiting, "the same pending login");
    assert!(displayed(&desktop, "#qr svg").await);

    let (link, code) = shown_on(&desktop).await;
    answer_on_phone(&phone, &link, code.as_deref(), true, None).await;
    let deadline = std::time::Instant::now() + STEP;
    while path_of(&desktop).await != "/reports/2026?tab=vat" {
        assert!(
            std::time::Instant::now() < deadline,
            "signed in at {}",
            path_of(&desktop).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    close(desktop).await;
    close(phone).await;
}

/// 3d. The code the phone asks for is in view without scrolling: on a 1280×720 computer beside
///     the QR code, and on a 390×844 phone.
#[tokio::test]
async fn browser_e2e_the_verification_code_is_in_view_on_a_computer_and_on_a_phone() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let driver = Chromedriver::start().await;
    let desktop = driver.open(Device::Desktop, true, "uk-UA,uk").await;
    desktop.set_window_size(1280, 720).await.unwrap();
    let phone = driver.open(Device::Phone, true, "uk-UA,uk").await;
    for (c, what) in [(&desktop, "1280×720"), (&phone, "390×844")] {
        c.goto(&format!("{}/", env.stack.app.address))
            .await
            .unwrap();
        get_link(&env.stack.app, c).await;
        let (top, bottom, viewport): (f64, f64, f64) = serde_json::from_value(
            c.execute(
                "var r = document.getElementById('verification-code').getBoundingClientRect();
                 return [r.top, r.bottom, window.innerHeight];",
                vec![],
            )
            .await
            .unwrap(),
        )
        .unwrap();
        assert!(
            top >= 0.0 && bottom <= viewport,
            "{what}: the code is at {top}..{bottom} of {viewport} px"
        );
        // One number: its digits are not spaced apart.
        let spacing = c
            .execute(
                "return getComputedStyle(document.getElementById('verification-code')).letterSpacing",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(spacing, "normal", "{what}");
    }
    screenshot(&desktop, "wait-desktop-720").await;
    close(desktop).await;
    close(phone).await;
}

/// The login lifetime of the expiry scenarios: long enough to load the waiting page, far below
/// the 15 s between sweeps of overdue logins (a page that waited for a sweep fails them).
const SHORT_LOGIN: Duration = Duration::from_secs(6);

/// A cabinet stack whose Diia logins live [`SHORT_LOGIN`].
async fn short_login_stack() -> CabinetStack {
    spawn_cabinet_stack(|s, _| {
        let Some(ProviderSettings::Diia(diia)) = s.providers.get_mut("diia") else {
            unreachable!("the cabinet stack runs Diia")
        };
        diia.common.request_ttl = SHORT_LOGIN;
    })
    .await
}

/// The newest login's deadline, as an instant of this test's clock.
async fn newest_deadline(app: &TestApp) -> Instant {
    let expires_at: time::OffsetDateTime = sqlx::query_scalar(
        "SELECT expires_at FROM pending_logins ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let left = expires_at - time::OffsetDateTime::now_utc();
    Instant::now() + Duration::try_from(left).unwrap_or(Duration::ZERO)
}

/// Waits until the page says `expected` in `#status-text` and no longer `waiting`, at most
/// until `deadline` and a grace of two seconds (the sweep would come up to 15 s later).
async fn expired_shortly_after(c: &Client, deadline: Instant, expected: &str, waiting: &str) {
    let limit = deadline + Duration::from_secs(2);
    loop {
        let status = text_of(c, "#status-text").await;
        if status == expected {
            break;
        }
        if Instant::now() > limit {
            let body = text_of(c, "body").await;
            panic!(
                "2 s after the deadline the status says {status:?}, not {expected:?}\npage text: {body}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = text_of(c, "body").await;
    assert!(!body.contains(waiting), "still waiting: {body}");
}

/// 3b. Nobody answers: the countdown runs out, the page says the link expired at the deadline
///     it counted down to (not at the next sweep) and offers a new one.
#[tokio::test]
async fn browser_e2e_expiry_says_so_and_offers_a_new_link() {
    let env = short_login_stack().await;
    let driver = Chromedriver::start().await;
    let desktop = driver.open(Device::Desktop, true, "uk-UA,uk").await;
    desktop
        .goto(&format!("{}/", env.stack.app.address))
        .await
        .unwrap();
    get_link(&env.stack.app, &desktop).await;
    let deadline = newest_deadline(&env.stack.app).await;
    let first: i64 = text(&desktop, "#countdown").await.parse().unwrap();
    assert!((1..=6).contains(&first), "countdown starts at {first}");

    expired_shortly_after(
        &desktop,
        deadline,
        "Час дії посилання минув.",
        "Очікуємо підтвердження",
    )
    .await;
    assert_eq!(text(&desktop, "h1").await, "Вхід не завершено");
    assert!(!displayed(&desktop, "#qr").await);
    assert!(displayed(&desktop, "#restart a").await);
    assert_eq!(
        desktop
            .find(Locator::Css("#login-wait"))
            .await
            .unwrap()
            .attr("data-state")
            .await
            .unwrap()
            .as_deref(),
        Some("expired")
    );
    screenshot(&desktop, "expired-desktop").await;
    find(&desktop, "#restart a").await.click().await.unwrap();
    find(&desktop, "#start-form").await;
    close(desktop).await;
}

/// 3b'. The live status cut off (a proxy that buffers, a network that drops it): the page's own
///     countdown says the link expired when it reaches 0, in the page's language.
#[tokio::test]
async fn browser_e2e_expiry_is_said_at_zero_without_the_live_status() {
    let env = short_login_stack().await;
    let driver = Chromedriver::start().await;
    let desktop = driver.open(Device::Desktop, true, "en-GB,en").await;
    // Every request for the login's live status fails, as when the stream is cut.
    cdp(&desktop, "Network.enable", json!({})).await;
    cdp(
        &desktop,
        "Network.setBlockedURLs",
        json!({ "urls": ["*/login/events/*"] }),
    )
    .await;
    desktop
        .goto(&format!("{}/", env.stack.app.address))
        .await
        .unwrap();
    get_link(&env.stack.app, &desktop).await;
    let deadline = newest_deadline(&env.stack.app).await;
    assert_eq!(
        text(&desktop, "#status-text").await,
        "Waiting for confirmation in the app…"
    );

    expired_shortly_after(
        &desktop,
        deadline,
        "The link has expired.",
        "Waiting for confirmation",
    )
    .await;
    assert_eq!(text(&desktop, "h1").await, "Sign-in not completed");
    assert!(!displayed(&desktop, "#qr").await);
    assert!(displayed(&desktop, "#restart a").await);
    close(desktop).await;
}

/// Signs a fresh desktop context in through the pages (the phone's answer through the
/// emulator's control endpoint) and returns once the cabinet shows the name.
async fn sign_in_desktop(env: &CabinetStack, c: &Client) {
    c.goto(&format!("{}/", env.stack.app.address))
        .await
        .unwrap();
    get_link(&env.stack.app, c).await;
    // The phone's answer through the emulator's control endpoint, for the login just started.
    let deeplink: String = sqlx::query_scalar(
        "SELECT deeplink FROM pending_logins WHERE deeplink IS NOT NULL ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(&env.stack.app.db)
    .await
    .unwrap();
    phone_confirms(&env.stack, &deeplink, PERSON).await;
    assert_eq!(text(c, "#cabinet-name").await, PERSON_NAME);
}

/// 7. No page logs an error in the console, on the computer or the phone, from the login page
///    to the cabinet and «Мої сеанси».
#[tokio::test]
async fn browser_e2e_no_page_logs_an_error_in_the_console() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let driver = Chromedriver::start().await;
    let desktop = driver.open(Device::Desktop, true, "uk-UA,uk").await;
    let phone = driver.open(Device::Phone, true, "uk-UA,uk").await;
    let app = &env.stack.app;
    // Time for the icon request that follows a page's load.
    let settle = || tokio::time::sleep(Duration::from_millis(500));
    desktop.goto(&format!("{}/", app.address)).await.unwrap();
    find(&desktop, "#start-form").await;
    settle().await;
    assert_eq!(
        console_errors(&desktop).await,
        Vec::<String>::new(),
        "login page"
    );
    get_link(app, &desktop).await;
    settle().await;
    assert_eq!(
        console_errors(&desktop).await,
        Vec::<String>::new(),
        "waiting page"
    );
    let (link, code) = shown_on(&desktop).await;
    answer_on_phone(&phone, &link, code.as_deref(), true, None).await;
    settle().await;
    assert_eq!(
        console_errors(&phone).await,
        Vec::<String>::new(),
        "the phone check and the provider's page"
    );
    assert_eq!(text(&desktop, "#cabinet-name").await, PERSON_NAME);
    desktop.goto(&app.own("/me")).await.unwrap();
    find(&desktop, "#history").await;
    settle().await;
    assert_eq!(
        console_errors(&desktop).await,
        Vec::<String>::new(),
        "the cabinet and «Мої сеанси»"
    );
    close(desktop).await;
    close(phone).await;
}

/// 6. The organisation's own pages: its name and logo in the top bar, its colour on the main
///    button, whom to ask and its footer line, in both languages; axe still passes.
#[tokio::test]
async fn browser_e2e_branded_pages_carry_the_organisation_and_pass_axe() {
    let dir = std::env::temp_dir().join(format!("kepgate-brand-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let logo = dir.join("logo.svg");
    std::fs::write(
        &logo,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 32" width="64" height="32"><rect width="64" height="32" rx="6" fill="#2d6a4f"/></svg>"##,
    )
    .unwrap();
    let env = spawn_cabinet_stack(|s, _| {
        let b = &mut s.ui.branding;
        b.organization = Some("ТОВ «Зелена бухгалтерія»".to_owned());
        b.organization_en = Some("Green Accounting LLC".to_owned());
        b.logo_file = Some(logo.clone());
        b.accent_color = Some("#2d6a4f".to_owned());
        b.support = Some("Служба підтримки, вн. 1234".to_owned());
        b.support_en = Some("Help desk, ext. 1234".to_owned());
        b.support_url = Some("mailto:help@green.example".to_owned());
        b.footer = Some("Лише для працівників компанії.".to_owned());
        b.footer_en = Some("For the company's staff only.".to_owned());
    })
    .await;
    let driver = Chromedriver::start().await;
    let desktop = driver.open(Device::Desktop, true, "uk-UA,uk").await;
    desktop
        .goto(&format!("{}/", env.stack.app.address))
        .await
        .unwrap();
    find(&desktop, "#start-form").await;
    assert_eq!(
        text(&desktop, "#organization").await,
        "ТОВ «Зелена бухгалтерія»"
    );
    assert_eq!(
        text(&desktop, "#support").await,
        "Допомога: Служба підтримки, вн. 1234"
    );
    assert_eq!(
        find(&desktop, "#support a")
            .await
            .attr("href")
            .await
            .unwrap()
            .as_deref(),
        Some("mailto:help@green.example")
    );
    assert_eq!(
        text(&desktop, "#footer-text").await,
        "Лише для працівників компанії."
    );
    let (logo_width, button_colour): (f64, String) = serde_json::from_value(
        desktop
            .execute(
                "return [document.querySelector('img.logo').naturalWidth,
                         getComputedStyle(document.querySelector('#start-form button[type=submit]')).backgroundColor];",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(logo_width > 0.0, "the logo loads");
    assert_eq!(
        button_colour, "rgb(45, 106, 79)",
        "the organisation's colour"
    );
    axe(&desktop, "branded login page").await;
    screenshot(&desktop, "login-desktop-branded").await;
    get_link(&env.stack.app, &desktop).await;
    axe(&desktop, "branded waiting page").await;
    screenshot(&desktop, "wait-desktop-branded").await;

    find(&desktop, "a.lang-switch").await.click().await.unwrap();
    wait_for_text(&desktop, "#organization", "Green Accounting LLC").await;
    assert_eq!(
        text(&desktop, "#support").await,
        "Help: Help desk, ext. 1234"
    );
    assert_eq!(
        text(&desktop, "#footer-text").await,
        "For the company's staff only."
    );
    close(desktop).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// 6a. An organisation's own templates (`ui.pages_dir`, the example in `deploy/pages-example`):
///     its login page and stylesheet are what people see, in both languages, axe passes, and the
///     login through them reaches the cabinet.
#[tokio::test]
async fn browser_e2e_the_organisations_own_pages_replace_the_built_in_ones() {
    let example = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/pages-example");
    let env = spawn_cabinet_stack(|s, _| s.ui.pages_dir = Some(example.clone())).await;
    let driver = Chromedriver::start().await;
    let desktop = driver.open(Device::Desktop, true, "uk-UA,uk").await;
    desktop
        .goto(&format!("{}/", env.stack.app.address))
        .await
        .unwrap();
    assert_eq!(
        text(&desktop, "#site-login-heading").await,
        "Вхід до облікового порталу"
    );
    let band: String = serde_json::from_value(
        desktop
            .execute(
                "return getComputedStyle(document.querySelector('.topbar')).backgroundColor;",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        band, "rgb(27, 67, 50)",
        "the folder's stylesheet is applied"
    );
    axe(&desktop, "the organisation's login page").await;
    screenshot(&desktop, "login-desktop-own-pages").await;

    find(&desktop, "a.lang-switch").await.click().await.unwrap();
    wait_for_text(
        &desktop,
        "#site-login-heading",
        "Sign in to the accounting portal",
    )
    .await;
    find(&desktop, "a.lang-switch").await.click().await.unwrap();
    wait_for_text(
        &desktop,
        "#site-login-heading",
        "Вхід до облікового порталу",
    )
    .await;

    sign_in_desktop(&env, &desktop).await;
    close(desktop).await;
}

/// 8. id.gov.ua beside Diia: the dropdown offers both, the button says «Увійти через
///    id.gov.ua», id.gov.ua's page (the emulator) takes the person's choice of key and identity,
///    and the browser comes back into the cabinet signed in as the same person as through Diia.
#[tokio::test]
async fn browser_e2e_idgovua_signs_in_the_same_person_as_diia() {
    let stack = crate::idgovua::spawn_idgovua_stack(|_| {}).await;
    let env = &stack.env;
    let driver = Chromedriver::start().await;
    let via_diia = driver.open(Device::Desktop, true, "uk-UA,uk").await;
    sign_in_desktop(env, &via_diia).await;
    let diia_rnokpp = text(&via_diia, "#cabinet-rnokpp").await;
    close(via_diia).await;

    let desktop = driver.open(Device::Desktop, true, "uk-UA,uk").await;
    desktop
        .goto(&format!("{}/documents/2026?tab=vat", env.stack.app.address))
        .await
        .unwrap();
    let provider = find(&desktop, "#provider").await;
    let offered: Vec<String> = serde_json::from_value(
        desktop
            .execute(
                "return [...document.querySelectorAll('#provider option')].map(o => o.textContent);",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(offered, ["Дія.Підпис", "id.gov.ua"]);
    assert_eq!(text(&desktop, "#start-button").await, "Отримати посилання");
    provider.select_by_value("idgovua").await.unwrap();
    assert_eq!(
        text(&desktop, "#start-button").await,
        "Увійти через id.gov.ua"
    );
    screenshot(&desktop, "login-desktop-idgovua").await;
    find(&desktop, "#start-button").await.click().await.unwrap();

    find(&desktop, "#idgov-login").await;
    assert!(
        desktop
            .current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(stack.idgov.as_str())
    );
    for choice in [
        "input[name=method][value=dig_sign]",
        "input[name=identity][value=person]",
    ] {
        find(&desktop, choice).await.click().await.unwrap();
    }
    screenshot(&desktop, "idgovua-emulator-desktop").await;
    find(&desktop, "#sign-in").await.click().await.unwrap();

    // Back where the person was going (the sample cabinet echoes that request as JSON).
    let started = Instant::now();
    while path_of(&desktop).await != "/documents/2026?tab=vat" {
        assert!(started.elapsed() < STEP, "at {}", path_of(&desktop).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    desktop
        .goto(&format!("{}/", env.stack.app.address))
        .await
        .unwrap();
    wait_for_text(&desktop, "#cabinet-name", PERSON_NAME).await;
    assert_eq!(text(&desktop, "#cabinet-rnokpp").await, diia_rnokpp);
    assert!(
        text(&desktop, "#cabinet-provider")
            .await
            .contains("id.gov.ua")
    );
    close(desktop).await;
}

/// 9. A real relying party: Apache httpd with mod_auth_openidc, configured from kepgate's
///    discovery document, signs a person in through kepgate's login (Diia) and shows the claims;
///    its logout ends the kepgate session too.
#[tokio::test]
async fn browser_e2e_apache_mod_auth_openidc_signs_in_through_kepgate_and_logs_out() {
    use crate::apache_rp::{ApacheRp, claim_on_page};
    let plan = ApacheRp::plan();
    let secret = "apache-client-secret-0123456789abcdef0123456789";
    let env = crate::oidc::spawn_op(|s| {
        let mut apache = crate::oidc::client(&plan.redirect_uri);
        apache.secret_sha256 = Some(crate::oidc::secret_hash(secret));
        apache.post_logout_redirect_uris = vec![plan.post_logout_redirect_uri.parse().unwrap()];
        s.oidc.clients.insert("apache".to_owned(), apache);
    })
    .await;
    let discovery = format!("{}/.well-known/openid-configuration", env.stack.app.address);
    let rp = ApacheRp::start(plan, &discovery, "apache", secret).await;
    let driver = Chromedriver::start().await;
    let desktop = driver.open(Device::Desktop, true, "uk-UA,uk").await;
    desktop.goto(&rp.protected_url()).await.unwrap();
    // kepgate's login page, then the phone at the Diia emulator.
    get_link(&env.stack.app, &desktop).await;
    let deeplink: String = sqlx::query_scalar(
        "SELECT deeplink FROM pending_logins WHERE deeplink IS NOT NULL ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(&env.stack.app.db)
    .await
    .unwrap();
    phone_confirms(&env.stack, &deeplink, PERSON).await;
    // The desktop completes by itself and comes back through mod_auth_openidc.
    let started = Instant::now();
    let page = loop {
        let source = desktop.source().await.unwrap_or_default();
        if claim_on_page(&source, "name").is_some_and(|n| !n.is_empty()) {
            break source;
        }
        assert!(
            started.elapsed() < STEP,
            "not back at the protected page: {:?}\n{}",
            desktop.current_url().await.map(|u| u.to_string()),
            rp.error_log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(claim_on_page(&page, "name").as_deref(), Some(PERSON_NAME));
    assert_eq!(
        claim_on_page(&page, "rnokpp").as_deref(),
        Some("3012345670")
    );
    assert_eq!(claim_on_page(&page, "provider").as_deref(), Some("diia"));
    assert_eq!(
        claim_on_page(&page, "sub").as_deref(),
        Some("rnokpp:3012345670")
    );

    // Logout through the relying party: kepgate's session ends too.
    desktop.goto(&rp.logout_url()).await.unwrap();
    find(&desktop, "#logged-out").await;
    desktop.goto(&env.stack.app.own("/me")).await.unwrap();
    find(&desktop, "#start-form").await;
    assert!(
        path_of(&desktop)
            .await
            .starts_with(&env.stack.app.own_path("/login"))
    );
    close(desktop).await;
}

/// Every word of the history's cells that the browser laid out over more than one line (broken
/// inside the word, or hyphenated): each word's range must sit on one line.
const WORDS_BROKEN_IN_HISTORY: &str = r##"
    var broken = [];
    document.querySelectorAll("#history tbody td").forEach(function (td) {
      var walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
      for (var node = walker.nextNode(); node; node = walker.nextNode()) {
        var word = /\S+/g, m;
        while ((m = word.exec(node.data))) {
          var range = document.createRange();
          range.setStart(node, m.index);
          range.setEnd(node, m.index + m[0].length);
          var lines = {};
          Array.prototype.forEach.call(range.getClientRects(), function (r) {
            if (r.width > 0) { lines[Math.round(r.top)] = true; }
          });
          if (Object.keys(lines).length !== 1) { broken.push(m[0]); }
        }
      }
    });
    return broken;"##;

/// 4a. «Мої сеанси» as people read it: on a 390×844 phone and a 1280×720 computer nothing is
///     wider than the screen or its card, no word of the history is broken across lines (not
///     «Вхід виконан-о», «127.0.0.-1»), on the computer the history uses the screen's width;
///     times are Kyiv's, day first, the browser and the address are named plainly, one history
///     row per sign-in.
#[tokio::test]
async fn browser_e2e_the_account_page_fits_the_screen_and_reads_plainly() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let driver = Chromedriver::start().await;
    for (device, what) in [(Device::Phone, "390 px"), (Device::Desktop, "1280 px")] {
        let c = driver.open(device, true, "uk-UA,uk").await;
        if device == Device::Desktop {
            c.set_window_size(1280, 720).await.unwrap();
        }
        sign_in_desktop(&env, &c).await;
        c.goto(&env.stack.app.own("/me")).await.unwrap();
        find(&c, "#history").await;
        let broken: Vec<String> =
            serde_json::from_value(c.execute(WORDS_BROKEN_IN_HISTORY, vec![]).await.unwrap())
                .unwrap();
        assert!(
            broken.is_empty(),
            "{what}: words of the history broken across lines: {broken:?}"
        );
        let history_text = text(&c, "#history tbody").await;
        assert!(
            history_text.contains("Вхід виконано") && history_text.contains("127.0.0.1"),
            "{what}: the rows the check is about: {history_text}"
        );
        let (page, screen, table, card): (f64, f64, f64, f64) = serde_json::from_value(
            c.execute(
                "return [document.documentElement.scrollWidth, window.innerWidth,
                         document.getElementById('history').getBoundingClientRect().right,
                         document.getElementById('main').getBoundingClientRect().right];",
                vec![],
            )
            .await
            .unwrap(),
        )
        .unwrap();
        assert!(
            page <= screen,
            "{what}: the page is {page} px wide on a {screen} px screen"
        );
        assert!(
            table <= card + 0.5,
            "{what}: the history ends at {table}, its card at {card}"
        );
        if device == Device::Desktop {
            let (width, viewport): (f64, f64) = serde_json::from_value(
                c.execute(
                    "return [document.getElementById('history').getBoundingClientRect().width,
                             window.innerWidth];",
                    vec![],
                )
                .await
                .unwrap(),
            )
            .unwrap();
            assert_eq!(viewport, 1280.0, "the computer's viewport");
            assert!(
                width >= 0.7 * viewport,
                "{what}: the history is {width} px wide on a {viewport} px screen"
            );
        }
        // The history in view, under its heading, for the picture.
        c.execute(
            "var table = document.getElementById('history');
             (table.closest('.table-box') || table).previousElementSibling
                 .scrollIntoView({block: 'start'});",
            vec![],
        )
        .await
        .unwrap();
        screenshot(&c, &format!("me-{}", what.replace(' ', ""))).await;
        close(c).await;
    }
    // What the rows say (the last browser's page is gone; read them as the page renders them).
    let mut browser = crate::browser::Browser::new(&env.stack.app);
    crate::sign_in::sign_in_as(&env.stack, &mut browser, PERSON).await;
    let html = browser
        .get(&env.stack.app.own_path("/me"))
        .await
        .text()
        .await
        .unwrap();
    let history = &html[html.find("id=\"history\"").expect("the history")..];
    let rows = history.matches("<tr>").count() - 1;
    let completions = history.matches(">Вхід виконано<").count();
    assert_eq!(rows, completions, "one row per sign-in: {history}");
    assert_eq!(rows, 3, "three sign-ins: {history}");
    assert!(!html.contains("/32"), "no prefix length on an address");
    assert!(!html.contains("UTC"), "times in Kyiv time");
    let kyiv = kepgate::http::local_time::DisplayZone::named("Europe/Kyiv").unwrap();
    let now = kyiv.date_and_time(time::OffsetDateTime::now_utc());
    let today = &now[..10];
    assert!(html.contains(today), "dates day first ({today})");
    assert!(
        html.contains(", Linux<") && !html.contains("Mozilla/5.0"),
        "the browser named, not its User-Agent"
    );
}

/// 4. Logout (from the cabinet's link to «Мої сеанси») returns to the login page and the
///    cabinet is closed again, also through the browser's Back button.
#[tokio::test]
async fn browser_e2e_logout_returns_to_login_and_closes_the_cabinet() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let driver = Chromedriver::start().await;
    let desktop = driver.open(Device::Desktop, true, "uk-UA,uk").await;
    sign_in_desktop(&env, &desktop).await;

    find(&desktop, "#cabinet-account")
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(text(&desktop, "#full-name").await, PERSON_NAME);
    find(&desktop, "#logout").await.click().await.unwrap();
    assert_eq!(text(&desktop, ".notice").await, "Ви вийшли.");
    assert_eq!(text(&desktop, "h1").await, "Вхід за допомогою КЕП");

    // The cabinet is closed: a direct visit goes to the login page…
    desktop
        .goto(&format!("{}/", env.stack.app.address))
        .await
        .unwrap();
    find(&desktop, "#start-form").await;
    assert_eq!(
        path_of(&desktop).await,
        env.stack.app.own_path("/login?rd=%2F")
    );
    // …and so does Back (authenticated pages are no-store: nothing comes from the cache).
    desktop.back().await.unwrap();
    desktop.back().await.unwrap();
    desktop.back().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !displayed(&desktop, "#cabinet-name").await,
        "the cabinet must not come back from the history: {}",
        path_of(&desktop).await
    );
    close(desktop).await;
}

/// 5. Without JavaScript: the form posts, the waiting page offers «Продовжити», which signs in.
#[tokio::test]
async fn browser_e2e_without_javascript_the_continue_button_signs_in() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let driver = Chromedriver::start().await;
    let desktop = driver.open(Device::Desktop, false, "uk-UA,uk").await;
    // The phone is the provider's app, not this browser: it keeps its JavaScript. (Besides,
    // chromedriver's taps under mobile emulation hang when scripts are off.)
    let phone = driver.open(Device::Phone, true, "uk-UA,uk").await;
    desktop
        .goto(&format!("{}/", env.stack.app.address))
        .await
        .unwrap();
    // Really no JavaScript: the page's <noscript> hint is rendered.
    get_link(&env.stack.app, &desktop).await;
    assert_eq!(
        text(&desktop, "#complete-form .muted").await,
        "Після підтвердження на телефоні натисніть «Продовжити»."
    );
    assert!(displayed(&desktop, "#qr svg").await);
    let continue_button = find(&desktop, "#continue").await;
    assert_eq!(continue_button.text().await.unwrap(), "Продовжити");
    screenshot(&desktop, "wait-nojs-desktop").await;

    // Too early: the page says so, is still waiting and keeps the button.
    continue_button.click().await.unwrap();
    assert_eq!(
        text(&desktop, "#not-yet").await,
        "Телефон ще не підтвердив вхід. Підтвердьте запит у застосунку, тоді натисніть «Продовжити» ще раз."
    );
    assert_eq!(
        text(&desktop, "#status-text").await,
        "Очікуємо підтвердження в застосунку…"
    );

    // Nobody hurries: the page reloads itself before the link it shows ages out (10 s), so
    // what it shows 15 s later still opens on the phone.
    let (first, _) = shown_on(&desktop).await;
    let shown_at = std::time::Instant::now();
    tokio::time::sleep(std::time::Duration::from_secs(15)).await;
    let (link, code) = shown_on(&desktop).await;
    assert_ne!(link, first, "the page showed a new link by itself");
    assert!(shown_at.elapsed() >= std::time::Duration::from_secs(15));
    answer_on_phone(&phone, &link, code.as_deref(), true, None).await;
    // The page may reload itself between finding the button and pressing it: find it again.
    for attempt in 0.. {
        match find(&desktop, "#continue").await.click().await {
            Ok(_) => break,
            Err(e) if attempt < 3 => eprintln!("pressing «Продовжити» again: {e}"),
            Err(e) => panic!("«Продовжити»: {e}"),
        }
    }
    assert_eq!(text(&desktop, "#cabinet-name").await, PERSON_NAME);
    close(desktop).await;
    close(phone).await;
}

// ---------- like a designer: accessibility, language, typography, layout ----------

/// Runs axe-core (WCAG 2.1 A/AA and best practices) on the current page; panics listing every
/// violation. Injected through WebDriver, which the pages' CSP does not apply to.
async fn axe(c: &Client, page: &str) {
    let path = std::env::var("KEPGATE_AXE_JS").expect(
        "KEPGATE_AXE_JS: the path of axe.min.js (scripts/test.sh fetches it from the npm registry)",
    );
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    c.execute(&source, vec![]).await.unwrap();
    let result = c
        .execute_async(
            r##"var done = arguments[arguments.length - 1];
               axe.run(document, { runOnly: { type: "tag",
                   values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] } })
                 .then(function (r) {
                   done({ passes: r.passes.length, violations: r.violations.map(function (v) {
                     return { id: v.id, impact: v.impact, help: v.help,
                              nodes: v.nodes.map(function (n) { return n.target.join(" ") + ": " + n.failureSummary; }) };
                   }) });
                 }, function (e) { done({ passes: 0, violations: [{ id: "axe-error", help: String(e) }] }); });"##,
            vec![],
        )
        .await
        .unwrap();
    // A run that checked next to nothing would pass vacuously.
    let passes = result["passes"].as_u64().unwrap_or(0);
    assert!(
        passes >= 10,
        "axe-core checked only {passes} rules on {page}: {result}"
    );
    let violations = result["violations"].as_array().cloned().unwrap_or_default();
    assert!(
        violations.is_empty(),
        "axe-core on {page}:\n{}",
        serde_json::to_string_pretty(&violations).unwrap()
    );
}

/// The page's language, and Ukrainian typography in what it shows: «» quotes, the apostrophe ʼ,
/// the ellipsis character — no typewriter quotes or three dots.
async fn check_language_and_typography(c: &Client, lang: &str, page: &str) {
    let html_lang = c
        .execute("return document.documentElement.lang;", vec![])
        .await
        .unwrap();
    assert_eq!(html_lang, lang, "lang attribute of {page}");
    if lang == "uk" {
        let body = text_of(c, "body").await;
        for bad in ["'", "\"", "...", "’"] {
            assert!(
                !body.contains(bad),
                "{page} shows {bad:?} (use «», ʼ, …): {body}"
            );
        }
    }
}

/// The sequence of elements Tab visits, as `tag#id` or `tag.text`.
async fn focus_order(c: &Client, steps: usize) -> Vec<String> {
    c.execute(
        "document.activeElement && document.activeElement.blur(); window.focus();",
        vec![],
    )
    .await
    .unwrap();
    let mut order = Vec::new();
    for _ in 0..steps {
        c.active_element()
            .await
            .unwrap()
            .send_keys("\u{E004}")
            .await
            .unwrap();
        let (name, outline) = c
            .execute(
                r##"var e = document.activeElement; var s = getComputedStyle(e);
                   return [e.tagName.toLowerCase() + (e.id ? "#" + e.id : "." + (e.textContent || "").trim()),
                           s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2];"##,
                vec![],
            )
            .await
            .map(|v| {
                (
                    v[0].as_str().unwrap_or_default().to_owned(),
                    v[1].as_bool().unwrap_or(false),
                )
            })
            .unwrap();
        if name == "body." || name.starts_with("body") {
            break;
        }
        assert!(outline, "{name} shows no visible focus outline");
        order.push(name);
    }
    order
}

#[tokio::test]
async fn browser_e2e_pages_pass_axe_and_a_designers_checks() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let driver = Chromedriver::start().await;
    let desktop = driver.open(Device::Desktop, true, "uk-UA,uk").await;
    let phone = driver.open(Device::Phone, true, "uk-UA,uk").await;
    let base = &env.stack.app.address;

    // The login page: language, typography, focus order, axe.
    desktop.goto(&format!("{base}/")).await.unwrap();
    find(&desktop, "#start-form").await;
    check_language_and_typography(&desktop, "uk", "login page").await;
    assert_eq!(
        focus_order(&desktop, 8).await,
        [
            "a.English",
            "select#provider",
            "input#shared_pc",
            "button#start-button"
        ]
    );
    axe(&desktop, "login page (desktop)").await;

    // The waiting page: QR big enough and black on white, countdown ticking, no layout shift.
    let link = get_link(&env.stack.app, &desktop).await;
    // Measured in one script: the page swaps the QR picture every rotation, so an element found
    // by one WebDriver call can be gone (stale) by the next.
    find(&desktop, "#qr svg").await;
    let size = desktop
        .execute(
            r##"var r = document.querySelector("#qr svg").getBoundingClientRect();
               return [r.width, r.height];"##,
            vec![],
        )
        .await
        .unwrap();
    let (qr_w, qr_h) = (size[0].as_f64().unwrap(), size[1].as_f64().unwrap());
    assert!(
        qr_w >= 200.0 && qr_h >= 200.0,
        "QR code of {qr_w}×{qr_h} px is too small to scan from a screen"
    );
    let colours = desktop
        .execute(
            r##"var svg = document.querySelector("#qr svg");
               var paths = svg.querySelectorAll("path, rect");
               return Array.prototype.map.call(paths, function (p) { return p.getAttribute("fill"); })
                 .concat([getComputedStyle(svg.parentElement).backgroundColor]);"##,
            vec![],
        )
        .await
        .unwrap();
    for colour in colours.as_array().unwrap() {
        let c = colour.as_str().unwrap_or_default().to_ascii_lowercase();
        assert!(
            ["#000", "#000000", "#fff", "#ffffff", "rgb(255, 255, 255)"].contains(&c.as_str()),
            "QR colours must be black on white for every camera: {colours}"
        );
    }
    let before: i64 = text(&desktop, "#countdown").await.parse().unwrap();
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let after: i64 = text(&desktop, "#countdown").await.parse().unwrap();
    assert!(after < before, "the countdown runs: {before} → {after}");
    // Layout shift since the page started loading (the QR is inline SVG in a fixed box, the
    // script only hides what it replaces): the buffered entries of the whole page life.
    let shift = desktop
        .execute_async(
            r##"var done = arguments[arguments.length - 1]; var total = 0;
               new PerformanceObserver(function (list) {
                 list.getEntries().forEach(function (e) { if (!e.hadRecentInput) total += e.value; });
               }).observe({ type: "layout-shift", buffered: true });
               setTimeout(function () { done(total); }, 300);"##,
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap_or(0.0);
    assert!(shift < 0.01, "cumulative layout shift {shift}");
    check_language_and_typography(&desktop, "uk", "waiting page").await;
    let status = find(&desktop, "#status").await;
    assert_eq!(
        status.attr("role").await.unwrap().as_deref(),
        Some("status")
    );
    assert_eq!(focus_order(&desktop, 8).await, ["a.English", "a#deeplink"]);
    axe(&desktop, "waiting page (desktop)").await;

    // The phone's pages: kepgate's check (context + codes), then the emulator's page.
    let _ = link;
    let (link, code) = shown_on(&desktop).await;
    phone.goto(&link).await.unwrap();
    find(&phone, "#phone-check").await;
    check_language_and_typography(&phone, "uk", "phone check page").await;
    axe(&phone, "phone check page").await;
    screenshot(&phone, "phone-check-phone").await;
    find(
        &phone,
        &format!("button.code-choice[value=\"{}\"]", code.unwrap()),
    )
    .await
    .click()
    .await
    .unwrap();
    find(&phone, "button.confirm").await;
    check_language_and_typography(&phone, "uk", "emulator phone page").await;
    axe(&phone, "emulator phone page").await;

    // Declined: the status and the new-link offer pass too.
    find(&phone, "button.decline").await.click().await.unwrap();
    wait_for_text(&desktop, "#status-text", "Запит відхилено в застосунку.").await;
    axe(&desktop, "waiting page after a decline").await;

    // The phone-sized login and waiting pages.
    phone.goto(&format!("{base}/")).await.unwrap();
    find(&phone, "#start-form").await;
    axe(&phone, "login page (phone)").await;
    get_link(&env.stack.app, &phone).await;
    axe(&phone, "waiting page (phone)").await;

    // In English: the switch, the lang attribute, the texts.
    let english = driver.open(Device::Desktop, true, "en-US,en").await;
    english.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(
        text(&english, "h1").await,
        "Sign in with a qualified e-signature"
    );
    check_language_and_typography(&english, "en", "login page in English").await;
    assert_eq!(
        text(&english, "#start-form button[type=submit]").await,
        "Get the link"
    );
    axe(&english, "login page (English)").await;
    find(&english, "a.lang-switch").await.click().await.unwrap();
    wait_for_text(&english, "h1", "Вхід за допомогою КЕП").await;
    check_language_and_typography(&english, "uk", "login page switched to Ukrainian").await;
    close(english).await;

    // Signed in: the account page (sessions, history, logout).
    sign_in_desktop(&env, &desktop).await;
    axe(&desktop, "the sample cabinet").await;
    find(&desktop, "#cabinet-account")
        .await
        .click()
        .await
        .unwrap();
    find(&desktop, "#full-name").await;
    check_language_and_typography(&desktop, "uk", "my sessions page").await;
    axe(&desktop, "my sessions page").await;
    close(desktop).await;
    close(phone).await;
}

/// kepgate on HTTPS itself: Chromium, trusting the test CA, signs in over HTTP/2 and holds the
/// session in a `__Host-` cookie that is `Secure` and `HttpOnly`.
#[tokio::test]
async fn browser_e2e_signs_in_over_https_with_http2() {
    let options = StackOptions {
        tls: true,
        ..StackOptions::default()
    };
    let env = spawn_cabinet_stack_with_options(options, |_, _| {}).await;
    let driver = Chromedriver::start().await;
    // The test CA's key is what Chromium trusts (its switch takes key hashes, not files).
    let ca = env.stack.tls_ca().unwrap();
    let trust = format!(
        "--ignore-certificate-errors-spki-list={}",
        crate::test_pki::spki_sha256_base64(&ca)
    );
    let desktop = driver
        .open_with(Device::Desktop, true, "uk-UA,uk", &[trust])
        .await;
    assert!(env.stack.app.address.starts_with("https://"));
    sign_in_desktop(&env, &desktop).await;
    let protocol = desktop
        .execute(
            "return performance.getEntriesByType('navigation')[0].nextHopProtocol",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(protocol, "h2", "the cabinet page came over HTTP/2");
    let cookies = desktop.get_all_cookies().await.unwrap();
    let session = cookies
        .iter()
        .find(|c| c.name() == "__Host-kepgate_session")
        .unwrap_or_else(|| panic!("a __Host- session cookie: {cookies:?}"));
    assert_eq!(session.secure(), Some(true));
    assert_eq!(session.http_only(), Some(true));
    close(desktop).await;
}

/// 17. Signing a report: the cabinet's «Підписати звіт» sends the desktop to kepgate's signing
///     page (file, size, fingerprint, provider, link and QR code); the phone's app lists the same
///     file and signs; the desktop returns to the cabinet by itself, which shows the verified
///     signer and offers the `.p7s`.
#[tokio::test]
async fn browser_e2e_desktop_signs_a_report_with_the_phone_confirming() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let driver = Chromedriver::start().await;
    let desktop = driver.open(Device::Desktop, true, "uk-UA,uk").await;
    let phone = driver.open(Device::Phone, true, "uk-UA,uk").await;
    sign_in_desktop(&env, &desktop).await;

    let link = to_signing_page(&env, &desktop).await;
    axe(&desktop, "the signing page").await;
    screenshot(&desktop, "sign-desktop").await;

    phone.goto(&link).await.unwrap();
    assert_eq!(
        text(&phone, "#documents-heading").await,
        "Документи на підпис"
    );
    assert_eq!(text(&phone, ".files .file-name").await, "zvit-2026-12.txt");
    find(&phone, "input[name=identity][value=person]")
        .await
        .click()
        .await
        .unwrap();
    screenshot(&phone, "sign-phone").await;
    find(&phone, "button.confirm").await.click().await.unwrap();
    wait_for_text(&phone, "h1", "Готово — поверніться до компʼютера").await;

    // No click on the desktop: the page hears the signature and returns to the cabinet.
    assert!(
        text(&desktop, "#signed")
            .await
            .starts_with(&format!("Підписано: {PERSON_NAME}"))
    );
    assert!(text(&desktop, "#verified").await.starts_with("Перевірено:"));
    assert!(
        path_of(&desktop)
            .await
            .starts_with("/report/signed?signing=")
    );
    assert!(displayed(&desktop, "#download").await);
    screenshot(&desktop, "signed-desktop").await;
    assert!(console_errors(&desktop).await.is_empty());
    close(desktop).await;
    close(phone).await;
}

/// 18. The same on a phone alone (the provider's app answering through the emulator's control
///     endpoint, as the app on the same phone would): the phone-sized pages read plainly.
#[tokio::test]
async fn browser_e2e_phone_signs_a_report() {
    let env = spawn_cabinet_stack(|_, _| {}).await;
    let driver = Chromedriver::start().await;
    let phone = driver.open(Device::Phone, true, "uk-UA,uk").await;
    sign_in_desktop(&env, &phone).await;
    let link = to_signing_page(&env, &phone).await;
    phone_confirms(&env.stack, &link, PERSON).await;
    assert!(
        text(&phone, "#signed")
            .await
            .starts_with(&format!("Підписано: {PERSON_NAME}"))
    );
    screenshot(&phone, "signed-phone").await;
    close(phone).await;
}

/// From the cabinet's report page to kepgate's signing page; the provider's link it shows.
async fn to_signing_page(env: &CabinetStack, c: &Client) -> String {
    c.goto(&format!("{}/report", env.stack.app.address))
        .await
        .unwrap();
    find(c, "#sign-report").await.click().await.unwrap();
    find(c, "#files").await;
    assert!(
        path_of(c)
            .await
            .starts_with(&env.stack.app.own_path("/sign/"))
    );
    assert_eq!(text(c, "h1").await, "Підписання документів");
    assert_eq!(text(c, ".file-name").await, "zvit-2026-12.txt");
    assert_eq!(text(c, "#provider-name").await, "Дія.Підпис");
    assert!(displayed(c, "#qr svg").await, "the QR code is visible");
    assert_eq!(
        text(c, "#status-text").await,
        "Очікуємо підтвердження в застосунку…"
    );
    find(c, "#deeplink")
        .await
        .attr("href")
        .await
        .unwrap()
        .expect("the deeplink")
}
