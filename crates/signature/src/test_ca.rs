//! A throwaway CA shaped like a Ukrainian QTSP, for the Diia emulator and tests.
//! NOT for production trust: keys are ECDSA P-256 generated on the spot. Compiled only for this
//! crate's tests and with the `test-ca` feature, so a production build does not contain it.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, OctetString, PrintableStringRef, SetOfVec, Utf8StringRef};
use der::{Any, Decode, Encode, Sequence};
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use sha2::Digest;
use signature::Signer;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use time::{Duration, OffsetDateTime};
use x509_cert::Certificate;
use x509_cert::attr::{Attribute, AttributeTypeAndValue};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectDirectoryAttributes,
    SubjectKeyIdentifier,
};
use x509_cert::name::{Name, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::identity::{Edrpou, Rnokpp};
use crate::oids;

#[derive(Debug, thiserror::Error)]
pub enum TestCaError {
    #[error("ASN.1 encoding failed: {0}")]
    Der(#[from] der::Error),
    #[error("key error: {0}")]
    Key(String),
    #[error("bad PEM bundle: {0}")]
    Pem(String),
    #[error("time out of range for a certificate: {0}")]
    Time(String),
}

fn key_err(e: impl std::fmt::Display) -> TestCaError {
    TestCaError::Key(e.to_string())
}

// --- minimal TBSCertificate / Certificate encoders (x509-cert's fields are read-only) ---

#[derive(Sequence)]
struct TbsOut {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: u8,
    serial: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: Validity,
    subject: Name,
    spki: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT")]
    extensions: Vec<Extension>,
}

#[derive(Sequence)]
struct CertOut {
    tbs: TbsOut,
    alg: AlgorithmIdentifierOwned,
    sig: BitString,
}

#[derive(Sequence)]
struct QcStatement {
    id: ObjectIdentifier,
}

#[derive(Sequence)]
struct EssCertIdV2 {
    // hashAlgorithm DEFAULT sha256 is omitted, as DER requires.
    cert_hash: OctetString,
}

#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

fn ecdsa_sha256() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: oids::ECDSA_SHA256,
        parameters: None,
    }
}

fn sha256_alg() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: oids::SHA256,
        parameters: None,
    }
}

