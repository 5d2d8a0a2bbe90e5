//! Keeping the CAs' CRLs current in the background: every replica looks for lists that are
//! due, claims a few (so one replica downloads each), verifies them against their CA — a
//! complete list where a certificate's cRLDistributionPoints promise one, a delta where its
//! freshestCRL does — and stores them for all unless the CA numbered a list of the same scope
//! higher. A list is fetched again well before its nextUpdate.

use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use super::crl_store::{self, Claimed, REMOVE_FROM_CRL, Saved};
use super::responder::{ResponderClient, ResponderError};
use crate::clock::SharedClock;
use crate::signature::crl::{CheckedCrl, CrlError, CrlKind, check_crl};
use crate::signature::names::hex_upper;

/// Lists one replica takes per round.
const CLAIM_LIMIT: i64 = 8;
/// Longer than a download may take: other replicas leave a claimed list alone until then.
const LEASE: Duration = Duration::minutes(5);
/// A list that failed is tried again after this (or the refresh interval, if shorter).
const RETRY: Duration = Duration::minutes(1);

/// A list stored anew, with the certificates it revokes (for ending their sessions).
pub struct RefreshedList {
    pub url: String,
    /// The CA's name as identities give it.
    pub issuer: String,
    /// The CA's key as identities give it (`SignerIdentity::issuer_key_sha256`).
    pub issuer_key_sha256_hex: String,
    /// Serials as identities give them (uppercase hex).
    pub revoked_serials_hex: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error(transparent)]
    Download(#[from] ResponderError),
    #[error(transparent)]
    Check(#[from] CrlError),
}

impl FetchError {
    fn code(&self) -> &'static str {
        match self {
            FetchError::Download(_) => "download",
            FetchError::Check(e) => e.code(),
        }
    }
}

pub struct CrlRefresher {
    db: PgPool,
    clock: SharedClock,
    client: ResponderClient,
    skew: Duration,
    refresh: Duration,
}

impl CrlRefresher {
    /// `refresh`: the longest a stored list goes without a new download.
    pub fn new(
        db: PgPool,
        clock: SharedClock,
        connect_timeout: std::time::Duration,
        skew: Duration,
        refresh: Duration,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            client: ResponderClient::new(connect_timeout)?,
            db,
            clock,
            skew,
            refresh,
        })
    }

    /// How often a replica looks for due lists.
    pub fn poll_interval(&self) -> std::time::Duration {
        let seconds = self.refresh.whole_seconds().clamp(1, 30);
        std::time::Duration::from_secs(seconds.unsigned_abs())
    }

    /// Downloads and stores the lists that are due; returns those stored anew.
    pub async fn refresh_due(&self) -> Result<Vec<RefreshedList>, sqlx::Error> {
        let now = self.clock.now();
        let claimed = crl_store::claim_due(&self.db, now, now + LEASE, CLAIM_LIMIT).await?;
        let mut refreshed = Vec::new();
        for list in claimed {
            match self.fetch(&list).await {
                Ok(crl) => {
                    let now = self.clock.now();
                    let due = next_due(now, &crl, self.refresh);
                    let saved = crl_store::save(&self.db, &list, &crl, now, due).await?;
                    let outcome = match &saved {
                        Saved::Stored => "stored",
                        Saved::Unchanged => "unchanged",
                        Saved::Older { .. } => "older",
                        Saved::OtherScope => "other_scope",
                    };
                    metrics::counter!("kepgate_crl_refreshes_total", "outcome" => outcome)
                        .increment(1);
                    match saved {
                        Saved::Stored => {
                            tracing::info!(url = %list.url, number = %crl.number, revoked = crl.revoked.len(), next_update = %crl.next_update, "CRL stored");
                            refreshed.push(revoked_by(&list, crl));
                        }
                        Saved::Unchanged => {}
                        Saved::Older { newest } => {
                            let error = format!(
                                "the CRL is older than one stored of its scope: number {} < {newest}",
                                crl.number
                            );
                            tracing::warn!(url = %list.url, %error, "CRL not stored: kept the newer one");
                            self.failed(&list, &error).await?;
                        }
                        Saved::OtherScope => {
                            let error = "the CRL is of another scope than the one stored at its \
                                         address (another partition's list, or the CA's ARL)";
                            tracing::warn!(url = %list.url, error, "CRL not stored: kept the one of the address's scope");
                            self.failed(&list, error).await?;
                        }
                    }
                }
                Err(e) => {
                    metrics::counter!("kepgate_crl_refreshes_total", "outcome" => e.code())
                        .increment(1);
                    tracing::warn!(url = %list.url, error = %e, "CRL not refreshed");
                    self.failed(&list, &e.to_string()).await?;
                }
            }
        }
        Ok(refreshed)
    }

    /// The list is tried again after a minute (or the refresh interval, if shorter); the stored
    /// one stays.
    async fn failed(&self, list: &Claimed, error: &str) -> Result<(), sqlx::Error> {
        let retry = self.clock.now() + RETRY.min(self.refresh);
        crl_store::failed(&self.db, list, error, retry).await
    }

    async fn fetch(&self, list: &Claimed) -> Result<CheckedCrl, FetchError> {
        let der = self.client.download(&list.url).await?;
        let kind = match list.is_delta {
            true => CrlKind::Delta,
            false => CrlKind::Complete,
        };
        Ok(check_crl(
            &der,
            &list.issuer_der,
            kind,
            self.clock.now(),
            self.skew,
        )?)
    }
}

/// Well before the list's nextUpdate (a tenth of its period early), and at most `refresh` on;
/// a CA late with its next list is asked no more often than a failed download is retried.
fn next_due(now: OffsetDateTime, crl: &CheckedCrl, refresh: Duration) -> OffsetDateTime {
    let next = crl.next_update;
    let due = (now + refresh).min(next - (next - crl.this_update) / 10);
    due.max(now + RETRY.min(refresh))
}

fn revoked_by(list: &Claimed, crl: CheckedCrl) -> RefreshedList {
    let revoked_serials_hex = crl
        .revoked
        .iter()
        .filter(|(_, entry)| entry.reason != Some(REMOVE_FROM_CRL))
        .map(|(serial, _)| hex_upper(serial))
        .collect();
    RefreshedList {
        url: list.url.clone(),
        issuer: crl.issuer,
        issuer_key_sha256_hex: hex_upper(&list.issuer_key_sha256).to_ascii_lowercase(),
        revoked_serials_hex,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use time::macros::datetime;

    use super::*;

    fn crl(this_update: OffsetDateTime, next_update: OffsetDateTime) -> CheckedCrl {
        CheckedCrl {
            issuer: "CN=CA".to_owned(),
            this_update,
            next_update,
            number: crate::signature::crl::CrlNumber::from_be_bytes(&[1]).unwrap(),
            delta_base: None,
            scope: Default::default(),
            revoked: HashMap::new(),
        }
    }

    #[test]
    fn a_list_is_fetched_again_well_before_its_next_update() {
        let now = datetime!(2026-12-05 12:00 UTC);
        let day = crl(now, now + Duration::days(1));
        assert_eq!(
            next_due(now, &day, Duration::hours(1)),
            now + Duration::hours(1)
        );
        assert_eq!(
            next_due(now, &day, Duration::days(7)),
            now + Duration::days(1) - Duration::minutes(144)
        );
        // A CA late with its next list is not hammered.
        let ending = crl(now - Duration::days(1), now);
        assert_eq!(next_due(now, &ending, Duration::hours(1)), now + RETRY);
    }
}
