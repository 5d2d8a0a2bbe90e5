//! QR/link relay (QRLJacking): rotating links, the phone-side check with a verification
//! code, the same-device path, direct mode. The gateway's clock is moved by hand; the phone is a
//! second cookie-keeping browser; Diia is the real emulator over loopback.

use std::sync::Arc;

use kepgate::clock::ManualClock;
use kepgate::config::{QrMode, Settings};
use kepgate::login::pending::{PendingLoginId, PendingState};

use crate::browser::{Browser, csrf_of};
use crate::diia_stack::{DiiaStack, StackOptions, spawn_diia_stack_with_options};
use crate::helpers::{OTHER_PREFIX, TestApp};
use crate::sign_in::{
    PERSON, Waiting, complete_on_page, deeplink_of, phone_confirms, wait_for_phone, waiting_page,
};

async fn stack_with(
    second_replica: bool,
    configure: impl FnOnce(&mut Settings),
) -> (DiiaStack, ManualClock, Option<TestApp>) {
    let options = StackOptions {
        second_replica,
        ..StackOptions::default()
    };
    stack_on_clock(options, configure).await
}

/// A stack as `options` say, on a clock of its own that the test moves.
async fn stack_on_clock(
    options: StackOptions,
    configure: impl FnOnce(&mut Settings),
) -> (DiiaStack, ManualClock, Option<TestApp>) {
    let clock = ManualClock::new(crate::diia_stack::now());
    let options = StackOptions {
        clock: Some(Arc::new(clock.clone())),
        ..options
    };
    let (stack, replica) = spawn_diia_stack_with_options(options, configure).await;
    (stack, clock, replica)
}

fn attr_after<'a>(html: &'a str, marker: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"))
        + marker.len();
    html[at..].split('"').next().unwrap()
}

fn code_on(page: &str) -> String {
    let marker = "id=\"verification-code\">";
    let at = page.find(marker).expect("a verification code") + marker.len();
    page[at..].split('<').next().unwrap().to_owned()
}

/// The three codes the phone offers.
fn choices_on(phone_page: &str) -> Vec<String> {
    phone_page
        .split("name=\"choice\" value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .filter(|v| v != "decline")
        .collect()
}

async fn pick(phone: &mut Browser, link: &str, page: &str, choice: &str) -> reqwest::Response {
    let csrf = csrf_of(page);
    let opened = attr_after(page, "name=\"opened\" value=\"");
    phone
        .post_form(
            link,
            &[("csrf", &csrf), ("opened", opened), ("choice", choice)],
        )
        .await
}

async fn history_of(stack: &DiiaStack, id: &str) -> Vec<(String, Option<String>)> {
    kepgate::session::history::since(&stack.app.db, time::OffsetDateTime::UNIX_EPOCH, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.pending_login_id.map(|u| u.to_string()).as_deref() == Some(id))
        .map(|e| (e.event, e.reason))
        .collect()
}

async fn metrics_text(stack: &DiiaStack) -> String {
    crate::helpers::metrics_text(stack.app.metrics_address.as_ref().unwrap()).await
}

#[tokio::test]
async fn a_stale_link_is_refused_and_a_fresh_one_leads_through_the_code_to_the_provider() {
    stale_and_fresh_links(StackOptions::default()).await;
}

#[tokio::test]
async fn the_phone_check_works_under_another_route_prefix() {
    stale_and_fresh_links(StackOptions::under(OTHER_PREFIX)).await;
}

async fn stale_and_fresh_links(options: StackOptions) {
    let (stack, clock, _) = stack_on_clock(options, |_| {}).await;
    let mut desktop = Browser::new(&stack.app);
    let login = wait_for_phone(&mut desktop, "/").await;
    let (id, page) = (&login.id, &login.page);
    let old_link = deeplink_of(page);
    assert!(old_link.starts_with(&stack.app.own("/q/")), "{old_link}");
    assert!(
        !page.contains("offer-request/dynamic"),
        "the provider's static deeplink is never on the page"
    );
    let code = code_on(page);

    // Twelve seconds later the copy is stale: the phone is told to scan the code on the screen.
    clock.advance(time::Duration::seconds(12));
    let mut phone = Browser::new(&stack.app);
    let refused = phone.get(&old_link).await;
    assert_eq!(refused.status(), 410);
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("Відскануйте той, що зараз на екрані"),
        "{text}"
    );
    assert!(!text.contains("offer-request"), "no way on to the provider");
    assert!(
        history_of(&stack, id)
            .await
            .contains(&("suspicious".to_owned(), Some("stale_qr_link".to_owned()))),
        "the stale link is in the login history"
    );
    assert!(
        metrics_text(&stack)
            .await
            .contains("kepgate_qr_links_refused_total{reason=\"stale_qr_link\"}")
    );

    // The page now shows a newer link, which the phone may open: who asks, from where, 3 codes.
    let page = waiting_page(&mut desktop, id).await;
    let fresh = deeplink_of(&page);
    assert_ne!(fresh, old_link, "the link rotated");
    assert_eq!(
        code_on(&page),
        code,
        "the code is the login's, not the link's"
    );
    let check = phone.get(&fresh).await;
    assert_eq!(check.status(), 200);
    let check = check.text().await.unwrap();
    assert!(check.contains("127.0.0.1"), "the domain and the computer");
    assert!(check.contains("мережа вашої організації"), "{check}");
    assert!(check.contains("Відхилити"), "Decline is offered");
    let choices = choices_on(&check);
    assert_eq!(choices.len(), 3, "{check}");
    assert!(choices.contains(&code));

    // The right code leads on to the provider's app; the login finishes on the desktop.
    let on = pick(&mut phone, &fresh, &check, &code).await;
    assert_eq!(on.status(), 303);
    let deeplink = on.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        deeplink.contains("/acquirers/offer-request/dynamic/"),
        "{deeplink}"
    );
    phone_confirms(&stack, &deeplink, PERSON).await;
    let done = complete_on_page(&mut desktop, &login).await;
    assert_eq!(done.status(), 303);
    assert!(desktop.cookies.contains_key("kepgate_session"));
    assert!(
        phone.cookies.keys().all(|k| k != "kepgate_session"),
        "the phone never gets a session"
    );
}

