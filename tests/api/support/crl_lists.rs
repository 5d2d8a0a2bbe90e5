//! CRLs made by implementations independent of kepgate, served over real HTTP: a CA made by
//! OpenSSL (P-256), its lists from `openssl ca -gencrl` and from Python `cryptography`
//! (`tests/tools/make_crl.py`: deltas, entry extensions, no nextUpdate), and a distribution
//! point the test controls as whoever sits on the path would.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{StatusCode, Uri, header::CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::post;
use kepgate::identity::Rnokpp;
use kepgate_signature::dstu4145::DstuCurve;
use kepgate_signature::test_ca::{KeyKind, Publication, TestCa, TestIdentitySpec, TestSigner};
use time::OffsetDateTime;
use tokio::net::TcpListener;

use crate::diia_stack::TempDir;
use crate::test_pki::openssl_time;

/// Distribution points on a random port: `GET /<path>` answers what the test put there (404
/// otherwise); the OCSP responder the certificates name, `POST /ocsp`, is blocked (503).
#[derive(Clone)]
pub struct CrlServer {
    base: String,
    served: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl CrlServer {
    pub async fn start() -> CrlServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let served: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let lists = served.clone();
        let app = Router::new()
            .route("/ocsp", post(|| async { StatusCode::SERVICE_UNAVAILABLE }))
            .fallback(move |uri: Uri| {
                let found = lists.lock().unwrap().get(uri.path()).cloned();
                async move {
                    match found {
                        Some(der) => {
                            ([(CONTENT_TYPE, "application/pkix-crl")], der).into_response()
                        }
                        None => StatusCode::NOT_FOUND.into_response(),
                    }
                }
            });
        tokio::spawn(async move { axum::serve(listener, app).await });
        CrlServer { base, served }
    }

    /// The address of `path` (`/p1/full.crl`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// From now on `path` answers `der`, or 404 with None.
    pub fn serve(&self, path: &str, der: Option<Vec<u8>>) {
        let mut served = self.served.lock().unwrap();
        match der {
            Some(der) => served.insert(path.to_owned(), der),
            None => served.remove(path),
        };
    }

    /// A publication naming the blocked responder and the lists at `/{case}/full.crl` (complete)
    /// and `/{case}/delta.crl` (delta).
    pub fn publication(&self, case: &str) -> Publication {
        Publication {
            ocsp_url: Some(self.url("/ocsp")),
            crl_url: Some(self.url(&format!("/{case}/full.crl"))),
            delta_crl_url: Some(self.url(&format!("/{case}/delta.crl"))),
        }
    }
}

/// One certificate on a list, as `openssl ca`'s index or the Python spec names it.
pub struct Listed<'a> {
    pub signer: &'a TestSigner,
    pub at: OffsetDateTime,
    /// OpenSSL's spelling (`keyCompromise`, `certificateHold`, …); Python's is derived.
    pub reason: &'a str,
    /// An unknown critical extension on the entry (Python lists only).
    pub critical_extension: bool,
}

impl Listed<'_> {
    pub fn new<'a>(signer: &'a TestSigner, reason: &'a str) -> Listed<'a> {
        Listed {
            signer,
            at: OffsetDateTime::now_utc() - time::Duration::hours(1),
            reason,
            critical_extension: false,
        }
    }

    fn serial_hex(&self) -> String {
        let serial = self.signer.certificate().tbs_certificate().serial_number();
        serial
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }
}

/// A list's number, dates and further CRL extensions.
pub struct ListSpec<'a> {
    pub number: u64,
    pub this_update: OffsetDateTime,
    /// None: no nextUpdate (Python lists only).
    pub next_update: Option<OffsetDateTime>,
    pub revoked: &'a [Listed<'a>],
}

impl<'a> ListSpec<'a> {
    /// Numbered `number`, from ten minutes ago for an hour.
    pub fn new(number: u64, revoked: &'a [Listed<'a>]) -> ListSpec<'a> {
        let now = OffsetDateTime::now_utc();
        ListSpec {
            number,
            this_update: now - time::Duration::minutes(10),
            next_update: Some(now + time::Duration::hours(1)),
            revoked,
        }
    }
}

/// A CA made by OpenSSL; the end-entity certificates are issued with its key by the test CA
/// code (the Ukrainian qualified shape kepgate reads identities from), the lists by OpenSSL and
/// Python.
pub struct ListingCa {
    dir: TempDir,
    ca: TestCa,
}

