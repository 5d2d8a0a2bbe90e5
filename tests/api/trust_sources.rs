//! `[trust.sources]`: the national trust list downloaded over HTTPS from a mirror serving the
//! real files, checked, shared by the replicas through the database, kept when a download is bad.

use std::sync::Arc;

use kepgate::login::pending::PendingState;
use kepgate::trust_list::{InForce, NationalTrust};
use kepgate_signature::test_ca::TestCa;
use tokio::net::TcpListener;

use crate::diia_stack::spawn_diia_stack_configured;
use crate::helpers::{TestApp, settings_for, spawn_app_on};
use crate::trust_mirror::{
    TrustMirror, bundle_of, eventually, national_certificates, pem_certificates, providers_with,
    refreshes, subject_cns,
};

fn national(app: &TestApp) -> NationalTrust {
    app.state.login.national_trust.clone()
}

/// Waits until the list in force on `app` satisfies `done`; returns it.
async fn in_force_when(app: &TestApp, done: impl Fn(&InForce) -> bool) -> Arc<InForce> {
    let national = national(app);
    eventually("the national list in force", async || {
        done(&national.in_force())
    })
    .await;
    national.in_force()
}

fn contains_all(in_force: &InForce, certificates: &[Vec<u8>]) -> bool {
    certificates
        .iter()
        .all(|der| in_force.list.contains_der(der))
}

/// The real list, as published.
fn publish_national(mirror: &TrustMirror) {
    mirror.publish(&bundle_of(&national_certificates()), &providers_with(&[]));
}

/// The real list with one more provider's CAs.
fn publish_national_with(mirror: &TrustMirror, cas: &[Vec<u8>]) {
    let bundle = bundle_of(&[national_certificates(), cas.to_vec()].concat());
    mirror.publish(&bundle, &providers_with(&[subject_cns(cas)]));
}

/// Two gateways on one database, both fetching from `mirror`.
async fn two_replicas(mirror: &TrustMirror) -> (TestApp, TestApp) {
    let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let second = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut settings = settings_for(&first);
    settings.trust.sources = Some(mirror.sources());
    let mut other = settings.clone();
    let addr = second.local_addr().unwrap();
    other.server.listen = addr;
    other.server.base_url = format!("http://{addr}/").parse().unwrap();
    let a = spawn_app_on(first, settings).await;
    let b = spawn_app_on(second, other).await;
    (a, b)
}