#[tokio::test]
async fn a_wrong_code_rejects_the_login_at_once_and_the_computer_says_so() {
    let (stack, _clock, _) = stack_with(false, |_| {}).await;
    let mut desktop = Browser::new(&stack.app);
    let login = wait_for_phone(&mut desktop, "/").await;
    let (id, page) = (&login.id, &login.page);
    let mut events = desktop
        .events(&desktop.own(&format!("/login/events/{id}")))
        .await;
    assert_eq!(events.next_event().await.unwrap().1["state"], "pending");

    let link = deeplink_of(page);
    let mut phone = Browser::new(&stack.app);
    let check = phone.get(&link).await.text().await.unwrap();
    let code = code_on(page);
    let wrong = choices_on(&check).into_iter().find(|c| *c != code).unwrap();
    let answer = pick(&mut phone, &link, &check, &wrong).await;
    assert_eq!(answer.status(), 410);
    assert!(answer.text().await.unwrap().contains("Код не збігся"));

    // The desktop is pushed the rejection with its reason and a message.
    let state = loop {
        let (name, data) = events.next_event().await.unwrap();
        if name == "state" {
            break data;
        }
    };
    assert_eq!(state["state"], "rejected");
    assert_eq!(state["reason"], "relay_suspected_wrong_code");
    assert!(
        state["message"]
            .as_str()
            .unwrap()
            .contains("неправильний код")
    );
    let pending = stack.pending(PendingLoginId(id.parse().unwrap())).await;
    assert_eq!(pending.state, PendingState::Rejected);
    assert!(history_of(&stack, id).await.contains(&(
        "declined".to_owned(),
        Some("relay_suspected_wrong_code".to_owned())
    )));
    assert!(
        metrics_text(&stack).await.contains(
            "kepgate_logins_rejected_on_phone_total{reason=\"relay_suspected_wrong_code\"}"
        )
    );

    // Nothing more can happen to it: not the right code now, not a completion.
    let again = pick(&mut phone, &link, &check, &code).await;
    assert_eq!(again.status(), 410);
    let complete = complete_on_page(&mut desktop, &login).await;
    assert_eq!(complete.status(), 409);
}

#[tokio::test]
async fn decline_on_the_phone_rejects_the_login() {
    let (stack, _clock, _) = stack_with(false, |_| {}).await;
    let mut desktop = Browser::new(&stack.app);
    let Waiting { id, page } = wait_for_phone(&mut desktop, "/").await;
    let link = deeplink_of(&page);
    let mut phone = Browser::new(&stack.app);
    let check = phone.get(&link).await.text().await.unwrap();
    let answer = pick(&mut phone, &link, &check, "decline").await;
    assert_eq!(answer.status(), 410);
    let page = waiting_page(&mut desktop, &id).await;
    assert!(page.contains("Вхід відхилено на телефоні."), "{page}");
    assert!(
        history_of(&stack, &id)
            .await
            .contains(&("declined".to_owned(), Some("declined_on_phone".to_owned())))
    );
}

