//! GOST 34.311-95 (the Ukrainian adoption of GOST R 34.11-94), the digest of DSTU 4145 signatures.
//!
//! The compression function is RustCrypto's `gost94` (maintained with the other RustCrypto hashes,
//! same `digest` 0.11 generation as sha2): `Gost94UA` is GOST 34.11-94 with the zero start vector
//! and the S-box "DKE №1" of ДСТУ ГОСТ 28147:2009, which is what Ukrainian PKI means by
//! GOST 34.311 (OID 1.2.804.2.1.1.1.1.2.1). We own only the byte order: the digest is returned as
//! the hash function emits it, and DSTU 4145 reads those 32 bytes as a little-endian integer
//! (see `dstu4145::verify`). Other S-boxes (the optional DKE parameter of a key) are not
//! supported: every certificate in the fixtures and the trust list uses DKE №1.

use gost94::Digest;

/// Length of a GOST 34.311-95 digest in bytes.
pub const DIGEST_LEN: usize = 32;

/// GOST 34.311-95 digest of `data` (zero start vector, S-box DKE №1).
pub fn digest(data: &[u8]) -> [u8; DIGEST_LEN] {
    gost94::Gost94UA::digest(data).into()
}

/// Incremental form, for data that arrives in pieces.
#[derive(Clone, Default)]
pub struct Hasher(gost94::Gost94UA);

impl Hasher {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finish(self) -> [u8; DIGEST_LEN] {
        self.0.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// dstucrypt/gost89 `test/test-hash.js` (copied to tests/data/dstu/gost89/): strings are
    /// hashed as their UTF-8 bytes, digests are printed in output byte order.
    #[test]
    fn gost89_vectors() {
        let cases: [(&[u8], &str); 4] = [
            (
                b"12345678901234567890123456789011",
                "7686f3f4b113aadc97bca9ea054f41821f0676c5c28ffb987e41797a568e1ed4",
            ),
            (
                &[
                    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                    22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                ],
                "811cb06a8ee423182d9cc9d281f783908f4cfbaf47a68be8415d3499674a3063",
            ),
            (
                b"123123",
                "34d4da2c04e9c1ceb933282069c864617d94ed7cc5c0a9840c0c1a99629df637",
            ),
            (
                b"IGNORE THIS FILE. This file does nothing, contains no useful data, and might go \
                  away in future releases.  Do not depend on this file or its contents.",
                "e9312d13d0e0d39aa4a00c77dcfb661883dd0ed8218af48a146168fc60f014dc",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(digest(input).to_vec(), hex(want), "input {input:?}");
        }
        // "should hash splitted short chunks"
        let mut h = Hasher::new();
        h.update(b"123");
        h.update(b"123");
        assert_eq!(
            h.finish().to_vec(),
            hex("34d4da2c04e9c1ceb933282069c864617d94ed7cc5c0a9840c0c1a99629df637")
        );
    }

    /// privat-it/cryptonite `utest_gost34_311.c` test 1: zero start vector, GOST28147_SBOX_ID_1
    /// (DKE №1). Its other vectors use a non-zero start vector or another S-box, see below.
    #[test]
    fn cryptonite_vector_zero_sync() {
        let data = hex("ad26f436f0b627880038727d22e02c97d081ef85260fc96718395091ce224dd7");
        assert_eq!(
            digest(&data).to_vec(),
            hex("02d7e8a3c111788bb1b8a489c5e330288728f1c308c2cec08e09265bfa395599")
        );
    }

    /// cryptonite tests 2–4: same S-box, start vector `975ad259…`. Checked with the same
    /// compression function under a test-only parameter set, so the S-box is cross-checked
    /// against a second implementation on more inputs (multi-block, partial block).
    #[test]
    fn cryptonite_vectors_with_start_vector() {
        use gost94::params::{GOST28147UAParam, Gost94Params};
        #[derive(Clone, Copy, Default)]
        struct Sync975;
        impl Gost94Params for Sync975 {
            const S_BOX: [[u8; 16]; 8] = GOST28147UAParam::S_BOX;
            const H0: [u8; 32] = [
                0x97, 0x5a, 0xd2, 0x59, 0xb9, 0x35, 0xb5, 0xc4, 0x92, 0xe2, 0x4d, 0xd1, 0xcc, 0x24,
                0xe0, 0xee, 0x8c, 0x4c, 0x11, 0x25, 0x5c, 0x5a, 0xa3, 0x24, 0x41, 0x19, 0xcc, 0x33,
                0x86, 0xb1, 0x0b, 0x0a,
            ];
            const NAME: &'static str = "test";
        }
        let cases = [
            (
                "cd944dc9951b5e1eea4a9ebca4e30e4568d48f640d9b228e2df398f767b4eaab",
                "30667bae2a36245ce8abd0e8f84812df7ffd7dfee6289ef6d79624d709f97208",
            ),
            (
                "9f4f3dfc4dfe5d7b425ece1fb62c81f3795e746d72ee40139e8691d9e4abc889632959d73e0bf1\
                 39cd71813ebee679e930",
                "9d82d03e369b476ecc15cc8b9c73906cd395b63825b5b667a6cb62013788be30",
            ),
        ];
        for (data, want) in cases {
            let got = gost94::Gost94::<Sync975>::digest(hex(data));
            assert_eq!(got.to_vec(), hex(want));
        }
    }

    #[test]
    fn flipped_input_bit_changes_digest() {
        let a = digest(b"123123");
        let b = digest(b"123122");
        assert_ne!(a, b);
    }
}
