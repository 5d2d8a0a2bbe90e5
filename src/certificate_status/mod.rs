//! Is the signer's certificate revoked? OCSP asked at login (the signature crate checks the
//! answers), the answers kept in PostgreSQL for every replica; the CAs' CRLs downloaded in the
//! background and shared the same way, for when no responder answers and for ending the sessions
//! of keys revoked later.
//!
//! This file only declares the modules and re-exports.

mod ca_list;
mod checker;
mod crl_refresh;
mod crl_status;
mod crl_store;
mod policy;
mod responder;
mod status;
mod store;

pub use ca_list::{CaList, CaListError};
pub use checker::{CheckerSettings, RevocationChecker, Unavailable};
pub use crl_refresh::{CrlRefresher, RefreshedList};
pub use policy::{StatusPolicy, StatusRefusal};
pub use status::CertificateStatus;
