//! id.gov.ua, the state's integrated e-identification system (ІСЕІ): a redirect provider behind
//! which a person uses any qualified key (file, token, any provider's cloud storage,
//! Diia.Signature) or BankID.

mod person;
mod provider;
mod report;
pub mod settings;
pub mod wire;

pub use provider::IdGovUaProvider;
