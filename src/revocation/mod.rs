//! Is the signer's certificate revoked? OCSP asked at login (the signature crate checks the
//! answers), the answers kept in PostgreSQL for every replica.
//!
//! This file only declares the modules and re-exports.

mod checker;
mod responder;
mod status;
mod store;

pub use checker::{CheckerSettings, RevocationChecker, Unavailable};
pub use status::CertificateStatus;
