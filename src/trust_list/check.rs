//! What of a downloaded bundle becomes a trust anchor. Only certificates that are
//! - CA certificates: basicConstraints cA = true and a keyUsage with keyCertSign (the bundle also
//!   carries the providers' OCSP, TSP and CMP server certificates, which issue nothing);
//! - of a qualified provider: the certificate's subject CN is one of the `issuerCNs` of an entry
//!   of the JSON list of qualified providers;
//! - valid at the clock's now.
//!
//! Why the CN: the JSON list is the central certification authority's list of qualified
//! providers, and `issuerCNs` is exactly how it names each provider's CAs (the IIT library and
//! the Diia SDKs find a certificate's provider by its issuer's CN, as `trust.ca_list` does for
//! OCSP). The ЄДРПОУ was weighed and not taken: the list has one code per provider while its CAs
//! may carry another (the State Tax Service's «КНЕДП ІДД ДПС» carries 43174711, its entry
//! 43005393), and the National Bank's root CAs carry the code of the bank's listed provider. The
//! rule keeps the root authorities (the central certification authority's own certificates, the
//! National Bank's central CAs) out of the anchors: they sign the providers' CAs, so trusting
//! them would keep trusting a provider's CA that the list no longer names whenever a signature
//! carries that CA's certificate.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};

use crate::signature::TrustList;

/// Why an entry of the bundle is not a trust anchor (a metric label and a key of the stored
/// counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipReason {
    NotACertificate,
    NotACa,
    NoKeyCertSign,
    NotListed,
    Expired,
    NotYetValid,
}

impl SkipReason {
    pub const ALL: [SkipReason; 6] = [
        SkipReason::NotACertificate,
        SkipReason::NotACa,
        SkipReason::NoKeyCertSign,
        SkipReason::NotListed,
        SkipReason::Expired,
        SkipReason::NotYetValid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::NotACertificate => "not_a_certificate",
            SkipReason::NotACa => "not_a_ca",
            SkipReason::NoKeyCertSign => "no_key_cert_sign",
            SkipReason::NotListed => "not_a_qualified_provider",
            SkipReason::Expired => "expired",
            SkipReason::NotYetValid => "not_yet_valid",
        }
    }
}

/// The anchors a download yields, and what it skipped.
#[derive(Debug)]
pub struct CheckedList {
    /// DER as the bundle carried them, in byte order, without repeats.
    pub certificates: Vec<Vec<u8>>,
    pub sha256: [u8; 32],
    pub bundle_entries: usize,
    pub skipped: BTreeMap<&'static str, usize>,
}

/// A download that cannot become the list in force.
#[derive(Debug, thiserror::Error)]
pub enum Unusable {
    #[error("the bundle is not a PKCS#7 certificate bundle: {0}")]
    Bundle(String),
    #[error("the providers' list is not the JSON list of qualified providers: {0}")]
    Providers(String),
    #[error("a source answered with nothing, or no certificate of the bundle passed the checks")]
    Empty,
}

impl Unusable {
    pub fn outcome(&self) -> &'static str {
        match self {
            Unusable::Bundle(_) | Unusable::Providers(_) => "unparseable",
            Unusable::Empty => "empty",
        }
    }
}

#[derive(Deserialize)]
struct Provider {
    #[serde(rename = "issuerCNs", default)]
    issuer_cns: Vec<String>,
}

/// The names the list gives the qualified providers' CAs.
fn qualified_names(providers_json: &[u8]) -> Result<HashSet<String>, Unusable> {
    let providers: Vec<Provider> =
        serde_json::from_slice(providers_json).map_err(|e| Unusable::Providers(e.to_string()))?;
    let names: HashSet<String> = providers
        .into_iter()
        .flat_map(|p| p.issuer_cns)
        // Exactly as listed but for ASCII spaces at the ends: no-break and other Unicode spaces
        // would let a look-alike name pass, and `trust show` could not tell them apart.
        .map(|cn| cn.trim_matches(' ').to_owned())
        .filter(|cn| !cn.is_empty())
        .collect();
    if names.is_empty() {
        return Err(Unusable::Providers("it names no CA".into()));
    }
    Ok(names)
}

/// The bundle's entries that pass, at `now`.
pub fn check(
    bundle: &[u8],
    providers_json: &[u8],
    now: OffsetDateTime,
) -> Result<CheckedList, Unusable> {
    // An empty answer is the commonest broken mirror: named as such, not as a parse error.
    if bundle.is_empty() || providers_json.is_empty() {
        return Err(Unusable::Empty);
    }
    let names = qualified_names(providers_json)?;
    let (list, report) =
        TrustList::from_pkcs7_der(bundle).map_err(|e| Unusable::Bundle(e.to_string()))?;
    let mut skipped = BTreeMap::new();
    let mut skip = |reason: SkipReason| *skipped.entry(reason.as_str()).or_insert(0) += 1;
    for _ in &report.skipped {
        skip(SkipReason::NotACertificate);
    }
    let mut accepted = BTreeSet::new();
    for (cert, der, _) in list.entries() {
        match judge(cert, &names, now) {
            Ok(()) => {
                accepted.insert(der.to_vec());
            }
            Err(reason) => skip(reason),
        }
    }
    if accepted.is_empty() {
        return Err(Unusable::Empty);
    }
    let certificates: Vec<Vec<u8>> = accepted.into_iter().collect();
    Ok(CheckedList {
        sha256: digest(&certificates),
        certificates,
        bundle_entries: report.entries,
        skipped,
    })
}

