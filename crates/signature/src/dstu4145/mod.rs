//! DSTU 4145-2002 signatures in polynomial basis with GOST 34.311-95 hashing (verification).
//!
//! Sources followed: ДСТУ 4145-2002 "Цифровий підпис, що ґрунтується на еліптичних кривих"
//! (sections 5–7, annexes C and G), Hankerson–Menezes–Vanstone "Guide to Elliptic Curve
//! Cryptography" for the binary-field algorithms; checked against the vectors of jkurwa,
//! cryptonite and UAPKI (tests/data/dstu/README.md). Not wired into CMS or chain checks yet.
//!
//! This file only declares the modules and re-exports.

mod curve;
mod field;
mod field_mul;
mod multi;
mod named;
mod params;
#[cfg(test)]
mod tests;
mod verify;

pub use params::{ByteOrder, ParamsError};
pub use verify::{PublicKey, SignatureError};
