//! The test CA: a self-signed root or a sub-CA shaped like a Ukrainian QTSP, issuing end-entity
//! certificates shaped like qualified ones. Each can hold a P-256 or a DSTU 4145 key
//! ([`KeyKind`]); a certificate is signed with its issuer's kind of key, whatever its own is.

use const_oid::AssociatedOid;
use der::asn1::{OctetString, PrintableStringRef, SetOfVec};
use der::pem::LineEnding;
use der::{Any, Decode, Encode};
use time::{Duration, OffsetDateTime};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectDirectoryAttributes, SubjectKeyIdentifier,
};
use x509_cert::time::Validity;

use super::asn1::{
    CertOut, QcStatement, Str, TbsOut, edrpou_for, ext, key_id, name, serial_for, x509_time,
};
use super::error::TestCaError;
use super::key::{KeyKind, TestKey};
use super::pem::{parse_bundle, to_bundle};
use super::publication::Publication;
use super::signer::TestSigner;
use crate::identity::{Edrpou, Rnokpp};
use crate::oids;

/// id-kp-OCSPSigning.
const KP_OCSP_SIGNING: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");

/// What `build_ca` certifies a key for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Ca,
    /// A delegated OCSP responder: not a CA; its key signs OCSP answers for its issuer.
    OcspResponder,
}

/// Signs `tbs` with `issuer_key` (its signature algorithm goes into both places).
fn sign_cert(tbs: TbsOut, issuer_key: &TestKey) -> Result<(Certificate, Vec<u8>), TestCaError> {
    let tbs_der = tbs.to_der()?;
    let out = CertOut {
        tbs,
        alg: issuer_key.signature_algorithm(),
        sig: issuer_key.sign_certificate(&tbs_der)?,
    };
    let der = out.to_der()?;
    Ok((Certificate::from_der(&der)?, der))
}

