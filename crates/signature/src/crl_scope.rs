//! Which certificates a CRL answers for: its IssuingDistributionPoint (RFC 5280 §5.2.5), and the
//! match of that scope with a certificate's own distribution points (§6.3.3 (b)). A CA that
//! partitions its revocations publishes one list per distribution point; such a list says
//! nothing about the certificates of the other partitions.
//!
//! Supported: lists of the CA's own certificates for every reason, for all of them or for
//! end-entity or CA certificates only. Not supported, so such a list is unusable: indirect CRLs,
//! lists of some reasons only, lists of attribute certificates.

use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::pkix::crl::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::DistributionPointName;
use x509_cert::ext::pkix::{BasicConstraints, CrlDistributionPoints};

use crate::revocation_sources::complete_list_points;

/// Why a scope is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("issuingDistributionPoint: {0}")]
    Malformed(String),
    #[error("{0}")]
    Unsupported(&'static str),
}

/// A list's scope: its IssuingDistributionPoint, or none (every certificate of its issuer).
/// The DER is kept as the list carried it, so that two lists' scopes compare exactly (a delta
/// completes only a complete list of the same scope, §5.2.4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrlScope {
    /// The extension's value; empty when the list has none.
    der: Vec<u8>,
    point: Option<IssuingDistributionPoint>,
}

impl CrlScope {
    /// The scope whose DER (`as_der`) is `der`; an empty one is the scope of a list without the
    /// extension. Refuses what kepgate does not support.
    pub fn from_der(der: &[u8]) -> Result<CrlScope, ScopeError> {
        if der.is_empty() {
            return Ok(CrlScope::default());
        }
        let point = IssuingDistributionPoint::from_der(der)
            .map_err(|e| ScopeError::Malformed(e.to_string()))?;
        if point.indirect_crl {
            return Err(ScopeError::Unsupported("indirectCRL"));
        }
        if point.only_some_reasons.is_some() {
            return Err(ScopeError::Unsupported("onlySomeReasons"));
        }
        if point.only_contains_attribute_certs {
            return Err(ScopeError::Unsupported("onlyContainsAttributeCerts"));
        }
        if point.only_contains_user_certs && point.only_contains_ca_certs {
            return Err(ScopeError::Malformed(
                "user certificates only and CA certificates only".into(),
            ));
        }
        Ok(CrlScope {
            der: der.to_vec(),
            point: Some(point),
        })
    }

    pub fn as_der(&self) -> &[u8] {
        &self.der
    }

    /// Whether a list of this scope answers for the certificate `cert_der` of its issuer
    /// (§6.3.3 (b)(2)): of the right kind (end entity or CA), and when the list names its
    /// distribution point, one of that point's names is one of the certificate's own
    /// cRLDistributionPoints names. A certificate that cannot be read is covered by nothing.
    pub fn covers(&self, cert_der: &[u8]) -> bool {
        let Some(point) = &self.point else {
            return true;
        };
        let Ok(cert) = Certificate::from_der(cert_der) else {
            return false;
        };
        let tbs = cert.tbs_certificate();
        let is_ca = matches!(tbs.get_extension::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca);
        if (point.only_contains_user_certs && is_ca) || (point.only_contains_ca_certs && !is_ca) {
            return false;
        }
        let Some(name) = &point.distribution_point else {
            return true;
        };
        let Ok(Some((_, points))) = tbs.get_extension::<CrlDistributionPoints>() else {
            return false;
        };
        let own: Vec<Vec<u8>> = complete_list_points(&points.0)
            .filter_map(|p| p.distribution_point.as_ref())
            .flat_map(names)
            .collect();
        names(name).iter().any(|n| own.contains(n))
    }
}

/// The names of a distribution point, each as DER: every GeneralName of a fullName; a name
/// relative to the CRL issuer as a whole (it matches only the same relative name, both being
/// relative to the one issuer).
fn names(point: &DistributionPointName) -> Vec<Vec<u8>> {
    match point {
        DistributionPointName::FullName(names) => {
            names.iter().filter_map(|n| n.to_der().ok()).collect()
        }
        relative => relative.to_der().ok().into_iter().collect(),
    }
}
