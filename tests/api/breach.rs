//! BREACH: pages are gzip-compressed together with input an attacker chooses (the login
//! page's `rd`, the language switch's way back on every page). A secret on such a page that is
//! the same from response to response can be read off the compressed lengths, one guessed piece
//! at a time. The CSRF token is masked afresh for every response; pages with other secrets (a
//! login's link) or a person's data go out uncompressed.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::process::{Command, Stdio};

use crate::browser::{Browser, csrf_of};
use crate::diia_stack::{PROVIDER, spawn_diia_stack};
use crate::sign_in::{PERSON, sign_in, wait_for_phone};

/// The response to a GET of `path` by `browser`, asking for gzip as browsers do.
async fn get_gzip(browser: &Browser, path: &str) -> reqwest::Response {
    browser
        .http
        .get(browser.url(path))
        .header("accept", "text/html")
        .header("accept-encoding", "gzip")
        .header("cookie", browser.cookie_header())
        .send()
        .await
        .unwrap()
}

/// What went over the wire (compressed), and the page it unpacks to (by the `gzip` tool).
async fn compressed_page(browser: &Browser, path: &str) -> (usize, String) {
    let response = get_gzip(browser, path).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(
        response
            .headers()
            .get("content-encoding")
            .map(|v| v.as_bytes()),
        Some(&b"gzip"[..]),
        "{path} is compressed"
    );
    let wire = response.bytes().await.unwrap();
    let mut gunzip = Command::new("gzip")
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip runs");
    gunzip.stdin.take().unwrap().write_all(&wire).unwrap();
    let out = gunzip.wait_with_output().unwrap();
    assert!(out.status.success());
    (wire.len(), String::from_utf8(out.stdout).unwrap())
}

fn flipped(token: &str, at: usize) -> String {
    let mut bytes = token.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn every_response_carries_another_csrf_token_and_each_is_accepted_a_tampered_one_not() {
    let stack = spawn_diia_stack().await;
    let mut browser = Browser::new(&stack.app);
    let login = stack.app.own_path("/login");
    let start = stack.app.own_path("/login/start");
    let first = csrf_of(&browser.get(&login).await.text().await.unwrap());
    let second = csrf_of(&browser.get(&login).await.text().await.unwrap());
    let secret = browser.cookies["kepgate_csrf"].clone();
    assert_ne!(first, second, "the same page twice, two tokens");
    for token in [&first, &second] {
        assert!(
            !token.contains(&secret),
            "the cookie's secret is not on the page"
        );
    }

    // Another browser's token (masked from another secret) and tampered ones are refused.
    let mut other = Browser::new(&stack.app);
    let theirs = csrf_of(&other.get(&login).await.text().await.unwrap());
    for forged in [
        theirs,
        flipped(&first, 3),
        flipped(&first, first.len() / 2 + 3),
        first[..first.len() - 1].to_owned(),
    ] {
        let response = browser
            .post_form(&start, &[("csrf", &forged), ("provider", PROVIDER)])
            .await;
        assert_eq!(response.status(), 403, "{forged}");
    }
    // Both genuine tokens start a login, whichever page they came from.
    for token in [&first, &second] {
        let response = browser
            .post_form(
                &start,
                &[("csrf", token), ("provider", PROVIDER), ("rd", "/")],
            )
            .await;
        assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    }
}

/// The attack itself: the login page with a guess in `rd`, compressed. With a token that stayed
/// the same, a guess equal to the token of an earlier response compressed into fewer bytes than
/// a wrong guess (tens of bytes: the match is a back-reference); now it buys nothing.
#[tokio::test]
async fn a_reflected_guess_of_the_token_makes_the_compressed_login_page_no_shorter() {
    let stack = spawn_diia_stack().await;
    let mut browser = Browser::new(&stack.app);
    let login = stack.app.own_path("/login");
    browser.get(&login).await;
    let (_, page) = compressed_page(&browser, &login).await;
    let mut known = csrf_of(&page);
    let (mut right, mut wrong) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        // A guess of the same length and alphabet that matches nothing on the page.
        let mut bytes = [0u8; 30];
        getrandom::fill(&mut bytes).unwrap();
        let random = URL_SAFE_NO_PAD.encode(bytes);
        let (size, page) = compressed_page(&browser, &format!("{login}?rd=/%3Fq%3D{random}")).await;
        assert!(page.contains(&random), "the guess is reflected");
        wrong.push(size);
        let guess = &known[..40];
        let (size, page) = compressed_page(&browser, &format!("{login}?rd=/%3Fq%3D{guess}")).await;
        assert!(page.contains(guess), "the guess is reflected");
        right.push(size);
        known = csrf_of(&page);
    }
    right.sort_unstable();
    wrong.sort_unstable();
    let (right, wrong) = (right[3], wrong[3]);
    assert!(
        right + 6 > wrong,
        "the earlier token as guess: {right} bytes, a wrong guess: {wrong} bytes"
    );
}

/// Pages with a login's link or a person's data are sent uncompressed however the browser asks;
/// the login page (whose only secret is the masked token) still is compressed.
#[tokio::test]
async fn pages_with_a_logins_link_or_a_persons_data_go_out_uncompressed() {
    let stack = spawn_diia_stack().await;
    let mut desktop = Browser::new(&stack.app);
    let login = stack.app.own_path("/login");
    desktop.get(&login).await;
    compressed_page(&desktop, &login).await;

    let waiting = wait_for_phone(&mut desktop, "/").await;
    let phone = Browser::new(&stack.app);
    let signed_in = sign_in(&stack, PERSON).await;
    for (what, browser, path) in [
        (
            "waiting page",
            &desktop,
            desktop.own(&format!("/login/wait/{}", waiting.id)),
        ),
        ("phone's check page", &phone, waiting.link()),
        ("«Мої сеанси»", &signed_in, signed_in.own("/me")),
    ] {
        let response = get_gzip(browser, &path).await;
        assert_eq!(response.status(), 200, "{what}");
        assert_eq!(
            response.headers().get("content-encoding"),
            None,
            "{what} is not compressed"
        );
        let html = response.text().await.unwrap();
        assert!(html.contains("name=\"csrf\""), "{what}: {html}");
    }
}