impl ListingCa {
    pub fn new(name: &str) -> ListingCa {
        let dir = std::env::temp_dir().join(format!("kepgate-crl-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("req.cnf"),
            "[req]\ndistinguished_name = dn\n[dn]\n[ca_ext]\n\
             basicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier = hash\n",
        )
        .unwrap();
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-config",
                "req.cnf",
                "-extensions",
                "ca_ext",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "9",
                "-subj",
                &format!("/CN=CRL test CA {name}/O=kepgate tests"),
            ],
        );
        let bundle = [
            std::fs::read_to_string(dir.join("ca.pem")).unwrap(),
            std::fs::read_to_string(dir.join("ca.key")).unwrap(),
        ]
        .concat();
        let ca = TestCa::from_pem_bundle(&bundle).unwrap();
        ListingCa {
            dir: TempDir(dir),
            ca,
        }
    }

    pub fn cert_der(&self) -> &[u8] {
        self.ca.cert_der()
    }

    /// The CA certificate (PEM), for `trust.files`.
    pub fn cert_path(&self) -> PathBuf {
        self.dir.0.join("ca.pem")
    }

    /// A person with a DSTU 4145 key (as Diia signs by default) whose certificate names
    /// `publication`'s responder and lists.
    pub fn person(&self, publication: Publication) -> TestSigner {
        let mut ca = self.ca.clone();
        ca.set_publication(publication);
        let now = OffsetDateTime::now_utc();
        let spec = TestIdentitySpec {
            full_name: "Франко Іван Якович".to_owned(),
            surname: "Франко".to_owned(),
            given_name: "Іван Якович".to_owned(),
            rnokpp: Rnokpp::parse("3184710691").unwrap(),
            edrpou: None,
            organization: None,
            title: None,
        };
        ca.issue_with(
            &spec,
            now - time::Duration::days(1),
            now + time::Duration::days(30),
            KeyKind::Dstu4145(DstuCurve::M431),
        )
        .unwrap()
    }

    /// A complete list from `openssl ca -gencrl`, with the CRL extensions `extensions` (lines
    /// of an OpenSSL config section, followed by any sections they refer to) besides the
    /// authority key identifier and the CRL number.
    pub fn openssl_list(&self, list: &ListSpec<'_>, extensions: &str) -> Vec<u8> {
        let index: String = list
            .revoked
            .iter()
            .map(|r| {
                let reason = match r.reason {
                    "certificateHold" => "certificateHold,holdInstructionReject",
                    other => other,
                };
                let serial = r.serial_hex();
                // The index writes UTCTime (two-digit years).
                let at = &openssl_time(r.at)[2..];
                format!("R\t301231000000Z\t{at},{reason}\t{serial}\tunknown\t/CN=S{serial}\n")
            })
            .collect();
        std::fs::write(self.dir.0.join("index.txt"), index).unwrap();
        std::fs::write(
            self.dir.0.join("crlnumber"),
            format!("{:04X}\n", list.number),
        )
        .unwrap();
        std::fs::write(
            self.dir.0.join("ca.cnf"),
            format!(
                "[ca]\ndefault_ca = ca_default\n[ca_default]\ndatabase = index.txt\n\
                 crlnumber = crlnumber\ndefault_md = sha256\ncertificate = ca.pem\n\
                 private_key = ca.key\n[list_ext]\nauthorityKeyIdentifier = keyid\n{extensions}\n"
            ),
        )
        .unwrap();
        let next = list
            .next_update
            .expect("openssl ca always writes nextUpdate");
        openssl(
            &self.dir.0,
            &[
                "ca",
                "-gencrl",
                "-config",
                "ca.cnf",
                "-crlexts",
                "list_ext",
                "-crl_lastupdate",
                &openssl_time(list.this_update),
                "-crl_nextupdate",
                &openssl_time(next),
                "-out",
                "list.pem",
            ],
        );
        openssl(
            &self.dir.0,
            &[
                "crl", "-in", "list.pem", "-outform", "DER", "-out", "list.der",
            ],
        );
        std::fs::read(self.dir.0.join("list.der")).unwrap()
    }

    /// A list from Python `cryptography`: a delta completing `delta_base` when given; `extra`
    /// adds to the spec (`idp`, `critical_extension`), see `tests/tools/make_crl.py`.
    pub fn python_list(
        &self,
        list: &ListSpec<'_>,
        delta_base: Option<u64>,
        extra: serde_json::Value,
    ) -> Vec<u8> {
        let revoked: Vec<serde_json::Value> = list
            .revoked
            .iter()
            .map(|r| {
                serde_json::json!({
                    "serial": r.serial_hex(),
                    "at": r.at.unix_timestamp(),
                    "reason": python_reason(r.reason),
                    "critical_extension": r.critical_extension,
                })
            })
            .collect();
        let mut spec = serde_json::json!({
            "ca_cert": self.dir.0.join("ca.pem"),
            "ca_key": self.dir.0.join("ca.key"),
            "this_update": list.this_update.unix_timestamp(),
            "next_update": list.next_update.map(OffsetDateTime::unix_timestamp),
            "number": list.number,
            "delta_base": delta_base,
            "revoked": revoked,
        });
        if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
            spec.extend(extra.clone());
        }
        let path = self.dir.0.join("spec.json");
        std::fs::write(&path, spec.to_string()).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/make_crl.py");
        let out = Command::new("python3")
            .arg(script)
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "make_crl.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}

/// `keyCompromise` → `key_compromise` (`cryptography`'s ReasonFlags names).
fn python_reason(openssl: &str) -> String {
    let mut out = String::new();
    for c in openssl.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    match out.as_str() {
        "c_a_compromise" => "ca_compromise".to_owned(),
        "remove_from_c_r_l" => "remove_from_crl".to_owned(),
        _ => out,
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
