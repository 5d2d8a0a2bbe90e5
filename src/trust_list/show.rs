//! `kepgate trust show`: what is trusted now and since when — the `trust.files` certificates and
//! the national list in force (read from the database), each certificate with its subject CN,
//! ЄДРПОУ, key algorithm, end of validity and where it came from.

use std::io::Write;
use std::path::PathBuf;

use x509_cert::Certificate;

use super::check::{subject_cn, validity};
use super::store::StoredList;
use crate::session::admin::{print_table, stamp};
use crate::signature::{KeyAlgorithm, TrustList};

/// Prints the summary line, then one row per certificate.
pub fn print(
    files: &[(PathBuf, TrustList)],
    national: Option<&StoredList>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let from_files: usize = files.iter().map(|(_, list)| list.len()).sum();
    let national_list = national.map(StoredList::trust_list);
    let summary = match (national, &national_list) {
        (Some(record), Some(list)) => format!(
            "{} CA certificates trusted: {} from trust.files, {} of the national list in force since {} (from {} and {}; last checked {})",
            from_files + list.len(),
            from_files,
            list.len(),
            stamp(record.in_force_since),
            record.bundle_url,
            record.providers_url,
            stamp(record.checked_at),
        ),
        _ => format!(
            "{from_files} CA certificates trusted: {from_files} from trust.files, no national list in force"
        ),
    };
    writeln!(out, "{summary}")?;
    let mut rows = Vec::new();
    for (path, list) in files {
        let origin = path.display().to_string();
        rows.extend(list.entries().map(|(cert, _, alg)| row(cert, alg, &origin)));
    }
    if let (Some(record), Some(list)) = (national, &national_list) {
        let origin = format!(
            "national list since {} ({})",
            stamp(record.in_force_since),
            record.bundle_url
        );
        rows.extend(list.entries().map(|(cert, _, alg)| row(cert, alg, &origin)));
    }
    print_table(
        &["SUBJECT CN", "ЄДРПОУ", "KEY", "VALID UNTIL", "FROM"],
        &rows,
        out,
    )
}

fn row(cert: &Certificate, alg: KeyAlgorithm, origin: &str) -> Vec<String> {
    let edrpou = crate::signature::identity_from_certificate(cert)
        .ok()
        .and_then(|(id, _)| id.edrpou)
        .map(|e| e.as_str().to_owned())
        .unwrap_or_default();
    vec![
        subject_cn(cert).unwrap_or_default(),
        edrpou,
        key_name(alg).to_owned(),
        stamp(validity(cert).1),
        origin.to_owned(),
    ]
}

fn key_name(alg: KeyAlgorithm) -> &'static str {
    match alg {
        KeyAlgorithm::Dstu4145Le => "DSTU 4145",
        KeyAlgorithm::Dstu4145Be => "DSTU 4145 (big-endian)",
        KeyAlgorithm::EcdsaP256 => "ECDSA P-256",
        KeyAlgorithm::EcdsaP384 => "ECDSA P-384",
        KeyAlgorithm::EcdsaOtherCurve => "ECDSA (other curve)",
        KeyAlgorithm::Rsa => "RSA",
        KeyAlgorithm::Other => "other",
    }
}
