//! What a CA says about a certificate, as kept and as the login's policy reads it.

use time::OffsetDateTime;

/// What the CA says about the certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateStatus {
    Good {
        source: String,
    },
    Revoked {
        at: OffsetDateTime,
        reason: Option<u8>,
        source: String,
    },
}
