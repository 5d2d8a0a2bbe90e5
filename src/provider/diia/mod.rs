//! Diia.Signature adapter (kind `diia`).

pub mod wire;
