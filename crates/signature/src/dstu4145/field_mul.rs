//! The product of two field elements before reduction, monomorphised for each word count a DSTU
//! field has (3 to 7 words). Where the build has PCLMULQDQ, the CPU's carry-less multiply
//! (carryless.rs); elsewhere a left-to-right comb with 4-bit windows (HMV alg. 2.36) with every
//! loop bound a constant the compiler unrolls, so the accumulator stays in registers and no
//! index is bounds-checked. The comb indexes a table by 4-bit windows of `a`: fine for
//! verification and key parsing (public data), not for a secret — `CONSTANT_TIME` says which.

pub(crate) use super::limbs::Wide;
use super::limbs::{LIMBS, Limbs};

/// Whether `mul_unreduced` takes the same time whatever the operands (the carry-less multiply
/// does; the comb does not), so signing may use it for secret data.
pub(crate) const CONSTANT_TIME: bool =
    cfg!(all(target_arch = "x86_64", target_feature = "pclmulqdq"));

/// a(t)·b(t), unreduced, for elements of `words` words.
pub(crate) fn mul_unreduced(words: usize, a: &Limbs, b: &Limbs) -> Wide {
    #[cfg(all(target_arch = "x86_64", target_feature = "pclmulqdq"))]
    use super::carryless::product as mul;
    #[cfg(not(all(target_arch = "x86_64", target_feature = "pclmulqdq")))]
    use comb as mul;
    match words {
        3 => mul::<3>(a, b),
        4 => mul::<4>(a, b),
        5 => mul::<5>(a, b),
        6 => mul::<6>(a, b),
        _ => mul::<7>(a, b),
    }
}

/// a(t)², unreduced: the carry-less multiply of each word by itself where the build has it,
/// else zero bits interleaved (HMV alg. 2.39).
#[inline(always)]
pub(crate) fn sqr_unreduced(words: usize, a: &Limbs) -> Wide {
    #[cfg(all(target_arch = "x86_64", target_feature = "pclmulqdq"))]
    return super::carryless::square(words, a);
    #[cfg(not(all(target_arch = "x86_64", target_feature = "pclmulqdq")))]
    {
        let mut c: Wide = [0; 2 * LIMBS];
        for i in 0..words {
            c[2 * i] = spread(a[i] as u32);
            c[2 * i + 1] = spread((a[i] >> 32) as u32);
        }
        c
    }
}

/// Interleaves zero bits: bit i of x goes to bit 2i (squaring in characteristic 2).
#[cfg_attr(
    all(target_arch = "x86_64", target_feature = "pclmulqdq"),
    allow(dead_code)
)]
pub(crate) fn spread(x: u32) -> u64 {
    let mut v = u64::from(x);
    v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
    v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
    v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    v = (v | (v << 2)) & 0x3333_3333_3333_3333;
    (v | (v << 1)) & 0x5555_5555_5555_5555
}

/// The software product: used where the build has no carry-less multiply, and by the tests
/// as the independent answer the carry-less one must give.
#[cfg_attr(
    all(target_arch = "x86_64", target_feature = "pclmulqdq"),
    allow(dead_code)
)]
pub(crate) fn comb<const N: usize>(a: &Limbs, b: &Limbs) -> Wide {
    // t[u] = u(t)·b(t) for every 4-bit polynomial u; N + 1 words used of each row.
    let mut t = [[0u64; LIMBS + 1]; 16];
    t[1][..N].copy_from_slice(&b[..N]);
    for s in 1..4 {
        let mut row = [0u64; LIMBS + 1];
        for i in 0..=N {
            let below = if i == 0 { 0 } else { t[1][i - 1] >> (64 - s) };
            row[i] = (t[1][i] << s) | below;
        }
        t[1 << s] = row;
    }
    for u in [3usize, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15] {
        let low = u & u.wrapping_neg();
        let mut row = [0u64; LIMBS + 1];
        for i in 0..=N {
            row[i] = t[u - low][i] ^ t[low][i];
        }
        t[u] = row;
    }
    let mut c = [0u64; 2 * LIMBS];
    for k in (0..16).rev() {
        for j in 0..N {
            let row = &t[((a[j] >> (4 * k)) & 15) as usize];
            for i in 0..=N {
                c[j + i] ^= row[i];
            }
        }
        if k != 0 {
            for i in (1..2 * N).rev() {
                c[i] = (c[i] << 4) | (c[i - 1] >> 60);
            }
            c[0] <<= 4;
        }
    }
    c
}

/// One of the ten DSTU 4145 field polynomials t^m + t^k0 (+ t^k1 + t^k2) + 1: for these the
/// product or square and its reduction are one function compiled with the word count and the
/// exponents as constants, chosen once per field rather than per operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Standard {
    M163,
    M167,
    M173,
    M179,
    M191,
    M233,
    M257,
    M307,
    M367,
    M431,
}

