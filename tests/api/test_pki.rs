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
    issue(
        dir,
        name,
        "serverAuth",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    );
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
