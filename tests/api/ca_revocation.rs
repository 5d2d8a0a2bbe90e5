//! The status of the CA certificates of a key's path (issue 32): a three-level PKI made by
//! OpenSSL — a root the gateway trusts, a sub-CA it issued, a person the sub-CA issued — with
//! `openssl ocsp` answering for each CA (real processes on random ports) and the root's CRL from
//! `openssl ca -gencrl` at the sub-CA's distribution point. `trust.revocation = "require"`;
//! what is met is the login.

use std::time::Duration;

use kepgate::identity::Rnokpp;
use kepgate_signature::dstu4145::DstuCurve;
use kepgate_signature::test_ca::{KeyKind, Publication, TestCa, TestIdentitySpec, TestSigner};
use time::OffsetDateTime;

use crate::crl_lists::CrlServer;
use crate::diia_stack::{DiiaStack, TempDir, encode_data, now, spawn_diia_stack_configured};
use crate::helpers::free_port;
use crate::processes::KillOnDrop;
use crate::revocation::{openssl, openssl_ocsp};

/// The sub-CA's serial, as the root's index names it.
const SUB_CA_SERIAL: &str = "5001";

/// Root → sub-CA → person, made in a directory of its own.
struct ThreeLevels {
    dir: TempDir,
    root_port: u16,
    sub_port: u16,
    person: TestSigner,
}