/// Calls `$f::<N, M, K0, K1, K2>` for the polynomial `$s` names.
macro_rules! per_polynomial {
    ($s:expr, $f:ident($($arg:expr),*)) => {
        match $s {
            Standard::M163 => $f::<3, 163, 7, 6, 3>($($arg),*),
            Standard::M167 => $f::<3, 167, 6, 0, 0>($($arg),*),
            Standard::M173 => $f::<3, 173, 10, 2, 1>($($arg),*),
            Standard::M179 => $f::<3, 179, 4, 2, 1>($($arg),*),
            Standard::M191 => $f::<3, 191, 9, 0, 0>($($arg),*),
            Standard::M233 => $f::<4, 233, 9, 4, 1>($($arg),*),
            Standard::M257 => $f::<5, 257, 12, 0, 0>($($arg),*),
            Standard::M307 => $f::<5, 307, 8, 4, 2>($($arg),*),
            Standard::M367 => $f::<6, 367, 21, 0, 0>($($arg),*),
            Standard::M431 => $f::<7, 431, 5, 3, 1>($($arg),*),
        }
    };
}

impl Standard {
    /// The polynomial with degree `m` and middle exponents `ks` (highest first), if it is one
    /// of the ten.
    pub(crate) fn of(m: usize, ks: &[usize]) -> Option<Standard> {
        Some(match (m, ks) {
            (163, [7, 6, 3]) => Standard::M163,
            (167, [6]) => Standard::M167,
            (173, [10, 2, 1]) => Standard::M173,
            (179, [4, 2, 1]) => Standard::M179,
            (191, [9]) => Standard::M191,
            (233, [9, 4, 1]) => Standard::M233,
            (257, [12]) => Standard::M257,
            (307, [8, 4, 2]) => Standard::M307,
            (367, [21]) => Standard::M367,
            (431, [5, 3, 1]) => Standard::M431,
            _ => return None,
        })
    }

    /// a·b mod f.
    pub(crate) fn mul(self, a: &Limbs, b: &Limbs) -> Limbs {
        per_polynomial!(self, mul_mod(a, b))
    }

    /// a² mod f.
    pub(crate) fn sqr(self, a: &Limbs) -> Limbs {
        per_polynomial!(self, sqr_mod(a))
    }
}

fn mul_mod<const N: usize, const M: usize, const K0: usize, const K1: usize, const K2: usize>(
    a: &Limbs,
    b: &Limbs,
) -> Limbs {
    #[cfg(all(target_arch = "x86_64", target_feature = "pclmulqdq"))]
    let c = super::carryless::product::<N>(a, b);
    #[cfg(not(all(target_arch = "x86_64", target_feature = "pclmulqdq")))]
    let c = comb::<N>(a, b);
    reduce_const::<M, K0, K1, K2>(c)
}

fn sqr_mod<const N: usize, const M: usize, const K0: usize, const K1: usize, const K2: usize>(
    a: &Limbs,
) -> Limbs {
    reduce_const::<M, K0, K1, K2>(sqr_unreduced(N, a))
}

/// c mod f for f = t^M + t^K0 + t^K1 + t^K2 + 1, or t^M + t^K0 + 1 when K1 = 0; the same
/// word-wise folding as `Field::reduce` (HMV alg. 2.40–2.42), highest word first.
#[inline(always)]
fn reduce_const<const M: usize, const K0: usize, const K1: usize, const K2: usize>(
    mut c: Wide,
) -> Limbs {
    let words = M.div_ceil(64);
    let top = M / 64;
    let fold = |c: &mut Wide, d: usize, zz: u64| {
        let (w, s) = (d / 64, d % 64);
        c[w] ^= zz << s;
        if s != 0 {
            c[w + 1] ^= zz >> (64 - s);
        }
    };
    let fold_all = |c: &mut Wide, base: usize, zz: u64| {
        fold(c, base + K0, zz);
        if K1 != 0 {
            fold(c, base + K1, zz);
            fold(c, base + K2, zz);
        }
        fold(c, base, zz);
    };
    // Bit 64j + i (≥ m) becomes bits 64j + i − m + p for each term t^p of f − t^m.
    for j in (top + 1..2 * words).rev() {
        let zz = c[j];
        c[j] = 0;
        fold_all(&mut c, 64 * j - M, zz);
    }
    let zz = c[top] >> (M % 64);
    c[top] &= (1u64 << (M % 64)) - 1;
    fold_all(&mut c, 0, zz);
    let mut r = [0u64; LIMBS];
    r[..words].copy_from_slice(&c[..words]);
    r
}

#[cfg(test)]
mod tests {

    /// The carry-less product and square agree with the software comb and bit interleaving
    /// for every word count a DSTU field has.
    #[test]
    #[cfg(all(target_arch = "x86_64", target_feature = "pclmulqdq"))]
    fn agrees_with_the_software_product() {
        use super::super::carryless::{product, square};
        use super::*;
        let mut next = crate::dstu4145::tests::xorshift(0x2545_F491_4F6C_DD1D);
        for _ in 0..64 {
            let a: Limbs = std::array::from_fn(|_| next());
            let b: Limbs = std::array::from_fn(|_| next());
            assert_eq!(product::<3>(&a, &b), comb::<3>(&a, &b));
            assert_eq!(product::<4>(&a, &b), comb::<4>(&a, &b));
            assert_eq!(product::<5>(&a, &b), comb::<5>(&a, &b));
            assert_eq!(product::<6>(&a, &b), comb::<6>(&a, &b));
            assert_eq!(product::<7>(&a, &b), comb::<7>(&a, &b));
            let sq = square(LIMBS, &a);
            for (i, w) in a.iter().enumerate() {
                assert_eq!(sq[2 * i], spread(*w as u32));
                assert_eq!(sq[2 * i + 1], spread((*w >> 32) as u32));
            }
        }
    }
}