async fn stored_lists(app: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM national_trust_lists")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_gateway_trusting_only_the_national_list_verifies_a_diia_login_and_trust_show_lists_it() {
    let mirror = TrustMirror::start().await;
    let mut emulator_cas = Vec::new();
    let (stack, _) = spawn_diia_stack_configured(false, |settings| {
        // The emulator's CAs reach the gateway only through the mirror, as a new qualified
        // provider would: in the bundle, and named in the list.
        emulator_cas = pem_certificates(&std::fs::read(&settings.trust.files[0]).unwrap());
        publish_national_with(&mirror, &emulator_cas);
        settings.trust.files = vec![];
        settings.trust.sources = Some(mirror.sources());
    })
    .await;
    let in_force = in_force_when(&stack.app, |f| contains_all(f, &emulator_cas)).await;
    // The real list's qualified CAs came along; its server certificates and roots did not.
    assert!(in_force.list.len() > 40, "{}", in_force.list.len());
    assert!(in_force.list.len() < 200, "{}", in_force.list.len());

    let started = stack.start_login().await;
    stack.phone(&started, "confirm", "person").await;
    let row = stack.pending(started.id).await;
    assert_eq!(
        row.state,
        PendingState::Confirmed,
        "{:?}",
        row.outcome_reason
    );

    // With the gateway's configuration (the sources): without them no national list is trusted,
    // whatever the database holds.
    let sources = mirror.sources();
    let database = format!(
        "{}/{}",
        crate::helpers::postgres_server_url(),
        stack.app.db_name
    );
    let out = crate::helpers::kepgate_bin()
        .args(["trust", "show"])
        .env("DATABASE_URL", database)
        .env(
            "KEPGATE_TRUST__SOURCES__BUNDLE_URL",
            sources.bundle_url.as_str(),
        )
        .env(
            "KEPGATE_TRUST__SOURCES__PROVIDERS_URL",
            sources.providers_url.as_str(),
        )
        .env(
            "KEPGATE_TRUST__SOURCES__CA_FILE",
            sources.ca_file.as_ref().unwrap(),
        )
        .output()
        .unwrap();
    let (ok, stdout, stderr) = (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(ok, "{stderr}");
    let mut lines = stdout.lines();
    let summary = lines.next().unwrap();
    let record = in_force.record.as_ref().unwrap();
    assert!(
        summary.contains(&format!(
            "{} of the national list in force since",
            in_force.list.len()
        )) && summary.contains(&record.bundle_url),
        "{summary}"
    );
    assert!(lines.next().unwrap().starts_with("SUBJECT CN"), "{stdout}");
    assert_eq!(stdout.lines().count(), 2 + in_force.list.len(), "{stdout}");
    // Diia's own CA of the real list, with its ЄДРПОУ, and the emulator's, each with its origin.
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("43395033") && l.contains("national list since")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("Тестовий КНЕДП емулятора Дії  ")
                && l.contains("ECDSA P-256")
                && l.contains(&record.bundle_url)),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_ca_added_at_the_source_is_in_force_on_both_replicas_after_one_of_them_refreshes() {
    let mirror = TrustMirror::start().await;
    publish_national(&mirror);
    let (a, b) = two_replicas(&mirror).await;
    let first = in_force_when(&a, |f| f.record.is_some()).await;
    let first_id = first.record.as_ref().unwrap().id;
    in_force_when(&b, |f| f.record.as_ref().is_some_and(|r| r.id == first_id)).await;
    // Both fetched at start: one list stored, not one each.
    for replica in [&a, &b] {
        let attempts = national(replica).attempts();
        eventually("the download at start", async || *attempts.borrow() > 0).await;
    }
    assert_eq!(stored_lists(&a).await, 1);

    let added = TestCa::generate("Новий КНЕДП", time::OffsetDateTime::now_utc()).unwrap();
    let added = vec![added.cert_der().to_vec()];
    publish_national_with(&mirror, &added);
    national(&a).refresh_now();
    // `b` fetches every 6 hours: only the database's notice brings it the new list.
    let on_b = in_force_when(&b, |f| contains_all(f, &added)).await;
    let on_a = in_force_when(&a, |f| contains_all(f, &added)).await;
    assert_eq!(on_a.list.len(), first.list.len() + 1);
    assert_eq!(
        on_a.record.as_ref().unwrap().id,
        on_b.record.as_ref().unwrap().id
    );
    assert_eq!(stored_lists(&a).await, 2);
}

#[tokio::test]
async fn a_suspicious_download_keeps_the_list_in_force_and_is_counted() {
    let mirror = TrustMirror::start().await;
    publish_national(&mirror);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut settings = settings_for(&listener);
    let mut sources = mirror.sources();
    sources.max_bytes = 4 * 1024 * 1024;
    settings.trust.sources = Some(sources);
    let app = spawn_app_on(listener, settings).await;
    let good = in_force_when(&app, |f| f.record.is_some()).await;
    let good_id = good.record.as_ref().unwrap().id;
    let metrics = app.metrics_address.clone().unwrap();

    let national_cas = national_certificates();
    let every_other: Vec<Vec<u8>> = national_cas.iter().step_by(2).cloned().collect();
    let bad: [(&str, Vec<u8>); 4] = [
        ("empty", Vec::new()),
        ("unparseable", b"<html>Service Unavailable</html>".to_vec()),
        ("too_many_gone", bundle_of(&every_other)),
        ("too_large", vec![0x30; 5 * 1024 * 1024]),
    ];
    for (outcome, bundle) in bad {
        mirror.publish(&bundle, &providers_with(&[]));
        let before = refreshes(&metrics, outcome).await;
        national(&app).refresh_now();
        eventually(outcome, async || {
            refreshes(&metrics, outcome).await > before
        })
        .await;
        let now = national(&app).in_force();
        assert_eq!(now.record.as_ref().unwrap().id, good_id, "{outcome}");
        assert_eq!(now.list.len(), good.list.len(), "{outcome}");
        assert_eq!(stored_lists(&app).await, 1, "{outcome}");
    }
}

#[tokio::test]
async fn a_replica_starting_while_the_source_is_unreachable_uses_the_list_in_force_from_the_database()
 {
    let mirror = TrustMirror::start().await;
    publish_national(&mirror);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut settings = settings_for(&listener);
    settings.trust.sources = Some(mirror.sources());
    let mut first = spawn_app_on(listener, settings.clone()).await;
    let stored = in_force_when(&first, |f| f.record.is_some()).await;
    let metrics = first.metrics_address.clone().unwrap();
    let failed_before = refreshes(&metrics, "unreachable").await;
    first.stop().await;

    // Nothing listens there any more (the mirror's CA file stays readable).
    let nowhere = crate::helpers::free_port();
    let sources = settings.trust.sources.as_mut().unwrap();
    sources.bundle_url = format!("https://127.0.0.1:{nowhere}/CACertificates.p7b")
        .parse()
        .unwrap();
    sources.providers_url = format!("https://127.0.0.1:{nowhere}/CAs.json")
        .parse()
        .unwrap();
    let listener = TcpListener::bind(settings.server.listen).await.unwrap();
    let app = spawn_app_on(listener, settings).await;
    // In force from the start, before any download could have brought it.
    let now = national(&app).in_force();
    assert_eq!(
        now.record.as_ref().map(|r| r.id),
        stored.record.as_ref().map(|r| r.id)
    );
    assert_eq!(now.list.len(), stored.list.len());
    let metrics = app.metrics_address.clone().unwrap();
    eventually("a failed download counted", async || {
        refreshes(&metrics, "unreachable").await > failed_before
    })
    .await;
    assert_eq!(
        national(&app).in_force().record.as_ref().map(|r| r.id),
        stored.record.as_ref().map(|r| r.id)
    );
}

#[tokio::test]
async fn a_source_that_drains_the_list_or_goes_back_in_time_is_refused_and_a_rollback_is_followed()
{
    let mirror = TrustMirror::start().await;
    publish_national(&mirror);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut settings = settings_for(&listener);
    settings.trust.sources = Some(mirror.sources());
    let app = spawn_app_on(listener, settings).await;
    let first = in_force_when(&app, |f| f.record.is_some()).await;
    let first_id = first.record.as_ref().unwrap().id;
    let accepted: Vec<Vec<u8>> = first
        .list
        .entries()
        .map(|(_, der, _)| der.to_vec())
        .collect();
    let metrics = app.metrics_address.clone().unwrap();
    let offer = async |cas: &[Vec<u8>], outcome: &str| {
        mirror.publish(&bundle_of(cas), &providers_with(&[]));
        let before = refreshes(&metrics, outcome).await;
        national(&app).refresh_now();
        eventually(outcome, async || {
            refreshes(&metrics, outcome).await > before
        })
        .await;
        national(&app).in_force()
    };

    // Under the limit (20 %) from the list in force: taken.
    let fewer = accepted.len() * 86 / 100;
    let second = offer(&accepted[..fewer], "stored").await;
    let second_id = second.record.as_ref().unwrap().id;
    assert_eq!(second.list.len(), fewer);
    // Under the limit again from the list in force, but not from the one before it: a drain.
    let fewer_still = fewer * 82 / 100;
    let drained = offer(&accepted[..fewer_still], "too_many_gone").await;
    assert_eq!(drained.record.as_ref().unwrap().id, second_id);
    // The first list again, as a lagging mirror would serve it: it would bring back what the
    // second list removed.
    let stale = offer(&accepted, "stale").await;
    assert_eq!(stale.record.as_ref().unwrap().id, second_id);
    assert_eq!(stale.list.len(), fewer);

    // The operator rolls the second list back: the replica follows the database.
    sqlx::query("DELETE FROM national_trust_lists WHERE id = $1")
        .bind(second_id)
        .execute(&app.db)
        .await
        .unwrap();
    let rolled_back = offer(&accepted, "unchanged").await;
    assert_eq!(rolled_back.record.as_ref().unwrap().id, first_id);
    assert_eq!(rolled_back.list.len(), accepted.len());
}
