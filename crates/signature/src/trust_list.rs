//! Trust anchors: the national list of qualified CA certificates (CACertificates.p7b) and/or PEM.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use x509_cert::Certificate;

use crate::algorithm::dstu_key;
use crate::dstu4145::ByteOrder;
use crate::key_algorithm::KeyAlgorithm;
use crate::oids;
use crate::parsed_cert::ParsedCert;
use crate::tlv;
use crate::verified_issuances::VerifiedIssuances;

/// An input entry that was not loaded, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkippedEntry {
    /// Zero-based position in the input (certificate set element or PEM block).
    pub index: usize,
    pub reason: String,
}

/// What a load did. Counts are over certificates actually added.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    /// Entries found in the input (loaded + duplicates + skipped).
    pub entries: usize,
    pub loaded: usize,
    pub dstu4145_le: usize,
    pub dstu4145_be: usize,
    /// All ECDSA keys (P-256, P-384 and other curves).
    pub ecdsa: usize,
    pub ecdsa_p256: usize,
    pub ecdsa_p384: usize,
    pub rsa: usize,
    pub other: usize,
    /// DSTU 4145 keys by standard curve ("M257", …; explicit parameters count as the curve they
    /// equal).
    pub dstu4145_curves: BTreeMap<&'static str, usize>,
    /// Loaded, but their key cannot check a signature (e.g. DSTU 4145 parameters that match no
    /// standard curve): nothing they issued will verify.
    pub unusable_keys: Vec<SkippedEntry>,
    /// Byte-identical repeats of an already loaded certificate (not stored twice).
    pub duplicates: usize,
    pub skipped: Vec<SkippedEntry>,
}

impl LoadReport {
    fn count(&mut self, alg: KeyAlgorithm) {
        self.loaded += 1;
        match alg {
            KeyAlgorithm::Dstu4145Le => self.dstu4145_le += 1,
            KeyAlgorithm::Dstu4145Be => self.dstu4145_be += 1,
            KeyAlgorithm::EcdsaP256 => {
                self.ecdsa += 1;
                self.ecdsa_p256 += 1
            }
            KeyAlgorithm::EcdsaP384 => {
                self.ecdsa += 1;
                self.ecdsa_p384 += 1
            }
            KeyAlgorithm::EcdsaOtherCurve => self.ecdsa += 1,
            KeyAlgorithm::Rsa => self.rsa += 1,
            KeyAlgorithm::Other => self.other += 1,
        }
    }
}

