//! Document signatures as kepgate receives them from Diia — a detached CAdES whose messageDigest
//! is the GOST 34.311-95 hash of the file, signed with DSTU 4145 — checked by an implementation
//! nobody on this project wrote: jkurwa and gost89 (JavaScript), through
//! scripts/verify-dstu-p7s.sh. If our hash, curve arithmetic or CMS encoding drifted from the
//! standard, both of our sides could still agree with each other; this side cannot.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kepgate::identity::{Edrpou, Rnokpp};
use kepgate_signature::dstu4145::DstuCurve;
use kepgate_signature::gost34311;
use kepgate_signature::test_ca::{KeyKind, TestCa, TestIdentitySpec, TestSigner};
use time::{Duration, OffsetDateTime};

use crate::diia_stack::TempDir;

/// A report a person would sign: Ukrainian text and every byte value, longer than one
/// 32-octet GOST 34.311 block and not a multiple of it.
fn report() -> Vec<u8> {
    let mut bytes = "Звіт про виконання робіт за грудень 2026 р.\nСума: 12 345,67 грн\n"
        .as_bytes()
        .to_vec();
    bytes.extend(0..=255u8);
    bytes
}

fn shevchenko() -> TestIdentitySpec {
    TestIdentitySpec {
        full_name: "Шевченко Тарас Григорович".to_owned(),
        surname: "Шевченко".to_owned(),
        given_name: "Тарас Григорович".to_owned(),
        rnokpp: Rnokpp::parse("3184710691").unwrap(),
        edrpou: None::<Edrpou>,
        organization: None,
        title: None,
    }
}

/// The shape of the Diia chain: a central root on M431 and a QTSP CA on M257 under it.
struct Pki {
    root: TestCa,
    qtsp: TestCa,
}

fn pki() -> Pki {
    let now = OffsetDateTime::now_utc();
    let root = TestCa::generate_with(
        "Центральний засвідчувальний орган (тест)",
        now,
        dstu(DstuCurve::M431),
    )
    .unwrap();
    let qtsp = root
        .issue_sub_ca_with("Тестовий КНЕДП ДСТУ", now, dstu(DstuCurve::M257))
        .unwrap();
    Pki { root, qtsp }
}

fn dstu(curve: DstuCurve) -> KeyKind {
    KeyKind::Dstu4145(curve)
}

fn person(ca: &TestCa, curve: DstuCurve) -> TestSigner {
    let now = OffsetDateTime::now_utc();
    let signer = ca
        .issue_with(
            &shevchenko(),
            now - Duration::days(1),
            now + Duration::days(365),
            dstu(curve),
        )
        .unwrap();
    assert_eq!(signer.key_kind(), dstu(curve));
    signer
}

/// What Diia hands back for `document`: the detached CAdES over its GOST 34.311 hash.
fn sign(signer: &TestSigner, document: &[u8]) -> Vec<u8> {
    signer
        .sign_hash_cades(&gost34311::digest(document), OffsetDateTime::now_utc())
        .unwrap()
}

/// Runs the independent verifier on `document` and `p7s` with the given CA certificates.
fn independent_verify(document: &[u8], p7s: &[u8], cas: &[&TestCa]) -> (bool, String) {
    let dir = TempDir(std::env::temp_dir().join(format!(
        "kepgate-dstu-independent-{}",
        uuid::Uuid::new_v4().simple()
    )));
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = write(&dir.0, "report.bin", document);
    let signature = write(&dir.0, "report.bin.p7s", p7s);
    let mut cmd =
        Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/verify-dstu-p7s.sh"));
    cmd.arg(&file).arg(&signature);
    for (i, ca) in cas.iter().enumerate() {
        // PEM and DER both, as the script takes either.
        if i % 2 == 0 {
            cmd.arg(write(
                &dir.0,
                &format!("ca{i}.pem"),
                ca.cert_pem().unwrap().as_bytes(),
            ));
        } else {
            cmd.arg(write(&dir.0, &format!("ca{i}.cer"), ca.cert_der()));
        }
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run scripts/verify-dstu-p7s.sh");
    let stdout = String::from_utf8_lossy(&stdout).trim().to_owned();
    assert!(
        status.code() == Some(0) || status.code() == Some(1),
        "the verifier did not run: {status}\n{stdout}\n{}",
        String::from_utf8_lossy(&stderr)
    );
    (status.success(), stdout)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_report_signed_with_an_m431_key_verifies_with_jkurwa() {
    let pki = pki();
    let signer = person(&pki.root, DstuCurve::M431);
    let document = report();
    let (ok, out) = independent_verify(&document, &sign(&signer, &document), &[&pki.root]);
    assert!(ok, "{out}");
    assert_eq!(out, "OK Шевченко Тарас Григорович");
}

#[test]
fn a_report_signed_with_an_m257_key_verifies_with_jkurwa_up_to_the_m431_root() {
    let pki = pki();
    let signer = person(&pki.qtsp, DstuCurve::M257);
    let document = report();
    let (ok, out) = independent_verify(
        &document,
        &sign(&signer, &document),
        &[&pki.qtsp, &pki.root],
    );
    assert!(ok, "{out}");
    assert_eq!(out, "OK Шевченко Тарас Григорович");
}

#[test]
fn a_signature_over_another_file_is_refused() {
    let pki = pki();
    for (ca, curve) in [(&pki.root, DstuCurve::M431), (&pki.qtsp, DstuCurve::M257)] {
        let signer = person(ca, curve);
        let p7s = sign(&signer, b"another report");
        let (ok, out) = independent_verify(&report(), &p7s, &[ca]);
        assert!(!ok, "{curve:?}: {out}");
        assert_eq!(
            out, "FAIL messageDigest is not the GOST 34.311 hash of the file",
            "{curve:?}"
        );
    }
}

#[test]
fn a_flipped_signature_byte_is_refused() {
    let pki = pki();
    for (ca, curve) in [(&pki.root, DstuCurve::M431), (&pki.qtsp, DstuCurve::M257)] {
        let signer = person(ca, curve);
        let document = report();
        let mut p7s = sign(&signer, &document);
        // The SignerInfo's signature OCTET STRING (r‖s) ends the DER: there are no unsigned
        // attributes. Ten octets from the end is inside s, well below its top octet.
        let at = p7s.len() - 10;
        p7s[at] ^= 0x01;
        let (ok, out) = independent_verify(&document, &p7s, &[ca]);
        assert!(!ok, "{curve:?}: {out}");
        assert_eq!(
            out, "FAIL DSTU 4145 signature does not verify with the signer's certificate",
            "{curve:?}"
        );
    }
}

#[test]
fn a_ca_of_the_same_name_with_another_key_is_refused() {
    let pki = pki();
    let signer = person(&pki.root, DstuCurve::M431);
    let impostor = TestCa::generate_with(
        "Центральний засвідчувальний орган (тест)",
        OffsetDateTime::now_utc(),
        dstu(DstuCurve::M431),
    )
    .unwrap();
    let document = report();
    let (ok, out) = independent_verify(&document, &sign(&signer, &document), &[&impostor]);
    assert!(!ok, "{out}");
    assert!(
        out.starts_with("FAIL Шевченко Тарас Григорович: certificate signature does not verify"),
        "{out}"
    );
}
