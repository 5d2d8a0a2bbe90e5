//! Products of field elements by the CPU's carry-less multiply (PCLMULQDQ), compiled when the
//! build enables that feature (`.cargo/config.toml` does for x86-64). One instruction gives the
//! 128-bit product of two 64-bit polynomials over GF(2), so an m-bit product is `words²` of
//! them instead of the comb's table and shifts — and, unlike the comb's table lookups, its time
//! does not depend on the operands, so signing uses it too. safe_arch wraps the intrinsic: the
//! workspace has no `unsafe` of its own.

use super::limbs::{LIMBS, Limbs, Wide};
use safe_arch::{m128i, mul_i64_carryless_m128i};

/// a(t)·b(t) for 64-bit polynomials: the 128-bit product, low word first.
#[inline(always)]
pub(crate) fn clmul(a: u64, b: u64) -> [u64; 2] {
    mul_i64_carryless_m128i::<0x00>(m128i::from([a, 0]), m128i::from([b, 0])).into()
}

/// a(t)·b(t), unreduced, for elements of N words: schoolbook, N² instructions.
pub(crate) fn product<const N: usize>(a: &Limbs, b: &Limbs) -> Wide {
    let mut c: Wide = [0; 2 * LIMBS];
    for i in 0..N {
        for j in 0..N {
            let [lo, hi] = clmul(a[i], b[j]);
            c[i + j] ^= lo;
            c[i + j + 1] ^= hi;
        }
    }
    c
}

/// a(t)², unreduced: squaring is linear over GF(2), so each word squares on its own.
pub(crate) fn square(words: usize, a: &Limbs) -> Wide {
    let mut c: Wide = [0; 2 * LIMBS];
    for i in 0..words {
        [c[2 * i], c[2 * i + 1]] = clmul(a[i], a[i]);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent answers: (t + 1)² = t² + 1 (3·3 = 5, no carry), the top bits of a full
    /// product, and x·1 = x.
    #[test]
    fn carryless_products_of_words() {
        assert_eq!(clmul(3, 3), [5, 0]);
        assert_eq!(clmul(1 << 63, 1 << 63), [0, 1 << 62]);
        assert_eq!(
            clmul(u64::MAX, u64::MAX),
            [0x5555_5555_5555_5555, 0x5555_5555_5555_5555]
        );
        assert_eq!(clmul(0xDEAD_BEEF_0123_4567, 1), [0xDEAD_BEEF_0123_4567, 0]);
        // A product past t^63 lands in the high word: t^40 · t^30 = t^70.
        assert_eq!(clmul(1 << 40, 1 << 30), [0, 1 << 6]);
    }
}
