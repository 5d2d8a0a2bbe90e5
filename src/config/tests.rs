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
    // libpq's other ways of giving a password.
    settings.database.url = SecretString::from(
        "postgres://kep@db:5432/kepgate?sslmode=require&password=hunter2&sslpassword=hunter3",
    );
    let shown = format!("{settings:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("hunter3"),
        "{shown}"
    );
    assert!(
        shown.contains("?sslmode=require&password=REDACTED&sslpassword=REDACTED"),
        "{shown}"
    );
}

#[test]
fn environment_names_without_the_separator_are_not_configuration_unless_they_look_like_it() {
    let names = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    // A wrapper script's own variables, the CLI's and the other commands': none of our business.
    let others = names(&[
        "KEPGATE_BIN",
        "KEPGATE_CONFIG",
        "KEPGATE_EMULATOR_LISTEN",
        "KEPGATE_SERVERLESS",
        "KEPGATE_SERVER__LISTEN",
        "PATH",
    ]);
    assert!(super::load::check_env_names(others.into_iter()).is_ok());
    // One `_` where `__` belongs: a configuration name mistyped, named with the right spelling.
    let typo = names(&["KEPGATE_SERVER_SHUTDOWN_DELAY"]);
    let e = super::load::check_env_names(typo.into_iter())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("KEPGATE_SERVER_SHUTDOWN_DELAY")
            && e.contains("KEPGATE_SERVER__SHUTDOWN_DELAY for server.shutdown_delay"),
        "{e}"
    );
}

