//! What kepgate's demo and tests run besides the gateway: the Diia.Signature emulator ([`diia`]),
//! the id.gov.ua emulator ([`idgovua`]) and the sample cabinet ([`sample_cabinet`]), the app
//! behind the gateway.
//!
//! All stand in for third parties, so nothing here comes from the gateway: the emulators read and
//! write the providers' wire formats as their public clients and SDKs use them, and the cabinet
//! reads kepgate's assertion as the documentation describes it to any cabinet.

mod clock;
pub mod diia;
pub mod extra_ca;
pub mod idgovua;
pub mod sample_cabinet;

pub use diia::{
    DEFAULT_ACQUIRER_TOKEN, DEFAULT_SERVICE_NAME, DEFAULT_TOKEN_TTL, Emulator, EmulatorArgs,
    EmulatorError, EmulatorSettings, Registered, TestIdentity,
};
pub use idgovua::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, IdGovUaEmulator, IdGovUaIdentity, IdGovUaMethod,
    IdGovUaSettings, RegisteredClient,
};
