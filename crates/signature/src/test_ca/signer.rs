//! An end-entity key and certificate, and the detached CAdES-BES-style signatures it makes:
//! with a P-256 key SHA-256 and ECDSA, with a DSTU 4145 key GOST 34.311 (digestAlgorithm,
//! attached content's messageDigest, signingCertificateV2 with the hash algorithm written out)
//! and DSTU 4145 over the signed attributes.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use time::{Duration, OffsetDateTime};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

use super::asn1::{EssCertIdV2, SigningCertificateV2, x509_time};
use super::error::TestCaError;
use super::key::{KeyKind, TestKey};
use super::pem::{parse_bundle, to_bundle};
use crate::oids;

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
    /// Attached: embed `hash` as eContent; messageDigest is then its SHA-256 (GOST 34.311 for a
    /// DSTU signer).
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
    key: TestKey,
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
    pub(super) fn new(
        key: TestKey,
        cert: Certificate,
        cert_der: Vec<u8>,
        chain: Vec<Vec<u8>>,
    ) -> TestSigner {
        TestSigner {
            key,
            cert,
            cert_der,
            chain,
        }
    }

    /// The kind of the signer's key.
    pub fn key_kind(&self) -> KeyKind {
        self.key.kind()
    }

    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// Certificate + private key (issuer chain not included), e.g. for an emulated phone.
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

    /// Detached CAdES-BES-style signature over a precomputed `hash`, as Diia returns: SHA-256
    /// for a P-256 signer, the 32-octet GOST 34.311 digest for a DSTU 4145 signer (it becomes
    /// messageDigest as given).
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
            .unwrap_or_else(|| self.key.digest(&self.cert_der));
        // SHA-256 is ESSCertIDv2's DEFAULT (omitted); GOST 34.311 is named, as UAPKI writes it.
        let hash_algorithm = match self.key {
            TestKey::P256(_) => None,
            TestKey::Dstu(_) => Some(self.key.digest_algorithm()),
        };
        let md = if opts.attached {
            self.key.digest(hash)
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
                        hash_algorithm,
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
        let sig = self.key.sign(&to_sign)?;
        let tbs = self.cert.tbs_certificate();
        Ok(SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer().clone(),
                serial_number: tbs.serial_number().clone(),
            }),
            digest_alg: self.key.digest_algorithm(),
            signed_attrs: opts.signed_attributes.then_some(signed_attrs),
            signature_algorithm: AlgorithmIdentifierOwned {
                oid: opts
                    .signature_algorithm_override
                    .unwrap_or(self.key.signature_oid()),
                parameters: None,
            },
            signature: OctetString::new(sig)?,
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
            digest_algorithms: SetOfVec::try_from(vec![self.key.digest_algorithm()])?,
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
