//! The certificate-status check against an independent OCSP responder: OpenSSL's `ocsp -port`
//! over an `index.txt`, a real process on a random port, with certificates OpenSSL made whose
//! Authority Information Access names it. Answers land in PostgreSQL for every replica.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kepgate::certificate_status::{
    CaList, CertificateStatus, CheckerSettings, CrlRefresher, RevocationChecker, Unavailable,
};
use kepgate::clock::SystemClock;
use kepgate::config::DatabaseSettings;
use kepgate::identity::Rnokpp;
use kepgate_signature::ocsp::CertStatus;
use kepgate_signature::test_ca::{Publication, RevokedCert, TestCa, TestIdentitySpec, TestSigner};
use secrecy::SecretString;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::crl_lists::{CrlServer, ListSpec, Listed, ListingCa};
use crate::helpers::{free_port, fresh_database_url};
use crate::processes::KillOnDrop;

struct Ca {
    dir: PathBuf,
    port: u16,
}

impl Drop for Ca {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `openssl <args>` in `dir`; its error output when it fails.
pub fn openssl(dir: &Path, args: &str) {
    let out = Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Ca {
    /// A CA and three leaves (1001 good, 1002 revoked, 1003 not in the index) naming
    /// `http://127.0.0.1:<port>/` as their OCSP responder.
    fn new() -> Ca {
        let dir = std::env::temp_dir().join(format!("kepgate-ocsp-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        std::fs::write(
            dir.join("ca.cnf"),
            format!(
                "[req]\ndistinguished_name = dn\n[dn]\n\
                 [ca_ext]\nbasicConstraints = critical,CA:TRUE\n\
                 keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n\
                 [leaf]\nkeyUsage = critical,digitalSignature\n\
                 authorityInfoAccess = OCSP;URI:http://127.0.0.1:{port}/\n"
            ),
        )
        .unwrap();
        let key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -config ca.cnf";
        openssl(
            &dir,
            &format!(
                "req -x509 {key} -keyout ca.key -out ca.pem -subj /CN=CA -days 9 -extensions ca_ext"
            ),
        );
        for serial in ["1001", "1002", "1003"] {
            openssl(
                &dir,
                &format!(
                    "req -new {key} -keyout {serial}.key -out {serial}.csr -subj /CN=L{serial}"
                ),
            );
            openssl(
                &dir,
                &format!(
                    "x509 -req -in {serial}.csr -CA ca.pem -CAkey ca.key -set_serial 0x{serial} \
                     -days 5 -out {serial}.pem -extfile ca.cnf -extensions leaf"
                ),
            );
        }
        std::fs::write(
            dir.join("index.txt"),
            "V\t301231000000Z\t\t1001\tunknown\t/CN=L1001\n\
             R\t301231000000Z\t260101000000Z,keyCompromise\t1002\tunknown\t/CN=L1002\n",
        )
        .unwrap();
        Ca { dir, port }
    }

    fn der(&self, name: &str) -> Vec<u8> {
        let pem = std::fs::read(self.dir.join(format!("{name}.pem"))).unwrap();
        let text = String::from_utf8(pem).unwrap();
        let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap()
    }

    /// OpenSSL's responder on the port the certificates name; ready when it accepts connections.
    async fn responder(&self) -> KillOnDrop {
        openssl_ocsp(&self.dir, self.port, "index.txt", "ca").await
    }
}

/// `openssl ocsp` on `port` for the CA `{ca}.pem` (answers signed with `{ca}.key`) over the
/// index `index` in `dir`; returned once it waits for clients.
pub async fn openssl_ocsp(dir: &Path, port: u16, index: &str, ca: &str) -> KillOnDrop {
    let mut child = Command::new("openssl")
        .args(
            format!(
                "ocsp -index {index} -port {port} -CA {ca}.pem -rsigner {ca}.pem \
                 -rkey {ca}.key -ndays 1"
            )
            .split_whitespace(),
        )
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Ready once it says so: it serves one connection at a time, so a probe connection
    // would hold it up. Its stderr is read to the end, so that it never writes to a closed
    // pipe.
    let stderr = child.stderr.take().unwrap();
    let responder = KillOnDrop(child);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            if line.contains("waiting for OCSP client") {
                let _ = ready_tx.send(());
            }
        }
    });
    assert!(
        ready_rx.recv_timeout(Duration::from_secs(10)).is_ok(),
        "openssl ocsp did not start"
    );
    responder
}

