//! docker-compose.yml and docker-compose.replicas.yml without a Docker engine: both follow the
//! Compose Specification's schema; the gateway's variables form a valid configuration and the
//! stand-ins' are ones they read; and the services run as processes with exactly the commands
//! and environment compose would give them (`compose_stack`), up to a signed-in person and a
//! signed report with no step by hand.

use std::collections::BTreeMap;

use crate::browser::{Browser, csrf_of};
use crate::compose_stack::{ComposeModel, ComposeStack, compose_model};
use crate::helpers::kepgate_bin;
use crate::sign_in::{
    PERSON, complete_on_page, phone_answers_at, provider_deeplink, wait_for_phone,
};
use crate::signing::deeplink_on;

/// The emulator's test person, as the cabinet shows them.
const PERSON_NAME: &str = "Шевченко Тарас Григорович";

fn model(files: &[&str]) -> ComposeModel {
    compose_model(files).unwrap_or_else(|e| panic!("{files:?}: {e}"))
}

/// service name → (variable, value), of the merged model of `files`.
fn environment_in(files: &[&str]) -> BTreeMap<String, Vec<(String, String)>> {
    model(files)
        .services
        .into_iter()
        .map(|(name, service)| (name, service.environment.into_iter().collect()))
        .collect()
}

fn environment_by_service() -> BTreeMap<String, Vec<(String, String)>> {
    environment_in(&["docker-compose.yml"])
}

#[test]
fn the_compose_files_follow_the_compose_specification_and_a_wrong_key_is_named() {
    let base = model(&["docker-compose.yml"]);
    assert_eq!(
        base.services.keys().collect::<Vec<_>>(),
        ["cabinet", "db", "emulator", "kepgate"]
    );
    let replicas = model(&["docker-compose.yml", "docker-compose.replicas.yml"]);
    // The second replica is the first one (extends), with no published port of its own.
    let (one, two) = (
        &replicas.services["kepgate"],
        &replicas.services["kepgate2"],
    );
    assert_eq!(one.environment, two.environment);
    assert_eq!(one.command, two.command);
    assert!(one.ports.is_empty() && two.ports.is_empty(), "{one:?}");
    assert_eq!(
        one.depends_on, two.depends_on,
        "both wait for the emulator's CA"
    );

    // And the check itself works: a misspelt key of a service is refused with its place.
    let broken = std::env::temp_dir().join(format!("compose-{}.yml", uuid::Uuid::new_v4()));
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docker-compose.yml"),
    )
    .unwrap()
    .replacen("    command: [\"cabinet\"]", "    comand: [\"cabinet\"]", 1);
    std::fs::write(&broken, text).unwrap();
    let refused = compose_model(&[broken.to_str().unwrap()]);
    let _ = std::fs::remove_file(&broken);
    let refused = refused.expect_err("a misspelt key is refused");
    assert!(
        refused.contains("services/cabinet") && refused.contains("'comand'"),
        "{refused}"
    );
}

