//! Certificate signatures already checked: "this certificate's signature verifies under that
//! issuer's key" is a pure function of the two certificates' bytes, so it is remembered by
//! their hash and not computed again when the same person signs in again (chain.rs).
//!
//! Only that one fact is remembered. Everything that depends on the time or on the trust list
//! (validity at the signing time, CA constraints, which anchors are trusted) is checked at every
//! verification, and the certificate's revocation status is asked per login by the caller.

use sha2::{Digest, Sha256};

use crate::memo::Memo;
use crate::parsed_cert::ParsedCert;

/// Enough for every certificate that signs in within a while on a busy gateway; when full, the
/// set starts again empty (at most one more check per certificate), so memory stays bounded
/// whatever certificates are presented (32 bytes an entry).
const CAPACITY: usize = 16_384;

pub(crate) struct VerifiedIssuances {
    seen: Memo<()>,
}

impl Default for VerifiedIssuances {
    fn default() -> Self {
        Self {
            seen: Memo::new(CAPACITY),
        }
    }
}

impl VerifiedIssuances {
    pub(crate) fn contains(&self, child: &ParsedCert, issuer: &ParsedCert) -> bool {
        self.seen.get(&key(child, issuer)).is_some()
    }

    /// Call only after `child`'s signature was verified with `issuer`'s key.
    pub(crate) fn remember(&self, child: &ParsedCert, issuer: &ParsedCert) {
        self.seen.put(key(child, issuer), ());
    }
}

/// SHA-256 over both certificates as received. A DER element carries its own length, so the
/// two encodings side by side name exactly one pair.
fn key(child: &ParsedCert, issuer: &ParsedCert) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(&child.der);
    hash.update(&issuer.der);
    hash.finalize().into()
}

/// A copy of a trust list starts with nothing remembered (the cache is not part of its value).
impl Clone for VerifiedIssuances {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for VerifiedIssuances {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedIssuances")
            .field("remembered", &self.seen.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_ca::TestCa;
    use time::macros::datetime;

    #[test]
    fn remembers_a_pair_and_only_that_pair() {
        let now = datetime!(2026-11-25 12:00 UTC);
        let root = TestCa::generate("Корінь", now).unwrap();
        let sub = root.issue_sub_ca("Проміжний", now).unwrap();
        let other = TestCa::generate("Інший", now).unwrap();
        let parsed = |ca: &TestCa| ParsedCert::parse(ca.cert_der()).unwrap();
        let (root, sub, other) = (parsed(&root), parsed(&sub), parsed(&other));
        let issuances = VerifiedIssuances::default();
        assert!(!issuances.contains(&sub, &root));
        issuances.remember(&sub, &root);
        assert!(issuances.contains(&sub, &root));
        assert!(!issuances.contains(&sub, &other));
        assert!(!issuances.contains(&root, &sub));
    }
}