#[tokio::test]
async fn the_phone_that_started_the_login_goes_straight_to_the_provider() {
    let (stack, clock, _) = stack_with(false, |_| {}).await;
    // One browser does it all, as on a phone: start, tap the link (even an old one), confirm.
    let mut phone = Browser::new(&stack.app);
    let login = wait_for_phone(&mut phone, "/").await;
    let link = login.link();
    clock.advance(time::Duration::seconds(30));
    let tapped = phone.get(&link).await;
    assert_eq!(
        tapped.status(),
        303,
        "no check page, no staleness on its own device"
    );
    let deeplink = tapped.headers()["location"].to_str().unwrap().to_owned();
    assert!(deeplink.contains("/acquirers/offer-request/dynamic/"));
    phone_confirms(&stack, &deeplink, PERSON).await;
    let done = complete_on_page(&mut phone, &login).await;
    assert_eq!(done.status(), 303);
    assert!(
        metrics_text(&stack)
            .await
            .contains("kepgate_qr_handoffs_total{path=\"same_device\"}")
    );
}

#[tokio::test]
async fn the_qr_code_rotates_over_the_push_channel() {
    let (stack, clock, _) = stack_with(false, |_| {}).await;
    let mut desktop = Browser::new(&stack.app);
    let Waiting { id, page } = wait_for_phone(&mut desktop, "/").await;
    let mut events = desktop
        .events(&desktop.own(&format!("/login/events/{id}")))
        .await;
    // A link is pushed only when it changes; time moves only by hand here.
    let first = events.next_qr().await;
    assert_eq!(first, deeplink_of(&page));
    clock.advance(time::Duration::seconds(2));
    let second = events.next_qr().await;
    assert_ne!(second, first);
    clock.advance(time::Duration::seconds(2));
    let third = events.next_qr().await;
    assert_ne!(third, second);
    assert!(third.starts_with(&stack.app.own("/q/")), "{third}");
    // The picture of the current link is fetched by the page, only by the starting browser.
    let qr = stack.app.own_path(&format!("/login/qr/{id}"));
    let svg = desktop.get(&format!("{qr}?r=3")).await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));
    let mut stranger = Browser::new(&stack.app);
    assert_eq!(stranger.get(&qr).await.status(), 404);
}

#[tokio::test]
async fn a_link_made_by_one_replica_is_accepted_by_another() {
    let (stack, _clock, replica) = stack_with(true, |_| {}).await;
    let replica = replica.unwrap();
    let mut desktop = Browser::new(&stack.app);
    let link = wait_for_phone(&mut desktop, "/").await.link();
    // The same path on the other replica (as a load balancer might send the phone there).
    let path = link.strip_prefix(&stack.app.address).unwrap();
    let mut phone = Browser::new(&replica);
    let check = phone.get(path).await;
    assert_eq!(check.status(), 200, "one key on every replica");
    // A forged MAC is not found, whichever replica is asked.
    let mut forged = path.to_owned();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(phone.get(&forged).await.status(), 404);
    assert_eq!(
        phone.get(&replica.own_path("/q/nonsense")).await.status(),
        404
    );
}

#[tokio::test]
async fn direct_mode_shows_the_provider_deeplink_and_no_code() {
    let (stack, _clock, _) = stack_with(false, |s| s.login.qr_mode = QrMode::Direct).await;
    let mut desktop = Browser::new(&stack.app);
    let page = wait_for_phone(&mut desktop, "/").await.page;
    assert!(deeplink_of(&page).contains("/acquirers/offer-request/dynamic/"));
    assert!(!page.contains("verification-code"));
}

#[tokio::test]
async fn without_the_phone_check_a_fresh_link_goes_on_to_the_provider() {
    let (stack, _clock, _) = stack_with(false, |s| s.login.phone_check = false).await;
    let mut desktop = Browser::new(&stack.app);
    let page = wait_for_phone(&mut desktop, "/").await.page;
    assert!(!page.contains("verification-code"));
    let mut phone = Browser::new(&stack.app);
    let response = phone.get(&deeplink_of(&page)).await;
    assert_eq!(response.status(), 303);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .contains("/acquirers/offer-request/dynamic/")
    );
}