#[test]
fn the_gateways_compose_variables_form_a_valid_configuration() {
    let services = environment_by_service();
    check_gateway_environment(&services["kepgate"]);
    // The two-replica variant: its replicas run with the base file's variables and its own.
    let replica = environment_in(&["docker-compose.yml", "docker-compose.replicas.yml"]);
    let emulator = &replica["emulator"];
    let replica = &replica["kepgate"];
    assert!(
        replica
            .iter()
            .any(|(k, _)| k == "KEPGATE_SERVER__SHUTDOWN_DELAY")
    );
    check_gateway_environment(replica);
    let callback = emulator
        .iter()
        .find(|(k, _)| k == "KEPGATE_EMULATOR_PARTNER_CALLBACK_URL")
        .unwrap();
    assert!(
        callback.1.starts_with("http://lb:8080/"),
        "callbacks go through the load balancer: {callback:?}"
    );

    // And the check itself works: a made-up key is refused.
    let out = kepgate_bin()
        .arg("check-config")
        .env("KEPGATE_SERVER__NO_SUCH_KEY", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
}

fn check_gateway_environment(gateway: &[(String, String)]) {
    assert!(gateway.len() >= 8, "found {gateway:?}");
    // The trust file exists only inside the containers; the key and its form are what we check.
    let ca = std::env::temp_dir().join(format!("compose-ca-{}.pem", uuid::Uuid::new_v4().simple()));
    let ca_pem =
        kepgate_signature::test_ca::TestCa::generate("Compose", time::OffsetDateTime::now_utc())
            .unwrap()
            .cert_pem()
            .unwrap();
    std::fs::write(&ca, ca_pem).unwrap();
    let mut cmd = kepgate_bin();
    cmd.arg("check-config");
    for (key, value) in gateway {
        let value = if key == "KEPGATE_TRUST__FILES" {
            format!("[{}]", ca.display())
        } else {
            value.clone()
        };
        cmd.env(key, value);
    }
    let out = cmd.output().unwrap();
    let _ = std::fs::remove_file(&ca);
    assert!(
        out.status.success(),
        "docker-compose.yml's kepgate environment is not accepted:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("provider diia (diia)"));
}

#[test]
fn the_emulators_and_cabinets_compose_variables_are_ones_they_read() {
    let services = environment_by_service();
    for service in ["emulator", "cabinet"] {
        let vars = &services[service];
        assert!(vars.len() >= 3, "{service}: found {vars:?}");
        let help = kepgate_bin().args([service, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&help.stdout);
        for (key, _) in vars {
            assert!(
                help.contains(&format!("[env: {key}")),
                "{key} is not read by `kepgate {service}`:\n{help}"
            );
        }
    }
}

/// `docker compose up`, then what a newcomer does: open the cabinet, sign in with the emulator
/// (the phone confirms), see their name, sign the report. Nobody ran `kepgate diia setup`.
#[tokio::test]
async fn a_first_compose_up_signs_in_and_signs_a_report_with_no_step_by_hand() {
    let model = model(&["docker-compose.yml"]);
    let mut stack = ComposeStack::up(&model).await;
    let gateway = stack.published("http://localhost:8080");
    stack.answers(&format!("{gateway}/.kepgate/readyz")).await;
    let emulator = stack.url_of("emulator", 8090);
    signs_in_and_signs_the_report(&mut stack, &gateway, &emulator).await;
}

/// The newcomer's walk through the cabinet; the signed-in browser.
async fn signs_in_and_signs_the_report(
    stack: &mut ComposeStack,
    gateway: &str,
    emulator: &str,
) -> Browser {
    let mut browser = Browser::at(gateway, "/.kepgate");
    let first = browser.get("/report").await;
    assert_eq!(first.status(), 303, "the cabinet needs a login first");

    let waiting = wait_for_phone(&mut browser, "/report").await;
    let deeplink = provider_deeplink(&mut browser, &waiting).await;
    assert!(
        deeplink.starts_with(&stack.published("http://localhost:8090/")),
        "the phone opens the emulator's published address: {deeplink}"
    );
    phone_answers_at(&browser.http, emulator, &deeplink, "confirm", PERSON).await;
    let done = complete_on_page(&mut browser, &waiting).await;
    assert_eq!(done.status(), 303, "{}", stack.logs());

    // The cabinet verified the gateway's assertion (its issuer and audience) to show this.
    let report = browser.get("/report").await;
    assert_eq!(report.status(), 200);
    let html = report.text().await.unwrap();
    assert!(html.contains(PERSON_NAME), "{html}");

    // «Підписати звіт»: the cabinet's backend asks the gateway, the phone signs.
    let started = browser.post_form("/report/sign", &[]).await;
    assert_eq!(started.status(), 303, "{}", stack.logs());
    let sign_page = started.headers()["location"].to_str().unwrap().to_owned();
    let page = browser.get(&sign_page).await.text().await.unwrap();
    let deeplink = deeplink_on(&page);
    phone_answers_at(&browser.http, emulator, &deeplink, "confirm", PERSON).await;
    let id = sign_page.rsplit('/').next().unwrap();
    let back = browser
        .post_form(
            &browser.own(&format!("/sign/{id}/done")),
            &[("csrf", &csrf_of(&page))],
        )
        .await;
    let signed = back.headers()["location"].to_str().unwrap().to_owned();
    assert!(signed.starts_with("/report/signed?"), "{signed}");
    let html = browser.get(&signed).await.text().await.unwrap();
    assert!(
        html.contains(&format!("Підписано: {PERSON_NAME}")),
        "{html}"
    );
    assert!(html.contains("id=\"verified\""), "{html}");
    stack.still_running();
    browser
}

/// The two-replica variant: HAProxy (Debian's) in front of two gateways sharing one database.
/// The person signs in through the balancer, and either replica knows their session.
#[tokio::test]
async fn compose_with_two_replicas_behind_haproxy_signs_in_on_either_replica() {
    let model = model(&["docker-compose.yml", "docker-compose.replicas.yml"]);
    let mut stack = ComposeStack::up(&model).await;
    for replica in ["kepgate", "kepgate2"] {
        let own = stack.url_of(replica, 8080);
        stack.answers(&format!("{own}/.kepgate/readyz")).await;
    }
    let gateway = stack.published("http://localhost:8080");
    stack.answers(&format!("{gateway}/.kepgate/readyz")).await;
    let emulator = stack.url_of("emulator", 8090);
    let signed_in = signs_in_and_signs_the_report(&mut stack, &gateway, &emulator).await;

    for replica in ["kepgate", "kepgate2"] {
        let mut on_replica = Browser::at(&stack.url_of(replica, 8080), "/.kepgate");
        on_replica.cookies = signed_in.cookies.clone();
        let report = on_replica.get("/report").await;
        assert_eq!(report.status(), 200, "{replica} knows the session");
        assert!(report.text().await.unwrap().contains(PERSON_NAME));
    }
    stack.still_running();
}