impl ThreeLevels {
    /// The sub-CA names the root's responder and `root_crl_url` (the root's CRL); the person
    /// names the sub-CA's responder.
    fn new(root_crl_url: &str) -> ThreeLevels {
        let dir = std::env::temp_dir().join(format!("kepgate-rev-3l-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let (root_port, sub_port) = (free_port(), free_port());
        std::fs::write(
            dir.join("ca.cnf"),
            format!(
                "[req]\ndistinguished_name = dn\n[dn]\n\
                 [root_ext]\nbasicConstraints = critical,CA:TRUE\n\
                 keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n\
                 [sub_ext]\nbasicConstraints = critical,CA:TRUE,pathlen:0\n\
                 keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n\
                 authorityKeyIdentifier = keyid\n\
                 authorityInfoAccess = OCSP;URI:http://127.0.0.1:{root_port}/\n\
                 crlDistributionPoints = URI:{root_crl_url}\n\
                 [ca]\ndefault_ca = root_db\n[root_db]\ndatabase = root.idx\n\
                 crlnumber = crlnumber\ndefault_md = sha256\ncertificate = root.pem\n\
                 private_key = root.key\n[crl_ext]\nauthorityKeyIdentifier = keyid\n"
            ),
        )
        .unwrap();
        let key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -config ca.cnf";
        openssl(
            &dir,
            &format!(
                "req -x509 {key} -keyout root.key -out root.pem -days 9 -extensions root_ext \
                 -subj /CN=Three-level-root/O=kepgate-tests"
            ),
        );
        openssl(
            &dir,
            &format!("req -new {key} -keyout sub.key -out sub.csr -subj /CN=Three-level-sub-CA"),
        );
        openssl(
            &dir,
            &format!(
                "x509 -req -in sub.csr -CA root.pem -CAkey root.key -set_serial 0x{SUB_CA_SERIAL} \
                 -days 9 -out sub.pem -extfile ca.cnf -extensions sub_ext"
            ),
        );
        std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
        let bundle = [
            std::fs::read_to_string(dir.join("sub.pem")).unwrap(),
            std::fs::read_to_string(dir.join("sub.key")).unwrap(),
        ]
        .concat();
        let mut sub = TestCa::from_pem_bundle(&bundle).unwrap();
        sub.set_publication(Publication {
            ocsp_url: Some(format!("http://127.0.0.1:{sub_port}/")),
            ..Publication::default()
        });
        let person = person_of(&sub);
        let serial: String = person
            .certificate()
            .tbs_certificate()
            .serial_number()
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        std::fs::write(
            dir.join("sub.idx"),
            format!("V\t301231000000Z\t\t{serial}\tunknown\t/CN=person\n"),
        )
        .unwrap();
        ThreeLevels {
            dir: TempDir(dir),
            root_port,
            sub_port,
            person,
        }
    }

    /// The root's index says the sub-CA is good, or revoked.
    fn sub_ca_revoked(&self, revoked: bool) {
        let line = if revoked {
            format!(
                "R\t301231000000Z\t260101000000Z,cACompromise\t{SUB_CA_SERIAL}\tunknown\t/CN=sub\n"
            )
        } else {
            format!("V\t301231000000Z\t\t{SUB_CA_SERIAL}\tunknown\t/CN=sub\n")
        };
        std::fs::write(self.dir.0.join("root.idx"), line).unwrap();
    }

    /// The root's responder, over its index as it is now.
    async fn root_responder(&self) -> KillOnDrop {
        openssl_ocsp(&self.dir.0, self.root_port, "root.idx", "root").await
    }

    async fn sub_ca_responder(&self) -> KillOnDrop {
        openssl_ocsp(&self.dir.0, self.sub_port, "sub.idx", "sub").await
    }

    /// The root's CRL over its index as it is now (`openssl ca -gencrl`), DER.
    fn root_crl(&self) -> Vec<u8> {
        openssl(
            &self.dir.0,
            "ca -gencrl -config ca.cnf -crlexts crl_ext -crldays 1 -out root.crl.pem",
        );
        openssl(
            &self.dir.0,
            "crl -in root.crl.pem -outform DER -out root.crl",
        );
        std::fs::read(self.dir.0.join("root.crl")).unwrap()
    }
}

/// A person with a DSTU 4145 key (as Diia signs by default); the sub-CA's certificate travels
/// in the signature, as a CA's intermediate does.
fn person_of(sub: &TestCa) -> TestSigner {
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
    let issued = sub
        .issue_with(
            &spec,
            now - time::Duration::hours(1),
            now + time::Duration::days(5),
            KeyKind::Dstu4145(DstuCurve::M431),
        )
        .unwrap();
    TestSigner::from_pem_bundle(
        &issued.to_pem_bundle().unwrap(),
        vec![sub.cert_der().to_vec()],
    )
    .unwrap()
}

/// One login with `signer`'s key: confirmed, or the refusal's reason.
async fn login(stack: &DiiaStack, signer: &TestSigner) -> Result<(), String> {
    let started = stack.start_login().await;
    let hash = stack.pending(started.id).await.request_hash;
    let p7s = signer.sign_hash_cades(&hash.digest(), now()).unwrap();
    let response = stack
        .post_callback(hash.as_str(), encode_data(hash.as_str(), Some(&p7s), None))
        .await;
    let body: serde_json::Value = response.json().await.unwrap();
    match body["success"].as_bool() {
        Some(true) => Ok(()),
        _ => Err(body["reason"].as_str().unwrap_or_default().to_owned()),
    }
}

/// Waits until the refresher has stored a list (the root's, at the sub-CA's distribution point).
async fn list_stored(stack: &DiiaStack) {
    for _ in 0..200 {
        let stored: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM revocation_lists WHERE crl_number IS NOT NULL",
        )
        .fetch_one(&stack.app.db)
        .await
        .unwrap();
        if stored > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the root's CRL was not stored");
}

#[tokio::test]
async fn a_sub_ca_its_root_revoked_signs_nobody_in() {
    let lists = CrlServer::start().await;
    let pki = ThreeLevels::new(&lists.url("/root.crl"));
    let root_cert = pki.dir.0.join("root.pem");
    let (stack, _) = spawn_diia_stack_configured(false, |s| {
        s.trust.files.push(root_cert);
        s.trust.crl_refresh = Duration::from_secs(1);
        s.trust.revocation_timeout = Duration::from_secs(2);
        s.trust.revocation_retries = 0;
        s.trust.revocation_cache_max = Duration::ZERO;
    })
    .await;
    assert_eq!(
        stack.settings.trust.revocation,
        kepgate::config::RevocationMode::Require
    );
    let _sub_ca_responder = pki.sub_ca_responder().await;

    // The root's responder says the sub-CA is good: the person signs in.
    pki.sub_ca_revoked(false);
    let root_responder = pki.root_responder().await;
    assert_eq!(login(&stack, &pki.person).await, Ok(()));

    // The root revokes the sub-CA: the person's own certificate is still good, the login is not.
    drop(root_responder);
    pki.sub_ca_revoked(true);
    let root_responder = pki.root_responder().await;
    assert_eq!(
        login(&stack, &pki.person).await,
        Err("ca_certificate_revoked".to_owned())
    );

    // The root's responder blocked: its CRL at the sub-CA's distribution point (registered for
    // the refresher by the checks above) says the same.
    drop(root_responder);
    lists.serve("/root.crl", Some(pki.root_crl()));
    list_stored(&stack).await;
    assert_eq!(
        login(&stack, &pki.person).await,
        Err("ca_certificate_revoked".to_owned())
    );
}