fn x509_time(t: OffsetDateTime) -> Result<Time, TestCaError> {
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

enum Str<'a> {
    Utf8(&'a str),
    Printable(&'a str),
}

fn name(parts: &[(ObjectIdentifier, Str<'_>)]) -> Result<Name, TestCaError> {
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

fn ext(
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

fn spki_of(key: &SigningKey) -> Result<SubjectPublicKeyInfoOwned, TestCaError> {
    let der = VerifyingKey::from(key)
        .to_public_key_der()
        .map_err(key_err)?;
    Ok(SubjectPublicKeyInfoOwned::from_der(der.as_bytes())?)
}

/// Key identifier: first 20 bytes of SHA-256 over the public key bits (RFC 7093 method 1).
fn key_id(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    sha2::Sha256::digest(spki.subject_public_key.raw_bytes())[..20].to_vec()
}

/// Positive, unique-enough serial from the key and the time.
fn serial_for(
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

fn sign_cert(tbs: TbsOut, issuer_key: &SigningKey) -> Result<(Certificate, Vec<u8>), TestCaError> {
    let tbs_der = tbs.to_der()?;
    let sig: DerSignature = issuer_key.try_sign(&tbs_der).map_err(key_err)?;
    let out = CertOut {
        tbs,
        alg: ecdsa_sha256(),
        sig: BitString::from_bytes(sig.as_bytes())?,
    };
    let der = out.to_der()?;
    Ok((Certificate::from_der(&der)?, der))
}

/// Deterministic valid ЄДРПОУ derived from a name (so the same CA name gives the same code).
fn edrpou_for(name: &str) -> Result<Edrpou, TestCaError> {
    let h = sha2::Sha256::digest(name.as_bytes());
    let n = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) % 9_000_000 + 1_000_000;
    (0..10)
        .find_map(|d| Edrpou::parse(&format!("{n}{d}")).ok())
        .ok_or_else(|| TestCaError::Key("no ЄДРПОУ check digit".into()))
}

/// Reads a CERTIFICATE and a PKCS#8 PRIVATE KEY block and checks that they belong together.
fn parse_bundle(pem: &str) -> Result<(Vec<u8>, SigningKey), TestCaError> {
    let mut cert_der = None;
    let mut key = None;
    let mut current: Option<String> = None;
    for line in pem.lines().map(str::trim) {
        if line.starts_with("-----BEGIN ") {
            current = Some(String::new());
        }
        let Some(buf) = current.as_mut() else {
            continue;
        };
        buf.push_str(line);
        buf.push('\n');
        if !line.starts_with("-----END ") {
            continue;
        }
        let text = current.take().unwrap_or_default();
        if text.starts_with("-----BEGIN CERTIFICATE-----") {
            let (_, der) = der::pem::decode_vec(text.as_bytes())
                .map_err(|e| TestCaError::Pem(e.to_string()))?;
            cert_der = Some(der);
        } else if text.starts_with("-----BEGIN PRIVATE KEY-----") {
            key = Some(SigningKey::from_pkcs8_pem(&text).map_err(key_err)?);
        }
    }
    let cert_der = cert_der.ok_or_else(|| TestCaError::Pem("no CERTIFICATE block".into()))?;
    let key = key.ok_or_else(|| TestCaError::Pem("no PRIVATE KEY block".into()))?;
    let cert = Certificate::from_der(&cert_der)?;
    if &spki_of(&key)? != cert.tbs_certificate().subject_public_key_info() {
        return Err(TestCaError::Pem(
            "private key does not match certificate".into(),
        ));
    }
    Ok((cert_der, key))
}

fn to_bundle(cert_der: &[u8], key: &SigningKey) -> Result<String, TestCaError> {
    let cert = der::pem::encode_string("CERTIFICATE", LineEnding::LF, cert_der)
        .map_err(|e| TestCaError::Pem(e.to_string()))?;
    let key = key.to_pkcs8_pem(LineEnding::LF).map_err(key_err)?;
    Ok(format!("{cert}{}", key.as_str()))
}

/// A self-signed (or sub-) CA.
#[derive(Clone)]
pub struct TestCa {
    key: SigningKey,
    cert: Certificate,
    cert_der: Vec<u8>,
    ski: Vec<u8>,
    /// Certificates above this CA (for a sub-CA: its issuer chain up to the root).
    chain: Vec<Vec<u8>>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa")
            .field(
                "subject",
                &self.cert.tbs_certificate().subject().to_string(),
            )
            .finish_non_exhaustive()
    }
}

/// Identity to put in an end-entity certificate.
#[derive(Clone, Debug)]
pub struct TestIdentitySpec {
    /// Subject CN, e.g. "Шевченко Тарас Григорович".
    pub full_name: String,
    pub surname: String,
    /// First name and patronymic, e.g. "Тарас Григорович".
    pub given_name: String,
    pub rnokpp: Rnokpp,
    /// Set for a legal-entity key (company director etc.).
    pub edrpou: Option<Edrpou>,
    pub organization: Option<String>,
    pub title: Option<String>,
}

impl TestCa {
    /// Self-signed ECDSA P-256 root shaped like a Ukrainian QTSP, valid from a day before
    /// `now` for 10 years.
    pub fn generate(name: &str, now: OffsetDateTime) -> Result<TestCa, TestCaError> {
        let key =
            <SigningKey as p256::elliptic_curve::Generate>::try_generate().map_err(key_err)?;
        Self::build_ca(name, now, key, None)
    }

    /// A subordinate CA issued by this one (for chain tests).
    pub fn issue_sub_ca(&self, name: &str, now: OffsetDateTime) -> Result<TestCa, TestCaError> {
        let key =
            <SigningKey as p256::elliptic_curve::Generate>::try_generate().map_err(key_err)?;
        Self::build_ca(name, now, key, Some(self))
    }

    fn build_ca(
        name_str: &str,
        now: OffsetDateTime,
        key: SigningKey,
        parent: Option<&TestCa>,
    ) -> Result<TestCa, TestCaError> {
        let edrpou = edrpou_for(name_str)?;
        let serial_attr = format!("UA-{edrpou}-2026");
        let org_id = format!("NTRUA-{edrpou}");
        let subject = name(&[
            (oids::AT_ORG, Str::Utf8(name_str)),
            (oids::AT_ORG_IDENTIFIER, Str::Utf8(&org_id)),
            (oids::AT_CN, Str::Utf8(name_str)),
            (oids::AT_SERIAL_NUMBER, Str::Printable(&serial_attr)),
            (oids::AT_COUNTRY, Str::Printable("UA")),
            (oids::AT_LOCALITY, Str::Utf8("Київ")),
        ])?;
        let spki = spki_of(&key)?;
        let ski = key_id(&spki);
        let (issuer, aki) = match parent {
            Some(p) => (p.cert.tbs_certificate().subject().clone(), p.ski.clone()),
            None => (subject.clone(), ski.clone()),
        };
        let extensions = vec![
            ext(
                oids::EXT_BASIC_CONSTRAINTS,
                true,
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: if parent.is_some() { Some(0) } else { None },
                },
            )?,
            ext(
                oids::EXT_KEY_USAGE,
                true,
                &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
            )?,
            ext(
                oids::EXT_SUBJECT_KEY_ID,
                false,
                &SubjectKeyIdentifier(OctetString::new(ski.clone())?),
            )?,
            ext(
                oids::EXT_AUTHORITY_KEY_ID,
                false,
                &AuthorityKeyIdentifier {
                    key_identifier: Some(OctetString::new(aki)?),
                    ..Default::default()
                },
            )?,
        ];
        let tbs = TbsOut {
            version: 2,
            serial: serial_for(&spki, now)?,
            signature: ecdsa_sha256(),
            issuer,
            validity: Validity::new(
                x509_time(now - Duration::days(1))?,
                x509_time(now + Duration::days(3650))?,
            ),
            subject,
            spki,
            extensions,
        };
        let signer = parent.map_or(&key, |p| &p.key);
        let (cert, cert_der) = sign_cert(tbs, signer)?;
        let chain = match parent {
            Some(p) => std::iter::once(p.cert_der.clone())
                .chain(p.chain.iter().cloned())
                .collect(),
            None => Vec::new(),
        };
        Ok(TestCa {
            key,
            cert,
            cert_der,
            ski,
            chain,
        })
    }

    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    pub fn cert_pem(&self) -> Result<String, TestCaError> {
        der::pem::encode_string("CERTIFICATE", LineEnding::LF, &self.cert_der)
            .map_err(|e| TestCaError::Pem(e.to_string()))
    }

    /// Certificate + PKCS#8 private key, for persisting a root CA (sub-CA chains are not kept).
    pub fn to_pem_bundle(&self) -> Result<String, TestCaError> {
        to_bundle(&self.cert_der, &self.key)
    }

    pub fn from_pem_bundle(pem: &str) -> Result<TestCa, TestCaError> {
        let (cert_der, key) = parse_bundle(pem)?;
        let cert = Certificate::from_der(&cert_der)?;
        let ski = match cert
            .tbs_certificate()
            .get_extension::<SubjectKeyIdentifier>()?
        {
            Some((_, ski)) => ski.0.as_bytes().to_vec(),
            None => key_id(&spki_of(&key)?),
        };
        Ok(TestCa {
            key,
            cert,
            cert_der,
            ski,
            chain: Vec::new(),
        })
    }

    /// Issues an end-entity certificate shaped like a Ukrainian qualified one.
    pub fn issue(
        &self,
        spec: &TestIdentitySpec,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<TestSigner, TestCaError> {
        let key =
            <SigningKey as p256::elliptic_curve::Generate>::try_generate().map_err(key_err)?;
        let spki = spki_of(&key)?;
        let ski = key_id(&spki);
        let tin = format!("TINUA-{}", spec.rnokpp);
        let ntr = spec.edrpou.as_ref().map(|e| format!("NTRUA-{e}"));
        let mut parts = Vec::new();
        if let Some(o) = &spec.organization {
            parts.push((oids::AT_ORG, Str::Utf8(o)));
        }
        if let Some(t) = &spec.title {
            parts.push((oids::AT_TITLE, Str::Utf8(t)));
        }
        parts.extend([
            (oids::AT_CN, Str::Utf8(&spec.full_name)),
            (oids::AT_SURNAME, Str::Utf8(&spec.surname)),
            (oids::AT_GIVEN_NAME, Str::Utf8(&spec.given_name)),
            (oids::AT_SERIAL_NUMBER, Str::Printable(&tin)),
            (oids::AT_COUNTRY, Str::Printable("UA")),
            (oids::AT_LOCALITY, Str::Utf8("Київ")),
        ]);
        if let Some(n) = &ntr {
            parts.push((oids::AT_ORG_IDENTIFIER, Str::Utf8(n)));
        }
        let subject = name(&parts)?;

        let printable = |s: &str| -> Result<Attribute, TestCaError> {
            Ok(Attribute {
                oid: oids::UA_DRFO,
                values: SetOfVec::try_from(vec![Any::encode_from(&PrintableStringRef::new(s)?)?])?,
            })
        };
        let mut dir_attrs = vec![printable(spec.rnokpp.as_str())?];
        if let Some(e) = &spec.edrpou {
            let mut a = printable(e.as_str())?;
            a.oid = oids::UA_EDRPOU;
            dir_attrs.push(a);
        }
        let qc = vec![QcStatement {
            id: oids::QCS_COMPLIANCE,
        }];
        let extensions = vec![
            ext(
                oids::EXT_KEY_USAGE,
                true,
                &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
            )?,
            ext(
                oids::EXT_AUTHORITY_KEY_ID,
                false,
                &AuthorityKeyIdentifier {
                    key_identifier: Some(OctetString::new(self.ski.clone())?),
                    ..Default::default()
                },
            )?,
            ext(
                oids::EXT_SUBJECT_KEY_ID,
                false,
                &SubjectKeyIdentifier(OctetString::new(ski)?),
            )?,
            ext(
                oids::EXT_BASIC_CONSTRAINTS,
                false,
                &BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                },
            )?,
            ext(
                oids::EXT_SUBJECT_DIRECTORY_ATTRIBUTES,
                false,
                &SubjectDirectoryAttributes(dir_attrs),
            )?,
            ext(oids::EXT_QC_STATEMENTS, false, &qc)?,
        ];
        let tbs = TbsOut {
            version: 2,
            serial: serial_for(&spki, not_before)?,
            signature: ecdsa_sha256(),
            issuer: self.cert.tbs_certificate().subject().clone(),
            validity: Validity::new(x509_time(not_before)?, x509_time(not_after)?),
            subject,
            spki,
            extensions,
        };
        let (cert, cert_der) = sign_cert(tbs, &self.key)?;
        let chain = std::iter::once(self.cert_der.clone())
            .chain(self.chain.iter().cloned())
            .collect();
        Ok(TestSigner {
            key,
            cert,
            cert_der,
            chain,
        })
    }
}

/// Knobs for producing valid and deliberately broken signatures in tests.
#[derive(Clone, Debug)]
pub struct CadesOptions {
    /// Include the issuing CA chain after the signer certificate.
    pub include_chain: bool,
    /// Include the signer certificate at all.
    pub include_signer_cert: bool,
    /// Without signed attributes the signature is made directly over the content.
    pub signed_attributes: bool,
    pub include_signing_time: bool,
    /// Put this hash into signingCertificateV2 instead of the real one.
    pub signing_cert_hash_override: Option<Vec<u8>>,
    /// Claim this signatureAlgorithm in the SignerInfo (e.g. a DSTU 4145 OID).
    pub signature_algorithm_override: Option<ObjectIdentifier>,
    /// Attached: embed `hash` as eContent; messageDigest is then SHA-256 of it.
    pub attached: bool,
    /// Add a second SignerInfo.
    pub second_signer: bool,
}

impl Default for CadesOptions {
    fn default() -> Self {
        Self {
            include_chain: true,
            include_signer_cert: true,
            signed_attributes: true,
            include_signing_time: true,
            signing_cert_hash_override: None,
            signature_algorithm_override: None,
            attached: false,
            second_signer: false,
        }
    }
}

/// An end-entity key + certificate issued by a [`TestCa`].
#[derive(Clone)]
pub struct TestSigner {
    key: SigningKey,
    cert: Certificate,
    cert_der: Vec<u8>,
    /// Issuer certificates, nearest first.
    chain: Vec<Vec<u8>>,
}

impl std::fmt::Debug for TestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestSigner")
            .field(
                "subject",
                &self.cert.tbs_certificate().subject().to_string(),
            )
            .finish_non_exhaustive()
    }
}

impl TestSigner {
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// Certificate + PKCS#8 key (issuer chain not included), e.g. for an emulated phone.
    pub fn to_pem_bundle(&self) -> Result<String, TestCaError> {
        to_bundle(&self.cert_der, &self.key)
    }

    /// Any certificate with its key, with `chain` (nearest issuer first) to embed in the CMS.
    pub fn from_pem_bundle(pem: &str, chain: Vec<Vec<u8>>) -> Result<TestSigner, TestCaError> {
        let (cert_der, key) = parse_bundle(pem)?;
        Ok(TestSigner {
            key,
            cert: Certificate::from_der(&cert_der)?,
            cert_der,
            chain,
        })
    }

    /// Detached CAdES-BES-style signature over a precomputed SHA-256 `hash`, as Diia returns.
    pub fn sign_hash_cades(
        &self,
        hash: &[u8],
        signing_time: OffsetDateTime,
    ) -> Result<Vec<u8>, TestCaError> {
        self.sign_hash_cades_with(hash, signing_time, &CadesOptions::default())
    }

    fn signer_info(
        &self,
        hash: &[u8],
        signing_time: OffsetDateTime,
        opts: &CadesOptions,
    ) -> Result<SignerInfo, TestCaError> {
        let one = |oid, v: Any| -> Result<Attribute, TestCaError> {
            Ok(Attribute {
                oid,
                values: SetOfVec::try_from(vec![v])?,
            })
        };
        let cert_hash = opts
            .signing_cert_hash_override
            .clone()
            .unwrap_or_else(|| sha2::Sha256::digest(&self.cert_der).to_vec());
        let md = if opts.attached {
            sha2::Sha256::digest(hash).to_vec()
        } else {
            hash.to_vec()
        };
        let mut attrs = vec![
            one(oids::ATTR_CONTENT_TYPE, Any::encode_from(&oids::ID_DATA)?)?,
            one(
                oids::ATTR_MESSAGE_DIGEST,
                Any::encode_from(&OctetString::new(md)?)?,
            )?,
            one(
                oids::ATTR_SIGNING_CERT_V2,
                Any::encode_from(&SigningCertificateV2 {
                    certs: vec![EssCertIdV2 {
                        cert_hash: OctetString::new(cert_hash)?,
                    }],
                })?,
            )?,
        ];
        if opts.include_signing_time {
            attrs.push(one(
                oids::ATTR_SIGNING_TIME,
                Any::encode_from(&x509_time(signing_time)?)?,
            )?);
        }
        let signed_attrs: SetOfVec<Attribute> = SetOfVec::try_from(attrs)?;
        // The signature is over the DER SET OF, i.e. exactly what gets encoded as [0].
        let to_sign = if opts.signed_attributes {
            signed_attrs.to_der()?
        } else {
            hash.to_vec()
        };
        let sig: DerSignature = self.key.try_sign(&to_sign).map_err(key_err)?;
        let tbs = self.cert.tbs_certificate();
        Ok(SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer().clone(),
                serial_number: tbs.serial_number().clone(),
            }),
            digest_alg: sha256_alg(),
            signed_attrs: opts.signed_attributes.then_some(signed_attrs),
            signature_algorithm: AlgorithmIdentifierOwned {
                oid: opts
                    .signature_algorithm_override
                    .unwrap_or(oids::ECDSA_SHA256),
                parameters: None,
            },
            signature: OctetString::new(sig.as_bytes())?,
            unsigned_attrs: None,
        })
    }

    /// Like [`Self::sign_hash_cades`] with knobs for tests (see [`CadesOptions`]).
    pub fn sign_hash_cades_with(
        &self,
        hash: &[u8],
        signing_time: OffsetDateTime,
        opts: &CadesOptions,
    ) -> Result<Vec<u8>, TestCaError> {
        let mut infos = vec![self.signer_info(hash, signing_time, opts)?];
        if opts.second_signer {
            infos.push(self.signer_info(hash, signing_time + Duration::seconds(1), opts)?);
        }
        let mut certs = Vec::new();
        if opts.include_signer_cert {
            certs.push(CertificateChoices::Certificate(self.cert.clone()));
        }
        if opts.include_chain {
            for c in &self.chain {
                certs.push(CertificateChoices::Certificate(Certificate::from_der(c)?));
            }
        }
        let sd = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![sha256_alg()])?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: oids::ID_DATA,
                econtent: if opts.attached {
                    Some(Any::encode_from(&OctetString::new(hash)?)?)
                } else {
                    None
                },
            },
            certificates: Some(CertificateSet(SetOfVec::try_from(certs)?)),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(infos)?),
        };
        let ci = ContentInfo {
            content_type: oids::ID_SIGNED_DATA,
            content: Any::encode_from(&sd)?,
        };
        Ok(ci.to_der()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TrustList, verify_auth_signature};
    use time::macros::datetime;
    use x509_cert::ext::pkix::BasicConstraints;

    const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

    fn spec() -> TestIdentitySpec {
        TestIdentitySpec {
            full_name: "Шевченко Тарас Григорович".into(),
            surname: "Шевченко".into(),
            given_name: "Тарас Григорович".into(),
            rnokpp: Rnokpp::parse("3652504575").unwrap(),
            edrpou: Some(Edrpou::parse("43395033").unwrap()),
            organization: Some("ДП «ДІЯ»".into()),
            title: Some("Директор".into()),
        }
    }

    #[test]
    fn ca_is_shaped_like_a_ukrainian_qtsp() {
        let ca = TestCa::generate("Тестовий КНЕДП", NOW).unwrap();
        let tbs = ca.certificate().tbs_certificate();
        let subject = crate::names::name_to_string(tbs.subject());
        assert!(subject.contains("CN=Тестовий КНЕДП"), "{subject}");
        assert!(subject.contains("C=UA"));
        let edrpou = subject
            .split("organizationIdentifier=NTRUA-")
            .nth(1)
            .map(|s| &s[..8])
            .unwrap();
        Edrpou::parse(edrpou).unwrap();
        assert!(subject.contains(&format!("serialNumber=UA-{edrpou}-2026")));
        let (_, bc) = tbs.get_extension::<BasicConstraints>().unwrap().unwrap();
        assert!(bc.ca);
        let (crit, ku) = tbs.get_extension::<KeyUsage>().unwrap().unwrap();
        assert!(crit && ku.0.contains(KeyUsages::KeyCertSign) && ku.0.contains(KeyUsages::CRLSign));
        assert!(
            tbs.get_extension::<SubjectKeyIdentifier>()
                .unwrap()
                .is_some()
        );
        assert!(
            ca.cert_pem()
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
    }

    #[test]
    fn end_entity_is_shaped_like_a_qualified_certificate() {
        let ca = TestCa::generate("Тестовий КНЕДП", NOW).unwrap();
        let s = ca.issue(&spec(), NOW, NOW + Duration::days(365)).unwrap();
        let tbs = s.certificate().tbs_certificate();
        let (crit, ku) = tbs.get_extension::<KeyUsage>().unwrap().unwrap();
        assert!(crit);
        assert!(
            ku.0.contains(KeyUsages::DigitalSignature) && ku.0.contains(KeyUsages::NonRepudiation)
        );
        let (_, bc) = tbs.get_extension::<BasicConstraints>().unwrap().unwrap();
        assert!(!bc.ca);
        let (_, aki) = tbs
            .get_extension::<AuthorityKeyIdentifier>()
            .unwrap()
            .unwrap();
        assert_eq!(aki.key_identifier.unwrap().as_bytes(), ca.ski.as_slice());
        let exts = tbs.extensions().unwrap();
        assert!(exts.iter().any(|e| e.extn_id == oids::EXT_QC_STATEMENTS));
        let (_, sda) = tbs
            .get_extension::<SubjectDirectoryAttributes>()
            .unwrap()
            .unwrap();
        let oids_present: Vec<_> = sda.0.iter().map(|a| a.oid).collect();
        assert_eq!(oids_present, vec![oids::UA_DRFO, oids::UA_EDRPOU]);
        let (id, warnings) = crate::identity_from_certificate(s.certificate()).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(id.rnokpp.unwrap().as_str(), "3652504575");
        assert_eq!(id.edrpou.unwrap().as_str(), "43395033");
        assert_eq!(id.organization.as_deref(), Some("ДП «ДІЯ»"));
        assert_eq!(id.not_after, NOW + Duration::days(365));
    }

    #[test]
    fn pem_bundle_round_trip_keeps_the_ca_usable() {
        let ca = TestCa::generate("Емулятор Дії", NOW).unwrap();
        let pem = ca.to_pem_bundle().unwrap();
        assert!(pem.contains("-----BEGIN PRIVATE KEY-----"));
        let restored = TestCa::from_pem_bundle(&pem).unwrap();
        assert_eq!(restored.cert_der(), ca.cert_der());
        // A signer issued by the restored CA verifies against the original certificate.
        let signer = restored
            .issue(&spec(), NOW, NOW + Duration::days(30))
            .unwrap();
        let trust = TrustList::from_pem(ca.cert_pem().unwrap().as_bytes())
            .unwrap()
            .0;
        let h = sha2::Sha256::digest(b"x").to_vec();
        let p7s = signer.sign_hash_cades(&h, NOW).unwrap();
        verify_auth_signature(&p7s, &h, &trust, NOW).unwrap();
        // Mismatched key and certificate are refused.
        let other = TestCa::generate("Інший", NOW)
            .unwrap()
            .to_pem_bundle()
            .unwrap();
        let key_part = &other[other.find("-----BEGIN PRIVATE KEY-----").unwrap()..];
        let mixed = format!("{}{key_part}", ca.cert_pem().unwrap());
        assert!(TestCa::from_pem_bundle(&mixed).is_err());
        assert!(TestCa::from_pem_bundle("nothing").is_err());
    }
}