async fn fresh_db() -> sqlx::PgPool {
    let (url, _) = fresh_database_url();
    let settings = DatabaseSettings {
        url: SecretString::from(url),
        ..Default::default()
    };
    let db = kepgate::database::connect(&settings).await.unwrap();
    kepgate::database::migrate(&db).await.unwrap();
    db
}

async fn checker(timeout: Duration, retries: u32) -> RevocationChecker {
    checker_on(fresh_db().await, timeout, retries)
}

fn checker_on(db: sqlx::PgPool, timeout: Duration, retries: u32) -> RevocationChecker {
    checker_with(db, timeout, retries, CaList::default())
}

fn checker_with(
    db: sqlx::PgPool,
    timeout: Duration,
    retries: u32,
    ca_list: CaList,
) -> RevocationChecker {
    RevocationChecker::new(
        db,
        Arc::new(SystemClock),
        CheckerSettings {
            timeout,
            retries,
            skew: time::Duration::minutes(5),
            cache_max: time::Duration::hours(1),
        },
        ca_list,
    )
    .unwrap()
}

#[tokio::test]
async fn openssl_says_good_revoked_or_unknown_and_good_answers_are_shared() {
    let ca = Ca::new();
    let checker = checker(Duration::from_secs(5), 0).await;
    let responder = ca.responder().await;

    let good = checker
        .status(&ca.der("1001"), &ca.der("ca"), None)
        .await
        .unwrap();
    assert!(
        matches!(good, CertificateStatus::Good { ref source } if source.contains(&ca.port.to_string())),
        "{good:?}"
    );

    let revoked = checker
        .status(&ca.der("1002"), &ca.der("ca"), None)
        .await
        .unwrap();
    match revoked {
        CertificateStatus::Revoked { at, reason, .. } => {
            assert_eq!(at.unix_timestamp(), 1_767_225_600);
            assert_eq!(reason, Some(1));
        }
        other => panic!("{other:?}"),
    }

    let unknown = checker
        .status(&ca.der("1003"), &ca.der("ca"), None)
        .await
        .unwrap_err();
    assert!(matches!(unknown, Unavailable::Unknown { .. }), "{unknown}");
    assert!(!unknown.is_unreachable());

    // With the responder gone, the kept answers still stand (until nextUpdate, capped).
    drop(responder);
    let again = checker
        .status(&ca.der("1001"), &ca.der("ca"), None)
        .await
        .unwrap();
    assert!(matches!(again, CertificateStatus::Good { .. }));
    let again = checker
        .status(&ca.der("1002"), &ca.der("ca"), None)
        .await
        .unwrap();
    assert!(matches!(again, CertificateStatus::Revoked { .. }));
    // "unknown" was not kept: now nobody answers.
    let e = checker
        .status(&ca.der("1003"), &ca.der("ca"), None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ocsp_unreachable", "{e}");
    assert!(e.is_unreachable());
}

#[tokio::test]
async fn a_silent_responder_costs_no_more_than_its_timeout_and_garbage_is_no_answer() {
    let ca = Ca::new();
    // Something on the responder's port that reads the request and never answers.
    let silent = TcpListener::bind(("127.0.0.1", ca.port)).await.unwrap();
    let hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let checker = checker(Duration::from_millis(300), 1).await;
    let started = Instant::now();
    let e = checker
        .status(&ca.der("1001"), &ca.der("ca"), None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ocsp_timeout", "{e}");
    assert!(e.is_unreachable());
    // Two attempts of 300 ms, nothing waited beyond them.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    hold.abort();
    let _ = hold.await;

    // An HTTP server that answers a web page instead of an OCSP answer.
    let garbage = TcpListener::bind(("127.0.0.1", ca.port)).await.unwrap();
    let serve = tokio::spawn(async move {
        while let Ok((mut socket, _)) = garbage.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let body = "<html>502 Bad Gateway</html>";
            let _ = socket
                .write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                )
                .await;
        }
    });
    let e = checker
        .status(&ca.der("1001"), &ca.der("ca"), None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ocsp_malformed", "{e}");
    assert!(
        !e.is_unreachable(),
        "a wrong answer is not waved through as 'unreachable'"
    );
    serve.abort();
}

/// A distribution point serving whatever bytes the test puts there.
async fn crl_point() -> (String, Arc<Mutex<Vec<u8>>>) {
    let served = Arc::new(Mutex::new(Vec::new()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ca.crl", listener.local_addr().unwrap());
    let bytes = served.clone();
    let app = axum::Router::new().route(
        "/ca.crl",
        axum::routing::get(move || {
            let bytes = bytes.clone();
            async move { bytes.lock().unwrap().clone() }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, served)
}

fn leaf(ca: &TestCa, rnokpp: &str) -> TestSigner {
    let spec = TestIdentitySpec {
        full_name: "Тест Тест Тестович".to_owned(),
        surname: "Тест".to_owned(),
        given_name: "Тест Тестович".to_owned(),
        rnokpp: Rnokpp::parse(rnokpp).unwrap(),
        edrpou: None,
        organization: None,
        title: None,
    };
    let now = OffsetDateTime::now_utc();
    ca.issue(
        &spec,
        now - time::Duration::days(1),
        now + time::Duration::days(30),
    )
    .unwrap()
}

#[tokio::test]
async fn a_bad_or_stale_crl_is_not_stored_and_a_good_one_answers_when_ocsp_cannot() {
    let (crl_url, served) = crl_point().await;
    let now = OffsetDateTime::now_utc();
    let mut ca = TestCa::generate("Тестовий КНЕДП", now).unwrap();
    // The responder's port has nobody listening: OCSP never answers.
    ca.set_publication(Publication {
        ocsp_url: Some(format!("http://127.0.0.1:{}/", free_port())),
        crl_url: Some(crl_url.clone()),
        delta_crl_url: None,
    });
    let (good, revoked) = (leaf(&ca, "3184710691"), leaf(&ca, "2654321099"));
    let revoked_serial = revoked.certificate().tbs_certificate().serial_number();
    let listed = [RevokedCert {
        serial: revoked_serial.as_bytes().to_vec(),
        at: now - time::Duration::hours(1),
        reason: Some(1),
    }];
    let db = fresh_db().await;
    let checker = checker_on(db.clone(), Duration::from_millis(500), 0);
    let refresher = CrlRefresher::new(
        db.clone(),
        Arc::new(SystemClock),
        Duration::from_secs(1),
        time::Duration::ZERO,
        time::Duration::hours(1),
    )
    .unwrap();
    let status_of =
        async |signer: &TestSigner| checker.status(signer.cert_der(), ca.cert_der(), None).await;
    // Refreshes the list now, whatever its schedule; the error it recorded, if any.
    let refresh = async || {
        sqlx::query("UPDATE revocation_lists SET due_at = now()")
            .execute(&db)
            .await
            .unwrap();
        let stored = refresher.refresh_due().await.unwrap();
        let error: Option<String> = sqlx::query_scalar("SELECT last_error FROM revocation_lists")
            .fetch_one(&db)
            .await
            .unwrap();
        (stored.len(), error)
    };

    // The first check makes the list known; nothing is stored yet, so no status at all.
    let first = status_of(&good).await;
    assert!(
        matches!(first, Err(Unavailable::Responder { .. })),
        "{first:?}"
    );

    let mut tampered = ca
        .crl(&listed, 1, now, now + time::Duration::hours(1))
        .unwrap();
    let last = tampered.len() - 2;
    tampered[last] ^= 1;
    *served.lock().unwrap() = tampered;
    let (stored, error) = refresh().await;
    assert_eq!(stored, 0);
    assert!(
        error.unwrap().contains("signature"),
        "bad signature recorded"
    );
    assert!(
        status_of(&good).await.is_err(),
        "a tampered list says nothing"
    );

    let stale = ca
        .crl(
            &listed,
            2,
            now - time::Duration::hours(2),
            now - time::Duration::hours(1),
        )
        .unwrap();
    *served.lock().unwrap() = stale;
    let (stored, error) = refresh().await;
    assert_eq!(stored, 0);
    assert!(error.unwrap().contains("stale"), "stale list recorded");
    assert!(status_of(&good).await.is_err(), "a stale list says nothing");

    *served.lock().unwrap() = ca
        .crl(&listed, 3, now, now + time::Duration::hours(1))
        .unwrap();
    let (stored, error) = refresh().await;
    assert_eq!((stored, error), (1, None));
    let source = format!("crl {crl_url}");
    assert_eq!(
        status_of(&good).await.unwrap(),
        CertificateStatus::Good {
            source: source.clone()
        }
    );
    assert!(matches!(
        status_of(&revoked).await.unwrap(),
        CertificateStatus::Revoked {
            reason: Some(1),
            ..
        }
    ));

    // An older list (a lower number) served again never replaces the newer one.
    let older = ca
        .crl(
            &[],
            2,
            now - time::Duration::minutes(30),
            now + time::Duration::hours(1),
        )
        .unwrap();
    *served.lock().unwrap() = older;
    let (stored, _) = refresh().await;
    assert_eq!(stored, 0);
    assert!(matches!(
        status_of(&revoked).await.unwrap(),
        CertificateStatus::Revoked { .. }
    ));
}

#[tokio::test]
async fn a_certificate_naming_no_responder_is_asked_at_the_one_the_national_ca_list_gives() {
    // A responder for the test CA on a random port; the CA's certificates do not name it.
    let now = OffsetDateTime::now_utc();
    let ca = TestCa::generate("Тестовий КНЕДП", now).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let answering = ca.clone();
    let app = axum::Router::new().route(
        "/services/ocsp/",
        axum::routing::post(move |request: axum::body::Bytes| {
            let ca = answering.clone();
            async move {
                let now = OffsetDateTime::now_utc();
                let next = Some(now + time::Duration::minutes(10));
                ca.ocsp_response(&request, |_| CertStatus::Good, now, next)
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let signer = leaf(&ca, "3184710691");

    // Without a list: nobody to ask.
    let unlisted = checker(Duration::from_secs(2), 0).await;
    let status = unlisted
        .status(signer.cert_der(), ca.cert_der(), Some("Тестовий КНЕДП"))
        .await;
    assert!(
        matches!(status, Err(Unavailable::NoResponder)),
        "{status:?}"
    );

    // The list as CAs.json writes it: address without a scheme, the port apart.
    let json = format!(
        r#"[{{"issuerCNs": ["Інший КНЕДП", "Тестовий КНЕДП"], "address": "127.0.0.1",
              "ocspAccessPointAddress": "127.0.0.1/services/ocsp/",
              "ocspAccessPointPort": "{port}", "directAccess": true}}]"#
    );
    let list = CaList::parse(json.as_bytes()).unwrap();
    let listed = checker_with(fresh_db().await, Duration::from_secs(2), 0, list);
    let status = listed
        .status(signer.cert_der(), ca.cert_der(), Some("Тестовий КНЕДП"))
        .await
        .unwrap();
    assert_eq!(
        status,
        CertificateStatus::Good {
            source: format!("ocsp http://127.0.0.1:{port}/services/ocsp/")
        }
    );
}

/// A checker and a CRL refresher on one fresh database, as a replica runs them.
async fn checker_and_refresher() -> (sqlx::PgPool, RevocationChecker, CrlRefresher) {
    let db = fresh_db().await;
    let checker = checker_on(db.clone(), Duration::from_millis(500), 0);
    let refresher = CrlRefresher::new(
        db.clone(),
        Arc::new(SystemClock),
        Duration::from_secs(1),
        time::Duration::minutes(5),
        time::Duration::hours(1),
    )
    .unwrap();
    (db, checker, refresher)
}

/// Every known list downloaded now; then each address with the error it recorded, if any.
async fn refresh_all(db: &sqlx::PgPool, refresher: &CrlRefresher) -> Vec<(String, String)> {
    sqlx::query("UPDATE revocation_lists SET due_at = now()")
        .execute(db)
        .await
        .unwrap();
    refresher.refresh_due().await.unwrap();
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT url, last_error FROM revocation_lists ORDER BY url")
            .fetch_all(db)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(url, e)| (url, e.unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn a_list_of_the_other_kind_is_refused_at_either_address() {
    // A certificate names a complete list (cRLDistributionPoints) and a delta (freshestCRL); the
    // two addresses serve each other's list (OpenSSL's complete #10, Python's delta #11).
    let lists = CrlServer::start().await;
    let ca = ListingCa::new("kinds");
    let person = ca.person(lists.publication("kinds"));
    let complete = ca.openssl_list(&ListSpec::new(10, &[]), "");
    let delta = ca.python_list(&ListSpec::new(11, &[]), Some(10), serde_json::json!({}));
    lists.serve("/kinds/full.crl", Some(delta.clone()));
    lists.serve("/kinds/delta.crl", Some(complete.clone()));
    let (db, checker, refresher) = checker_and_refresher().await;
    let status = async || checker.status(person.cert_der(), ca.cert_der(), None).await;
    assert!(status().await.is_err(), "the responder is blocked");

    let errors = refresh_all(&db, &refresher).await;
    assert_eq!(errors.len(), 2);
    assert!(
        errors[0].0.ends_with("/delta.crl")
            && errors[0]
                .1
                .contains("a delta CRL was expected here, this is a complete CRL"),
        "{errors:?}"
    );
    assert!(
        errors[1].0.ends_with("/full.crl")
            && errors[1]
                .1
                .contains("a complete CRL was expected here, this is a delta CRL"),
        "{errors:?}"
    );
    let undetermined = status().await;
    assert!(
        matches!(undetermined, Err(Unavailable::Responder { .. })),
        "nothing stored decides: {undetermined:?}"
    );

    // Each where it belongs: stored, and the complete list answers.
    lists.serve("/kinds/full.crl", Some(complete));
    lists.serve("/kinds/delta.crl", Some(delta));
    let errors = refresh_all(&db, &refresher).await;
    assert!(errors.iter().all(|(_, e)| e.is_empty()), "{errors:?}");
    assert_eq!(
        status().await.unwrap(),
        CertificateStatus::Good {
            source: format!("crl {}", lists.url("/kinds/full.crl"))
        }
    );
}

#[tokio::test]
async fn an_older_list_of_the_same_scope_is_refused_at_any_address() {
    // Two certificates of one CA name two addresses of its one complete list (no
    // IssuingDistributionPoint: one scope, one numbering). The first address has #12, which
    // revokes the second certificate; the second serves #9, from before that.
    let lists = CrlServer::start().await;
    let ca = ListingCa::new("one scope");
    let (first, second) = (
        ca.person(lists.publication("a")),
        ca.person(lists.publication("b")),
    );
    let revoked = [Listed::new(&second, "keyCompromise")];
    lists.serve(
        "/a/full.crl",
        Some(ca.openssl_list(&ListSpec::new(12, &revoked), "")),
    );
    lists.serve(
        "/b/full.crl",
        Some(ca.openssl_list(&ListSpec::new(9, &[]), "")),
    );
    let (db, checker, refresher) = checker_and_refresher().await;
    let status = async |who: &TestSigner| checker.status(who.cert_der(), ca.cert_der(), None).await;
    assert!(status(&first).await.is_err());
    refresh_all(&db, &refresher).await;
    assert!(matches!(
        status(&first).await,
        Ok(CertificateStatus::Good { .. })
    ));

    assert!(status(&second).await.is_err());
    let errors = refresh_all(&db, &refresher).await;
    let at_b = &errors
        .iter()
        .find(|(url, _)| url.ends_with("/b/full.crl"))
        .unwrap()
        .1;
    assert!(
        at_b.contains("older than one stored of its scope: number 0x09 < 0x0C"),
        "{errors:?}"
    );
    // Nothing at its own address decides for the second certificate; the list at the first
    // address is not its own.
    assert!(
        matches!(status(&second).await, Err(Unavailable::Responder { .. })),
        "undetermined"
    );
}
