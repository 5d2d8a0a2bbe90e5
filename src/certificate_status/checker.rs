//! The status of a certificate at login (a signer's, or a CA certificate of its path): a fresh
//! enough shared answer from PostgreSQL, else the CA's OCSP responders in turn (from the
//! certificate's Authority Information Access, or the national CA list's for its issuer when it
//! names none), each retried on transport failures and bounded by the timeout; a checked answer
//! is kept for every replica until its nextUpdate, capped by `cache_max`. When no responder
//! gives a status, the CA's stored CRLs still in force decide — those at the certificate's own
//! distribution points whose scope covers it; the certificate's CRL distribution points are
//! made known to the background refresher at every check that reaches the responders.

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::ca_list::CaList;
use super::crl_status::status_from_lists;
use super::crl_store::{self, ListSource, OwnLists};
use super::responder::{ResponderClient, ResponderError};
use super::status::CertificateStatus;
use super::store::{self, CertificateKey};
use crate::clock::SharedClock;
use crate::signature::ocsp::{CertStatus, OcspError, OcspQuery};
use crate::signature::revocation_sources::{RevocationSources, revocation_sources};

#[derive(Clone, Debug)]
pub struct CheckerSettings {
    /// Per responder attempt: connect, send and read.
    pub timeout: std::time::Duration,
    /// Further attempts at a responder that could not be reached.
    pub retries: u32,
    /// Clock difference tolerated between the responder and us.
    pub skew: time::Duration,
    /// The longest a good answer is reused, whatever its nextUpdate says.
    pub cache_max: time::Duration,
}

/// Why no status could be had.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    #[error("the certificate names no OCSP responder")]
    NoResponder,
    #[error("OCSP responder {url}: {error}")]
    Responder { url: String, error: ResponderError },
    #[error("OCSP responder {url}: {error}")]
    Answer { url: String, error: OcspError },
    #[error("OCSP responder {url} does not know the certificate")]
    Unknown { url: String },
    #[error("the certificate cannot be asked about: {0}")]
    Certificate(String),
    #[error("no randomness for the OCSP nonce: {0}")]
    Randomness(getrandom::Error),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl Unavailable {
    /// Stable reason code for the login history and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Unavailable::NoResponder => "ocsp_no_responder",
            Unavailable::Responder { error, .. } => error.code(),
            Unavailable::Answer { error, .. } => error.code(),
            Unavailable::Unknown { .. } => "ocsp_unknown",
            Unavailable::Certificate(_) => "ocsp_bad_certificate",
            Unavailable::Randomness(_) | Unavailable::Database(_) => "ocsp_internal",
        }
    }

    /// Nobody could be asked or nobody answered — as opposed to an answer that failed its
    /// checks or said "unknown", which may be an attack and is never waved through.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Unavailable::NoResponder | Unavailable::Responder { .. } => true,
            Unavailable::Answer { error, .. } => matches!(error, OcspError::NotSuccessful(_)),
            _ => false,
        }
    }
}

pub struct RevocationChecker {
    db: PgPool,
    clock: SharedClock,
    client: ResponderClient,
    settings: CheckerSettings,
    ca_list: CaList,
}