impl LoadReport {
    /// One line for logs and `check-config`, e.g. "638 entries: 638 loaded — DSTU 4145 410
    /// (M257 337, M431 72), ECDSA 116, RSA 112; 1 key unusable".
    pub fn summary(&self) -> String {
        let curves: Vec<String> = self
            .dstu4145_curves
            .iter()
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        let mut line = format!(
            "{} entries: {} loaded — DSTU 4145 {}",
            self.entries,
            self.loaded,
            self.dstu4145_le + self.dstu4145_be
        );
        if !curves.is_empty() {
            line += &format!(" ({})", curves.join(", "));
        }
        line += &format!(", ECDSA {}, RSA {}", self.ecdsa, self.rsa);
        if self.other > 0 {
            line += &format!(", other {}", self.other);
        }
        for (n, what) in [
            (self.duplicates, "duplicate"),
            (self.skipped.len(), "skipped"),
            (self.unusable_keys.len(), "with an unusable key"),
        ] {
            if n > 0 {
                line += &format!("; {n} {what}");
            }
        }
        line
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrustListError {
    #[error("trust list is not a PKCS#7 certs-only bundle: {0}")]
    NotPkcs7(String),
    #[error("trust list contains no PEM certificate blocks")]
    NoPem,
}

/// A set of trusted CA certificates (trust anchors).
#[derive(Clone, Debug, Default)]
pub struct TrustList {
    certs: Vec<ParsedCert>,
    seen: HashSet<Vec<u8>>,
    /// Certificate signatures checked under this list's verifications (chain.rs).
    pub(crate) verified_issuances: VerifiedIssuances,
}

impl TrustList {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.certs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// Loads a PKCS#7/CMS certs-only bundle (DER or BER), e.g. the national CACertificates.p7b.
    pub fn from_pkcs7_der(bytes: &[u8]) -> Result<(Self, LoadReport), TrustListError> {
        let cert_tlvs = pkcs7_certificates(bytes).map_err(TrustListError::NotPkcs7)?;
        let mut list = Self::new();
        let mut report = LoadReport::default();
        for (index, t) in cert_tlvs.iter().enumerate() {
            report.entries += 1;
            if t.tag != 0x30 {
                report.skipped.push(SkippedEntry {
                    index,
                    reason: format!(
                        "not an X.509 certificate (CertificateChoices tag 0x{:02x})",
                        t.tag
                    ),
                });
                continue;
            }
            list.add_one(index, t.raw, &mut report);
        }
        Ok((list, report))
    }

    /// Loads one or more `-----BEGIN CERTIFICATE-----` blocks.
    pub fn from_pem(pem: &[u8]) -> Result<(Self, LoadReport), TrustListError> {
        let text = String::from_utf8_lossy(pem);
        let mut list = Self::new();
        let mut report = LoadReport::default();
        for (index, block) in pem_blocks(&text).into_iter().enumerate() {
            report.entries += 1;
            match der::pem::decode_vec(block.as_bytes()) {
                Ok((label, der)) if label == "CERTIFICATE" || label == "X509 CERTIFICATE" => {
                    list.add_one(index, &der, &mut report)
                }
                Ok((label, _)) => report.skipped.push(SkippedEntry {
                    index,
                    reason: format!("PEM block is {label:?}, not CERTIFICATE"),
                }),
                Err(e) => report.skipped.push(SkippedEntry {
                    index,
                    reason: format!("bad PEM: {e}"),
                }),
            }
        }
        if report.entries == 0 {
            return Err(TrustListError::NoPem);
        }
        Ok((list, report))
    }

    /// Loads either format, deciding by content (PEM if it contains a BEGIN line).
    pub fn from_bytes(bytes: &[u8]) -> Result<(Self, LoadReport), TrustListError> {
        if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
            Self::from_pem(bytes)
        } else {
            Self::from_pkcs7_der(bytes)
        }
    }

    /// Adds a single DER certificate.
    pub fn add_der(&mut self, der: &[u8]) -> Result<KeyAlgorithm, String> {
        let pc = ParsedCert::parse(der)?;
        let alg = pc.key_algorithm();
        if self.seen.insert(pc.der.clone()) {
            self.certs.push(pc);
        }
        Ok(alg)
    }

    fn add_one(&mut self, index: usize, der: &[u8], report: &mut LoadReport) {
        if self.seen.contains(der) {
            report.duplicates += 1;
            return;
        }
        let pc = match ParsedCert::parse(der) {
            Ok(pc) => pc,
            Err(reason) => return report.skipped.push(SkippedEntry { index, reason }),
        };
        let alg = pc.key_algorithm();
        report.count(alg);
        let order = match alg {
            KeyAlgorithm::Dstu4145Le => Some(ByteOrder::Little),
            KeyAlgorithm::Dstu4145Be => Some(ByteOrder::Big),
            _ => None,
        };
        if let Some(order) = order {
            match dstu_key(pc.cert.tbs_certificate().subject_public_key_info(), order) {
                Ok(key) => *report.dstu4145_curves.entry(key.curve_name()).or_default() += 1,
                Err(reason) => report.unusable_keys.push(SkippedEntry { index, reason }),
            }
        }
        self.seen.insert(pc.der.clone());
        self.certs.push(pc);
    }

    /// Adds every certificate of `other` not already present.
    pub fn merge(&mut self, other: TrustList) {
        for pc in other.certs {
            if self.seen.insert(pc.der.clone()) {
                self.certs.push(pc);
            }
        }
    }

    pub fn certificates(&self) -> impl Iterator<Item = &Certificate> {
        self.certs.iter().map(|c| &c.cert)
    }

    /// Each certificate with its encoding as received and its key's algorithm (what is stored
    /// and shown of a trust list, byte for byte).
    pub fn entries(&self) -> impl Iterator<Item = (&Certificate, &[u8], KeyAlgorithm)> {
        self.certs
            .iter()
            .map(|c| (&c.cert, c.der.as_slice(), c.key_algorithm()))
    }

    /// Certificates whose subject Name has exactly this DER encoding.
    pub fn find_by_subject_der(&self, name_der: &[u8]) -> Vec<&Certificate> {
        self.certs
            .iter()
            .filter(|c| c.subject_der == name_der)
            .map(|c| &c.cert)
            .collect()
    }

    /// Certificates with this subjectKeyIdentifier.
    pub fn find_by_ski(&self, ski: &[u8]) -> Vec<&Certificate> {
        self.certs
            .iter()
            .filter(|c| c.ski.as_deref() == Some(ski))
            .map(|c| &c.cert)
            .collect()
    }

    /// Whether this exact certificate is a trust anchor.
    pub fn contains_der(&self, der: &[u8]) -> bool {
        self.seen.contains(der)
    }

    #[cfg(test)]
    pub(crate) fn parsed(&self) -> &[ParsedCert] {
        &self.certs
    }

    /// Possible issuers of `child`: same DN, and AKI == SKI when both are present.
    pub(crate) fn issuer_candidates<'a>(&'a self, child: &ParsedCert) -> Vec<&'a ParsedCert> {
        self.certs.iter().filter(|c| c.could_issue(child)).collect()
    }
}

