//! A throwaway CA shaped like a Ukrainian QTSP, for the Diia emulator and tests.
//! NOT for production trust: keys are generated on the spot (ECDSA P-256 by default, DSTU 4145
//! on M257 or M431 with explicit parameters like the real Ukrainian chain when asked). Compiled
//! only for this crate's tests and with the `test-ca` feature, so a production build does not
//! contain it.
//!
//! This file only declares the modules and re-exports.

mod asn1;
mod ca;
mod error;
mod key;
mod pem;
mod signer;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_dstu;

pub use ca::{TestCa, TestIdentitySpec};
pub use error::TestCaError;
pub use key::KeyKind;
pub use signer::{CadesOptions, TestSigner};
