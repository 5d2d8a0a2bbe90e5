//! Certificate revocation lists (RFC 5280 §5), full and delta: verified against the issuing
//! CA's key and read into what the gateway stores and looks up — the revoked serials, the
//! dates, the CRL number and, for a delta, the base it applies to.

use std::collections::HashMap;

use der::{Decode, Encode};
use time::{Duration, OffsetDateTime};
use x509_cert::certificate::Rfc5280;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::crl::{BaseCrlNumber, CrlNumber, CrlReason};

use crate::algorithm::{cert_scheme, signature_octets, verify_with_key};
use crate::chain::key_usage;
use crate::parsed_cert::{ParsedCert, x509_time};
use x509_cert::ext::pkix::KeyUsages;

/// One revoked certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedEntry {
    pub at: OffsetDateTime,
    /// CRLReason code (1 = keyCompromise, …) when the CA gave one.
    pub reason: Option<u8>,
}

/// A CRL whose signature and dates were checked.
#[derive(Clone, Debug)]
pub struct CheckedCrl {
    /// The issuing CA's name as identities give it (`SignerIdentity::issuer`).
    pub issuer: String,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    /// The CRL number, big-endian octets (None if the CA gives none).
    pub number: Option<Vec<u8>>,
    /// Set for a delta CRL: the number of the full CRL it completes.
    pub delta_base: Option<Vec<u8>>,
    /// Revoked serial numbers (big-endian octets as in the certificate) and why.
    pub revoked: HashMap<Vec<u8>, RevokedEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlError {
    #[error("the CRL is malformed: {0}")]
    Malformed(String),
    #[error("the CRL is not issued by this CA")]
    WrongIssuer,
    #[error("the CRL's signature is invalid: {0}")]
    BadSignature(String),
    #[error("the CRL is stale: its nextUpdate {next_update} is past (now {now})")]
    Stale {
        next_update: OffsetDateTime,
        now: OffsetDateTime,
    },
    #[error("the CRL is dated in the future: {this_update} (now {now})")]
    FromTheFuture {
        this_update: OffsetDateTime,
        now: OffsetDateTime,
    },
}

impl CrlError {
    pub fn code(&self) -> &'static str {
        match self {
            CrlError::Malformed(_) => "crl_malformed",
            CrlError::WrongIssuer => "crl_wrong_issuer",
            CrlError::BadSignature(_) => "crl_bad_signature",
            CrlError::Stale { .. } => "crl_stale",
            CrlError::FromTheFuture { .. } => "crl_future",
        }
    }
}

fn malformed(e: impl std::fmt::Display) -> CrlError {
    CrlError::Malformed(e.to_string())
}

