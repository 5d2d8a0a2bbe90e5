//! What the stored CRLs of a CA, taken together, say about one certificate: the newest full
//! list, completed by the newest delta list issued after it (RFC 5280 §5.2.4).

use super::crl_store::{ListWord, REMOVE_FROM_CRL};
use super::status::CertificateStatus;

/// None when no full list is in force: the lists have nothing to say.
pub(crate) fn status_from_lists(words: &[ListWord]) -> Option<CertificateStatus> {
    let full = words
        .iter()
        .filter(|w| !w.is_delta)
        .max_by_key(|w| w.this_update)?;
    let delta = words
        .iter()
        .filter(|w| w.is_delta && w.this_update >= full.this_update)
        .max_by_key(|w| w.this_update);
    // A delta names every change since its base: when it names the serial, it has the last word.
    let last_word = match delta {
        Some(d) if d.revoked_at.is_some() => d,
        _ => full,
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

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn word(url: &str, is_delta: bool, day: u8, revoked: Option<i16>) -> ListWord {
        ListWord {
            url: url.to_owned(),
            is_delta,
            this_update: datetime!(2026-12-01 0:00 UTC).replace_day(day).unwrap(),
            revoked_at: revoked.map(|_| datetime!(2026-11-20 0:00 UTC)),
            reason: revoked.filter(|&r| r >= 0),
        }
    }

    fn revoked(status: Option<CertificateStatus>) -> Option<bool> {
        status.map(|s| matches!(s, CertificateStatus::Revoked { .. }))
    }

    #[test]
    fn without_a_full_list_the_lists_say_nothing() {
        assert_eq!(status_from_lists(&[]), None);
        assert_eq!(status_from_lists(&[word("d", true, 2, Some(1))]), None);
    }

    #[test]
    fn the_newest_full_list_decides_when_no_delta_names_the_serial() {
        let words = [
            word("old", false, 1, Some(1)),
            word("new", false, 3, None),
            word("d", true, 4, None),
        ];
        assert_eq!(
            status_from_lists(&words),
            Some(CertificateStatus::Good {
                source: "crl new".to_owned()
            })
        );
        let words = [word("old", false, 1, None), word("new", false, 3, Some(-1))];
        assert_eq!(revoked(status_from_lists(&words)), Some(true));
    }

    #[test]
    fn a_delta_after_the_full_list_revokes_and_takes_back() {
        let revokes = [word("full", false, 1, None), word("d", true, 2, Some(1))];
        assert_eq!(revoked(status_from_lists(&revokes)), Some(true));
        let takes_back = [word("full", false, 1, Some(6)), word("d", true, 2, Some(8))];
        assert_eq!(revoked(status_from_lists(&takes_back)), Some(false));
        // A delta older than the full list is already in it.
        let stale_delta = [word("full", false, 3, None), word("d", true, 2, Some(1))];
        assert_eq!(revoked(status_from_lists(&stale_delta)), Some(false));
    }
}
