//! Where a test CA publishes certificate status: the OCSP responder (Authority Information
//! Access) and the full and delta CRLs (distribution points) written into the end-entity
//! certificates it issues, as a Ukrainian QTSP names its own services.

use const_oid::AssociatedOid;
use der::asn1::Ia5String;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, CrlDistributionPoints, FreshestCrl,
};

use super::asn1::ext;
use super::error::TestCaError;

/// id-ad-ocsp.
const AD_OCSP: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");

/// http(s) URLs named in issued certificates; all absent by default (no extension written).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Publication {
    pub ocsp_url: Option<String>,
    pub crl_url: Option<String>,
    /// freshestCRL: where the delta CRL is.
    pub delta_crl_url: Option<String>,
}

fn uri(url: &str) -> Result<GeneralName, TestCaError> {
    Ok(GeneralName::UniformResourceIdentifier(Ia5String::new(url)?))
}

fn points(url: &str) -> Result<Vec<DistributionPoint>, TestCaError> {
    Ok(vec![DistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(vec![uri(url)?])),
        reasons: None,
        crl_issuer: None,
    }])
}

impl Publication {
    /// The certificate extensions naming these URLs.
    pub(super) fn extensions(&self) -> Result<Vec<Extension>, TestCaError> {
        let mut out = Vec::new();
        if let Some(url) = &self.ocsp_url {
            let aia = AuthorityInfoAccessSyntax(vec![AccessDescription {
                access_method: AD_OCSP,
                access_location: uri(url)?,
            }]);
            out.push(ext(AuthorityInfoAccessSyntax::OID, false, &aia)?);
        }
        if let Some(url) = &self.crl_url {
            let dp = CrlDistributionPoints(points(url)?);
            out.push(ext(CrlDistributionPoints::OID, false, &dp)?);
        }
        if let Some(url) = &self.delta_crl_url {
            out.push(ext(FreshestCrl::OID, false, &FreshestCrl(points(url)?))?);
        }
        Ok(out)
    }
}
