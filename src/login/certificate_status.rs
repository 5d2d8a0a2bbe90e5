//! The `trust.revocation` policy over a verified signature: what the CA says about the signer's
//! certificate decides whether the login is confirmed.

use crate::config::RevocationMode;
use crate::login::pending::Outcome;
use crate::revocation::{CertificateStatus, RevocationChecker};
use crate::session::{RevokedBy, SessionStore, Whom};
use crate::signature::VerifiedSignature;

/// Reason recorded (history, status line) when the CA has revoked the key.
pub const CERTIFICATE_REVOKED: &str = "certificate_revoked";

/// The checker and the mode it serves.
pub struct StatusPolicy {
    pub mode: RevocationMode,
    pub checker: RevocationChecker,
}

impl StatusPolicy {
    /// Confirms `verified` unless its certificate's status forbids it under the policy. A key
    /// found revoked also ends the sessions it opened earlier, on every replica.
    pub async fn admit(&self, verified: VerifiedSignature, sessions: &SessionStore) -> Outcome {
        let issuer = match (self.mode, verified.issuers.first()) {
            (RevocationMode::Off, _) => return confirmed(verified),
            (_, Some(issuer)) => issuer.clone(),
            (_, None) => {
                return Outcome::Failed {
                    reason: "ocsp_no_issuer".to_owned(),
                };
            }
        };
        let issuer_cn = verified.identity.issuer_cn.as_deref();
        match self
            .checker
            .status(&verified.signer_der, &issuer, issuer_cn)
            .await
        {
            Ok(CertificateStatus::Good { .. }) => confirmed(verified),
            Ok(CertificateStatus::Revoked { at, reason, source }) => {
                let identity = &verified.identity;
                tracing::warn!(serial = %identity.cert_serial_hex, %at, ?reason, %source, "login with a revoked certificate refused");
                let whom = Whom::Certificates {
                    serials_hex: std::slice::from_ref(&identity.cert_serial_hex),
                    issuer: &identity.issuer,
                    issuer_key_sha256: identity.issuer_key_sha256.as_deref(),
                };
                match sessions.end(whom, RevokedBy::CertificateRevoked).await {
                    Ok(ended) if !ended.is_empty() => {
                        tracing::warn!(serial = %identity.cert_serial_hex, sessions = ended.len(), "sessions of a revoked certificate ended");
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(error = %e, "sessions of a revoked certificate could not be ended")
                    }
                }
                Outcome::Failed {
                    reason: CERTIFICATE_REVOKED.to_owned(),
                }
            }
            Err(e) if self.mode == RevocationMode::Prefer && e.is_unreachable() => {
                tracing::warn!(error = %e, serial = %verified.identity.cert_serial_hex, "certificate status unavailable: login allowed (trust.revocation = \"prefer\")");
                metrics::counter!("kepgate_revocation_waived_total", "reason" => e.code())
                    .increment(1);
                confirmed(verified)
            }
            Err(e) => {
                tracing::warn!(error = %e, serial = %verified.identity.cert_serial_hex, "certificate status unavailable: login refused");
                Outcome::Failed {
                    reason: e.code().to_owned(),
                }
            }
        }
    }
}

fn confirmed(verified: VerifiedSignature) -> Outcome {
    for warning in &verified.identity_warnings {
        tracing::warn!(%warning, "identity field ignored");
    }
    Outcome::Confirmed(Box::new(verified.identity))
}
