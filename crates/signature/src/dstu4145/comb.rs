//! sP + rQ with fixed-base comb tables (Hankerson–Menezes–Vanstone, "Guide to Elliptic Curve
//! Cryptography", alg. 3.44) for both points, variable-time (public data only, as multi.rs).
//!
//! The wNAF multiplication of multi.rs needs one doubling per bit of n (431 on M431), which is
//! most of a verification. A comb of width w splits a scalar into w rows of d = ⌈L(n)/w⌉ bits and
//! needs only d doublings, given the 2^w − 1 sums of the points 2^(jd)·P. G's table (width 9, 56 KiB)
//! is built once per curve; a public key's (width 6, 7 KiB) once per key, kept with the key in
//! the cache of parsed keys (parsed_keys.rs). Interleaved, the two combs share their doublings:
//! on M431 72 doublings and ~119 additions instead of 431 and ~120. (Widths 8 and 5 took 10%
//! more instructions per login; docs/benchmarks.md, round 7.)

use std::sync::OnceLock;

use super::curve::{Curve, Point};
use super::field::Limbs;
use super::multi::Ld;
use super::named::{NAMED, named_curve};

/// Comb width for a public key (its table is kept per key) and for a standard base point.
pub(crate) const W_KEY_COMB: usize = 6;
const W_BASE_COMB: usize = 9;

/// The 2^w − 1 non-zero sums Σ a_j·2^(jd)·P (j < w), affine: `points[a − 1]` for the bits a_j
/// of a.
#[derive(Debug)]
pub(crate) struct Comb {
    w: usize,
    d: usize,
    points: Vec<Point>,
}

impl Comb {
    /// Bit i + jd of k for j = w − 1 … 0: the table index of column i.
    fn column(&self, k: &Limbs, i: usize) -> usize {
        let mut index = 0;
        for j in (0..self.w).rev() {
            let bit = i + j * self.d;
            let set = k
                .get(bit / 64)
                .is_some_and(|word| word >> (bit % 64) & 1 == 1);
            index = index << 1 | usize::from(set);
        }
        index
    }
}

impl Curve {
    /// P's comb table of width w for scalars below 2^L(n); None if a sum is the point at
    /// infinity (a multiple of n: possible in principle, as wd ≥ L(n)), and callers then use the
    /// wNAF multiplication.
    pub(crate) fn comb_table(&self, p: &Point, w: usize) -> Option<Comb> {
        let d = self.order_bits().div_ceil(w);
        // 2^(jd)·P for j < w, made affine with one inversion.
        let mut rows = vec![Ld::from_affine(p)];
        for j in 1..w {
            let mut next = rows[j - 1];
            for _ in 0..d {
                next = self.ld_double(&next);
            }
            rows.push(next);
        }
        let rows = self.batch_to_affine(&rows)?;
        // Each sum is a smaller sum plus its highest row.
        let mut sums: Vec<Ld> = Vec::with_capacity((1 << w) - 1);
        for a in 1usize..1 << w {
            let high = usize::BITS as usize - 1 - a.leading_zeros() as usize;
            let rest = a & !(1 << high);
            sums.push(if rest == 0 {
                Ld::from_affine(&rows[high])
            } else {
                self.ld_add_affine(&sums[rest - 1], &rows[high])
            });
        }
        let points = self.batch_to_affine(&sums)?;
        Some(Comb { w, d, points })
    }

    /// s·G + r·Q with G's table (a standard base point's) and Q's; None for the point at
    /// infinity. `q_comb` must be Q's table: the caller keeps them together (PublicKey).
    pub(crate) fn mul_add_comb(
        &self,
        s: &Limbs,
        r: &Limbs,
        g_comb: &Comb,
        q_comb: &Comb,
    ) -> Option<Point> {
        let rounds = g_comb.d.max(q_comb.d);
        let mut acc = Ld::INFINITY;
        for i in (0..rounds).rev() {
            if !acc.is_infinity() {
                acc = self.ld_double(&acc);
            }
            for (k, comb) in [(s, g_comb), (r, q_comb)] {
                if i < comb.d {
                    let index = comb.column(k, i);
                    if index != 0 {
                        // Handles acc = ±the point too (a doubling, or the point at infinity).
                        acc = self.ld_add_affine(&acc, &comb.points[index - 1]);
                    }
                }
            }
        }
        self.to_affine(&acc)
    }
}

/// The comb table of a standard curve's own base point, built once per curve; None for a base
/// point that explicit parameters chose differently.
pub(crate) fn standard_base_comb(curve: &Curve) -> Option<&'static Comb> {
    static TABLES: [OnceLock<Option<Comb>>; NAMED.len()] = [const { OnceLock::new() }; NAMED.len()];
    let index = NAMED.iter().position(|nc| nc.name == curve.name)?;
    let standard = named_curve(index)?;
    if standard.g != curve.g || standard.field != curve.field {
        return None;
    }
    TABLES[index]
        .get_or_init(|| standard.comb_table(&standard.g, W_BASE_COMB))
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dstu4145::field::LIMBS;

    /// The combs agree with two Montgomery ladders and an affine addition on every standard
    /// curve, for scalars of every size up to n − 1, and give the point at infinity for it.
    #[test]
    fn agrees_with_the_ladder_on_every_curve() {
        let mut next = crate::dstu4145::tests::xorshift(0x9E37_79B9_7F4A_7C15u64);
        for i in 0..NAMED.len() {
            let c = named_curve(i).unwrap();
            let bits = c.order_bits();
            let g_comb = standard_base_comb(c).unwrap();
            let q = c.mul(&[11, 0, 0, 0, 0, 0, 0], &c.g).unwrap();
            let q_comb = c.comb_table(&q, W_KEY_COMB).unwrap();
            let mut n_minus_1 = c.n;
            n_minus_1[0] -= 1; // n is odd
            for round in 0..8 {
                let mut s = [0u64; LIMBS];
                let mut r = [0u64; LIMBS];
                for w in 0..bits.div_ceil(64) {
                    s[w] = next();
                    r[w] = next();
                }
                let top = bits - 1;
                s[top / 64] &= (1u64 << (top % 64)) - 1;
                r[top / 64] &= (1u64 << (top % 64)) - 1;
                match round {
                    0 => s = [1, 0, 0, 0, 0, 0, 0],
                    1 => r = [1, 0, 0, 0, 0, 0, 0],
                    2 => s = n_minus_1,
                    3 => r = n_minus_1,
                    _ => {}
                }
                let want = c.add(c.mul(&s, &c.g), c.mul(&r, &q));
                assert_eq!(
                    c.mul_add_comb(&s, &r, g_comb, &q_comb),
                    want,
                    "{} round {round}",
                    c.name
                );
            }
            // sG + rG = O for r = n − s.
            let g_as_key = c.comb_table(&c.g, W_KEY_COMB).unwrap();
            let s = [5, 0, 0, 0, 0, 0, 0];
            let mut r = c.n;
            r[0] -= 5;
            assert_eq!(
                c.mul_add_comb(&s, &r, g_comb, &g_as_key),
                None,
                "{}",
                c.name
            );
        }
    }
}
