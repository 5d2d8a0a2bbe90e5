//! The national bundle as a body of real-world known answers: every certificate in it whose
//! issuer is in it too must verify with that issuer's key, whatever the two algorithms.

use std::collections::BTreeMap;

use crate::chain::verify_cert_signature;
use crate::key_algorithm::KeyAlgorithm;
use crate::trust_list::tests::load_national;

fn family(a: KeyAlgorithm) -> &'static str {
    match a {
        KeyAlgorithm::Dstu4145Le | KeyAlgorithm::Dstu4145Be => "DSTU 4145",
        KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 | KeyAlgorithm::EcdsaOtherCurve => {
            "ECDSA"
        }
        KeyAlgorithm::Rsa => "RSA",
        KeyAlgorithm::Other => "other",
    }
}

#[test]
fn every_link_inside_the_national_bundle_verifies() {
    let (list, _) = load_national();
    let mut links: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for child in list.parsed() {
        for issuer in list.issuer_candidates(child) {
            let pair = (
                family(issuer.key_algorithm()),
                family(child.key_algorithm()),
            );
            match verify_cert_signature(child, issuer) {
                Ok(()) => *links.entry(pair).or_default() += 1,
                Err(e) => failures.push(format!(
                    "{} ← {}: {e}",
                    child.subject_string(),
                    issuer.subject_string()
                )),
            }
        }
    }
    println!("{links:#?}");
    // One RSA root signs itself with SHA-1, which kepgate refuses on purpose.
    assert_eq!(failures.len(), 1, "{}", failures.join("\n"));
    assert!(
        failures[0].contains("Національного банку України")
            && failures[0].contains("signature OID 1.2.840.113549.1.1.5"),
        "{failures:?}"
    );
    assert!(links.get(&("DSTU 4145", "DSTU 4145")).copied().unwrap_or(0) > 300);
}