/// Extracts the elements of SignedData.certificates from a ContentInfo.
fn pkcs7_certificates(bytes: &[u8]) -> Result<Vec<tlv::Tlv<'_>>, String> {
    let ci = tlv::read(bytes)
        .map(|(t, _)| t)
        .ok_or("cannot read ContentInfo")?;
    let ci_kids = tlv::children(ci.value).ok_or("malformed ContentInfo")?;
    let [oid, content, ..] = ci_kids.as_slice() else {
        return Err("ContentInfo is too short".into());
    };
    let signed_data_oid = oids::ID_SIGNED_DATA.as_bytes();
    if oid.tag != 0x06 || oid.value != signed_data_oid {
        return Err("content type is not signedData".into());
    }
    let sd = tlv::children(content.value)
        .and_then(|k| k.into_iter().next())
        .ok_or("missing SignedData")?;
    let sd_kids = tlv::children(sd.value).ok_or("malformed SignedData")?;
    let certs = sd_kids
        .iter()
        .find(|t| t.tag == 0xa0)
        .ok_or("SignedData has no certificates")?;
    // Counted before anything is collected: each entry costs memory, so millions of two-byte
    // entries in a few megabytes would cost gigabytes.
    let mut rest = certs.value;
    let mut entries = 0;
    while let Some((_, after)) = tlv::read(rest) {
        entries += 1;
        if entries > MAX_BUNDLE_ENTRIES {
            return Err(format!("more than {MAX_BUNDLE_ENTRIES} entries"));
        }
        rest = after;
    }
    tlv::children(certs.value).ok_or_else(|| "malformed certificate set".into())
}

/// Far more entries than any national list holds (638 in the bundle of the tests' fixtures).
pub const MAX_BUNDLE_ENTRIES: usize = 20_000;