#[tokio::test]
async fn a_code_posted_to_a_stale_link_counts_only_from_a_page_opened_while_it_was_fresh() {
    let (stack, clock, _) = stack_with(false, |_| {}).await;
    let mut desktop = Browser::new(&stack.app);
    let Waiting { id, page } = wait_for_phone(&mut desktop, "/").await;
    let old_link = deeplink_of(&page);
    let code = code_on(&page);
    // A phone that opens the link while it is fresh may take its time to answer.
    let mut slow_phone = Browser::new(&stack.app);
    let fresh_page = slow_phone.get(&old_link).await.text().await.unwrap();

    clock.advance(time::Duration::seconds(12));
    // Someone who never opened the link in time posts the right code straight to it: with no
    // opening stamp, with a made-up one, and with the stamp of another phone's fresh opening
    // moved to a later time.
    let mut relay = Browser::new(&stack.app);
    let login_page = relay
        .get(&stack.app.own_path("/login"))
        .await
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&login_page);
    let stamp = attr_after(&fresh_page, "name=\"opened\" value=\"").to_owned();
    let (_, mac) = stamp.split_once('.').unwrap();
    let moved = format!(
        "{}.{mac}",
        time::OffsetDateTime::now_utc().unix_timestamp() * 1000
    );
    for opened in ["", "0.AAAAAAAAAAA", moved.as_str()] {
        let answer = relay
            .post_form(
                &old_link,
                &[("csrf", &csrf), ("opened", opened), ("choice", &code)],
            )
            .await;
        assert_eq!(answer.status(), 410, "opened = {opened:?}");
        assert!(answer.headers().get("location").is_none());
    }
    assert!(
        history_of(&stack, &id)
            .await
            .iter()
            .all(|(event, _)| event != "rejected"),
        "refused answers change nothing"
    );

    // The phone that did open it in time still gets through.
    let on = pick(&mut slow_phone, &old_link, &fresh_page, &code).await;
    assert_eq!(on.status(), 303);
}

/// A browser whose connections leave from `source` (another loopback address), so a proxy in
/// front sees a client address of its own.
fn browser_from(base: &str, prefix: &str, source: [u8; 4]) -> Browser {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(std::net::IpAddr::from(source))
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap();
    Browser {
        http,
        ..Browser::at(base, prefix)
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_phone_check_and_the_history_show_the_real_addresses() {
    behind_a_trusted_proxy(StackOptions::default()).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_under_another_route_prefix() {
    behind_a_trusted_proxy(StackOptions::under(OTHER_PREFIX)).await;
}

async fn behind_a_trusted_proxy(options: StackOptions) {
    let (stack, clock, _) = stack_on_clock(options, |s| {
        s.proxy.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let prefix = stack.app.prefix();
    // A real nginx in front, as docs/forward-auth.md sets it up for kepgate's own paths.
    let front = crate::upstreams::nginx(|_, _| {
        crate::forward_auth::own_routes_location(&stack.app.address, prefix)
    })
    .await;
    let through_nginx = |link: &str| {
        let path = link.strip_prefix(&stack.app.address).unwrap();
        format!("{}{path}", front.address)
    };
    // The computer at 127.0.0.3, the phone at 127.0.0.2; nginx reaches kepgate from 127.0.0.1.
    let mut desktop = browser_from(&front.address, prefix, [127, 0, 0, 3]);
    let Waiting { id, page } = wait_for_phone(&mut desktop, "/").await;
    let old_link = through_nginx(&deeplink_of(&page));
    let mut phone = browser_from(&front.address, prefix, [127, 0, 0, 2]);
    let check = phone.get(&old_link).await;
    assert_eq!(check.status(), 200);
    let check = check.text().await.unwrap();
    assert!(
        check.contains("127.0.0.3"),
        "the computer's address: {check}"
    );

    // A stale open is recorded with the phone's address, not nginx's; once, however often the
    // link is opened again.
    clock.advance(time::Duration::seconds(12));
    for _ in 0..3 {
        assert_eq!(phone.get(&old_link).await.status(), 410);
    }
    let recorded: Vec<Option<String>> =
        kepgate::session::history::since(&stack.app.db, time::OffsetDateTime::UNIX_EPOCH, 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.pending_login_id.map(|u| u.to_string()).as_deref() == Some(id.as_str()))
            .filter(|e| e.event == "suspicious")
            .map(|e| e.client_ip)
            .collect();
    assert_eq!(recorded, [Some("127.0.0.2/32".to_owned())], "{recorded:?}");
}
