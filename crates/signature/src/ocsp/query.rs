//! The request: one CertID for the signer's certificate and a fresh nonce (RFC 6960 §4.1,
//! RFC 8954). The CertID is hashed with GOST 34.311 when the issuer's key is DSTU 4145 — what
//! Ukrainian CAs' responders index by — and with SHA-1 otherwise, the hash every RFC 6960
//! responder (OpenSSL's included) is required to know.

use der::asn1::OctetString;
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extension;

use super::asn1::{CertId, OcspRequest, Request, TbsRequest};
use crate::key_algorithm::KeyAlgorithm;
use crate::oids;
use crate::parsed_cert::ParsedCert;

/// id-pkix-ocsp-nonce.
pub(crate) const NONCE: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");
pub(crate) const SHA1: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.14.3.2.26");

/// A prepared request for one certificate, kept to check the answer against.
#[derive(Clone, Debug)]
pub struct OcspQuery {
    pub(super) cert: ParsedCert,
    pub(super) issuer: ParsedCert,
    pub(super) cert_id: CertId,
    /// The nonce extension's extnValue exactly as sent (an OCTET STRING holding the nonce).
    pub(super) nonce_value: Vec<u8>,
    der: Vec<u8>,
}

impl OcspQuery {
    /// For `cert_der` issued by `issuer_der`, with `nonce` (1–32 random octets, RFC 8954).
    pub fn new(cert_der: &[u8], issuer_der: &[u8], nonce: &[u8]) -> Result<Self, String> {
        if nonce.is_empty() || nonce.len() > 32 {
            return Err("an OCSP nonce is 1 to 32 octets".into());
        }
        let cert = ParsedCert::parse(cert_der)?;
        let issuer = ParsedCert::parse(issuer_der)?;
        if !issuer.could_issue(&cert) {
            return Err("the issuer certificate did not issue this certificate".into());
        }
        let hash = match issuer.key_algorithm() {
            KeyAlgorithm::Dstu4145Le | KeyAlgorithm::Dstu4145Be => oids::GOST34311,
            _ => SHA1,
        };
        let cert_id = cert_id(&hash, &cert, &issuer).ok_or("no CertID hash")?;
        let nonce_value = OctetString::new(nonce)
            .and_then(|o| o.to_der())
            .map_err(|e| e.to_string())?;
        let request = OcspRequest {
            tbs_request: TbsRequest {
                request_list: vec![Request {
                    req_cert: cert_id.clone(),
                    single_request_extensions: None,
                }],
                request_extensions: Some(vec![Extension {
                    extn_id: NONCE,
                    critical: false,
                    extn_value: OctetString::new(nonce_value.clone()).map_err(|e| e.to_string())?,
                }]),
            },
        };
        let der = request.to_der().map_err(|e| e.to_string())?;
        Ok(Self {
            cert,
            issuer,
            cert_id,
            nonce_value,
            der,
        })
    }

    /// The DER body to POST as `application/ocsp-request`.
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate's serial number (big-endian octets, as in the certificate).
    pub fn serial(&self) -> &[u8] {
        self.cert_id.serial_number.as_bytes()
    }

    /// The issuing CA's subjectPublicKey (BIT STRING contents): with the serial, what names
    /// this certificate across CA re-issues of the same key.
    pub fn issuer_key(&self) -> &[u8] {
        self.issuer
            .cert
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
    }
}

/// `data` hashed as a CertID (or a byKey ResponderID) may be: SHA-1, a SHA-2 or GOST 34.311;
/// None for another hash.
pub(crate) fn cert_id_digest(hash: &const_oid::ObjectIdentifier, data: &[u8]) -> Option<Vec<u8>> {
    Some(match *hash {
        SHA1 => aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data)
            .as_ref()
            .to_vec(),
        other => crate::hash_alg::HashAlg::from_oid(&other)?.digest(data),
    })
}

/// The CertID of `cert` under `hash` (SHA-1, SHA-256 or GOST 34.311), None for another hash.
pub(crate) fn cert_id(
    hash: &const_oid::ObjectIdentifier,
    cert: &ParsedCert,
    issuer: &ParsedCert,
) -> Option<CertId> {
    let digest = |data: &[u8]| cert_id_digest(hash, data);
    let key_bits = issuer
        .cert
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes();
    Some(CertId {
        // SHA-1 and SHA-2 carry NULL parameters in CertIDs (what OpenSSL sends and expects);
        // GOST 34.311 carries none.
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: *hash,
            parameters: (*hash != oids::GOST34311)
                .then(|| der::Any::from_der(&[0x05, 0x00]).ok())
                .flatten(),
        },
        issuer_name_hash: OctetString::new(digest(&cert.issuer_der)?).ok()?,
        issuer_key_hash: OctetString::new(digest(key_bits)?).ok()?,
        serial_number: cert.cert.tbs_certificate().serial_number().clone(),
    })
}
