//! A test PKI made by the OpenSSL CLI: a CA, a server certificate for 127.0.0.1 and localhost,
//! and a client certificate. For kepgate's own HTTPS (`[server.tls]`) and for TLS upstreams.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes `ca.pem`/`ca.key`, `server.pem`/`server.key` (the server certificate followed by the
/// CA, as a full chain file is), and `client.pem`/`client.key` into `dir`.
pub fn test_pki(dir: &Path) {
    openssl(
        dir,
        &[
            &["req", "-x509"][..],
            &EC_KEY[..],
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=kepgate test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ][..],
        ]
        .concat(),
    );
    issue_server_certificate(dir, "server");
    issue(dir, "client", "clientAuth", "");
}

/// A new server certificate `{name}.pem` (with the CA after it) and `{name}.key` from the CA in
/// `dir`: each call a new key and serial.
pub fn issue_server_certificate(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    issue_for(dir, name, "serverAuth", LOCAL_NAMES)
}

/// The names of [`issue_server_certificate`]'s certificates.
pub const LOCAL_NAMES: &str = "subjectAltName=IP:127.0.0.1,DNS:localhost\n";

/// Like [`issue_server_certificate`] with `usage` as the extended key usage and `san` (an
/// OpenSSL extension line, or nothing) as the names.
pub fn issue_for(dir: &Path, name: &str, usage: &str, san: &str) -> (PathBuf, PathBuf) {
    issue(dir, name, usage, san);
    with_ca_after(dir, name)
}

/// Like [`issue_for`], valid from `not_before` to `not_after` (`openssl ca`: `x509 -req` of
/// OpenSSL 3.0 cannot date a certificate in the past).
pub fn issue_dated(
    dir: &Path,
    name: &str,
    san: &str,
    not_before: time::OffsetDateTime,
    not_after: time::OffsetDateTime,
) -> (PathBuf, PathBuf) {
    request(dir, name, "serverAuth", san);
    std::fs::write(dir.join(format!("{name}.index")), "").unwrap();
    std::fs::write(
        dir.join(format!("{name}.cnf")),
        format!(
            "[ca]\ndefault_ca = test\n[test]\ndatabase = {name}.index\nserial = {name}.srl\n\
             new_certs_dir = .\ndefault_md = sha256\npolicy = any\nunique_subject = no\n\
             [any]\ncommonName = supplied\n"
        ),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "ca",
            "-batch",
            "-notext",
            "-rand_serial",
            "-config",
            &format!("{name}.cnf"),
            "-cert",
            "ca.pem",
            "-keyfile",
            "ca.key",
            "-in",
            &format!("{name}.csr"),
            "-out",
            &format!("{name}.pem"),
            "-extfile",
            &format!("{name}.ext"),
            "-startdate",
            &openssl_time(not_before),
            "-enddate",
            &openssl_time(not_after),
        ],
    );
    with_ca_after(dir, name)
}

/// A self-signed server certificate `{name}.pem` / `{name}.key` for 127.0.0.1 and localhost.
pub fn self_signed(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    openssl(
        dir,
        &[
            &["req", "-x509"][..],
            &EC_KEY[..],
            &[
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
                "-days",
                "2",
                "-subj",
                &format!("/CN=kepgate test {name}"),
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-addext",
                "extendedKeyUsage=serverAuth",
            ][..],
        ]
        .concat(),
    );
    (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    )
}

/// When a PEM certificate ends (its first one's `notAfter`), as OpenSSL reads it.
pub fn not_after_of(pem: &Path) -> time::OffsetDateTime {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-enddate", "-dateopt", "iso_8601", "-in"])
        .arg(pem)
        .output()
        .expect("openssl runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let date = text.trim().trim_start_matches("notAfter=");
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    time::PrimitiveDateTime::parse(date, &format)
        .unwrap_or_else(|e| panic!("{date}: {e}"))
        .assume_utc()
}

/// `{name}.pem` followed by the CA's certificate, as a full chain file is.
fn with_ca_after(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let mut chain = std::fs::read(dir.join(format!("{name}.pem"))).unwrap();
    chain.extend(std::fs::read(dir.join("ca.pem")).unwrap());
    std::fs::write(dir.join(format!("{name}.pem")), chain).unwrap();
    (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    )
}

/// The certificate's serial as OpenSSL prints it (`serial=…`), to tell which one is served.
pub fn serial_of(pem: &[u8]) -> String {
    let mut child = Command::new("openssl")
        .args(["x509", "-noout", "-serial"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("openssl runs");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(pem).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Base64 of the SHA-256 of a certificate's SubjectPublicKeyInfo, as Chromium's
/// `--ignore-certificate-errors-spki-list` takes it.
pub fn spki_sha256_base64(cert: &Path) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(
            "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform der \
             | openssl dgst -sha256 -binary | openssl base64 -A",
        )
        .arg("sh")
        .arg(cert)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

const EC_KEY: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
];

fn issue(dir: &Path, name: &str, usage: &str, san: &str) {
    request(dir, name, usage, san);
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            &format!("{name}.pem"),
            "-extfile",
            &format!("{name}.ext"),
        ],
    );
}

/// A new key `{name}.key`, its request `{name}.csr`, and the extensions `{name}.ext` to issue.
fn request(dir: &Path, name: &str, usage: &str, san: &str) {
    std::fs::write(
        dir.join(format!("{name}.ext")),
        format!(
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage={usage}\n{san}"
        ),
    )
    .unwrap();
    openssl(
        dir,
        &[
            &["req"][..],
            &EC_KEY[..],
            &[
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN=kepgate test {name}"),
            ][..],
        ]
        .concat(),
    );
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A time as OpenSSL's `ca` takes it (`-startdate`, `-enddate`, index dates): YYYYMMDDHHMMSSZ, UTC.
pub fn openssl_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
