//! What kepgate's demo and tests run besides the gateway: the Diia.Signature emulator ([`diia`])
//! and the sample cabinet ([`sample_cabinet`]), the app behind the gateway.
//!
//! Both stand in for third parties, so nothing here comes from the gateway: the emulator reads
//! and writes Diia's wire format from Diia's public SDKs, and the cabinet reads kepgate's
//! assertion as the documentation describes it to any cabinet.

mod clock;
pub mod diia;
pub mod sample_cabinet;

pub use diia::{
    DEFAULT_ACQUIRER_TOKEN, DEFAULT_SERVICE_NAME, DEFAULT_TOKEN_TTL, Emulator, EmulatorArgs,
    EmulatorError, EmulatorSettings, TestIdentity,
};
