//! Verification of CAdES/CMS signatures made with Ukrainian qualified certificates.
//!
//! `cms` only parses; everything that decides trust (digest checks, signature over the
//! signed attributes *as received*, chain building) lives here.

pub mod certificate_identity;
pub mod identity;
#[cfg(any(test, feature = "test-ca"))]
pub mod test_ca;
pub mod trust_list;
pub mod verify;

pub use certificate_identity::{IdentityExtractError, identity_from_certificate};
pub use trust_list::{KeyAlgorithm, LoadReport, SkippedEntry, TrustList, TrustListError};
pub use verify::{VerifiedSignature, VerifyError, verify_auth_signature};

use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use sha2::Digest;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, SubjectKeyIdentifier};

/// Object identifiers used across the crate (and by the test CA, which builds what is read here).
pub mod oids {
    use const_oid::ObjectIdentifier as Oid;

    pub const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
    pub const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
    pub const ATTR_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
    pub const ATTR_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
    pub const ATTR_SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
    pub const ATTR_SIGNING_CERT_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");

    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

    pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
    pub const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    pub const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    pub const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");

    pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    pub const RSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    pub const SHA256_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    pub const SHA384_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    pub const SHA512_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");

    /// DSTU 4145-2002 (little-endian key encoding), "dstu4145WithGost34311".
    pub const DSTU4145_LE: Oid = Oid::new_unwrap("1.2.804.2.1.1.1.1.3.1.1");
    /// DSTU 4145-2002, big-endian key encoding ("dstu4145be" = dstu4145le.1.1).
    pub const DSTU4145_BE: Oid = Oid::new_unwrap("1.2.804.2.1.1.1.1.3.1.1.1.1");

    /// subjectDirectoryAttributes attribute holding the РНОКПП (DRFO code).
    pub const UA_DRFO: Oid = Oid::new_unwrap("1.2.804.2.1.1.1.11.1.4.1.1");
    /// subjectDirectoryAttributes attribute holding the ЄДРПОУ code.
    pub const UA_EDRPOU: Oid = Oid::new_unwrap("1.2.804.2.1.1.1.11.1.4.2.1");

    pub const AT_CN: Oid = Oid::new_unwrap("2.5.4.3");
    pub const AT_SURNAME: Oid = Oid::new_unwrap("2.5.4.4");
    pub const AT_SERIAL_NUMBER: Oid = Oid::new_unwrap("2.5.4.5");
    pub const AT_COUNTRY: Oid = Oid::new_unwrap("2.5.4.6");
    pub const AT_LOCALITY: Oid = Oid::new_unwrap("2.5.4.7");
    pub const AT_STATE: Oid = Oid::new_unwrap("2.5.4.8");
    pub const AT_STREET: Oid = Oid::new_unwrap("2.5.4.9");
    pub const AT_ORG: Oid = Oid::new_unwrap("2.5.4.10");
    pub const AT_ORG_UNIT: Oid = Oid::new_unwrap("2.5.4.11");
    pub const AT_TITLE: Oid = Oid::new_unwrap("2.5.4.12");
    pub const AT_GIVEN_NAME: Oid = Oid::new_unwrap("2.5.4.42");
    pub const AT_ORG_IDENTIFIER: Oid = Oid::new_unwrap("2.5.4.97");
    pub const AT_EMAIL: Oid = Oid::new_unwrap("1.2.840.113549.1.9.1");
    pub const AT_DC: Oid = Oid::new_unwrap("0.9.2342.19200300.100.1.25");
    pub const AT_UID: Oid = Oid::new_unwrap("0.9.2342.19200300.100.1.1");

    pub const EXT_SUBJECT_DIRECTORY_ATTRIBUTES: Oid = Oid::new_unwrap("2.5.29.9");
    pub const EXT_SUBJECT_KEY_ID: Oid = Oid::new_unwrap("2.5.29.14");
    pub const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
    pub const EXT_BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
    pub const EXT_AUTHORITY_KEY_ID: Oid = Oid::new_unwrap("2.5.29.35");
    pub const EXT_QC_STATEMENTS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.3");
    pub const QCS_COMPLIANCE: Oid = Oid::new_unwrap("0.4.0.1862.1.1");
}

/// Minimal BER/DER TLV reader. We need the exact bytes of some elements (signed attributes,
/// certificates, TBS) because re-encoding decoded values can change them (der sorts SET OF).
pub(crate) mod tlv {
    /// One element: `tag` is the first identifier octet, `raw` is the whole TLV, `value` the
    /// contents (for indefinite lengths, without the end-of-contents octets).
    #[derive(Clone, Copy, Debug)]
    pub struct Tlv<'a> {
        pub tag: u8,
        pub raw: &'a [u8],
        pub value: &'a [u8],
        pub indefinite: bool,
    }

    const MAX_DEPTH: usize = 64;

    /// Reads one TLV from the start of `input`; returns it and the rest.
    pub fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
        read_depth(input, 0)
    }

    fn read_depth(input: &[u8], depth: usize) -> Option<(Tlv<'_>, &[u8])> {
        if depth > MAX_DEPTH {
            return None;
        }
        let tag = *input.first()?;
        // High tag numbers (0x1f) never occur in the structures we walk.
        if tag & 0x1f == 0x1f {
            return None;
        }
        let len_byte = *input.get(1)?;
        let mut pos = 2usize;
        if len_byte == 0x80 {
            // Indefinite length (BER): only for constructed types; children until 00 00.
            if tag & 0x20 == 0 {
                return None;
            }
            let mut rest = input.get(pos..)?;
            loop {
                if rest.len() >= 2 && rest[0] == 0 && rest[1] == 0 {
                    let value_end = input.len() - rest.len();
                    let end = value_end + 2;
                    return Some((
                        Tlv {
                            tag,
                            raw: &input[..end],
                            value: &input[pos..value_end],
                            indefinite: true,
                        },
                        &input[end..],
                    ));
                }
                let (_, r) = read_depth(rest, depth + 1)?;
                rest = r;
            }
        }
        let len = if len_byte < 0x80 {
            usize::from(len_byte)
        } else {
            let n = usize::from(len_byte & 0x7f);
            if n > 4 {
                return None;
            }
            let mut l = 0usize;
            for _ in 0..n {
                l = (l << 8) | usize::from(*input.get(pos)?);
                pos += 1;
            }
            l
        };
        let end = pos.checked_add(len)?;
        if end > input.len() {
            return None;
        }
        Some((
            Tlv {
                tag,
                raw: &input[..end],
                value: &input[pos..end],
                indefinite: false,
            },
            &input[end..],
        ))
    }

    /// All child elements of a constructed value.
    pub fn children(mut value: &[u8]) -> Option<Vec<Tlv<'_>>> {
        let mut out = Vec::new();
        while !value.is_empty() {
            let (t, rest) = read(value)?;
            out.push(t);
            value = rest;
        }
        Some(out)
    }

    /// Reads exactly one TLV spanning all of `input`.
    pub fn single(input: &[u8]) -> Option<Tlv<'_>> {
        match read(input)? {
            (t, []) => Some(t),
            _ => None,
        }
    }
}

/// Hash algorithms we can compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            oids::SHA256 => Some(Self::Sha256),
            oids::SHA384 => Some(Self::Sha384),
            oids::SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

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
        certificate_identity::name_to_string(self.cert.tbs_certificate().subject())
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