/// Checks `crl_der` (DER, as downloaded) against the CA certificate `issuer_der` at `now`.
pub fn check_crl(
    crl_der: &[u8],
    issuer_der: &[u8],
    now: OffsetDateTime,
    skew: Duration,
) -> Result<CheckedCrl, CrlError> {
    let issuer = ParsedCert::parse(issuer_der).map_err(malformed)?;
    let crl = CertificateList::<Rfc5280>::from_der(crl_der).map_err(malformed)?;
    let tbs = &crl.tbs_cert_list;
    if tbs.issuer.to_der().map_err(malformed)? != issuer.subject_der {
        return Err(CrlError::WrongIssuer);
    }
    // A CA whose key usage is stated must be allowed to sign CRLs.
    if let Ok(Some(ku)) = key_usage(&issuer)
        && !ku.0.contains(KeyUsages::CRLSign)
    {
        return Err(CrlError::WrongIssuer);
    }
    let bad = |e: crate::VerifyError| CrlError::BadSignature(e.to_string());
    let scheme = cert_scheme(&crl.signature_algorithm).map_err(bad)?;
    let sig = signature_octets(scheme, &crl.signature).map_err(bad)?;
    // The signature is over tbsCertList exactly as received.
    let tbs_der = crate::tlv::single(crl_der)
        .and_then(|outer| crate::tlv::children(outer.value))
        .and_then(|kids| kids.first().map(|t| t.raw))
        .ok_or_else(|| malformed("no tbsCertList"))?;
    verify_with_key(
        issuer.cert.tbs_certificate().subject_public_key_info(),
        scheme,
        tbs_der,
        sig,
    )
    .map_err(bad)?;

    let this_update = x509_time(tbs.this_update);
    let next_update = tbs.next_update.map(x509_time);
    if this_update > now + skew {
        return Err(CrlError::FromTheFuture { this_update, now });
    }
    if let Some(next_update) = next_update
        && next_update < now - skew
    {
        return Err(CrlError::Stale { next_update, now });
    }
    let mut number = None;
    let mut delta_base = None;
    for ext in tbs.crl_extensions.iter().flatten() {
        let value = ext.extn_value.as_bytes();
        if ext.extn_id == <CrlNumber as const_oid::AssociatedOid>::OID {
            number = Some(
                CrlNumber::from_der(value)
                    .map_err(malformed)?
                    .0
                    .as_bytes()
                    .to_vec(),
            );
        } else if ext.extn_id == <BaseCrlNumber as const_oid::AssociatedOid>::OID {
            let base = BaseCrlNumber::from_der(value).map_err(malformed)?;
            delta_base = Some(base.0.as_bytes().to_vec());
        }
    }
    let mut revoked = HashMap::new();
    for entry in tbs.revoked_certificates.iter().flatten() {
        let reason = entry
            .crl_entry_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == <CrlReason as const_oid::AssociatedOid>::OID)
            .and_then(|e| CrlReason::from_der(e.extn_value.as_bytes()).ok())
            .map(|r| r as u8);
        revoked.insert(
            entry.serial_number.as_bytes().to_vec(),
            RevokedEntry {
                at: x509_time(entry.revocation_date),
                reason,
            },
        );
    }
    Ok(CheckedCrl {
        issuer: crate::names::name_to_string(&tbs.issuer),
        this_update,
        next_update,
        number,
        delta_base,
        revoked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_pki::Pki;

    /// OpenSSL dates its CRLs by the real clock, so these checks must use it too.
    #[allow(clippy::disallowed_methods)]
    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    const SKEW: Duration = Duration::minutes(5);

    fn serial(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn an_openssl_crl_lists_the_revoked_leaf_with_its_reason_and_number() {
        let pki = Pki::new();
        let crl = check_crl(&pki.crl(24), &pki.der("ca"), now(), SKEW).unwrap();
        assert!(crl.revoked.is_empty());
        assert_eq!(crl.number, Some(serial("1000")));
        assert_eq!(crl.delta_base, None);

        pki.index(&["leaf"]);
        let crl = check_crl(&pki.crl(24), &pki.der("ca"), now(), SKEW).unwrap();
        assert_eq!(crl.number, Some(serial("1001")));
        let next = crl.next_update.expect("nextUpdate");
        assert!(next > now() + Duration::hours(23) && next < now() + Duration::hours(25));
        assert_eq!(crl.revoked.len(), 1);
        let entry = &crl.revoked[&serial("1001")];
        assert_eq!(entry.at.unix_timestamp(), 1_767_225_600);
        assert_eq!(entry.reason, Some(1));
        assert!(!crl.revoked.contains_key(&serial("1002")));
    }

    #[test]
    fn a_foreign_tampered_stale_or_future_crl_is_refused() {
        let pki = Pki::new();
        pki.index(&["leaf"]);
        let der = pki.crl(1);
        assert!(check_crl(&der, &pki.der("ca"), now(), SKEW).is_ok());
        assert_eq!(
            check_crl(&der, &pki.der("other"), now(), SKEW).unwrap_err(),
            CrlError::WrongIssuer
        );
        for at in [der.len() / 3, der.len() - 2] {
            let mut bad = der.clone();
            bad[at] ^= 0x01;
            assert!(
                check_crl(&bad, &pki.der("ca"), now(), SKEW).is_err(),
                "flip at {at}"
            );
        }
        let e = check_crl(&der, &pki.der("ca"), now() + Duration::hours(2), SKEW).unwrap_err();
        assert!(matches!(e, CrlError::Stale { .. }), "{e}");
        let e = check_crl(&der, &pki.der("ca"), now() - Duration::hours(1), SKEW).unwrap_err();
        assert!(matches!(e, CrlError::FromTheFuture { .. }), "{e}");
        let e = check_crl(b"<html>", &pki.der("ca"), now(), SKEW).unwrap_err();
        assert!(matches!(e, CrlError::Malformed(_)), "{e}");
    }
}
