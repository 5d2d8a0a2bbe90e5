//! A throwaway CA shaped like a Ukrainian QTSP, for the Diia emulator and tests.
//! NOT for production trust: keys are generated on the spot (ECDSA P-256 by default, DSTU 4145
//! on M257 or M431 with explicit parameters like the real Ukrainian chain when asked). Compiled
//! only for this crate's tests and with the `test-ca` feature, so a production build does not
//! contain it.
//!
//! This file only declares the modules and re-exports.

mod asn1;
mod ca;
mod crl_out;
mod error;
mod key;
mod ocsp_responder;
mod pem;
mod publication;
mod signer;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_dstu;
#[cfg(test)]
mod tests_revocation;

pub use ca::{TestCa, TestIdentitySpec};
pub use crl_out::RevokedCert;
pub use error::TestCaError;
pub use key::KeyKind;
pub use ocsp_responder::{OcspOptions, OcspResponseStatus, ocsp_error_response};
pub use publication::Publication;
pub use signer::{CadesOptions, TestSigner};
