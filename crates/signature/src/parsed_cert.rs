//! Certificates as received ([`ParsedCert`]), and X.509 times as `OffsetDateTime`.

use der::{Decode, Encode};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, SubjectKeyIdentifier};

use crate::key_algorithm::KeyAlgorithm;
use crate::names::name_to_string;
use crate::tlv;

/// A certificate together with the exact bytes it arrived in and the facts chain building needs.
#[derive(Clone, Debug)]
pub(crate) struct ParsedCert {
    pub cert: Certificate,
    /// The certificate exactly as received (hashes and comparisons use this).
    pub der: Vec<u8>,
    /// Byte range of tbsCertificate inside `der` (signatures are over these bytes).
    pub tbs_range: std::ops::Range<usize>,
    /// DER of subject / issuer Name, for issuer matching.
    pub subject_der: Vec<u8>,
    pub issuer_der: Vec<u8>,
    pub ski: Option<Vec<u8>>,
    pub aki: Option<Vec<u8>>,
}

impl ParsedCert {
    /// Could this certificate have issued `child`? Issuer DN matches, and AKI == SKI when both
    /// are present.
    pub(crate) fn could_issue(&self, child: &ParsedCert) -> bool {
        self.subject_der == child.issuer_der
            && match (&child.aki, &self.ski) {
                (Some(a), Some(s)) => a == s,
                _ => true,
            }
    }

    /// Parses one certificate. Accepts BER-ish outer encodings as long as x509-cert can read it.
    pub(crate) fn parse(der: &[u8]) -> Result<Self, String> {
        let outer = tlv::single(der).ok_or("not a single well-formed ASN.1 element")?;
        if outer.tag != 0x30 {
            return Err(format!("expected SEQUENCE, found tag 0x{:02x}", outer.tag));
        }
        let kids = tlv::children(outer.value).ok_or("malformed certificate contents")?;
        let tbs = kids.first().ok_or("empty certificate")?;
        let tbs_start = tbs.raw.as_ptr() as usize - der.as_ptr() as usize;
        let tbs_range = tbs_start..tbs_start + tbs.raw.len();
        let cert = Certificate::from_der(der)
            .or_else(|_| Certificate::from_ber(der))
            .map_err(|e| format!("x509 decode failed: {e}"))?;
        let tbs_c = cert.tbs_certificate();
        let subject_der = tbs_c.subject().to_der().map_err(|e| e.to_string())?;
        let issuer_der = tbs_c.issuer().to_der().map_err(|e| e.to_string())?;
        let ski = tbs_c
            .get_extension::<SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .map(|(_, s)| s.0.as_bytes().to_vec());
        let aki = tbs_c
            .get_extension::<AuthorityKeyIdentifier>()
            .ok()
            .flatten()
            .and_then(|(_, a)| a.key_identifier.map(|k| k.as_bytes().to_vec()));
        Ok(Self {
            cert,
            der: der.to_vec(),
            tbs_range,
            subject_der,
            issuer_der,
            ski,
            aki,
        })
    }

    pub(crate) fn tbs_bytes(&self) -> &[u8] {
        &self.der[self.tbs_range.clone()]
    }

    pub(crate) fn not_before(&self) -> OffsetDateTime {
        x509_time(self.cert.tbs_certificate().validity().not_before)
    }

    pub(crate) fn not_after(&self) -> OffsetDateTime {
        x509_time(self.cert.tbs_certificate().validity().not_after)
    }

    /// Subject as a readable RFC 4514-style string (for error messages).
    pub(crate) fn subject_string(&self) -> String {
        name_to_string(self.cert.tbs_certificate().subject())
    }

    pub(crate) fn key_algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::of_spki(self.cert.tbs_certificate().subject_public_key_info())
    }
}

/// Converts an X.509 time to `OffsetDateTime` (always representable: years 1950..9999).
pub(crate) fn x509_time(t: x509_cert::time::Time) -> OffsetDateTime {
    let d = t.to_unix_duration();
    OffsetDateTime::UNIX_EPOCH + d
}
