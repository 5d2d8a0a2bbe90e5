//! Verification of CAdES/CMS signatures made with Ukrainian qualified certificates.
//!
//! `cms` only parses; everything that decides trust (digest checks, signature over the
//! signed attributes *as received*, chain building) lives here. No web framework, database or
//! async runtime: callers hand in bytes, the trust list and the time.
//!
//! This file only declares the modules and re-exports what callers use; no module imports from
//! its parent (`scripts/check-module-cycles.py` checks that the modules form no cycle).

mod algorithm;
mod certificate_digests;
pub mod certificate_identity;
mod chain;
pub mod crl;
mod crl_scope;
pub mod display_text;
pub mod dstu4145;
mod error;
#[cfg(test)]
mod fuzz_seeds;
pub mod gost34311;
mod hash_alg;
pub mod identity;
mod key_algorithm;
mod memo;
pub mod names;
#[cfg(test)]
mod national_bundle_tests;
pub mod ocsp;
pub mod oids;
mod parsed_cert;
mod parsed_keys;
pub mod revocation_sources;
mod signed_data;
#[cfg(any(test, feature = "test-ca"))]
pub mod test_ca;
#[cfg(test)]
mod test_pki;
mod tlv;
pub mod trust_list;
mod verified_issuances;
pub mod verify;

pub use certificate_identity::{IdentityExtractError, identity_from_certificate};
pub use const_oid::ObjectIdentifier;
pub use error::VerifyError;
pub use key_algorithm::KeyAlgorithm;
pub use trust_list::{LoadReport, SkippedEntry, TrustList, TrustListError};
pub use verify::{VerifiedSignature, verify_auth_signature};
