//! CMS SignedData taken apart as received: the one signer, its signed attributes exactly as
//! signed, the enclosed content and certificates. Nothing here is trusted yet.

use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use der::{Decode, Encode, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;

use crate::algorithm::oid_name;
use crate::certificate_digests::certificate_digest;
use crate::error::{VerifyError, malformed, unsupported};
use crate::hash_alg::HashAlg;
use crate::oids;
use crate::parsed_cert::ParsedCert;
use crate::tlv;

/// Parsed, not yet trusted, pieces of the CMS structure.
pub(crate) struct Parsed<'a> {
    pub signer_info: SignerInfo,
    /// `[0] IMPLICIT SignedAttributes` exactly as received.
    pub signed_attrs_raw: Option<&'a [u8]>,
    pub encap: EncapsulatedContentInfo,
    pub certs: Vec<ParsedCert>,
}

pub(crate) fn parse_cms(p7s: &[u8]) -> Result<Parsed<'_>, VerifyError> {
    let ci = tlv::single(p7s).ok_or_else(|| malformed("not a single ASN.1 element"))?;
    if ci.tag != 0x30 {
        return Err(malformed("ContentInfo is not a SEQUENCE"));
    }
    let ci_kids = tlv::children(ci.value).ok_or_else(|| malformed("bad ContentInfo"))?;
    let [oid_t, content] = ci_kids.as_slice() else {
        return Err(malformed("ContentInfo must have a type and content"));
    };
    let oid = ObjectIdentifier::from_der(oid_t.raw).map_err(malformed)?;
    if oid != oids::ID_SIGNED_DATA {
        return Err(VerifyError::NotSignedData(oid.to_string()));
    }
    if content.tag != 0xa0 {
        return Err(malformed("ContentInfo content is not [0]"));
    }
    let sd = match tlv::children(content.value).as_deref() {
        Some([sd]) if sd.tag == 0x30 => *sd,
        _ => return Err(malformed("bad SignedData wrapper")),
    };
    let kids = tlv::children(sd.value).ok_or_else(|| malformed("bad SignedData"))?;
    // version, digestAlgorithms, encapContentInfo, [0] certs?, [1] crls?, signerInfos
    if kids.len() < 4 {
        return Err(malformed("SignedData is too short"));
    }
    let encap = EncapsulatedContentInfo::from_ber(kids[2].raw)
        .map_err(|e| malformed(format!("encapContentInfo: {e}")))?;
    let signer_infos = kids[kids.len() - 1];
    if signer_infos.tag != 0x31 {
        return Err(malformed("SignedData has no signerInfos"));
    }
    let mut certs = Vec::new();
    for k in &kids[3..kids.len() - 1] {
        if k.tag == 0xa0 {
            for c in tlv::children(k.value).ok_or_else(|| malformed("bad certificate set"))? {
                // Other CertificateChoices (attribute certificates etc.) are irrelevant here.
                if c.tag == 0x30 {
                    certs.push(
                        ParsedCert::parse(c.raw)
                            .map_err(|e| malformed(format!("embedded certificate: {e}")))?,
                    );
                }
            }
        }
    }
    let sis = tlv::children(signer_infos.value).ok_or_else(|| malformed("bad signerInfos"))?;
    let si_t = match sis.as_slice() {
        [] => return Err(VerifyError::NoSigner),
        [one] => *one,
        many => return Err(VerifyError::MultipleSigners(many.len())),
    };
    let signer_info =
        SignerInfo::from_ber(si_t.raw).map_err(|e| malformed(format!("signerInfo: {e}")))?;
    let si_kids = tlv::children(si_t.value).ok_or_else(|| malformed("bad signerInfo"))?;
    let signed_attrs_raw = match si_kids.iter().find(|t| t.tag == 0xa0) {
        Some(t) if t.indefinite => {
            return Err(malformed(
                "signed attributes are not DER (indefinite length)",
            ));
        }
        Some(t) => Some(t.raw),
        None => None,
    };
    Ok(Parsed {
        signer_info,
        signed_attrs_raw,
        encap,
        certs,
    })
}

