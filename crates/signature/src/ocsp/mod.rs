//! OCSP (RFC 6960) for the signer's certificate: the request kepgate sends and the complete check
//! of the answer (who signed it, for which certificate, how fresh, the nonce). No transport: the
//! gateway posts the bytes and hands the answer back.
//!
//! This file only declares the modules and re-exports.

pub(crate) mod asn1;
mod check;
mod query;
#[cfg(test)]
mod tests;

pub use check::{CertStatus, OcspAnswer, OcspError};
pub use query::OcspQuery;
// For the test CA's responder.
#[cfg(any(test, feature = "test-ca"))]
pub(crate) use query::{NONCE, cert_id_digest};
