use std::time::Duration;

use secrecy::SecretString;

use super::*;

#[test]
fn empty_configuration_is_valid_and_documented_defaults_apply() {
    let settings = Settings::load_with(None, false, Defaults::Production).unwrap();
    assert_eq!(settings.server.route_prefix, "/.kepgate");
    assert_eq!(settings.server.path("/healthz"), "/.kepgate/healthz");
    assert_eq!(
        settings.server.public_base_url().as_str(),
        "http://127.0.0.1:8080/"
    );
}

#[test]
fn session_timeouts_are_checked_and_the_key_is_named() {
    let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
    assert_eq!(settings.session.idle_timeout, Duration::from_secs(900));
    assert_eq!(
        settings.session.absolute_timeout,
        Duration::from_secs(8 * 3600)
    );
    settings.session.idle_timeout = Duration::from_secs(9 * 3600);
    let e = settings.check().unwrap_err().to_string();
    assert!(e.starts_with("session.idle_timeout:"), "{e}");

    let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
    settings.session.last_seen_write_interval = Duration::from_secs(200);
    let e = settings.check().unwrap_err().to_string();
    assert!(e.starts_with("session.last_seen_write_interval:"), "{e}");

    let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
    settings.session.shared_pc_idle_timeout = Duration::from_secs(3600);
    let e = settings.check().unwrap_err().to_string();
    assert!(e.starts_with("session.shared_pc_idle_timeout:"), "{e}");

    let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
    settings.session.history_retention_days = 0;
    let e = settings.check().unwrap_err().to_string();
    assert!(e.starts_with("session.history_retention_days:"), "{e}");
}

#[test]
fn qr_settings_are_checked_and_the_key_is_named() {
    let settings = Settings::load_with(None, false, Defaults::Production).unwrap();
    assert_eq!(settings.login.qr_mode, QrMode::Rotating);
    assert!(settings.login.phone_check);
    for (change, key) in [
        (
            (|s: &mut Settings| s.login.qr_rotate_seconds = 0) as fn(&mut Settings),
            "login.qr_rotate_seconds:",
        ),
        (
            |s| s.login.qr_link_max_age = Duration::from_secs(1),
            "login.qr_link_max_age:",
        ),
        (
            |s| s.login.qr_link_key = Some(SecretString::from("short")),
            "login.qr_link_key:",
        ),
    ] {
        let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
        change(&mut settings);
        let e = settings.check().unwrap_err().to_string();
        assert!(e.starts_with(key), "{e}");
        assert!(!e.contains("short"), "the key is never shown: {e}");
    }
}

#[test]
fn debug_output_hides_the_database_password() {
    let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
    settings.database.url = SecretString::from("postgres://kep:hunter2@db:5432/kepgate");
    let shown = format!("{settings:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains("postgres://kep:REDACTED@db:5432/kepgate"),
        "{shown}"
    );
}