/// SHA-256 over the certificates in order: each DER element carries its own length, so the
/// concatenation names exactly one set.
pub fn digest(certificates: &[Vec<u8>]) -> [u8; 32] {
    let mut hash = Sha256::new();
    for der in certificates {
        hash.update(der);
    }
    hash.finalize().into()
}

fn judge(
    cert: &Certificate,
    names: &HashSet<String>,
    now: OffsetDateTime,
) -> Result<(), SkipReason> {
    let tbs = cert.tbs_certificate();
    let is_ca = tbs
        .get_extension::<BasicConstraints>()
        .ok()
        .flatten()
        .is_some_and(|(_, bc)| bc.ca);
    if !is_ca {
        return Err(SkipReason::NotACa);
    }
    let signs_certificates = tbs
        .get_extension::<KeyUsage>()
        .ok()
        .flatten()
        .is_some_and(|(_, ku)| ku.0.contains(KeyUsages::KeyCertSign));
    if !signs_certificates {
        return Err(SkipReason::NoKeyCertSign);
    }
    if !subject_cn(cert).is_some_and(|cn| names.contains(cn.trim_matches(' '))) {
        return Err(SkipReason::NotListed);
    }
    let (not_before, not_after) = validity(cert);
    if now > not_after {
        return Err(SkipReason::Expired);
    }
    if now < not_before {
        return Err(SkipReason::NotYetValid);
    }
    Ok(())
}

/// The certificate's one subject CN, as text. None when it has none or several: with several,
/// which one names the CA depends on who reads it (`trust show` would show the first).
pub fn subject_cn(cert: &Certificate) -> Option<String> {
    let mut cns = cert
        .tbs_certificate()
        .subject()
        .iter()
        .filter(|atv| atv.oid == crate::signature::oids::AT_CN);
    let cn = cns.next()?;
    if cns.next().is_some() {
        return None;
    }
    crate::signature::names::directory_string(&cn.value)
}

/// notBefore and notAfter.
pub fn validity(cert: &Certificate) -> (OffsetDateTime, OffsetDateTime) {
    let v = cert.tbs_certificate().validity();
    let at = |t: &x509_cert::time::Time| OffsetDateTime::UNIX_EPOCH + t.to_unix_duration();
    (at(&v.not_before), at(&v.not_after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/ua-trust/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).unwrap()
    }

    #[test]
    fn the_real_bundle_yields_the_listed_providers_cas_in_force_and_counts_the_rest() {
        // A fixed day: the fixture's CAs expire over the years.
        let at = time::macros::datetime!(2026-12-07 0:00 UTC);
        let checked = check(&fixture("CACertificates.p7b"), &fixture("CAs.json"), at).unwrap();
        assert_eq!(checked.bundle_entries, 638);
        assert_eq!(checked.certificates.len(), 65, "{:?}", checked.skipped);
        // The server certificates, the root authorities and the expired CAs are counted, not
        // trusted.
        assert_eq!(checked.skipped.get("not_a_ca"), Some(&471));
        assert_eq!(checked.skipped.get("no_key_cert_sign"), Some(&1));
        assert_eq!(checked.skipped.get("not_a_qualified_provider"), Some(&24));
        assert_eq!(checked.skipped.get("expired"), Some(&77));
        let total: usize = checked.skipped.values().sum();
        assert_eq!(total + checked.certificates.len(), 638);
        // The same download gives the same digest.
        let again = check(&fixture("CACertificates.p7b"), &fixture("CAs.json"), at).unwrap();
        assert_eq!(again.sha256, checked.sha256);
    }

    #[test]
    fn garbage_an_empty_body_and_a_list_naming_nobody_are_refused() {
        let at = time::macros::datetime!(2026-12-07 0:00 UTC);
        let json = fixture("CAs.json");
        let p7b = fixture("CACertificates.p7b");
        assert!(matches!(check(b"", &json, at), Err(Unusable::Empty)));
        assert!(matches!(
            check(b"<html>", &json, at),
            Err(Unusable::Bundle(_))
        ));
        assert!(matches!(check(&p7b, b"", at), Err(Unusable::Empty)));
        assert!(matches!(
            check(&p7b, b"[]", at),
            Err(Unusable::Providers(_))
        ));
        let nobody = br#"[{"issuerCNs": ["no such CA"]}]"#;
        assert!(matches!(check(&p7b, nobody, at), Err(Unusable::Empty)));
    }
}