impl RevocationChecker {
    /// `ca_list`: responders for certificates that name none.
    pub fn new(
        db: PgPool,
        clock: SharedClock,
        settings: CheckerSettings,
        ca_list: CaList,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            client: ResponderClient::new(settings.timeout)?,
            db,
            clock,
            settings,
            ca_list,
        })
    }

    /// The status of `signer_der` as issued by `issuer_der`, whose CN is `issuer_cn`.
    pub async fn status(
        &self,
        signer_der: &[u8],
        issuer_der: &[u8],
        issuer_cn: Option<&str>,
    ) -> Result<CertificateStatus, Unavailable> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(Unavailable::Randomness)?;
        let query =
            OcspQuery::new(signer_der, issuer_der, &nonce).map_err(Unavailable::Certificate)?;
        let key = CertificateKey {
            issuer_key_sha256: Sha256::digest(query.issuer_key()).to_vec(),
            serial: query.serial().to_vec(),
        };
        if let Some(kept) = store::reusable(&self.db, &key, self.clock.now()).await? {
            metrics::counter!("kepgate_revocation_checks_total", "outcome" => "cached")
                .increment(1);
            return Ok(kept);
        }
        let sources = revocation_sources(signer_der).map_err(Unavailable::Certificate)?;
        self.register_lists(&sources, issuer_der, &key).await?;
        let mut responders = sources.ocsp.clone();
        if responders.is_empty()
            && let Some(url) = issuer_cn.and_then(|cn| self.ca_list.responder_for(cn))
        {
            responders.push(url.to_owned());
        }
        let mut failure = Unavailable::NoResponder;
        for url in responders {
            match self.ask(&url, &query, &key).await {
                Ok(status) => return Ok(status),
                Err(e) => {
                    tracing::warn!(responder = %url, error = %e, "OCSP responder gave no status");
                    failure = e;
                }
            }
        }
        if let Unavailable::Database(_) = failure {
            return Err(failure);
        }
        self.status_from_crls(signer_der, &sources, &key, failure)
            .await
    }

    /// The CRLs the certificate names, registered with the refresher under its CA's key.
    async fn register_lists(
        &self,
        sources: &RevocationSources,
        issuer_der: &[u8],
        key: &CertificateKey,
    ) -> Result<(), Unavailable> {
        let full = sources.crl.iter().map(|url| ListSource {
            url,
            is_delta: false,
        });
        let delta = sources.delta_crl.iter().map(|url| ListSource {
            url,
            is_delta: true,
        });
        let lists: Vec<ListSource> = full.chain(delta).collect();
        if lists.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let crowded =
            crl_store::register(&self.db, &lists, issuer_der, &key.issuer_key_sha256, now).await?;
        if !crowded.is_empty() {
            tracing::warn!(urls = ?crowded, issuers = crl_store::MAX_ISSUERS_PER_URL, "CRL addresses already kept for as many other CA keys: not registered for this one");
        }
        Ok(())
    }

    /// No responder answered (`failure` says why): the status from the CA's lists in force, if
    /// they answer for the certificate.
    async fn status_from_crls(
        &self,
        signer_der: &[u8],
        sources: &RevocationSources,
        key: &CertificateKey,
        failure: Unavailable,
    ) -> Result<CertificateStatus, Unavailable> {
        let own = OwnLists {
            complete: &sources.crl,
            delta: &sources.delta_crl,
        };
        let words = crl_store::words_about(
            &self.db,
            &key.issuer_key_sha256,
            &key.serial,
            &own,
            self.clock.now() - self.settings.skew,
        )
        .await?;
        if let Some(status) = status_from_lists(&words, |scope| scope.covers(signer_der)) {
            tracing::info!(ocsp = %failure, "certificate status taken from the CA's CRL");
            metrics::counter!("kepgate_revocation_checks_total", "outcome" => "crl").increment(1);
            return Ok(status);
        }
        tracing::info!(
            lists = words.len(),
            "no CRL in force that answers for the certificate"
        );
        metrics::counter!("kepgate_revocation_checks_total", "outcome" => failure.code())
            .increment(1);
        Err(failure)
    }

    /// One responder: transport failures retried, a checked answer kept and returned.
    async fn ask(
        &self,
        url: &str,
        query: &OcspQuery,
        key: &CertificateKey,
    ) -> Result<CertificateStatus, Unavailable> {
        let mut attempt = 0;
        let bytes = loop {
            match self.client.ask(url, query.to_der()).await {
                Ok(bytes) => break bytes,
                Err(error) if attempt >= self.settings.retries => {
                    return Err(Unavailable::Responder {
                        url: url.to_owned(),
                        error,
                    });
                }
                Err(_) => attempt += 1,
            }
        };
        let now = self.clock.now();
        let answer = query
            .check(&bytes, now, self.settings.skew)
            .map_err(|error| Unavailable::Answer {
                url: url.to_owned(),
                error,
            })?;
        let source = format!("ocsp {url}");
        let status = match answer.status {
            CertStatus::Good => CertificateStatus::Good { source },
            CertStatus::Revoked { at, reason } => CertificateStatus::Revoked { at, reason, source },
            CertStatus::Unknown => {
                return Err(Unavailable::Unknown {
                    url: url.to_owned(),
                });
            }
        };
        let cap = now + self.settings.cache_max;
        let reuse_until = answer.next_update.map_or(now, |next| next.min(cap));
        store::keep(
            &self.db,
            key,
            &status,
            answer.this_update,
            answer.next_update,
            now,
            reuse_until,
        )
        .await?;
        let outcome = match status {
            CertificateStatus::Good { .. } => "good",
            CertificateStatus::Revoked { .. } => "revoked",
        };
        metrics::counter!("kepgate_revocation_checks_total", "outcome" => outcome).increment(1);
        Ok(status)
    }
}
