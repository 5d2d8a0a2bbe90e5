//! The product of two field elements before reduction, monomorphised for each word count a DSTU
//! field has (3 to 7 words): the same left-to-right comb with 4-bit windows as before (HMV alg.
//! 2.36), but with every loop bound a constant the compiler unrolls, so the accumulator stays in
//! registers and no index is bounds-checked. Like the comb it replaces, it indexes a table by
//! 4-bit windows of `a`: fine for verification and key parsing (public data), not for a secret.

use super::limbs::{LIMBS, Limbs};

/// Twice the limbs: an unreduced product.
pub(crate) type Wide = [u64; 2 * LIMBS];

/// a(t)·b(t), unreduced, for elements of `words` words.
pub(crate) fn mul_unreduced(words: usize, a: &Limbs, b: &Limbs) -> Wide {
    match words {
        3 => comb::<3>(a, b),
        4 => comb::<4>(a, b),
        5 => comb::<5>(a, b),
        6 => comb::<6>(a, b),
        _ => comb::<7>(a, b),
    }
}

fn comb<const N: usize>(a: &Limbs, b: &Limbs) -> Wide {
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

/// The reduction modulo one of the ten DSTU 4145 polynomials t^m + t^k0 (+ t^k1 + t^k2) + 1
/// (`ks` highest first), with the exponents as constants so every shift and word index is one;
/// None for any other polynomial (the generic reduction in field.rs handles those).
pub(crate) fn reduce_standard(m: usize, ks: &[usize], c: &Wide) -> Option<Limbs> {
    Some(match (m, ks) {
        (163, [7, 6, 3]) => reduce_const::<163, 7, 6, 3>(*c),
        (167, [6]) => reduce_const::<167, 6, 0, 0>(*c),
        (173, [10, 2, 1]) => reduce_const::<173, 10, 2, 1>(*c),
        (179, [4, 2, 1]) => reduce_const::<179, 4, 2, 1>(*c),
        (191, [9]) => reduce_const::<191, 9, 0, 0>(*c),
        (233, [9, 4, 1]) => reduce_const::<233, 9, 4, 1>(*c),
        (257, [12]) => reduce_const::<257, 12, 0, 0>(*c),
        (307, [8, 4, 2]) => reduce_const::<307, 8, 4, 2>(*c),
        (367, [21]) => reduce_const::<367, 21, 0, 0>(*c),
        (431, [5, 3, 1]) => reduce_const::<431, 5, 3, 1>(*c),
        _ => return None,
    })
}

/// c mod f for f = t^M + t^K0 + t^K1 + t^K2 + 1, or t^M + t^K0 + 1 when K1 = 0; the same
/// word-wise folding as `Field::reduce` (HMV alg. 2.40–2.42), highest word first.
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
