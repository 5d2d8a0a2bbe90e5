//! Attacks on document signing: what a signature must be to count as the person's signature of
//! exactly the file sent, and what the API must refuse to anyone but the session that asked.

use kepgate_signature::test_ca::CadesOptions;
use serde_json::json;

use crate::diia_stack::{now, spawn_diia_stack};
use crate::signing::{
    ask_report, franko, key_of, result_of, signed_in_as, signed_items, signing_callback,
};

/// An attached signature whose content is the file's hash signs those 32 bytes, not the file:
/// anyone can turn a detached signature of a 32-byte "document" into one by adding the content,
/// and the cabinet (or anyone checking the `.p7s` against the file) would be told otherwise.
#[tokio::test]
async fn an_attached_signature_over_the_hash_bytes_is_not_a_signature_of_the_file() {
    let stack = spawn_diia_stack().await;
    let key = key_of(&stack.own_ca, &franko());
    let mut browser = signed_in_as(&stack, &key).await;
    let asked = ask_report(&stack, &mut browser).await;

    let attached = CadesOptions {
        attached: true,
        ..CadesOptions::default()
    };
    let p7s = key
        .sign_hash_cades_with(&asked.hash, now(), &attached)
        .unwrap();
    let (status, answer) = signing_callback(
        &stack,
        &asked.request_id,
        signed_items("zvit-2026-12.txt", &p7s),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    let result = result_of(&mut browser, &asked.id).await;
    assert_eq!(result["state"], "failed", "{result}");
    assert_eq!(result["reason"], "hash_mismatch", "{result}");
    assert!(result.get("result").is_none(), "no signed result: {result}");
    assert_eq!(result["files"][0]["signature"], json!(null));
}

/// Once signed, the result belongs to the session that asked: another person cannot download
/// its `.p7s`, watch its stream or ask again for its files, and the result's JWS (signed with
/// the same key as the assertion) does not open the API as the person.
#[tokio::test]
async fn a_signed_result_stays_with_its_session_and_its_token_is_no_assertion() {
    let stack = spawn_diia_stack().await;
    let key = key_of(&stack.own_ca, &franko());
    let mut browser = signed_in_as(&stack, &key).await;
    let asked = ask_report(&stack, &mut browser).await;
    let p7s = key.sign_hash_cades(&asked.hash, now()).unwrap();
    let (status, _) = signing_callback(
        &stack,
        &asked.request_id,
        signed_items("zvit-2026-12.txt", &p7s),
    )
    .await;
    assert_eq!(status, 200);
    let token = result_of(&mut browser, &asked.id).await["result"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut other = crate::sign_in::sign_in(&stack, crate::sign_in::DIRECTOR).await;
    for path in [
        format!("/api/signing/{}/files/0/signature.p7s", asked.id),
        format!("/sign/events/{}", asked.id),
    ] {
        let response = other.get(&other.own(&path)).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    let page = other.get(&other.own("/me")).await;
    let csrf = crate::browser::csrf_of(&page.text().await.unwrap());
    let again = other
        .post_form(
            &other.own(&format!("/sign/{}/again", asked.id)),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status(), 404);

    let response = stack
        .http
        .get(browser.url(&browser.own(&format!("/api/signing/{}", asked.id))))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        401,
        "the result's JWS is not an assertion"
    );
}

/// The limit of requests waiting per session holds when the cabinet asks many at once.
#[tokio::test]
async fn many_requests_at_once_do_not_pass_the_pending_limit() {
    let stack = spawn_diia_stack().await;
    let key = key_of(&stack.own_ca, &franko());
    let browser = signed_in_as(&stack, &key).await;
    let url = browser.url(&browser.own("/api/signing"));
    let asks = (0..12).map(|i| {
        let request = stack
            .http
            .post(&url)
            .header("cookie", browser.cookie_header())
            .json(&json!({"files": [{"name": format!("f{i}.txt"), "content": "AAAA"}]}));
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures_util::future::join_all(asks).await;
    let started = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((started, refused), (5, 7), "{statuses:?}");
}
