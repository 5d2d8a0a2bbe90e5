//! DSTU 4145-2002 signatures in polynomial basis with GOST 34.311-95 hashing.
//!
//! Sources followed: ДСТУ 4145-2002 "Цифровий підпис, що ґрунтується на еліптичних кривих"
//! (sections 5–7, annexes C and G), Hankerson–Menezes–Vanstone "Guide to Elliptic Curve
//! Cryptography" for the binary-field algorithms; checked against the vectors of jkurwa,
//! cryptonite and UAPKI (tests/data/dstu/README.md). Signing (`sign.rs`, constant-time) and
//! the key encoders (`encode.rs`) serve the test CA and the Diia emulator.
//!
//! This file only declares the modules and re-exports.

#[cfg(all(target_arch = "x86_64", target_feature = "pclmulqdq"))]
mod carryless;
mod comb;
mod curve;
mod encode;
mod field;
mod field_mul;
mod limbs;
mod multi;
mod named;
mod params;
mod sign;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_sign;
mod verify;

pub use encode::ParamsForm;
pub use named::DstuCurve;
pub use params::{ByteOrder, ParamsError};
pub use sign::SigningKey;
pub use verify::{PublicKey, SignatureError};
