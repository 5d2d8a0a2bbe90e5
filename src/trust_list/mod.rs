//! The national trust list kept current (`[trust.sources]`): the central certification
//! authority's bundle of qualified providers' CA certificates and its JSON list of qualified
//! providers, downloaded at start and on a schedule, checked ([`check`]), shared by every replica
//! through PostgreSQL ([`store`]) and trusted beside `trust.files` ([`NationalTrust`]).
//!
//! Dependencies: the configuration, the signature crate, the database, the notifications'
//! subscriber; no web layer.

pub mod check;
pub mod fetch;
mod handle;
mod refresher;
pub mod show;
pub mod store;

pub use handle::{InForce, NationalTrust};
pub use refresher::{load_in_force, run};
