//! Where a certificate's status is published: the OCSP responders of its Authority Information
//! Access, the CRL distribution points and the freshest-CRL (delta) points (RFC 5280
//! §4.2.1.13, §4.2.1.15, §4.2.2.1). Only http(s) URIs: LDAP and directory names are not fetched.
//! A distribution point for some reasons only, or whose lists another issuer signs (an indirect
//! CRL), is left out: its list alone cannot say that a certificate is not revoked.

use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints, FreshestCrl};

use crate::parsed_cert::ParsedCert;

/// id-ad-ocsp.
const AD_OCSP: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevocationSources {
    pub ocsp: Vec<String>,
    pub crl: Vec<String>,
    pub delta_crl: Vec<String>,
}

fn http_uri(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::UniformResourceIdentifier(uri) => {
            let uri = uri.as_str();
            let lower = uri.to_ascii_lowercase();
            (lower.starts_with("http://") || lower.starts_with("https://")).then(|| uri.to_owned())
        }
        _ => None,
    }
}

/// The points whose lists answer for every reason and are signed by the certificate's issuer.
pub(crate) fn complete_list_points(
    points: &[DistributionPoint],
) -> impl Iterator<Item = &DistributionPoint> {
    points
        .iter()
        .filter(|p| p.reasons.is_none() && p.crl_issuer.is_none())
}

fn full_names(points: &[DistributionPoint]) -> Vec<String> {
    complete_list_points(points)
        .filter_map(|p| match &p.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(http_uri)
        .collect()
}

/// The http(s) sources named in `cert_der`.
pub fn revocation_sources(cert_der: &[u8]) -> Result<RevocationSources, String> {
    let cert = ParsedCert::parse(cert_der)?;
    let tbs = cert.cert.tbs_certificate();
    let ocsp = tbs
        .get_extension::<AuthorityInfoAccessSyntax>()
        .map_err(|e| format!("authorityInfoAccess: {e}"))?
        .map(|(_, aia)| {
            aia.0
                .iter()
                .filter(|d| d.access_method == AD_OCSP)
                .filter_map(|d| http_uri(&d.access_location))
                .collect()
        })
        .unwrap_or_default();
    let crl = tbs
        .get_extension::<CrlDistributionPoints>()
        .map_err(|e| format!("cRLDistributionPoints: {e}"))?
        .map(|(_, dp)| full_names(&dp.0))
        .unwrap_or_default();
    let delta_crl = tbs
        .get_extension::<FreshestCrl>()
        .map_err(|e| format!("freshestCRL: {e}"))?
        .map(|(_, dp)| full_names(&dp.0))
        .unwrap_or_default();
    Ok(RevocationSources {
        ocsp,
        crl,
        delta_crl,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uapki(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/data/dstu/uapki/certs/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).unwrap()
    }

    #[test]
    fn a_real_diia_key_names_its_ocsp_responder_and_full_and_delta_crls() {
        let s = revocation_sources(&uapki("diia-test-sign-7775603.cer")).unwrap();
        assert_eq!(s.ocsp, ["http://ca.informjust.ua/services/ocsp/"]);
        assert_eq!(
            s.crl,
            ["http://ca.informjust.ua/download/crls/CA-BED50831-Full-S17.crl"]
        );
        assert_eq!(
            s.delta_crl,
            ["http://ca.informjust.ua/download/crls/CA-BED50831-Delta-S17.crl"]
        );
        // The central root's own certificate has CRLs but no responder.
        let s =
            revocation_sources(&uapki("CAO-05E19E2CD92EA2990100000001000000C1000000.cer")).unwrap();
        assert!(s.ocsp.is_empty());
        assert_eq!(s.crl, ["http://czo.gov.ua/download/crls/CZO-2020-Full.crl"]);
    }
}
