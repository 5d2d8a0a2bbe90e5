//! The Diia.Signature emulator: what newcomers and tests run instead of the real provider.

pub mod test_ca;
