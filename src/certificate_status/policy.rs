//! The `trust.revocation` policy over a verified signature: what the CAs say about the signer's
//! certificate and about every CA certificate of its path below the trust anchor decides
//! whether the signature is accepted — for a login and for a signed document alike. The trust
//! anchor is trusted by configuration and not asked about. Each answer is cached per
//! certificate (`store.rs`), so a path's CA certificates cost a responder round trip only when
//! their cached answer runs out.

use super::checker::{RevocationChecker, Unavailable};
use super::status::CertificateStatus;
use crate::config::RevocationMode;
use crate::session::{EndedBy, SessionStore, Whom};
use crate::signature::VerifiedSignature;
use crate::signature::certificate_identity::issuer_common_name;

/// The checker and the mode it serves.
pub struct StatusPolicy {
    pub mode: RevocationMode,
    pub checker: RevocationChecker,
}

/// Why the policy refuses a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusRefusal {
    /// The CA has revoked the signer's key.
    Revoked,
    /// A CA certificate of the key's path (a sub-CA) has been revoked.
    CaRevoked,
    /// The status could not be learned and the policy does not waive it (`ocsp_<why>`).
    Unknown(&'static str),
}

/// What the policy makes of one certificate's status.
enum Verdict {
    /// Good, or unavailable and waived under `prefer`.
    Passes,
    Revoked(CertificateStatus),
    Refused(Unavailable),
}

impl StatusPolicy {
    /// Accepts `verified` unless the status of its certificate or of a CA certificate of its
    /// path forbids it under the policy. A key found revoked also ends the sessions it opened
    /// earlier, on every replica.
    pub async fn check(
        &self,
        verified: &VerifiedSignature,
        sessions: &SessionStore,
    ) -> Result<(), StatusRefusal> {
        if self.mode == RevocationMode::Off {
            return Ok(());
        }
        let Some(issuer) = verified.issuers.first() else {
            return Err(StatusRefusal::Unknown("ocsp_no_issuer"));
        };
        let identity = &verified.identity;
        let status = self
            .checker
            .status(&verified.signer_der, issuer, identity.issuer_cn.as_deref())
            .await;
        match self.verdict(status, "the signer's certificate") {
            Verdict::Passes => {}
            Verdict::Revoked(status) => {
                tracing::warn!(serial = %identity.cert_serial_hex, ?status, "signature by a revoked certificate refused");
                end_sessions_of(verified, sessions).await;
                return Err(StatusRefusal::Revoked);
            }
            Verdict::Refused(e) => return Err(StatusRefusal::Unknown(e.code())),
        }
        // Every CA certificate below the anchor, as issued by the one above it.
        for pair in verified.issuers.windows(2) {
            let (ca, parent) = (&pair[0], &pair[1]);
            let parent_cn = issuer_common_name(ca).ok().flatten();
            let status = self.checker.status(ca, parent, parent_cn.as_deref()).await;
            match self.verdict(status, "a CA certificate of the path") {
                Verdict::Passes => {}
                Verdict::Revoked(status) => {
                    tracing::warn!(serial = %identity.cert_serial_hex, issuer = %identity.issuer, ?status, "signature refused: a CA certificate of the key's path is revoked");
                    return Err(StatusRefusal::CaRevoked);
                }
                Verdict::Refused(e) => return Err(StatusRefusal::Unknown(e.code())),
            }
        }
        for warning in &verified.identity_warnings {
            tracing::warn!(%warning, "identity field ignored");
        }
        Ok(())
    }

    fn verdict(&self, status: Result<CertificateStatus, Unavailable>, what: &str) -> Verdict {
        match status {
            Ok(CertificateStatus::Good { .. }) => Verdict::Passes,
            Ok(revoked @ CertificateStatus::Revoked { .. }) => Verdict::Revoked(revoked),
            Err(e) if self.mode == RevocationMode::Prefer && e.is_unreachable() => {
                tracing::warn!(error = %e, certificate = what, "certificate status unavailable: signature accepted (trust.revocation = \"prefer\")");
                metrics::counter!("kepgate_revocation_waived_total", "reason" => e.code())
                    .increment(1);
                Verdict::Passes
            }
            Err(e) => {
                tracing::warn!(error = %e, certificate = what, "certificate status unavailable: signature refused");
                Verdict::Refused(e)
            }
        }
    }
}

/// The key is revoked: the sessions it opened end on every replica.
async fn end_sessions_of(verified: &VerifiedSignature, sessions: &SessionStore) {
    let identity = &verified.identity;
    let whom = Whom::Certificates {
        serials_hex: std::slice::from_ref(&identity.cert_serial_hex),
        issuer: &identity.issuer,
        issuer_key_sha256: identity.issuer_key_sha256.as_deref(),
    };
    match sessions.end(whom, EndedBy::CertificateRevoked).await {
        Ok(ended) if !ended.is_empty() => {
            tracing::warn!(serial = %identity.cert_serial_hex, sessions = ended.len(), "sessions of a revoked certificate ended");
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "sessions of a revoked certificate could not be ended")
        }
    }
}
