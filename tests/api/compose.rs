//! No Docker engine runs here, so docker-compose.yml is checked the way it can be: the
//! gateway's `KEPGATE_…` variables (and DATABASE_URL) together must be a valid configuration,
//! and every `KEPGATE_EMULATOR_…` variable must be one the emulator command reads.

use std::collections::BTreeMap;

use crate::helpers::kepgate_bin;

/// service name → (variable, value), read from the compose file's `environment:` maps.
fn environment_by_service() -> BTreeMap<String, Vec<(String, String)>> {
    environment_in("docker-compose.yml")
}

/// As [`environment_by_service`], of another compose file of the repository.
fn environment_in(file: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let compose =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
            .unwrap();
    let mut services: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut current = None;
    for line in compose.lines() {
        if let Some(name) = line
            .strip_prefix("  ")
            .filter(|l| !l.starts_with(' '))
            .and_then(|l| l.strip_suffix(':'))
        {
            current = Some(name.to_owned());
            continue;
        }
        let Some(service) = &current else { continue };
        let Some((key, value)) = line.trim().split_once(':') else {
            continue;
        };
        let key = key.trim();
        if key.starts_with("KEPGATE_") || key == "DATABASE_URL" {
            let value = value.trim().trim_matches('"').to_owned();
            services
                .entry(service.clone())
                .or_default()
                .push((key.to_owned(), value));
        }
    }
    services
}

#[test]
fn the_gateways_compose_variables_form_a_valid_configuration() {
    let services = environment_by_service();
    check_gateway_environment(&services["kepgate"]);
    // The two-replica variant: its replicas run with the base file's variables and its own.
    let mut replica = services["kepgate"].clone();
    replica.extend(environment_in("docker-compose.replicas.yml")["kepgate"].clone());
    assert!(
        replica
            .iter()
            .any(|(k, _)| k == "KEPGATE_SERVER__SHUTDOWN_DELAY")
    );
    check_gateway_environment(&replica);
    let emulator = &environment_in("docker-compose.replicas.yml")["emulator"];
    assert!(
        emulator[0].1.starts_with("http://lb:8080/"),
        "callbacks go through the load balancer: {emulator:?}"
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
