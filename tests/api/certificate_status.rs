//! The certificate status at login with the Diia emulator's CA as a real QTSP: its OCSP responder
//! misbehaving in every way the policy must handle, and a key revoked while its person is signed
//! in on two replicas.

use std::time::{Duration, Instant};

use kepgate::config::RevocationMode;

use crate::browser::Browser;
use crate::diia_stack::{DiiaStack, spawn_diia_stack_configured};
use crate::sign_in::{PERSON, complete_api, confirm_on_phone, sign_in, start_api};

/// How the login ended: the pending login's state and reason.
async fn login_outcome(stack: &DiiaStack) -> (String, Option<String>) {
    for _ in 0..600 {
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT state, outcome_reason FROM pending_logins WHERE state <> 'pending'",
        )
        .fetch_optional(&stack.app.db)
        .await
        .unwrap();
        if let Some(row) = row {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the login never left 'pending'");
}

/// What one login as `PERSON` comes to with the emulator's responder answering as `fault` says:
/// signed in, or the refusal's reason. Also how long the callback took.
async fn login_with_fault(mode: RevocationMode, fault: &str) -> (Result<(), String>, Duration) {
    let (stack, _) = spawn_diia_stack_configured(false, |s| {
        s.trust.revocation = mode;
        s.trust.revocation_timeout = Duration::from_millis(500);
        s.trust.revocation_retries = 0;
    })
    .await;
    // 20 s: far beyond the timeout, and not so long that a wrong wait hides in the suite.
    stack.ocsp_fault(fault, 20_000).await;
    let mut browser = Browser::new(&stack.app);
    let started = start_api(&mut browser).await;
    let asked = Instant::now();
    confirm_on_phone(&stack, &mut browser, &started, PERSON).await;
    let outcome = login_outcome(&stack).await;
    let took = asked.elapsed();
    let result = match outcome {
        (state, _) if state == "confirmed" => {
            let done = complete_api(&mut browser, &started).await;
            assert_eq!(done.status(), 200, "{mode:?} {fault}: completion");
            Ok(())
        }
        (state, reason) => {
            assert_eq!(state, "failed", "{mode:?} {fault}");
            Err(reason.unwrap_or_default())
        }
    };
    (result, took)
}

#[tokio::test]
async fn every_responder_fault_gets_the_outcome_the_policy_prescribes() {
    use RevocationMode::{Prefer, Require};
    let refused = |reason: &str| Err(reason.to_owned());
    // (mode, the responder's fault, what the login comes to)
    let cases: [(RevocationMode, &str, Result<(), String>); 16] = [
        (Require, "none", Ok(())),
        (Prefer, "none", Ok(())),
        // Nobody answers: refused when a status is required, waved through when only preferred.
        (Require, "down", refused("ocsp_http_error")),
        (Prefer, "down", Ok(())),
        (Require, "slow", refused("ocsp_timeout")),
        (Prefer, "slow", Ok(())),
        // An answer that fails its checks may be an attack: refused whatever the mode.
        (Require, "garbage", refused("ocsp_malformed")),
        (Prefer, "garbage", refused("ocsp_malformed")),
        (
            Require,
            "unauthorized-signer",
            refused("ocsp_unauthorized_responder"),
        ),
        (
            Prefer,
            "unauthorized-signer",
            refused("ocsp_unauthorized_responder"),
        ),
        (Require, "stale", refused("ocsp_stale")),
        (Prefer, "stale", refused("ocsp_stale")),
        (Require, "replay", refused("ocsp_nonce_mismatch")),
        (Prefer, "replay", refused("ocsp_nonce_mismatch")),
        (Require, "unknown", refused("ocsp_unknown")),
        (Prefer, "unknown", refused("ocsp_unknown")),
    ];
    for (mode, fault, expected) in cases {
        let (outcome, took) = login_with_fault(mode, fault).await;
        assert_eq!(outcome, expected, "{mode:?} with the responder {fault}");
        // A slow responder holds the callback for its timeout, not for its 20 s.
        assert!(
            took < Duration::from_secs(10),
            "{mode:?} {fault}: the login waited {took:?}"
        );
    }
}

/// Whether `browser`'s session still opens the person's own page.
async fn signed_in(browser: &mut Browser) -> bool {
    let me = browser.own("/me");
    let response = browser.get(&me).await;
    response.status() == 200
}

#[tokio::test]
async fn revoking_a_signed_in_persons_key_ends_their_session_on_both_replicas() {
    let (stack, replica) = spawn_diia_stack_configured(true, |s| {
        s.trust.crl_refresh = Duration::from_secs(1);
    })
    .await;
    let replica = replica.unwrap();
    let mut on_first = sign_in(&stack, PERSON).await;
    let mut on_second = on_first.on(&replica);
    assert!(signed_in(&mut on_first).await);
    assert!(signed_in(&mut on_second).await);

    stack.revoke_at_emulator(PERSON).await;
    // The next CRL says so; a replica downloads it within a refresh and ends the session.
    let mut ended = false;
    for _ in 0..150 {
        if !signed_in(&mut on_first).await && !signed_in(&mut on_second).await {
            ended = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ended, "the revoked key's session still opens pages");
    let reasons: Vec<(Option<String>,)> = sqlx::query_as("SELECT revoked_reason FROM sessions")
        .fetch_all(&stack.app.db)
        .await
        .unwrap();
    assert_eq!(reasons, vec![(Some("certificate_revoked".to_owned()),)]);
    let history: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT event, reason FROM login_history WHERE event = 'revoked'")
            .fetch_all(&stack.app.db)
            .await
            .unwrap();
    assert_eq!(
        history,
        vec![("revoked".to_owned(), Some("certificate_revoked".to_owned()))]
    );
}