/// Signed attributes by OID, each with exactly one value; duplicates are refused.
pub(crate) fn parse_signed_attrs(
    raw: &[u8],
) -> Result<Vec<(ObjectIdentifier, der::Any)>, VerifyError> {
    let t = tlv::single(raw).ok_or_else(|| malformed("signed attributes"))?;
    let mut out: Vec<(ObjectIdentifier, der::Any)> = Vec::new();
    for a in tlv::children(t.value).ok_or_else(|| malformed("signed attributes"))? {
        let attr =
            Attribute::from_der(a.raw).map_err(|e| malformed(format!("signed attribute: {e}")))?;
        if out.iter().any(|(o, _)| *o == attr.oid) {
            return Err(malformed(format!(
                "duplicate signed attribute {}",
                attr.oid
            )));
        }
        let mut vals = attr.values.into_vec().into_iter();
        let (Some(v), None) = (vals.next(), vals.next()) else {
            return Err(malformed(format!(
                "signed attribute {} must have one value",
                attr.oid
            )));
        };
        out.push((attr.oid, v));
    }
    if out.is_empty() {
        return Err(VerifyError::MissingSignedAttributes);
    }
    Ok(out)
}

pub(crate) fn find_signer<'c>(
    sid: &SignerIdentifier,
    certs: &'c [ParsedCert],
) -> Result<&'c ParsedCert, VerifyError> {
    let found = match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            let issuer = ias.issuer.to_der().map_err(malformed)?;
            certs.iter().find(|c| {
                c.issuer_der == issuer
                    && c.cert.tbs_certificate().serial_number().as_bytes()
                        == ias.serial_number.as_bytes()
            })
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => certs
            .iter()
            .find(|c| c.ski.as_deref() == Some(ski.0.as_bytes())),
    };
    found.ok_or(VerifyError::SignerCertMissing)
}

/// ESS signingCertificateV2: the first ESSCertIDv2 must hash to the signer certificate.
pub(crate) fn check_signing_cert_v2(
    value: &der::Any,
    signer: &ParsedCert,
) -> Result<(), VerifyError> {
    let bad = || VerifyError::BadSignedAttribute("signingCertificateV2");
    let der = value.to_der().map_err(malformed)?;
    let outer = tlv::single(&der).ok_or_else(bad)?;
    let certs = tlv::children(outer.value)
        .and_then(|k| k.first().copied())
        .ok_or_else(bad)?;
    let first = tlv::children(certs.value)
        .and_then(|k| k.first().copied())
        .ok_or_else(bad)?;
    let fields = tlv::children(first.value).ok_or_else(bad)?;
    let (alg, hash) = match fields.as_slice() {
        [h, ..] if h.tag == 0x04 => (HashAlg::Sha256, h.value), // DEFAULT sha256
        [a, h, ..] if a.tag == 0x30 && h.tag == 0x04 => {
            let ai = AlgorithmIdentifierOwned::from_der(a.raw).map_err(|_| bad())?;
            let alg = HashAlg::from_oid(&ai.oid).ok_or_else(|| {
                unsupported(format!("signingCertificateV2 hash {}", oid_name(&ai.oid)))
            })?;
            (alg, h.value)
        }
        _ => return Err(bad()),
    };
    if certificate_digest(alg, &signer.der) != hash {
        return Err(VerifyError::SigningCertMismatch);
    }
    Ok(())
}

pub(crate) fn octets(any: &der::Any) -> Result<Vec<u8>, VerifyError> {
    if any.tag() == der::Tag::OctetString {
        return Ok(any.value().to_vec());
    }
    // BER constructed OCTET STRING.
    let der = any.to_der().map_err(malformed)?;
    der::asn1::OctetString::from_ber(&der)
        .map(|o| o.as_bytes().to_vec())
        .map_err(|e| malformed(format!("content: {e}")))
}
