//! Why a signature was refused: the error every verification step returns.

use time::OffsetDateTime;

use crate::identity::UnusableName;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the signature file is malformed and cannot be decoded: {0}")]
    Malformed(String),
    #[error("the signature file is not CMS signed-data (content type {0})")]
    NotSignedData(String),
    #[error("the signature contains no signer")]
    NoSigner,
    #[error("the signature contains {0} signers; exactly one is required")]
    MultipleSigners(usize),
    #[error("the signature has no signed attributes; they are required")]
    MissingSignedAttributes,
    #[error("the signed attribute {0} is missing or invalid")]
    BadSignedAttribute(&'static str),
    #[error("the signed content type is {0}, expected id-data")]
    WrongContentType(String),
    #[error("the signature is over a different hash than the one requested")]
    HashMismatch,
    #[error("the cryptographic signature is invalid: {0}")]
    BadSignature(String),
    #[error("the signer's certificate is not included in the signature")]
    SignerCertMissing,
    #[error("certificate \"{subject}\" expired on {not_after} (checked at {at})")]
    CertExpired {
        subject: String,
        not_after: OffsetDateTime,
        at: OffsetDateTime,
    },
    #[error("certificate \"{subject}\" is not valid before {not_before} (checked at {at})")]
    CertNotYetValid {
        subject: String,
        not_before: OffsetDateTime,
        at: OffsetDateTime,
    },
    #[error("the certificate chain does not lead to a trusted CA: {0}")]
    UntrustedChain(String),
    #[error("certificate \"{subject}\" may not be used for this: {reason}")]
    WrongKeyUsage { subject: String, reason: String },
    #[error("unsupported algorithm: {what}")]
    UnsupportedAlgorithm { what: String },
    #[error("the signing-certificate-v2 attribute does not match the signer's certificate")]
    SigningCertMismatch,
    /// A verified certificate whose name (organisation, title, issuer) cannot be shown as it
    /// is: the issuer's doing, so asking again changes nothing.
    #[error("the signer's certificate: {0}")]
    UnusableName(UnusableName),
    #[error("the signing time {signing_time} is in the future (now {now})")]
    SigningTimeInFuture {
        signing_time: OffsetDateTime,
        now: OffsetDateTime,
    },
}

impl VerifyError {
    /// Stable reason code for the login history, metrics and the user's status line.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Malformed(_) | VerifyError::NotSignedData(_) => "malformed_signature",
            VerifyError::NoSigner | VerifyError::MultipleSigners(_) => "bad_signer_count",
            VerifyError::MissingSignedAttributes
            | VerifyError::BadSignedAttribute(_)
            | VerifyError::WrongContentType(_) => "bad_signed_attributes",
            VerifyError::HashMismatch => "hash_mismatch",
            VerifyError::BadSignature(_) => "bad_signature",
            VerifyError::SignerCertMissing => "signer_certificate_missing",
            VerifyError::CertExpired { .. } => "certificate_expired",
            VerifyError::CertNotYetValid { .. } => "certificate_not_yet_valid",
            VerifyError::UntrustedChain(_) => "untrusted_chain",
            VerifyError::WrongKeyUsage { .. } => "wrong_key_usage",
            VerifyError::UnsupportedAlgorithm { .. } => "unsupported_algorithm",
            VerifyError::SigningCertMismatch => "signing_certificate_mismatch",
            VerifyError::SigningTimeInFuture { .. } => "signing_time_in_future",
            VerifyError::UnusableName(_) => "unusable_name",
        }
    }
}

pub(crate) fn malformed(what: impl std::fmt::Display) -> VerifyError {
    VerifyError::Malformed(what.to_string())
}

pub(crate) fn unsupported(what: impl Into<String>) -> VerifyError {
    VerifyError::UnsupportedAlgorithm { what: what.into() }
}