/// Splits text into complete PEM blocks (BEGIN line through END line).
fn pem_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with("-----BEGIN ") {
            cur = Some(format!("{l}\n"));
        } else if let Some(buf) = cur.as_mut() {
            buf.push_str(l);
            buf.push('\n');
            if l.starts_with("-----END ") {
                out.extend(cur.take());
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::certificate_identity::identity_from_certificate;
    use crate::names::name_to_string;

    /// The real national bundle, kept with the workspace's tests (`tests/fixtures/ua-trust/`,
    /// which the fuzz targets and the gateway's tests read too).
    pub(crate) fn ua_trust_p7b_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/ua-trust/CACertificates.p7b")
    }

    pub(crate) fn load_national() -> (TrustList, LoadReport) {
        let bytes = std::fs::read(ua_trust_p7b_path()).expect("read CACertificates.p7b");
        TrustList::from_pkcs7_der(&bytes).expect("parse bundle")
    }

    #[test]
    fn national_bundle_loads_every_certificate() {
        let (list, report) = load_national();
        println!("{report:#?}");
        assert_eq!(report.entries, 638);
        assert!(report.skipped.is_empty(), "skipped: {:?}", report.skipped);
        assert_eq!(report.loaded + report.duplicates, 638);
        assert_eq!(report.dstu4145_le, 408);
        assert_eq!(report.dstu4145_be, 2);
        assert_eq!(report.ecdsa, 116);
        assert_eq!(report.rsa, 112);
        assert_eq!(report.other, 0);
        // All ECDSA CAs in this bundle use P-256.
        assert_eq!(report.ecdsa_p256, 116);
        // Every DSTU key but one names a standard curve (by name or by explicit parameters).
        assert_eq!(report.dstu4145_curves.get("M257"), Some(&337));
        assert_eq!(report.dstu4145_curves.get("M431"), Some(&72));
        // The one left is a CA certificate that expired in 2017, with its own S-box for
        // GOST 34.311 instead of DKE №1; kepgate hashes with DKE №1 only.
        assert_eq!(report.unusable_keys.len(), 1, "{:?}", report.unusable_keys);
        assert_eq!(report.unusable_keys[0].index, 280);
        assert!(report.unusable_keys[0].reason.contains("S-box"));
        assert_eq!(
            report.summary(),
            "638 entries: 638 loaded — DSTU 4145 410 (M257 337, M431 72), ECDSA 116, RSA 112; \
             1 with an unusable key"
        );
        assert_eq!(list.len(), report.loaded);
    }

    #[test]
    fn national_bundle_has_diia_ecdsa_ca() {
        let (list, _) = load_national();
        let diia: Vec<_> = list
            .certs
            .iter()
            .filter(|c| {
                // A CA proper (the bundle also holds DIIA's OCSP/TSA/CMP server certificates).
                let is_ca = c
                    .cert
                    .tbs_certificate()
                    .get_extension::<x509_cert::ext::pkix::BasicConstraints>()
                    .ok()
                    .flatten()
                    .is_some_and(|(_, bc)| bc.ca);
                is_ca
                    && c.key_algorithm().is_ecdsa()
                    && c.cert.tbs_certificate().subject().iter().any(|atv| {
                        atv.oid == oids::AT_SERIAL_NUMBER
                            && certificate_identity_string(&atv.value)
                                .is_some_and(|s| s.starts_with("UA-43395033-"))
                    })
            })
            .collect();
        assert!(!diia.is_empty(), "no DIIA ECDSA CA in the bundle");
        for c in &diia {
            println!("{}", c.subject_string());
            assert!(
                c.subject_string()
                    .contains("Qualified Trust Services Provider")
            );
            // The DIIA QTSP's own ЄДРПОУ comes out of the CA subject.
            let (id, _warnings) = identity_from_certificate(&c.cert).expect("identity");
            assert_eq!(id.edrpou.as_ref().map(|e| e.as_str()), Some("43395033"));
            assert!(id.issuer_cn.is_some());
        }
        // lookup by subject DN and by SKI find the same certificate
        let c = diia[0];
        assert!(!list.find_by_subject_der(&c.subject_der).is_empty());
        if let Some(ski) = &c.ski {
            assert!(list.find_by_ski(ski).iter().any(|x| **x == c.cert));
        }
    }

    fn certificate_identity_string(v: &der::Any) -> Option<String> {
        crate::names::directory_string(v)
    }

    #[test]
    fn identity_fields_of_a_real_ca_cert_keep_ukrainian_text() {
        let (list, _) = load_national();
        // Find any CA whose issuer CN is in Cyrillic and check it survives intact.
        let mut checked = 0;
        for c in list.certificates() {
            let (id, _) = identity_from_certificate(c).expect("identity from real cert");
            assert!(!id.full_name.is_empty());
            assert!(!id.cert_serial_hex.is_empty());
            if let Some(cn) = &id.issuer_cn
                && cn
                    .chars()
                    .any(|ch| ('А'..='я').contains(&ch) || "ІіЇїЄєҐґ".contains(ch))
            {
                // RFC 4514 escapes quotes/commas; unescaped, the CN must appear verbatim.
                let unescaped = id.issuer.replace('\\', "");
                assert!(
                    unescaped.contains(&format!("CN={cn}")),
                    "{} / {cn}",
                    id.issuer
                );
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} Cyrillic issuer CNs");
        // The central certification authority's name is Ukrainian text.
        let names: Vec<String> = list
            .certificates()
            .map(|c| name_to_string(c.tbs_certificate().issuer()))
            .collect();
        assert!(
            names
                .iter()
                .any(|n| n.contains("Центральний засвідчувальний орган")),
            "CZO name not found in issuers"
        );
    }

    #[test]
    fn pem_load_and_merge() {
        let (national, _) = load_national();
        let pems: String = national
            .certificates()
            .take(3)
            .map(|c| {
                use der::EncodePem;
                c.to_pem(der::pem::LineEnding::LF).expect("pem")
            })
            .collect();
        let input =
            format!("junk\n{pems}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        let (list, report) = TrustList::from_pem(input.as_bytes()).expect("pem");
        assert_eq!(list.len(), 3);
        assert_eq!(report.loaded, 3);
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].index, 3);
        let mut merged = list.clone();
        merged.merge(national.clone());
        assert_eq!(merged.len(), national.len());
        assert!(TrustList::from_pem(b"nothing here").is_err());
        assert!(TrustList::from_pkcs7_der(b"\x30\x03\x02\x01\x01").is_err());
    }
}
