//! Errors of the test CA.

#[derive(Debug, thiserror::Error)]
pub enum TestCaError {
    #[error("ASN.1 encoding failed: {0}")]
    Der(#[from] der::Error),
    #[error("key error: {0}")]
    Key(String),
    #[error("bad PEM bundle: {0}")]
    Pem(String),
    #[error("time out of range for a certificate: {0}")]
    Time(String),
}

pub(super) fn key_err(e: impl std::fmt::Display) -> TestCaError {
    TestCaError::Key(e.to_string())
}
