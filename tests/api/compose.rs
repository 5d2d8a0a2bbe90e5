//! No Docker engine runs here, so docker-compose.yml is checked the way it can be: every
//! `KEPGATE_…` variable (and DATABASE_URL) it sets for kepgate must be a real, valid config key.

use crate::helpers::kepgate_bin;

#[test]
fn every_kepgate_variable_in_docker_compose_is_a_real_config_key() {
    let compose =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docker-compose.yml"))
            .unwrap();
    let mut vars = Vec::new();
    for line in compose.lines() {
        let line = line.trim().trim_start_matches("- ");
        let Some((key, value)) = line.split_once([':', '=']) else {
            continue;
        };
        let key = key.trim();
        if key.starts_with("KEPGATE_") || key == "DATABASE_URL" {
            let value = value.trim().trim_matches('"').to_owned();
            vars.push((key.to_owned(), value));
        }
    }
    assert!(vars.len() >= 4, "found {vars:?}");
    for (key, value) in &vars {
        // One at a time, so an error names exactly this variable.
        let out = kepgate_bin()
            .arg("check-config")
            .env(key, value)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{key}={value} from docker-compose.yml is not accepted:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // And the detector itself works: a made-up key is refused.
    let out = kepgate_bin()
        .arg("check-config")
        .env("KEPGATE_SERVER__NO_SUCH_KEY", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
}
