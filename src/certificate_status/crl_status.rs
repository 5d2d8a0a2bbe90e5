//! What the stored CRLs of a CA, taken together, say about one certificate (RFC 5280 §6.3.3):
//! the complete list of the highest number among those that answer for it, completed by the
//! delta list of the highest number that completes it (§5.2.4).

use super::crl_store::{ListWord, REMOVE_FROM_CRL};
use super::status::CertificateStatus;
use crate::signature::crl::CrlScope;

/// None when no complete list in force answers for the certificate (`covers` says which scopes
/// do): the lists have nothing to say.
pub(crate) fn status_from_lists(
    words: &[ListWord],
    covers: impl Fn(&CrlScope) -> bool,
) -> Option<CertificateStatus> {
    let complete = words
        .iter()
        .filter(|w| !w.is_delta && covers(&w.scope))
        .max_by(|a, b| a.number.cmp(&b.number))?;
    let delta = words
        .iter()
        .filter(|w| completes(w, complete))
        .max_by(|a, b| a.number.cmp(&b.number));
    // A delta names every change since its base: when it names the serial, it has the last word.
    let last_word = match delta {
        Some(d) if d.revoked_at.is_some() => d,
        _ => complete,
    };
    let source = format!("crl {}", last_word.url);
    match (last_word.revoked_at, last_word.reason) {
        (Some(_), Some(reason)) if reason == i16::from(REMOVE_FROM_CRL) => {
            Some(CertificateStatus::Good { source })
        }
        (Some(at), reason) => Some(CertificateStatus::Revoked {
            at,
            reason: reason.and_then(|r| u8::try_from(r).ok()),
            source,
        }),
        (None, _) => Some(CertificateStatus::Good { source }),
    }
}

/// RFC 5280 §5.2.4: a delta completes a complete list of the same issuer (both are the CA's
/// lists, checked against its key) and the same scope, which holds at least what the delta's
/// base held (its number is not below the BaseCRLNumber) and which the delta follows (its number
/// is below the delta's).
fn completes(delta: &ListWord, complete: &ListWord) -> bool {
    let Some(base) = &delta.delta_base else {
        return false;
    };
    delta.is_delta
        && delta.scope == complete.scope
        && *base <= complete.number
        && complete.number < delta.number
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::signature::crl::CrlNumber;

    fn number(n: u8) -> CrlNumber {
        CrlNumber::from_be_bytes(&[n]).unwrap()
    }

    /// A list numbered `n` (a delta when `base` is given) that names the serial with `revoked`
    /// (-1: no reason).
    fn word(url: &str, n: u8, base: Option<u8>, revoked: Option<i16>) -> ListWord {
        ListWord {
            url: url.to_owned(),
            is_delta: base.is_some(),
            number: number(n),
            delta_base: base.map(number),
            scope: CrlScope::default(),
            revoked_at: revoked.map(|_| datetime!(2026-11-20 0:00 UTC)),
            reason: revoked.filter(|&r| r >= 0),
        }
    }

    fn all(_: &CrlScope) -> bool {
        true
    }

    fn revoked(status: Option<CertificateStatus>) -> Option<bool> {
        status.map(|s| matches!(s, CertificateStatus::Revoked { .. }))
    }

    #[test]
    fn without_a_complete_list_that_covers_the_certificate_the_lists_say_nothing() {
        assert_eq!(status_from_lists(&[], all), None);
        assert_eq!(
            status_from_lists(&[word("d", 2, Some(1), Some(1))], all),
            None
        );
        assert_eq!(
            status_from_lists(&[word("full", 1, None, None)], |_| false),
            None
        );
    }

    #[test]
    fn the_complete_list_of_the_highest_number_decides_when_no_delta_names_the_serial() {
        let words = [
            word("new", 3, None, None),
            word("old", 1, None, Some(1)),
            word("d", 4, Some(3), None),
        ];
        assert_eq!(
            status_from_lists(&words, all),
            Some(CertificateStatus::Good {
                source: "crl new".to_owned()
            })
        );
        let words = [word("new", 3, None, Some(-1)), word("old", 1, None, None)];
        assert_eq!(revoked(status_from_lists(&words, all)), Some(true));
    }

    #[test]
    fn a_delta_that_completes_the_complete_list_revokes_and_takes_back() {
        let revokes = [word("full", 1, None, None), word("d", 2, Some(1), Some(1))];
        assert_eq!(revoked(status_from_lists(&revokes, all)), Some(true));
        let takes_back = [
            word("full", 1, None, Some(6)),
            word("d", 2, Some(1), Some(8)),
        ];
        assert_eq!(revoked(status_from_lists(&takes_back, all)), Some(false));
        // A complete list newer than the delta's base still takes it (§5.2.4 (c)).
        let newer_complete = [
            word("full", 3, None, Some(6)),
            word("d", 4, Some(2), Some(8)),
        ];
        assert_eq!(
            revoked(status_from_lists(&newer_complete, all)),
            Some(false)
        );
    }

    #[test]
    fn a_delta_that_does_not_complete_the_complete_list_is_not_used() {
        // Not after the complete list in the numbering (§5.2.4 (d)): it is already in it.
        let older = [
            word("full", 3, None, Some(1)),
            word("d", 3, Some(2), Some(8)),
        ];
        assert_eq!(revoked(status_from_lists(&older, all)), Some(true));
        let older = [
            word("full", 3, None, Some(1)),
            word("d", 2, Some(1), Some(8)),
        ];
        assert_eq!(revoked(status_from_lists(&older, all)), Some(true));
        // Its base is newer than the complete list (§5.2.4 (c)): changes in between are missing.
        let ahead = [
            word("full", 1, None, Some(6)),
            word("d", 4, Some(2), Some(8)),
        ];
        assert_eq!(revoked(status_from_lists(&ahead, all)), Some(true));
        // Of another scope (§5.2.4 (b)).
        let mut other_scope = word("d", 2, Some(1), Some(8));
        other_scope.scope = scope_naming("http://ca.test/other.crl");
        let words = [word("full", 1, None, Some(6)), other_scope];
        assert_eq!(revoked(status_from_lists(&words, all)), Some(true));
    }

    #[test]
    fn only_complete_lists_that_cover_the_certificate_count() {
        let mut partition = word("p2", 9, None, None);
        partition.scope = scope_naming("http://ca.test/p2.crl");
        let words = [word("p1", 1, None, Some(1)), partition];
        let only_unscoped = |s: &CrlScope| s.as_der().is_empty();
        assert_eq!(
            revoked(status_from_lists(&words, only_unscoped)),
            Some(true)
        );
        assert_eq!(revoked(status_from_lists(&words, all)), Some(false));
    }

    /// An IssuingDistributionPoint naming `url`: [0] { [0] fullName { [6] url } }.
    fn scope_naming(url: &str) -> CrlScope {
        let uri = [&[0x86, url.len() as u8][..], url.as_bytes()].concat();
        let full_name = [&[0xa0, uri.len() as u8][..], &uri].concat();
        let point = [&[0xa0, full_name.len() as u8][..], &full_name].concat();
        let idp = [&[0x30, point.len() as u8][..], &point].concat();
        CrlScope::from_der(&idp).unwrap()
    }
}
