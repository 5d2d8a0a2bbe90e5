//! The test CA's certificate revocation lists (RFC 5280 §5): X.509 v2, with the CRL number and
//! authority key identifier, each entry with its reason code, signed like the CA's
//! certificates; and delta CRLs (deltaCRLIndicator naming the full CRL they complete).

use const_oid::AssociatedOid;
use der::asn1::{BitString, OctetString, Uint};
use der::{Any, Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::AuthorityKeyIdentifier;
use x509_cert::ext::pkix::crl::{BaseCrlNumber, CrlNumber};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;

use super::asn1::{ext, x509_time};
use super::ca::TestCa;
use super::error::TestCaError;

/// id-ce-cRLReasons.
const CRL_REASON: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("2.5.29.21");

/// One certificate on a CRL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedCert {
    /// Big-endian octets, as [`crate::ocsp::OcspQuery::serial`] and the CRL check give them.
    pub serial: Vec<u8>,
    pub at: OffsetDateTime,
    /// CRLReason code (1 = keyCompromise, …); None writes no reason.
    pub reason: Option<u8>,
}

#[derive(Sequence)]
struct RevokedOut {
    serial: SerialNumber,
    date: Time,
    #[asn1(optional = "true")]
    extensions: Option<Vec<Extension>>,
}

#[derive(Sequence)]
struct TbsCrlOut {
    /// v2 (1): the CRL carries extensions.
    version: u8,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    this_update: Time,
    next_update: Time,
    /// Absent, not empty, when nothing is revoked (RFC 5280 §5.1.2.6).
    #[asn1(optional = "true")]
    revoked: Option<Vec<RevokedOut>>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    extensions: Vec<Extension>,
}

#[derive(Sequence)]
struct CrlOut {
    tbs: TbsCrlOut,
    alg: AlgorithmIdentifierOwned,
    sig: BitString,
}

fn uint(n: u64) -> Result<Uint, TestCaError> {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    Ok(Uint::new(&bytes[skip..])?)
}

impl TestCa {
    /// A full CRL numbered `number`, listing `revoked`.
    pub fn crl(
        &self,
        revoked: &[RevokedCert],
        number: u64,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<Vec<u8>, TestCaError> {
        self.make_crl(revoked, number, None, this_update, next_update)
    }

    /// A delta CRL numbered `number` completing the full CRL numbered `base`: `revoked` are the
    /// revocations since that one.
    pub fn delta_crl(
        &self,
        revoked: &[RevokedCert],
        number: u64,
        base: u64,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<Vec<u8>, TestCaError> {
        self.make_crl(revoked, number, Some(base), this_update, next_update)
    }

    fn make_crl(
        &self,
        revoked: &[RevokedCert],
        number: u64,
        base: Option<u64>,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<Vec<u8>, TestCaError> {
        let mut entries = Vec::with_capacity(revoked.len());
        for r in revoked {
            let reason = r
                .reason
                .map(|code| -> Result<Extension, TestCaError> {
                    ext(CRL_REASON, false, &Any::from_der(&[0x0a, 0x01, code])?)
                })
                .transpose()?;
            entries.push(RevokedOut {
                serial: SerialNumber::new(&r.serial)?,
                date: x509_time(r.at)?,
                extensions: reason.map(|e| vec![e]),
            });
        }
        let mut extensions = vec![
            ext(
                AuthorityKeyIdentifier::OID,
                false,
                &AuthorityKeyIdentifier {
                    key_identifier: Some(OctetString::new(self.ski.clone())?),
                    ..Default::default()
                },
            )?,
            ext(CrlNumber::OID, false, &CrlNumber(uint(number)?))?,
        ];
        if let Some(base) = base {
            // Critical: a client that cannot read deltas must not take one for a full CRL.
            extensions.push(ext(BaseCrlNumber::OID, true, &BaseCrlNumber(uint(base)?))?);
        }
        let tbs = TbsCrlOut {
            version: 1,
            signature: self.key.signature_algorithm(),
            issuer: self.cert.tbs_certificate().subject().clone(),
            this_update: x509_time(this_update)?,
            next_update: x509_time(next_update)?,
            revoked: (!entries.is_empty()).then_some(entries),
            extensions,
        };
        let tbs_der = tbs.to_der()?;
        let crl = CrlOut {
            alg: self.key.signature_algorithm(),
            sig: self.key.sign_certificate(&tbs_der)?,
            tbs,
        };
        Ok(crl.to_der()?)
    }
}