/// A self-signed (or sub-) CA.
#[derive(Clone)]
pub struct TestCa {
    pub(super) key: TestKey,
    pub(super) cert: Certificate,
    pub(super) cert_der: Vec<u8>,
    pub(super) ski: Vec<u8>,
    /// Certificates above this CA (for a sub-CA: its issuer chain up to the root).
    chain: Vec<Vec<u8>>,
    /// The status services named in end-entity certificates issued from now on.
    publication: Publication,
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
        Self::generate_with(name, now, KeyKind::EcdsaP256)
    }

    /// As [`Self::generate`] with a key of the given kind (e.g. DSTU 4145 on M431, as the
    /// central root has).
    pub fn generate_with(
        name: &str,
        now: OffsetDateTime,
        kind: KeyKind,
    ) -> Result<TestCa, TestCaError> {
        Self::build_ca(name, now, TestKey::generate(kind)?, None, Role::Ca)
    }

    /// A subordinate CA issued by this one (for chain tests), with a P-256 key.
    pub fn issue_sub_ca(&self, name: &str, now: OffsetDateTime) -> Result<TestCa, TestCaError> {
        self.issue_sub_ca_with(name, now, KeyKind::EcdsaP256)
    }

    /// A subordinate CA with a key of the given kind (e.g. DSTU 4145 on M257, as the Diia CA).
    pub fn issue_sub_ca_with(
        &self,
        name: &str,
        now: OffsetDateTime,
        kind: KeyKind,
    ) -> Result<TestCa, TestCaError> {
        Self::build_ca(name, now, TestKey::generate(kind)?, Some(self), Role::Ca)
    }

    /// A delegated OCSP responder of this CA (RFC 6960 §4.2.2.2): a certificate issued by it
    /// for id-kp-OCSPSigning only, not a CA, with a key of the given kind. It answers for this
    /// CA as [`super::OcspOptions::signed_by`].
    pub fn issue_ocsp_responder(
        &self,
        name: &str,
        now: OffsetDateTime,
        kind: KeyKind,
    ) -> Result<TestCa, TestCaError> {
        Self::build_ca(
            name,
            now,
            TestKey::generate(kind)?,
            Some(self),
            Role::OcspResponder,
        )
    }

    /// The kind of this CA's own key.
    pub fn key_kind(&self) -> KeyKind {
        self.key.kind()
    }

    fn build_ca(
        name_str: &str,
        now: OffsetDateTime,
        key: TestKey,
        parent: Option<&TestCa>,
        role: Role,
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
        let spki = key.spki()?;
        let ski = key_id(&spki);
        let (issuer, aki) = match parent {
            Some(p) => (p.cert.tbs_certificate().subject().clone(), p.ski.clone()),
            None => (subject.clone(), ski.clone()),
        };
        let mut extensions = match role {
            Role::Ca => vec![
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
            ],
            Role::OcspResponder => vec![
                ext(
                    oids::EXT_BASIC_CONSTRAINTS,
                    true,
                    &BasicConstraints {
                        ca: false,
                        path_len_constraint: None,
                    },
                )?,
                ext(
                    oids::EXT_KEY_USAGE,
                    true,
                    &KeyUsage(KeyUsages::DigitalSignature.into()),
                )?,
                ext(
                    ExtendedKeyUsage::OID,
                    false,
                    &ExtendedKeyUsage(vec![KP_OCSP_SIGNING]),
                )?,
            ],
        };
        extensions.extend([
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
        ]);
        let signer = parent.map_or(&key, |p| &p.key);
        let tbs = TbsOut {
            version: 2,
            serial: serial_for(&spki, now)?,
            signature: signer.signature_algorithm(),
            issuer,
            validity: Validity::new(
                x509_time(now - Duration::days(1))?,
                x509_time(now + Duration::days(3650))?,
            ),
            subject,
            spki,
            extensions,
        };
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
            publication: Publication::default(),
        })
    }

    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// Names `publication`'s OCSP responder and CRLs in the end-entity certificates issued
    /// after this call (none by default, as before).
    pub fn set_publication(&mut self, publication: Publication) {
        self.publication = publication;
    }

    pub fn publication(&self) -> &Publication {
        &self.publication
    }

    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    pub fn cert_pem(&self) -> Result<String, TestCaError> {
        der::pem::encode_string("CERTIFICATE", LineEnding::LF, &self.cert_der)
            .map_err(|e| TestCaError::Pem(e.to_string()))
    }

    /// Certificate + private key (PKCS#8 for P-256, the test-only "DSTU4145 PRIVATE KEY" block
    /// for DSTU), for persisting a root CA (sub-CA chains are not kept).
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
            None => key_id(&key.spki()?),
        };
        Ok(TestCa {
            key,
            cert,
            cert_der,
            ski,
            chain: Vec::new(),
            publication: Publication::default(),
        })
    }

    /// Issues an end-entity certificate shaped like a Ukrainian qualified one (P-256 key).
    pub fn issue(
        &self,
        spec: &TestIdentitySpec,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<TestSigner, TestCaError> {
        self.issue_with(spec, not_before, not_after, KeyKind::EcdsaP256)
    }

    /// As [`Self::issue`] with a key of the given kind (e.g. DSTU 4145 on M431, as Diia's
    /// signing keys); its CAdES is then made with GOST 34.311 and DSTU 4145.
    pub fn issue_with(
        &self,
        spec: &TestIdentitySpec,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
        kind: KeyKind,
    ) -> Result<TestSigner, TestCaError> {
        let key = TestKey::generate(kind)?;
        let spki = key.spki()?;
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
        let mut extensions = vec![
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
        extensions.extend(self.publication.extensions()?);
        let tbs = TbsOut {
            version: 2,
            serial: serial_for(&spki, not_before)?,
            signature: self.key.signature_algorithm(),
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
        Ok(TestSigner::new(key, cert, cert_der, chain))
    }
}