#[test]
fn the_sections_the_environment_rule_knows_are_the_configurations_sections() {
    let dir = std::env::temp_dir().join(format!("kepgate-sections-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("k.toml");
    std::fs::write(&file, "[no_such_section]\n").unwrap();
    let e = Settings::load_with(Some(&file), false, Defaults::Production)
        .unwrap_err()
        .to_string();
    let _ = std::fs::remove_dir_all(&dir);
    // serde lists the fields it expected: exactly the sections, in any order.
    let listed = e.split("one of ").nth(1).expect("the expected fields");
    let mut expected: Vec<&str> = listed
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .collect();
    expected.sort_unstable();
    let mut known = super::load::SECTIONS.to_vec();
    known.sort_unstable();
    assert_eq!(expected, known, "{e}");
}

#[test]
fn an_accent_colour_must_be_a_colour_that_reads_on_white() {
    // WCAG's own examples: #767676 is the lightest grey with 4.5:1 on white.
    assert!((super::check::contrast_on_white([0x76, 0x76, 0x76]) - 4.54).abs() < 0.01);
    assert!((super::check::contrast_on_white([0, 0, 0]) - 21.0).abs() < 0.01);
    assert_eq!(super::parse_hex_color("#2d6a4f"), Some([0x2d, 0x6a, 0x4f]));
    assert_eq!(super::parse_hex_color("#fa0"), Some([0xff, 0xaa, 0x00]));
    assert_eq!(super::parse_hex_color("2d6a4f"), None);
    assert_eq!(super::parse_hex_color("#2d6a4"), None);
    let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
    settings.ui.branding.accent_color = Some("#ffcc00".to_owned());
    let e = settings.check().unwrap_err().to_string();
    assert!(
        e.starts_with("ui.branding.accent_color: #ffcc00 on white has a contrast of 1.5:1"),
        "{e}"
    );
    settings.ui.branding.accent_color = Some("green".to_owned());
    let e = settings.check().unwrap_err().to_string();
    assert!(e.contains("is not a colour"), "{e}");
    settings.ui.branding.accent_color = Some("#2d6a4f".to_owned());
    settings.ui.branding.support_url = Some("javascript:alert(1)".to_owned());
    let e = settings.check().unwrap_err().to_string();
    assert!(e.starts_with("ui.branding.support_url:"), "{e}");
    settings.ui.branding.support_url = Some("tel:+380441234567".to_owned());
    settings.check().unwrap();
}

#[test]
fn a_support_link_must_lead_somewhere() {
    let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
    // A web address without a host, an empty mail address: nowhere to send people.
    for nowhere in ["https://", "https://?help", "http://#", "mailto:", "tel: "] {
        settings.ui.branding.support_url = Some(nowhere.to_owned());
        let e = settings.check().unwrap_err().to_string();
        assert!(e.starts_with("ui.branding.support_url:"), "{nowhere}: {e}");
    }
    for fine in ["https://help.example.ua/kepgate", "mailto:help@example.ua"] {
        settings.ui.branding.support_url = Some(fine.to_owned());
        settings.check().unwrap();
    }
}

#[test]
fn https_served_by_kepgate_needs_an_https_base_url() {
    let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
    settings.server.tls = Some(ServerTls {
        cert_file: "/etc/kepgate/fullchain.pem".into(),
        key_file: "/etc/kepgate/privkey.pem".into(),
        watch_interval: Duration::from_secs(30),
        http2: true,
    });
    let e = settings.check().unwrap_err().to_string();
    assert!(e.starts_with("server.base_url:"), "{e}");
    assert!(e.contains("https://"), "{e}");
    settings.server.base_url = "https://kep.example.ua/".parse().unwrap();
    settings.check().unwrap();
}

#[test]
fn a_mistyped_key_of_a_provider_is_refused_and_named() {
    let dir = std::env::temp_dir().join(format!("kepgate-provider-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let load = |section: &str| {
        let path = dir.join("kepgate.toml");
        std::fs::write(&path, section).unwrap();
        Settings::load_with(Some(&path), false, Defaults::Production)
    };
    let idgovua = "[providers.idgovua]\nkind = \"idgovua\"\ndisplay_name = \"id.gov.ua\"\n\
                   base_url = \"https://id.gov.ua/\"\nclient_id = \"c\"\nclient_secret = \"s\"\n";
    let diia = "[providers.diia]\nkind = \"diia\"\ndisplay_name = \"Дія\"\n\
                api_base_url = \"https://api2.diia.gov.ua\"\nacquirer_token = \"t\"\n\
                callback_secret = \"0123456789abcdef0123456789abcdef\"\n";
    let settings = load(&format!(
        "{idgovua}methods = [\"dig_sign\"]\nca_file = \"/x.pem\"\n"
    ))
    .unwrap();
    let Some(ProviderSettings::IdGovUa(p)) = settings.providers.get("idgovua") else {
        panic!("an id.gov.ua provider");
    };
    assert_eq!(p.methods, vec![IdGovUaMethod::DigSign]);
    assert_eq!(p.common.display_name, "id.gov.ua");
    assert!(load(diia).is_ok());
    for (section, typo) in [
        (format!("{idgovua}metods = [\"dig_sign\"]\n"), "metods"),
        (format!("{idgovua}http_timeuot = 5\n"), "http_timeuot"),
        (format!("{diia}sign_alg = \"ecdsa\"\n"), "sign_alg"),
        (
            format!("{diia}[providers.diia.setup]\nbranch = \"x\"\n"),
            "branch",
        ),
    ] {
        let e = load(&section).unwrap_err().to_string();
        assert!(
            e.contains(&format!("`{typo}`")) && e.contains("providers."),
            "{typo}: {e}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn http2_bounds_have_nginx_like_defaults_and_zero_is_refused_with_the_key() {
    let settings = Settings::load_with(None, false, Defaults::Production).unwrap();
    assert_eq!(settings.server.http2.idle_timeout, Duration::from_secs(75));
    assert_eq!(settings.server.http2.max_concurrent_streams, 128);
    assert_eq!(settings.server.max_connections_per_address, 256);
    for (change, key) in [
        (
            (|s: &mut Settings| s.server.http2.idle_timeout = Duration::ZERO) as fn(&mut Settings),
            "server.http2.idle_timeout:",
        ),
        (
            |s| s.server.http2.keep_alive_timeout = Duration::ZERO,
            "server.http2.keep_alive_timeout:",
        ),
        (
            |s| s.server.http2.max_concurrent_streams = 0,
            "server.http2.max_concurrent_streams:",
        ),
        (
            |s| s.server.http2.max_pending_reset_streams = 0,
            "server.http2.max_pending_reset_streams:",
        ),
    ] {
        let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
        change(&mut settings);
        let e = settings.check().unwrap_err().to_string();
        assert!(e.starts_with(key), "{e}");
    }
}

#[test]
fn traces_are_off_by_default_and_a_sampling_ratio_outside_zero_to_one_is_refused() {
    let mut settings = Settings::load_with(None, false, Defaults::Production).unwrap();
    let traces = &settings.log.traces;
    assert!(!traces.enabled);
    assert_eq!(traces.endpoint.as_str(), "http://127.0.0.1:4318/v1/traces");
    assert_eq!(traces.service_name, "kepgate");
    assert!((traces.sampling_ratio - 1.0).abs() < f64::EPSILON);
    settings.log.traces.sampling_ratio = 1.5;
    let e = settings.check().unwrap_err().to_string();
    assert!(e.starts_with("log.traces.sampling_ratio:"), "{e}");
}
