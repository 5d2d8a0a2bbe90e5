//! Minimal encoders for what the test CA writes (x509-cert's and cms's fields are read-only or
//! lack these types), and small helpers: names, extensions, times, serials, key identifiers.

use const_oid::ObjectIdentifier;
use der::asn1::{BitString, OctetString, PrintableStringRef, Utf8StringRef};
use der::{Any, Decode, Encode, Sequence};
use sha2::Digest;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use time::OffsetDateTime;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use super::error::TestCaError;
use crate::identity::Edrpou;

#[derive(Sequence)]
pub(super) struct TbsOut {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub(super) version: u8,
    pub(super) serial: SerialNumber,
    pub(super) signature: AlgorithmIdentifierOwned,
    pub(super) issuer: Name,
    pub(super) validity: Validity,
    pub(super) subject: Name,
    pub(super) spki: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT")]
    pub(super) extensions: Vec<Extension>,
}

#[derive(Sequence)]
pub(super) struct CertOut {
    pub(super) tbs: TbsOut,
    pub(super) alg: AlgorithmIdentifierOwned,
    pub(super) sig: BitString,
}

#[derive(Sequence)]
pub(super) struct QcStatement {
    pub(super) id: ObjectIdentifier,
}

#[derive(Sequence)]
pub(super) struct EssCertIdV2 {
    /// None for SHA-256 (DEFAULT, so DER omits it); GOST 34.311 for DSTU signers, written out
    /// as real Ukrainian CAdES does.
    #[asn1(optional = "true")]
    pub(super) hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub(super) cert_hash: OctetString,
}

#[derive(Sequence)]
pub(super) struct SigningCertificateV2 {
    pub(super) certs: Vec<EssCertIdV2>,
}

/// A DSTU 4145 test key as stored in the PEM bundle (not a standard format; see `pem.rs`).
#[derive(Sequence)]
pub(super) struct DstuKeyOut {
    pub(super) curve: String,
    pub(super) scalar: OctetString,
}

pub(super) fn alg(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

pub(super) fn x509_time(t: OffsetDateTime) -> Result<Time, TestCaError> {
    let secs = u64::try_from(t.unix_timestamp()).map_err(|e| TestCaError::Time(e.to_string()))?;
    let d = std::time::Duration::from_secs(secs);
    // RFC 5280: UTCTime through 2049, GeneralizedTime after.
    if t.year() < 2050 {
        Ok(Time::UtcTime(der::asn1::UtcTime::from_unix_duration(d)?))
    } else {
        Ok(Time::GeneralTime(
            der::asn1::GeneralizedTime::from_unix_duration(d)?,
        ))
    }
}

pub(super) enum Str<'a> {
    Utf8(&'a str),
    Printable(&'a str),
}

pub(super) fn name(parts: &[(ObjectIdentifier, Str<'_>)]) -> Result<Name, TestCaError> {
    let mut rdns = Vec::new();
    for (oid, v) in parts {
        let value = match v {
            Str::Utf8(s) => Any::encode_from(&Utf8StringRef::new(s)?)?,
            Str::Printable(s) => Any::encode_from(&PrintableStringRef::new(s)?)?,
        };
        rdns.push(RelativeDistinguishedName::try_from(vec![
            AttributeTypeAndValue { oid: *oid, value },
        ])?);
    }
    Ok(Name::from_der(&rdns.to_der()?)?)
}

pub(super) fn ext(
    oid: ObjectIdentifier,
    critical: bool,
    value: &impl Encode,
) -> Result<Extension, TestCaError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

/// Key identifier: first 20 bytes of SHA-256 over the public key bits (RFC 7093 method 1).
pub(super) fn key_id(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    sha2::Sha256::digest(spki.subject_public_key.raw_bytes())[..20].to_vec()
}

/// Positive, unique-enough serial from the key and the time.
pub(super) fn serial_for(
    spki: &SubjectPublicKeyInfoOwned,
    t: OffsetDateTime,
) -> Result<SerialNumber, TestCaError> {
    let mut h = sha2::Sha256::new();
    h.update(spki.subject_public_key.raw_bytes());
    h.update(t.unix_timestamp_nanos().to_be_bytes());
    let mut bytes = h.finalize()[..16].to_vec();
    bytes[0] = (bytes[0] & 0x7f) | 0x40; // positive, no leading zero
    Ok(SerialNumber::new(&bytes)?)
}

/// Deterministic valid ЄДРПОУ derived from a name (so the same CA name gives the same code).
pub(super) fn edrpou_for(name: &str) -> Result<Edrpou, TestCaError> {
    let h = sha2::Sha256::digest(name.as_bytes());
    let n = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) % 9_000_000 + 1_000_000;
    (0..10)
        .find_map(|d| Edrpou::parse(&format!("{n}{d}")).ok())
        .ok_or_else(|| TestCaError::Key("no ЄДРПОУ check digit".into()))
}
