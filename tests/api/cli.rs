use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::helpers::{client, free_port, fresh_database_url, kepgate_bin, test_settings};
use crate::processes::KillOnDrop;

fn check_config(file_text: Option<&str>, env: &[(&str, &str)]) -> (bool, i32, String, String) {
    let dir = std::env::temp_dir().join(format!("kepgate-cfg-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = kepgate_bin();
    cmd.arg("check-config");
    if let Some(text) = file_text {
        let path = dir.join("kepgate.toml");
        std::fs::write(&path, text).unwrap();
        cmd.arg("--config").arg(&path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.success(),
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_good_configuration_passes_and_shows_no_secret() {
    let (ok, _, stdout, stderr) = check_config(
        Some(
            r#"
[server]
listen = "0.0.0.0:8080"
base_url = "https://intranet.example.ua/"
public_base_url = "https://kep.example.ua/"
[database]
url = "postgres://kep:very-secret-pw@db:5432/kepgate"
"#,
        ),
        &[],
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("configuration OK"));
    assert!(stdout.contains("https://kep.example.ua/"), "{stdout}");
    assert!(!stdout.contains("very-secret-pw") && !stderr.contains("very-secret-pw"));
}

#[test]
fn check_config_piped_into_a_reader_that_stops_early_ends_quietly() {
    // `kepgate check-config | head -1`: the reader goes, the report must not panic over it.
    let dir = std::env::temp_dir().join(format!("kepgate-cfg-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kepgate.toml");
    std::fs::write(
        &path,
        "[server]\nbase_url = \"https://intranet.example.ua/\"\n\
         [database]\nurl = \"postgres://kep:pw@db:5432/kepgate\"\n",
    )
    .unwrap();
    let mut child = kepgate_bin()
        .arg("check-config")
        .arg("--config")
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("configuration error"), "{stderr}");
    use std::os::unix::process::ExitStatusExt;
    assert!(
        status.success() || status.signal() == Some(13),
        "ends as a filter does (SIGPIPE), not as a crash: {status:?} {stderr}"
    );
}

#[test]
fn a_wrong_value_in_the_file_is_named_by_its_key() {
    let (ok, code, _, stderr) = check_config(Some("[server]\nlisten = \"port eighty\"\n"), &[]);
    assert!(!ok);
    assert_eq!(code, 2);
    assert!(stderr.contains("server.listen"), "{stderr}");
    assert!(stderr.contains("kepgate.toml"), "says which file: {stderr}");
}

#[test]
fn a_misspelt_key_is_an_error_not_a_silent_default() {
    let (ok, _, _, stderr) = check_config(Some("[server]\nlisen = \"0.0.0.0:80\"\n"), &[]);
    assert!(!ok);
    assert!(stderr.contains("lisen"), "{stderr}");
}

#[test]
fn a_wrong_environment_override_names_the_variable() {
    let (ok, _, _, stderr) = check_config(None, &[("KEPGATE_DATABASE__MAX_CONNECTIONS", "lots")]);
    assert!(!ok);
    assert!(stderr.contains("database.max_connections"), "{stderr}");
    assert!(
        stderr.contains("KEPGATE_DATABASE__MAX_CONNECTIONS"),
        "{stderr}"
    );
}

#[test]
fn rules_beyond_types_are_checked_with_plain_words() {
    let (ok, _, _, stderr) = check_config(Some("[server]\nroute_prefix = \"kepgate/\"\n"), &[]);
    assert!(!ok);
    assert!(
        stderr.contains("server.route_prefix") && stderr.contains("must start with '/'"),
        "{stderr}"
    );

    let (ok, _, _, stderr) = check_config(None, &[("DATABASE_URL", "mysql://root:pw@db/x")]);
    assert!(!ok);
    assert!(
        stderr.contains("DATABASE_URL") && stderr.contains("not a postgres:// URL"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(":pw@"),
        "the password is redacted: {stderr}"
    );
}

#[test]
fn a_provider_timeout_the_login_page_cannot_wait_for_is_refused() {
    let provider = |timeout: u32| {
        format!(
            "[providers.diia]\nkind = \"diia\"\ndisplay_name = \"Дія.Підпис\"\n\
             api_base_url = \"https://api2s.diia.gov.ua\"\nacquirer_token = \"t\"\n\
             callback_secret = \"0123456789abcdef0123456789abcdef\"\nhttp_timeout = {timeout}\n"
        )
    };
    // Two calls of 15 s do not fit in the default 30 s of server.request_timeout.
    let (ok, code, _, stderr) = check_config(Some(&provider(15)), &[]);
    assert!(!ok);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("providers.diia.http_timeout") && stderr.contains("request_timeout"),
        "{stderr}"
    );
    let (ok, _, _, stderr) = check_config(Some(&provider(10)), &[]);
    assert!(ok, "{stderr}");
}

#[test]
fn a_syntax_error_names_its_line_but_never_quotes_it() {
    // A closing quote lost, a token pasted unquoted: the line holds a secret, and the error goes
    // to the journal (and, on a reload, to the log).
    for (text, secret) in [
        (
            "[database]\nurl = \"postgres://kepgate:Db-Pa55w0rd-LEAK@db/kepgate\n",
            "Pa55w0rd",
        ),
        (
            "[providers.diia]\nkind = \"diia\"\nacquirer_token = AcqTok3n-LEAK\n",
            "AcqTok3n",
        ),
    ] {
        let (ok, code, _, stderr) = check_config(Some(text), &[]);
        assert!(!ok);
        assert_eq!(code, 2);
        assert!(stderr.contains("line"), "the line is named: {stderr}");
        assert!(!stderr.contains(secret), "{stderr}");
    }
}

#[test]
fn a_missing_configuration_file_is_reported() {
    let out = kepgate_bin()
        .args(["check-config", "--config", "/nonexistent/kepgate.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/nonexistent/kepgate.toml does not exist")
    );
}

/// The README's demo command ends in `kepgate demo`: a real process answering its probes,
/// stopping cleanly on SIGTERM, and never logging the database password.
#[tokio::test]
async fn demo_process_answers_probes_and_stops_cleanly() {
    let (url, _) = fresh_database_url();
    let url = url.replacen("postgres@", "postgres:pw-must-not-leak@", 1);
    let port = free_port();
    let emulator_port = free_port();
    let state_dir =
        std::env::temp_dir().join(format!("kepgate-demo-{}", uuid::Uuid::new_v4().simple()));
    // Killed on drop: a failed assertion before the SIGTERM below must not leave the demo running.
    let mut child = KillOnDrop(
        kepgate_bin()
            .arg("demo")
            .env("DATABASE_URL", &url)
            .env("KEPGATE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "KEPGATE_SERVER__BASE_URL",
                format!("http://127.0.0.1:{port}/"),
            )
            .env(
                "KEPGATE_DEMO_EMULATOR_LISTEN",
                format!("127.0.0.1:{emulator_port}"),
            )
            .env(
                "KEPGATE_DEMO_IDGOVUA_LISTEN",
                format!("127.0.0.1:{}", free_port()),
            )
            .env("KEPGATE_DEMO_STATE_DIR", &state_dir)
            .env(
                "KEPGATE_DEMO_CABINET_LISTEN",
                format!("127.0.0.1:{}", free_port()),
            )
            .env("KEPGATE_METRICS__LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Read as it comes: a debug log fills the pipe (64 KiB) long before the end, and a demo
    // blocked on writing its log answers nothing.
    let mut stderr = child.0.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut log = String::new();
        let _ = stderr.read_to_string(&mut log);
        log
    });
    let http = client();
    // The demo keeps the default route prefix.
    let base = format!(
        "http://127.0.0.1:{port}{}",
        test_settings().server.route_prefix
    );
    let started = Instant::now();
    let healthy = loop {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            break r.status();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "demo did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(healthy, 200);
    assert_eq!(
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // The demo's OpenID Provider, for pointing an application at it.
    let discovery: serde_json::Value = http
        .get(format!(
            "http://127.0.0.1:{port}/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], format!("http://127.0.0.1:{port}"));

    let pid = child.0.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.0.wait().unwrap();
    assert!(status.success(), "graceful stop exits 0: {status}");
    let log = reader.join().unwrap();
    assert!(log.contains("kepgate listening"), "{log}");
    assert!(
        !log.contains("pw-must-not-leak"),
        "password in the log:\n{log}"
    );
    let secret = std::fs::read_to_string(state_dir.join("callback-secret")).unwrap();
    assert!(
        !log.contains(secret.trim()),
        "callback secret in the log:\n{log}"
    );
    let _ = std::fs::remove_dir_all(&state_dir);
}

/// `check-config` of a configuration file shipped in the repository: its report, or the
/// test fails with the errors.
fn shipped_configuration_passes(path: &str) -> String {
    let out = kepgate_bin()
        .args(["check-config", "--config"])
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_documented_example_configuration_is_valid() {
    shipped_configuration_passes("kepgate.example.toml");
}

/// The Debian package's /etc/kepgate/kepgate.toml, as installed before anyone edits it.
#[test]
fn the_debian_packages_configuration_is_valid() {
    let report = shipped_configuration_passes("debian/kepgate.toml");
    assert!(report.contains("127.0.0.1:8080"), "{report}");
}

#[test]
fn a_ca_list_that_cannot_be_read_stops_check_config_with_its_path() {
    let (ok, code, _, stderr) = check_config(
        Some(
            "[server]\nbase_url = \"https://intranet.example.ua/\"\n[trust]\nca_list = \"/nonexistent/CAs.json\"\n",
        ),
        &[],
    );
    assert!(!ok && code == 2, "{stderr}");
    assert!(
        stderr.contains("trust.ca_list: cannot read /nonexistent/CAs.json"),
        "{stderr}"
    );
}

#[test]
fn national_trust_list_sources_over_plain_http_are_refused_unless_allowed() {
    let config = |allow: &str| {
        format!(
            "[server]\nbase_url = \"https://intranet.example.ua/\"\n[trust.sources]\nbundle_url = \"http://mirror.example.ua/CACertificates.p7b\"\nproviders_url = \"https://mirror.example.ua/CAs.json\"\n{allow}"
        )
    };
    let (ok, code, _, stderr) = check_config(Some(&config("")), &[]);
    assert!(!ok && code == 2, "{stderr}");
    assert!(
        stderr.contains(
            "trust.sources.bundle_url: http://mirror.example.ua/CACertificates.p7b is plain http"
        ),
        "{stderr}"
    );
    // allow_http is for a mirror on this machine: a remote one is refused even so…
    let (ok, _, _, stderr) = check_config(Some(&config("allow_http = true\n")), &[]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("on this machine"), "{stderr}");
    // …and so is a user or password in the URL (it would be logged and stored with it).
    let (ok, _, _, stderr) = check_config(
        Some(
            &config("")
                .replace("http://mirror", "https://mirror")
                .replace(
                    "https://mirror.example.ua/CAs",
                    "https://reader:S3cret@mirror.example.ua/CAs",
                ),
        ),
        &[],
    );
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("user or password"), "{stderr}");
    assert!(!stderr.contains("S3cret"), "{stderr}");
    let local = config("allow_http = true\n").replace("mirror.example.ua", "127.0.0.1:8443");
    let (ok, _, stdout, stderr) = check_config(Some(&local), &[]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("and the national list from http://127.0.0.1:8443/CACertificates.p7b"),
        "{stdout}"
    );
}

#[test]
fn check_config_counts_the_national_trust_list_by_algorithm_and_curve() {
    let bundle = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ua-trust/CACertificates.p7b"
    );
    let ca_list = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ua-trust/CAs.json"
    );
    let (ok, _, stdout, stderr) = check_config(
        Some(&format!(
            "[server]\nbase_url = \"https://intranet.example.ua/\"\n[trust]\nfiles = [\"{bundle}\"]\nca_list = \"{ca_list}\"\n"
        )),
        &[],
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("trusted CA certificates: 638"), "{stdout}");
    assert!(
        stdout.contains("responders for certificates that name none: 89 CA names from"),
        "{stdout}"
    );
    assert!(
        stdout.contains("DSTU 4145 410 (M257 337, M431 72), ECDSA 116, RSA 112"),
        "{stdout}"
    );
    // The one key kepgate cannot use is named with its reason, not silently dropped.
    assert!(
        stdout.contains("entry 280: DSTU 4145 parameters name an S-box other than DKE №1"),
        "{stdout}"
    );
}

#[test]
fn check_config_lists_the_organisations_pages_and_names_a_broken_one_by_line() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/pages-example");
    let (ok, _, stdout, stderr) = check_config(
        Some(&format!(
            "[server]\nbase_url = \"https://intranet.example.ua/\"\n[ui]\npages_dir = \"{example}\"\n"
        )),
        &[],
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("replace error.html, login.html; files served under static/site/: 1"),
        "{stdout}"
    );

    let broken = std::env::temp_dir().join(format!("kepgate-pages-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("wait.html"), "<h1>\n{% if finished %}\n<p>\n").unwrap();
    let (ok, code, _, stderr) = check_config(
        Some(&format!(
            "[server]\nbase_url = \"https://intranet.example.ua/\"\n[ui]\npages_dir = \"{}\"\n",
            broken.display()
        )),
        &[],
    );
    let _ = std::fs::remove_dir_all(&broken);
    assert!(!ok && code == 2, "{stderr}");
    assert!(stderr.contains("ui.pages_dir"), "{stderr}");
    assert!(stderr.contains("wait.html:"), "the file and line: {stderr}");
}

#[test]
fn check_config_prints_the_redirect_uri_to_register_with_idgovua_and_never_its_secret() {
    let base = "[server]\nbase_url = \"https://intranet.example.ua/\"\n\
                [providers.idgovua]\nkind = \"idgovua\"\ndisplay_name = \"id.gov.ua\"\n\
                base_url = \"https://test.id.gov.ua/\"\nclient_id = \"0123abcd\"\n";
    let (ok, _, stdout, stderr) = check_config(
        Some(&format!(
            "{base}client_secret = \"very-secret-idgov\"\nmethods = [\"dig_sign\", \"bank_id\"]\n"
        )),
        &[],
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains(
            "redirect URI to register with id.gov.ua: https://intranet.example.ua/.kepgate/login/return/idgovua"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("methods dig_sign,bank_id"), "{stdout}");
    assert!(!stdout.contains("very-secret-idgov") && !stderr.contains("very-secret-idgov"));

    for (extra, says) in [
        ("", "client_secret"),
        (
            "client_secret = \"s\"\ncallback_secret = \"0123456789abcdef0123456789abcdef\"\n",
            "sends the browser back instead",
        ),
        (
            "client_secret = \"s\"\nmethods = []\n",
            "providers.idgovua.methods",
        ),
        (
            "client_secret = \"s\"\nmethods = [\"mobile_id\"]\n",
            "mobile_id",
        ),
    ] {
        let (ok, code, _, stderr) = check_config(Some(&format!("{base}{extra}")), &[]);
        assert!(!ok && code == 2, "{extra}: {stderr}");
        assert!(stderr.contains(says), "{extra}: {stderr}");
    }
}

#[test]
fn oidc_client_add_prints_the_secret_once_and_only_its_hash_for_the_configuration() {
    let out = kepgate_bin()
        .args([
            "oidc",
            "client",
            "add",
            "grafana",
            "--redirect-uri",
            "https://grafana.example.ua/login/generic_oauth",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = String::from_utf8(out.stdout).unwrap();
    let secret = String::from_utf8(out.stderr)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    assert_eq!(secret.len(), 64, "{secret}");
    assert!(
        !config.contains(&secret),
        "the configuration keeps only the hash"
    );
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        config.contains(&format!("secret_sha256 = \"{hash}\"")),
        "{config}"
    );
    assert!(config.contains("[oidc.clients.grafana]"));
    // The printed configuration is one check-config accepts and reports.
    let (ok, _, stdout, stderr) = check_config(
        Some(&format!(
            "[server]\nbase_url = \"https://kep.example.ua/\"\n[oidc]\nenabled = true\n{config}"
        )),
        &[],
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("OpenID Provider: issuer https://kep.example.ua, discovery https://kep.example.ua/.well-known/openid-configuration"),
        "{stdout}"
    );
    assert!(
        stdout.contains("client grafana «grafana» (confidential)"),
        "{stdout}"
    );
}

#[test]
fn check_config_refuses_oidc_clients_that_would_be_unsafe() {
    let base = "[server]\nbase_url = \"https://kep.example.ua/\"\n[oidc]\nenabled = true\n[oidc.clients.app]\n";
    for (client, says) in [
        ("redirect_uris = []\n", "redirect_uris: name at least one"),
        (
            "redirect_uris = [\"http://app.example.ua/cb\"]\n",
            "must be https",
        ),
        (
            "redirect_uris = [\"https://app.example.ua/cb#x\"]\n",
            "without a #fragment",
        ),
        (
            "redirect_uris = [\"https://app.example.ua/cb\"]\nscopes = [\"profile\"]\n",
            "scopes: [\"profile\"] must include",
        ),
        (
            "redirect_uris = [\"https://app.example.ua/cb\"]\nsecret_sha256 = \"abc\"\n",
            "64 hexadecimal digits",
        ),
    ] {
        let (ok, code, _, stderr) = check_config(Some(&format!("{base}{client}")), &[]);
        assert!(!ok && code == 2, "{client}: {stderr}");
        assert!(stderr.contains(says), "{client}: {stderr}");
    }
}

#[test]
fn provider_endpoints_must_be_https_but_on_this_machine_and_a_mistyped_key_is_named() {
    let idgovua = |base_url: &str, extra: &str| {
        format!(
            "[providers.idgovua]\nkind = \"idgovua\"\ndisplay_name = \"id.gov.ua\"\n\
             base_url = \"{base_url}\"\nclient_id = \"c\"\nclient_secret = \"s\"\n{extra}"
        )
    };
    let diia = |api_base_url: &str, extra: &str| {
        format!(
            "[providers.diia]\nkind = \"diia\"\ndisplay_name = \"Дія\"\n\
             api_base_url = \"{api_base_url}\"\nacquirer_token = \"t\"\n\
             callback_secret = \"0123456789abcdef0123456789abcdef\"\n{extra}"
        )
    };
    for accepted in [
        idgovua("https://test.id.gov.ua/", ""),
        idgovua("http://127.0.0.1:8091/", ""),
        idgovua("http://localhost:8091/", ""),
        idgovua("http://[::1]:8091/", ""),
        diia("https://api2s.diia.gov.ua", ""),
        diia("http://127.0.0.1:8090/", ""),
    ] {
        let (ok, _, _, stderr) = check_config(Some(&accepted), &[]);
        assert!(ok, "{accepted}: {stderr}");
    }
    for (refused, key) in [
        (
            idgovua("http://test.id.gov.ua/", ""),
            "providers.idgovua.base_url",
        ),
        (
            idgovua("http://10.0.0.5:8091/", ""),
            "providers.idgovua.base_url",
        ),
        (
            diia("http://api2s.diia.gov.ua", ""),
            "providers.diia.api_base_url",
        ),
        (
            diia("ftp://api2s.diia.gov.ua", ""),
            "providers.diia.api_base_url",
        ),
    ] {
        let (ok, code, _, stderr) = check_config(Some(&refused), &[]);
        assert!(!ok && code == 2, "{refused}: {stderr}");
        assert!(
            stderr.contains(key) && stderr.contains("must be https://"),
            "{refused}: {stderr}"
        );
    }
    // A demo on a private network says so, and is warned.
    let (ok, _, _, stderr) = check_config(
        Some(&diia("http://emulator:8090/", "allow_http = true\n")),
        &[],
    );
    assert!(ok, "{stderr}");
    assert!(stderr.contains("providers.diia.allow_http"), "{stderr}");

    // A typo in a provider's section, in the file or the environment, names the key.
    for (file, env, typo) in [
        (
            idgovua("https://id.gov.ua/", "metods = [\"dig_sign\"]\n"),
            None,
            "metods",
        ),
        (
            diia("https://api2.diia.gov.ua", "http_timeuot = 5\n"),
            None,
            "http_timeuot",
        ),
        (
            idgovua("https://id.gov.ua/", ""),
            Some(("KEPGATE_PROVIDERS__IDGOVUA__CA_FIEL", "/x.pem")),
            "ca_fiel",
        ),
    ] {
        let env: Vec<(&str, &str)> = env.into_iter().collect();
        let (ok, code, _, stderr) = check_config(Some(&file), &env);
        assert!(!ok && code == 2, "{typo}: {stderr}");
        assert!(
            stderr.contains(&format!("`{typo}`")) && stderr.contains("providers."),
            "{typo}: {stderr}"
        );
    }
    // A provider's CA file must be there and hold certificates.
    let (ok, code, _, stderr) = check_config(
        Some(&idgovua(
            "https://id.gov.ua/",
            "ca_file = \"/nonexistent/test-stand-ca.pem\"\n",
        )),
        &[],
    );
    assert!(!ok && code == 2, "{stderr}");
    assert!(stderr.contains("test-stand-ca.pem"), "{stderr}");
}

/// What a terminal acts on, in a name stored before names were parsed (or written by hand): a
/// window title (OSC … BEL), a screen clear (ESC [2J), CR/LF starting a forged row, a C1 CSI
/// and a bidi override that shows the rest backwards.
const HOSTILE_NAME: &str = "Коваленко\u{1b}]0;pwned\u{7}\u{1b}[2J\r\n2026-01-01T00:00:00Z  completed  diia  Інша Особа\u{9b}31m\u{202E}анелО";

/// Characters that act on a terminal instead of showing: none may reach stdout raw.
const ACTING: [char; 7] = [
    '\u{1b}', '\u{7}', '\r', '\u{9b}', '\u{202E}', '\0', '\u{2028}',
];

#[tokio::test]
async fn admin_commands_print_hostile_names_of_old_rows_without_acting_on_the_terminal() {
    let app = crate::helpers::spawn_app().await;
    let now = time::OffsetDateTime::now_utc();
    // An open session (its history row, `completed`, comes from the trigger) and a refused
    // login, as rows already in the database.
    sqlx::query(
        "INSERT INTO sessions (id, token_hash, provider, identity, rnokpp, client_ip, user_agent,
                               created_at, last_seen_at, expires_at)
         VALUES ($1, $2, 'diia', $3, '3652504575', '10.1.2.3', $4, $5, $5, $6)",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(uuid::Uuid::new_v4().as_bytes().to_vec())
    .bind(serde_json::json!({
        "full_name": HOSTILE_NAME, "rnokpp": "3652504575", "cert_serial_hex": "01",
        "issuer": "CN=Test", "surname": null, "given_name": null, "edrpou": null,
        "organization": null, "title": null, "issuer_cn": null
    }))
    .bind(HOSTILE_NAME)
    .bind(now)
    .bind(now + time::Duration::hours(1))
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO login_history (at, event, provider, full_name, reason, user_agent)
         VALUES ($1, 'refused', 'idgovua', $2, $2, $2)",
    )
    .bind(now)
    .bind(HOSTILE_NAME)
    .execute(&app.db)
    .await
    .unwrap();

    for (command, rows) in [
        (&["sessions", "list"][..], 1),
        (&["audit", "--since", "1h"], 2),
    ] {
        let (ok, stdout, stderr) = crate::sessions::run_cli(&app, command);
        assert!(ok, "{command:?}: {stderr}");
        for c in ACTING {
            assert!(
                !stdout.contains(c),
                "{command:?}: {c:?} reached the terminal: {stdout:?}"
            );
        }
        assert_eq!(
            stdout.lines().count(),
            1 + rows,
            "{command:?}: no forged row: {stdout}"
        );
        assert!(
            stdout.contains(r"Коваленко\u{1b}]0;pwned\u{7}\u{1b}[2J\u{d}\u{a}2026"),
            "{command:?}: shown escaped: {stdout}"
        );

        let json: Vec<&str> = command.iter().copied().chain(["--json"]).collect();
        let (ok, stdout, stderr) = crate::sessions::run_cli(&app, &json);
        assert!(ok, "{json:?}: {stderr}");
        for c in ACTING {
            assert!(
                !stdout.contains(c),
                "{json:?}: {c:?} reached the terminal: {stdout:?}"
            );
        }
        // Escaped, not changed: the JSON still says exactly what is stored.
        let listed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let names: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["full_name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec![HOSTILE_NAME; rows], "{json:?}");
    }
}
