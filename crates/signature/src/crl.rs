//! Certificate revocation lists (RFC 5280 §5), complete and delta, checked as §6.3 asks of a
//! relying party: signed by the issuing CA, of the kind their distribution point promises,
//! current (a list without nextUpdate never is), numbered, and free of critical extensions
//! kepgate does not apply. Read into what the gateway stores and looks up: the revoked serials,
//! the dates, the CRL number, for a delta the base it completes, and the list's scope.

use std::collections::{HashMap, HashSet};

use const_oid::db::rfc5280::{
    ID_CE_CERTIFICATE_ISSUER, ID_CE_CRL_NUMBER, ID_CE_CRL_REASONS, ID_CE_DELTA_CRL_INDICATOR,
    ID_CE_ISSUING_DISTRIBUTION_POINT,
};
use der::Decode;
use der::asn1::BitString;
use spki::AlgorithmIdentifierOwned;
use time::{Duration, OffsetDateTime};
use x509_cert::certificate::Rfc5280;
use x509_cert::crl::CertificateList;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::KeyUsages;
use x509_cert::ext::pkix::crl::{BaseCrlNumber, CrlNumber as CrlNumberExtension, CrlReason};

use crate::algorithm::{cert_scheme, signature_octets, verify_with_key};
use crate::chain::key_usage;
pub use crate::crl_scope::{CrlScope, ScopeError};
use crate::parsed_cert::{ParsedCert, x509_time};

/// What a distribution point promises: a certificate's cRLDistributionPoints name complete
/// lists, its freshestCRL delta lists (RFC 5280 §4.2.1.13, §4.2.1.15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrlKind {
    Complete,
    Delta,
}

impl std::fmt::Display for CrlKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CrlKind::Complete => "a complete CRL",
            CrlKind::Delta => "a delta CRL",
        })
    }
}

/// A cRLNumber or BaseCRLNumber (RFC 5280 §5.2.3): a non-negative integer of at most 20
/// octets, ordered by value. Kept as big-endian octets without leading zeros (zero is one
/// octet), the form it is stored in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CrlNumber(Vec<u8>);

impl CrlNumber {
    /// RFC 5280 §5.2.3: relying parties handle numbers of up to 20 octets; a CA issues no longer.
    const MAX_OCTETS: usize = 20;

    /// From big-endian octets (leading zeros allowed); None beyond 20 octets of value.
    pub fn from_be_bytes(bytes: &[u8]) -> Option<CrlNumber> {
        let start = bytes
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(bytes.len().saturating_sub(1));
        let value = bytes.get(start..).filter(|v| !v.is_empty()).unwrap_or(&[0]);
        (value.len() <= Self::MAX_OCTETS).then(|| CrlNumber(value.to_vec()))
    }

    pub fn as_be_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Ord for CrlNumber {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Without leading zeros, a longer number is a larger one.
        (self.0.len(), &self.0).cmp(&(other.0.len(), &other.0))
    }
}

impl PartialOrd for CrlNumber {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for CrlNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("0x")?;
        self.0.iter().try_for_each(|b| write!(f, "{b:02X}"))
    }
}

/// One revoked certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedEntry {
    pub at: OffsetDateTime,
    /// CRLReason code (1 = keyCompromise, …) when the CA gave one.
    pub reason: Option<u8>,
}

/// A CRL whose signature, kind, dates and extensions were checked.
#[derive(Clone, Debug)]
pub struct CheckedCrl {
    /// The issuing CA's name as identities give it (`SignerIdentity::issuer`).
    pub issuer: String,
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
    pub number: CrlNumber,
    /// Set for a delta CRL: the number of the complete CRL it completes (BaseCRLNumber).
    pub delta_base: Option<CrlNumber>,
    /// Which certificates of the CA the list answers for (its IssuingDistributionPoint).
    pub scope: CrlScope,
    /// Revoked serial numbers (big-endian octets as in the certificate) and why.
    pub revoked: HashMap<Vec<u8>, RevokedEntry>,
}

