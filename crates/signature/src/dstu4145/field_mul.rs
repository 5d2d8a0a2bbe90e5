//! The product of two field elements before reduction, monomorphised for each word count a DSTU
//! field has (3 to 7 words): the same left-to-right comb with 4-bit windows as before (HMV alg.
//! 2.36), but with every loop bound a constant the compiler unrolls, so the accumulator stays in
//! registers and no index is bounds-checked. Like the comb it replaces, it indexes a table by
//! 4-bit windows of `a`: fine for verification and key parsing (public data), not for a secret.

use super::field::{Fe, LIMBS};

/// Twice the limbs: an unreduced product.
pub(crate) type Wide = [u64; 2 * LIMBS];

/// a(t)·b(t), unreduced, for elements of `words` words.
pub(crate) fn mul_unreduced(words: usize, a: &Fe, b: &Fe) -> Wide {
    match words {
        3 => comb::<3>(a, b),
        4 => comb::<4>(a, b),
        5 => comb::<5>(a, b),
        6 => comb::<6>(a, b),
        _ => comb::<7>(a, b),
    }
}

fn comb<const N: usize>(a: &Fe, b: &Fe) -> Wide {
    // t[u] = u(t)·b(t) for every 4-bit polynomial u; N + 1 words used of each row.
    let mut t = [[0u64; LIMBS + 1]; 16];
    t[1][..N].copy_from_slice(&b.0[..N]);
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
            let row = &t[((a.0[j] >> (4 * k)) & 15) as usize];
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