impl CheckedCrl {
    pub fn kind(&self) -> CrlKind {
        match self.delta_base {
            Some(_) => CrlKind::Delta,
            None => CrlKind::Complete,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlError {
    #[error("the CRL is malformed: {0}")]
    Malformed(String),
    #[error("the CRL is not issued by this CA")]
    WrongIssuer,
    #[error("the CRL's signature is invalid: {0}")]
    BadSignature(String),
    #[error("the CRL is stale: its nextUpdate {next_update} is past (now {now})")]
    Stale {
        next_update: OffsetDateTime,
        now: OffsetDateTime,
    },
    #[error("the CRL is dated in the future: {this_update} (now {now})")]
    FromTheFuture {
        this_update: OffsetDateTime,
        now: OffsetDateTime,
    },
    #[error("the CRL has no nextUpdate, so it could be served as current for ever")]
    NoNextUpdate,
    #[error("the CRL has no cRLNumber: it cannot be told from an older one")]
    NoNumber,
    #[error("{expected} was expected here, this is {found}")]
    WrongKind { expected: CrlKind, found: CrlKind },
    #[error("the CRL has a critical extension kepgate does not apply: {0}")]
    CriticalExtension(String),
    #[error("an entry of the CRL has a critical extension kepgate does not apply: {0}")]
    CriticalEntryExtension(String),
    #[error("the CRL's scope is not supported: {0}")]
    UnsupportedScope(&'static str),
}

impl CrlError {
    pub fn code(&self) -> &'static str {
        match self {
            CrlError::Malformed(_) => "crl_malformed",
            CrlError::WrongIssuer => "crl_wrong_issuer",
            CrlError::BadSignature(_) => "crl_bad_signature",
            CrlError::Stale { .. } => "crl_stale",
            CrlError::FromTheFuture { .. } => "crl_future",
            CrlError::NoNextUpdate => "crl_no_next_update",
            CrlError::NoNumber => "crl_no_number",
            CrlError::WrongKind { .. } => "crl_wrong_kind",
            CrlError::CriticalExtension(_) => "crl_critical_extension",
            CrlError::CriticalEntryExtension(_) => "crl_critical_entry_extension",
            CrlError::UnsupportedScope(_) => "crl_unsupported_scope",
        }
    }
}

impl From<ScopeError> for CrlError {
    fn from(e: ScopeError) -> Self {
        match e {
            ScopeError::Malformed(_) => CrlError::Malformed(e.to_string()),
            ScopeError::Unsupported(what) => CrlError::UnsupportedScope(what),
        }
    }
}

fn malformed(e: impl std::fmt::Display) -> CrlError {
    CrlError::Malformed(e.to_string())
}

/// Checks `crl_der` (DER, as downloaded from a distribution point promising `kind`) against the
/// CA certificate `issuer_der` at `now`.
pub fn check_crl(
    crl_der: &[u8],
    issuer_der: &[u8],
    kind: CrlKind,
    now: OffsetDateTime,
    skew: Duration,
) -> Result<CheckedCrl, CrlError> {
    let issuer = ParsedCert::parse(issuer_der).map_err(malformed)?;
    verify_signature(crl_der, &issuer)?;
    let crl = CertificateList::<Rfc5280>::from_der(crl_der).map_err(malformed)?;
    let tbs = &crl.tbs_cert_list;

    let this_update = x509_time(tbs.this_update);
    let next_update = tbs
        .next_update
        .map(x509_time)
        .ok_or(CrlError::NoNextUpdate)?;
    if this_update > now + skew {
        return Err(CrlError::FromTheFuture { this_update, now });
    }
    if next_update < now - skew {
        return Err(CrlError::Stale { next_update, now });
    }
    let extensions = ListExtensions::read(tbs.crl_extensions.as_deref().unwrap_or_default())?;
    let number = extensions.number.ok_or(CrlError::NoNumber)?;
    let found = match extensions.delta_base {
        Some(_) => CrlKind::Delta,
        None => CrlKind::Complete,
    };
    if found != kind {
        return Err(CrlError::WrongKind {
            expected: kind,
            found,
        });
    }
    let mut revoked = HashMap::new();
    for entry in tbs.revoked_certificates.iter().flatten() {
        let reason = entry_reason(entry.crl_entry_extensions.as_deref().unwrap_or_default())?;
        revoked.insert(
            entry.serial_number.as_bytes().to_vec(),
            RevokedEntry {
                at: x509_time(entry.revocation_date),
                reason,
            },
        );
    }
    Ok(CheckedCrl {
        issuer: crate::names::name_to_string(&tbs.issuer),
        this_update,
        next_update,
        number,
        delta_base: extensions.delta_base,
        scope: extensions.scope,
        revoked,
    })
}

/// The list names `issuer`, which may sign CRLs, and is signed by its key.
fn verify_signature(crl_der: &[u8], issuer: &ParsedCert) -> Result<(), CrlError> {
    // Only the outer structure is read before the signature holds: a list of millions of
    // entries the CA never signed costs a hash, not their decoding (an unsigned 113 MiB list
    // took ~0.5 GB to refuse when it was decoded first).
    let [tbs, algorithm, signature] = crate::tlv::single(crl_der)
        .and_then(|outer| crate::tlv::children(outer.value))
        .and_then(|parts| <[crate::tlv::Tlv<'_>; 3]>::try_from(parts).ok())
        .ok_or_else(|| malformed("not tbsCertList, signatureAlgorithm and signatureValue"))?;
    // tbsCertList: an optional version (INTEGER), the signature algorithm, the issuer, …
    let issuer_name = crate::tlv::children(tbs.value)
        .and_then(|fields| fields.into_iter().skip_while(|f| f.tag == 0x02).nth(1))
        .ok_or_else(|| malformed("no issuer in tbsCertList"))?;
    if issuer_name.raw != issuer.subject_der.as_slice() {
        return Err(CrlError::WrongIssuer);
    }
    // A CA whose key usage is stated must be allowed to sign CRLs.
    if let Ok(Some(ku)) = key_usage(issuer)
        && !ku.0.contains(KeyUsages::CRLSign)
    {
        return Err(CrlError::WrongIssuer);
    }
    let algorithm = AlgorithmIdentifierOwned::from_der(algorithm.raw).map_err(malformed)?;
    let signature = BitString::from_der(signature.raw).map_err(malformed)?;
    let bad = |e: crate::VerifyError| CrlError::BadSignature(e.to_string());
    let scheme = cert_scheme(&algorithm).map_err(bad)?;
    let sig = signature_octets(scheme, &signature).map_err(bad)?;
    // The signature is over tbsCertList exactly as received.
    verify_with_key(
        issuer.cert.tbs_certificate().subject_public_key_info(),
        scheme,
        tbs.raw,
        sig,
    )
    .map(|_| ())
    .map_err(bad)
}

/// The CRL extensions kepgate applies (RFC 5280 §5.2); any other marked critical makes the list
/// unusable (§5.2: "MUST NOT use that CRL to determine the status of certificates").
struct ListExtensions {
    number: Option<CrlNumber>,
    delta_base: Option<CrlNumber>,
    scope: CrlScope,
}

impl ListExtensions {
    fn read(extensions: &[Extension]) -> Result<ListExtensions, CrlError> {
        let mut read = ListExtensions {
            number: None,
            delta_base: None,
            scope: CrlScope::default(),
        };
        once_each(extensions)?;
        for ext in extensions {
            let value = ext.extn_value.as_bytes();
            match ext.extn_id {
                ID_CE_CRL_NUMBER => {
                    let n = CrlNumberExtension::from_der(value).map_err(malformed)?;
                    read.number = Some(number(n.0.as_bytes())?);
                }
                ID_CE_DELTA_CRL_INDICATOR => {
                    let base = BaseCrlNumber::from_der(value).map_err(malformed)?;
                    read.delta_base = Some(number(base.0.as_bytes())?);
                }
                ID_CE_ISSUING_DISTRIBUTION_POINT => read.scope = CrlScope::from_der(value)?,
                oid if ext.critical => return Err(CrlError::CriticalExtension(oid.to_string())),
                _ => {}
            }
        }
        Ok(read)
    }
}

fn number(bytes: &[u8]) -> Result<CrlNumber, CrlError> {
    CrlNumber::from_be_bytes(bytes).ok_or_else(|| malformed("a CRL number longer than 20 octets"))
}

/// An extension twice is ambiguous (RFC 5280 §4.2, for CRLs as for certificates).
fn once_each(extensions: &[Extension]) -> Result<(), CrlError> {
    let mut seen = HashSet::new();
    match extensions.iter().find(|e| !seen.insert(e.extn_id)) {
        Some(twice) => Err(malformed(format!("extension {} twice", twice.extn_id))),
        None => Ok(()),
    }
}

/// The reason of one entry. certificateIssuer belongs to indirect CRLs, which kepgate does not
/// use; any other critical entry extension makes the list unusable (RFC 5280 §5.3).
fn entry_reason(extensions: &[Extension]) -> Result<Option<u8>, CrlError> {
    once_each(extensions)?;
    let mut reason = None;
    for ext in extensions {
        match ext.extn_id {
            ID_CE_CRL_REASONS => {
                reason = CrlReason::from_der(ext.extn_value.as_bytes())
                    .ok()
                    .map(|r| r as u8);
            }
            ID_CE_CERTIFICATE_ISSUER => {
                return Err(CrlError::UnsupportedScope(
                    "an entry names another certificate issuer (an indirect CRL)",
                ));
            }
            oid if ext.critical => {
                return Err(CrlError::CriticalEntryExtension(oid.to_string()));
            }
            _ => {}
        }
    }
    Ok(reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_pki::Pki;

    /// OpenSSL dates its CRLs by the real clock, so these checks must use it too.
    #[allow(clippy::disallowed_methods)]
    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    const SKEW: Duration = Duration::minutes(5);

    fn serial(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    fn complete(der: &[u8], issuer: &[u8]) -> Result<CheckedCrl, CrlError> {
        check_crl(der, issuer, CrlKind::Complete, now(), SKEW)
    }

    #[test]
    fn an_openssl_crl_lists_the_revoked_leaf_with_its_reason_and_number() {
        let pki = Pki::new();
        let crl = complete(&pki.crl(24), &pki.der("ca")).unwrap();
        assert!(crl.revoked.is_empty());
        assert_eq!(crl.number.as_be_bytes(), serial("1000"));
        assert_eq!(crl.delta_base, None);
        assert_eq!(crl.scope, CrlScope::default());

        pki.index(&["leaf"]);
        let crl = complete(&pki.crl(24), &pki.der("ca")).unwrap();
        assert_eq!(crl.number.as_be_bytes(), serial("1001"));
        let next = crl.next_update;
        assert!(next > now() + Duration::hours(23) && next < now() + Duration::hours(25));
        assert_eq!(crl.revoked.len(), 1);
        let entry = &crl.revoked[&serial("1001")];
        assert_eq!(entry.at.unix_timestamp(), 1_767_225_600);
        assert_eq!(entry.reason, Some(1));
        assert!(!crl.revoked.contains_key(&serial("1002")));
    }

    #[test]
    fn a_foreign_tampered_stale_or_future_crl_is_refused() {
        let pki = Pki::new();
        pki.index(&["leaf"]);
        let der = pki.crl(1);
        let ca = pki.der("ca");
        assert!(complete(&der, &ca).is_ok());
        assert_eq!(
            complete(&der, &pki.der("other")).unwrap_err(),
            CrlError::WrongIssuer
        );
        for at in [der.len() / 3, der.len() - 2] {
            let mut bad = der.clone();
            bad[at] ^= 0x01;
            assert!(complete(&bad, &ca).is_err(), "flip at {at}");
        }
        let at = |t| check_crl(&der, &ca, CrlKind::Complete, t, SKEW).unwrap_err();
        let e = at(now() + Duration::hours(2));
        assert!(matches!(e, CrlError::Stale { .. }), "{e}");
        let e = at(now() - Duration::hours(1));
        assert!(matches!(e, CrlError::FromTheFuture { .. }), "{e}");
        let e = complete(b"<html>", &ca).unwrap_err();
        assert!(matches!(e, CrlError::Malformed(_)), "{e}");
    }

    #[test]
    fn a_list_the_ca_did_not_sign_is_refused_before_its_entries_are_read() {
        let pki = Pki::new();
        pki.index(&["leaf"]);
        let der = pki.crl(1);
        let ca = pki.der("ca");
        // The list's own parts, its entries replaced by 100,000 that are not entries at all
        // (what a path attacker serves to make the gateway decode a huge list).
        let outer = crate::tlv::single(&der).unwrap();
        let parts = crate::tlv::children(outer.value).unwrap();
        let fields = crate::tlv::children(parts[0].value).unwrap();
        let junk: Vec<u8> = (0..100_000)
            .flat_map(|_| [0x30, 0x02, 0x05, 0x00])
            .collect();
        let mut tbs = Vec::new();
        for field in &fields {
            let revoked_entries = field.tag == 0x30
                && crate::tlv::children(field.value).is_some_and(|entries| {
                    entries.iter().all(|e| e.tag == 0x30) && !entries.is_empty()
                })
                && field.raw != fields[1].raw
                && field.raw != fields[2].raw;
            if revoked_entries {
                tbs.extend(crate::tlv::encode(0x30, &junk));
            } else {
                tbs.extend_from_slice(field.raw);
            }
        }
        assert!(tbs.len() > 400_000, "the entries were replaced");
        let mut list = crate::tlv::encode(0x30, &tbs);
        list.extend_from_slice(parts[1].raw);
        list.extend_from_slice(parts[2].raw);
        let forged = crate::tlv::encode(0x30, &list);
        let e = complete(&forged, &ca).unwrap_err();
        assert!(matches!(e, CrlError::BadSignature(_)), "{e}");
    }

    #[test]
    fn a_list_is_taken_only_as_the_kind_its_distribution_point_promises() {
        let pki = Pki::new();
        let (der, ca) = (pki.crl(1), pki.der("ca"));
        assert_eq!(
            check_crl(&der, &ca, CrlKind::Delta, now(), SKEW).unwrap_err(),
            CrlError::WrongKind {
                expected: CrlKind::Delta,
                found: CrlKind::Complete
            }
        );
        let test_ca = crate::test_ca::TestCa::generate("Дельта КНЕДП", now()).unwrap();
        let delta = test_ca
            .delta_crl(&[], 8, 7, now(), now() + Duration::hours(1))
            .unwrap();
        let e = complete(&delta, test_ca.cert_der()).unwrap_err();
        assert_eq!(e.code(), "crl_wrong_kind", "{e}");
        let crl = check_crl(&delta, test_ca.cert_der(), CrlKind::Delta, now(), SKEW).unwrap();
        assert_eq!(crl.kind(), CrlKind::Delta);
        assert_eq!(crl.delta_base, CrlNumber::from_be_bytes(&[7]));
    }

    #[test]
    fn an_unknown_critical_extension_makes_the_list_unusable() {
        let pki = Pki::new();
        let e = complete(&pki.crl_with(1, "crl_critical"), &pki.der("ca")).unwrap_err();
        assert_eq!(
            e,
            CrlError::CriticalExtension("1.3.6.1.4.1.55555.1".to_owned())
        );
    }

    #[test]
    fn an_issuing_distribution_point_is_the_scope_and_covers_only_the_certificates_naming_it() {
        let pki = Pki::new();
        let crl = complete(&pki.crl_with(1, "crl_idp"), &pki.der("ca")).unwrap();
        assert!(!crl.scope.as_der().is_empty());
        assert_eq!(
            CrlScope::from_der(crl.scope.as_der()),
            Ok(crl.scope.clone())
        );
        // The leaf names http://ca.test/full.crl, as the list does.
        assert!(crl.scope.covers(&pki.der("leaf")));
        // A certificate naming no distribution point, a CA certificate (user certificates only).
        assert!(!crl.scope.covers(&pki.der("responder")));
        assert!(!crl.scope.covers(&pki.der("ca")));
        assert!(!crl.scope.covers(b"not a certificate"));
        assert!(CrlScope::default().covers(&pki.der("responder")));
    }

    #[test]
    fn crl_numbers_compare_by_value_and_end_at_twenty_octets() {
        let n = |bytes: &[u8]| CrlNumber::from_be_bytes(bytes).unwrap();
        assert_eq!(n(&[0, 0, 5]), n(&[5]));
        assert_eq!(n(&[]), n(&[0]));
        assert!(n(&[1, 0]) > n(&[0xff]));
        assert!(n(&[0x7f]) < n(&[0x80]));
        assert_eq!(n(&[0x10, 0x00]).to_string(), "0x1000");
        assert!(CrlNumber::from_be_bytes(&[0xff; 20]).is_some());
        assert!(CrlNumber::from_be_bytes(&[0x01; 21]).is_none());
        assert!(CrlNumber::from_be_bytes(&[[0u8].as_slice(), &[0x01; 20]].concat()).is_some());
    }
}
