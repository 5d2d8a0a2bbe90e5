//! sP + rQ for verification, variable-time: verification handles only public data (the signature,
//! the public key, the digest), so the time may depend on them. Signing keeps the Montgomery
//! ladder (`Curve::mul`).
//!
//! Straus–Shamir simultaneous multiplication with width-w NAF digits (Hankerson–Menezes–Vanstone,
//! "Guide to Elliptic Curve Cryptography", alg. 3.35 and 3.51), in López–Dahab projective
//! coordinates (x = X/Z, y = Y/Z²; doubling alg. 3.24, mixed addition with an affine point alg.
//! 3.25): one doubling per bit of n and one addition per non-zero digit. The odd multiples of the
//! base point are computed once per curve (width 8: 64 affine points), those of the public key
//! per verification (width 5: 8 points, made affine with one shared inversion).

use std::sync::OnceLock;

use super::curve::{Curve, Point};
use super::field::{Fe, Limbs};
use super::named::{NAMED, named_curve};

/// wNAF width for the public key (computed per verification) and for a standard base point
/// (computed once per curve and kept).
const W_KEY: usize = 5;
const W_BASE: usize = 8;

/// A point in López–Dahab projective coordinates; Z = 0 is the point at infinity.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ld {
    x: Fe,
    y: Fe,
    z: Fe,
}

impl Ld {
    pub(super) const INFINITY: Ld = Ld {
        x: Fe::ONE,
        y: Fe::ZERO,
        z: Fe::ZERO,
    };

    pub(super) fn from_affine(p: &Point) -> Ld {
        Ld {
            x: p.x,
            y: p.y,
            z: Fe::ONE,
        }
    }

    pub(super) fn is_infinity(&self) -> bool {
        self.z.is_zero()
    }
}

/// −P = (x, x + y).
fn neg(p: &Point) -> Point {
    Point {
        x: p.x,
        y: p.x.add(&p.y),
    }
}

impl Curve {
    /// s·G + r·Q for s, r < 2^L(n) and Q of order n; None for the point at infinity.
    pub(crate) fn mul_add_vartime(&self, s: &Limbs, r: &Limbs, q: &Point) -> Option<Point> {
        let own;
        let (base, w_base): (&[Point], usize) = match standard_base_table(self) {
            Some(t) => (t, W_BASE),
            None => match self.odd_multiples(&self.g, W_KEY) {
                Some(t) => {
                    own = t;
                    (&own, W_KEY)
                }
                None => return self.add(self.mul(s, &self.g), self.mul(r, q)),
            },
        };
        let Some(key) = self.odd_multiples(q, W_KEY) else {
            return self.add(self.mul(s, &self.g), self.mul(r, q));
        };
        self.straus(&[(&wnaf(s, w_base), base), (&wnaf(r, W_KEY), &key)])
    }

    /// k·P for k < 2^L(n) and P of order n (public values only, e.g. n·Q in key validation);
    /// None for the point at infinity.
    pub(crate) fn mul_vartime(&self, k: &Limbs, p: &Point) -> Option<Point> {
        match self.odd_multiples(p, W_KEY) {
            Some(table) => self.straus(&[(&wnaf(k, W_KEY), &table)]),
            None => self.mul(k, p),
        }
    }

    /// Σ dᵢ·Pᵢ from each scalar's wNAF digits and the odd multiples of its point: one doubling
    /// per digit position, one mixed addition per non-zero digit.
    fn straus(&self, terms: &[(&[i8], &[Point])]) -> Option<Point> {
        let len = terms.iter().map(|(d, _)| d.len()).max().unwrap_or(0);
        let mut acc = Ld::INFINITY;
        for i in (0..len).rev() {
            if !acc.is_infinity() {
                acc = self.ld_double(&acc);
            }
            for (digits, table) in terms {
                let d = digits.get(i).copied().unwrap_or(0);
                if d != 0 {
                    let p = &table[usize::from(d.unsigned_abs()) / 2];
                    acc = if d > 0 {
                        self.ld_add_affine(&acc, p)
                    } else {
                        self.ld_add_affine(&acc, &neg(p))
                    };
                }
            }
        }
        self.to_affine(&acc)
    }

    /// 2P (HMV alg. 3.24): 4M + 5S.
    pub(super) fn ld_double(&self, p: &Ld) -> Ld {
        let f = &self.field;
        let z2 = f.sqr(&p.z);
        let x2 = f.sqr(&p.x);
        let z3 = f.mul(&z2, &x2);
        let bz4 = f.mul(&f.sqr(&z2), &self.b);
        let x3 = f.sqr(&x2).add(&bz4);
        let mut t = f.sqr(&p.y).add(&bz4);
        if self.a == Fe::ONE {
            t = t.add(&z3);
        }
        let y3 = f.mul(&x3, &t).add(&f.mul(&bz4, &z3));
        Ld {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// P + Q with Q affine (HMV alg. 3.25): 8M + 5S.
    pub(super) fn ld_add_affine(&self, p: &Ld, q: &Point) -> Ld {
        let f = &self.field;
        if p.is_infinity() {
            return Ld::from_affine(q);
        }
        let z2 = f.sqr(&p.z);
        let b = f.mul(&p.z, &q.x).add(&p.x); // x2·Z1 + X1
        let a = f.mul(&z2, &q.y).add(&p.y); // y2·Z1² + Y1
        if b.is_zero() {
            return if a.is_zero() {
                self.ld_double(&Ld::from_affine(q)) // P = Q
            } else {
                Ld::INFINITY // P = −Q
            };
        }
        let c = f.mul(&p.z, &b);
        let z3 = f.sqr(&c);
        let e = f.mul(&c, &a);
        let t = if self.a == Fe::ONE { c.add(&z2) } else { c };
        let x3 = f.mul(&f.sqr(&b), &t).add(&f.sqr(&a)).add(&e);
        let g = f.mul(&f.sqr(&z3), &q.x.add(&q.y));
        let y3 = f.mul(&e.add(&z3), &f.mul(&q.x, &z3).add(&x3)).add(&g);
        Ld {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    pub(super) fn to_affine(&self, p: &Ld) -> Option<Point> {
        if p.is_infinity() {
            return None;
        }
        let f = &self.field;
        let zi = f.inv(&p.z);
        Some(Point {
            x: f.mul(&p.x, &zi),
            y: f.mul(&p.y, &f.sqr(&zi)),
        })
    }

    /// P, 3P, 5P, …, (2^(w−1) − 1)P in affine coordinates. None if one of them (or 2P) is the
    /// point at infinity, which no curve point has for w ≤ 8 (its order divides 4n, and the
    /// only odd divisor of 4n below 2^7 is 1): callers fall back to the ladder all the same.
    fn odd_multiples(&self, p: &Point, w: usize) -> Option<Vec<Point>> {
        let count = 1 << (w - 2);
        let twice = self.add(Some(*p), Some(*p))?;
        let mut ld = Vec::with_capacity(count);
        ld.push(Ld::from_affine(p));
        for i in 1..count {
            let next = self.ld_add_affine(&ld[i - 1], &twice);
            ld.push(next);
        }
        self.batch_to_affine(&ld)
    }

    /// Affine forms with one inversion (Montgomery's trick); None if one is the point at infinity.
    pub(super) fn batch_to_affine(&self, points: &[Ld]) -> Option<Vec<Point>> {
        let f = &self.field;
        if points.iter().any(Ld::is_infinity) {
            return None;
        }
        // prefix[i] = Z_0 · … · Z_i
        let mut prefix = Vec::with_capacity(points.len());
        let mut acc = Fe::ONE;
        for p in points {
            acc = f.mul(&acc, &p.z);
            prefix.push(acc);
        }
        let mut inv = f.inv(&acc);
        let mut out = vec![
            Point {
                x: Fe::ZERO,
                y: Fe::ZERO
            };
            points.len()
        ];
        for i in (0..points.len()).rev() {
            let zi = if i == 0 {
                inv
            } else {
                f.mul(&inv, &prefix[i - 1])
            };
            inv = f.mul(&inv, &points[i].z);
            out[i] = Point {
                x: f.mul(&points[i].x, &zi),
                y: f.mul(&points[i].y, &f.sqr(&zi)),
            };
        }
        Some(out)
    }
}

/// The odd multiples of a standard curve's own base point (width `W_BASE`), built once per curve;
/// None for a base point that explicit parameters chose differently.
fn standard_base_table(curve: &Curve) -> Option<&'static [Point]> {
    static TABLES: [OnceLock<Vec<Point>>; NAMED.len()] = [const { OnceLock::new() }; NAMED.len()];
    let index = NAMED.iter().position(|nc| nc.name == curve.name)?;
    let standard = named_curve(index)?;
    if standard.g != curve.g || standard.field != curve.field {
        return None;
    }
    let table = TABLES[index].get_or_init(|| {
        standard
            .odd_multiples(&standard.g, W_BASE)
            .unwrap_or_default()
    });
    (!table.is_empty()).then_some(table.as_slice())
}

/// Width-w NAF of k, least significant digit first: odd digits in (−2^(w−1), 2^(w−1)), any two
/// non-zero digits at least w apart (HMV alg. 3.35).
fn wnaf(k: &Limbs, w: usize) -> Vec<i8> {
    let mut k = *k;
    let mut digits = Vec::with_capacity(64 * k.len() + 1);
    let window = 1u64 << w;
    while k.iter().any(|&x| x != 0) {
        let mut d = 0i64;
        if k[0] & 1 == 1 {
            let m = (k[0] & (window - 1)) as i64;
            d = if m >= (window as i64) / 2 {
                m - window as i64
            } else {
                m
            };
            // k ← k − d
            if d > 0 {
                sub_small(&mut k, d as u64);
            } else {
                add_small(&mut k, d.unsigned_abs());
            }
        }
        digits.push(d as i8);
        // k ← k / 2
        for i in 0..k.len() {
            let hi = if i + 1 < k.len() { k[i + 1] << 63 } else { 0 };
            k[i] = (k[i] >> 1) | hi;
        }
    }
    digits
}

fn sub_small(k: &mut Limbs, v: u64) {
    let mut borrow = v;
    for x in k.iter_mut() {
        let (r, b) = x.overflowing_sub(borrow);
        *x = r;
        borrow = u64::from(b);
        if borrow == 0 {
            break;
        }
    }
}

fn add_small(k: &mut Limbs, v: u64) {
    let mut carry = v;
    for x in k.iter_mut() {
        let (r, c) = x.overflowing_add(carry);
        *x = r;
        carry = u64::from(c);
        if carry == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(digits: &[i8]) -> i128 {
        let mut acc = 0i128;
        for &d in digits.iter().rev() {
            acc = acc * 2 + i128::from(d);
        }
        acc
    }

    #[test]
    fn wnaf_digits_rebuild_the_scalar() {
        for (k, w) in [
            (1u64, 5),
            (2, 5),
            (0xFFFF_FFFF_FFFF_FFFF, 5),
            (0x1234_5678_9ABC_DEF1, 8),
            (31, 5),
            (255, 8),
        ] {
            let mut limbs = [0u64; super::super::field::LIMBS];
            limbs[0] = k;
            let d = wnaf(&limbs, w);
            assert_eq!(value(&d), i128::from(k), "k = {k:#x}, w = {w}");
            for (i, &x) in d.iter().enumerate() {
                if x != 0 {
                    assert!(x % 2 != 0 && i32::from(x).abs() < 1 << (w - 1));
                    assert!(d[i + 1..].iter().take(w - 1).all(|&y| y == 0));
                }
            }
        }
    }

    /// The simultaneous multiplication agrees with two Montgomery ladders and an affine addition
    /// on every standard curve, for scalars of every size, and the precomputed base table is the
    /// one a non-standard base point would get computed anew.
    #[test]
    fn agrees_with_the_ladder_on_every_curve() {
        let mut next = crate::dstu4145::tests::xorshift(0x2545_F491_4F6C_DD1Du64);
        for i in 0..NAMED.len() {
            let c = named_curve(i).unwrap();
            let bits = c.order_bits();
            let q = c.mul(&[7, 0, 0, 0, 0, 0, 0], &c.g).unwrap();
            for round in 0..6 {
                let mut s = [0u64; super::super::field::LIMBS];
                let mut r = [0u64; super::super::field::LIMBS];
                for w in 0..bits.div_ceil(64) {
                    s[w] = next();
                    r[w] = next();
                }
                // Below n: drop the top bit (n's top bit is L(n) − 1).
                let top = bits - 1;
                s[top / 64] &= (1u64 << (top % 64)) - 1;
                r[top / 64] &= (1u64 << (top % 64)) - 1;
                if round == 0 {
                    s = [1, 0, 0, 0, 0, 0, 0];
                }
                if round == 1 {
                    r = [3, 0, 0, 0, 0, 0, 0];
                }
                let want = c.add(c.mul(&s, &c.g), c.mul(&r, &q));
                assert_eq!(
                    c.mul_add_vartime(&s, &r, &q),
                    want,
                    "{} round {round}",
                    c.name
                );
            }
            assert_eq!(c.mul_vartime(&c.n, &q), None, "{}", c.name);
            let k = [next(), next(), 0, 0, 0, 0, 0];
            assert_eq!(c.mul_vartime(&k, &q), c.mul(&k, &q), "{}", c.name);
            // sG + rQ = O when Q = G and r = n − s.
            let s = [5, 0, 0, 0, 0, 0, 0];
            let mut r = c.n;
            sub_small(&mut r, 5);
            assert_eq!(c.mul_add_vartime(&s, &r, &c.g), None, "{}", c.name);
            // A base point that is not the standard one goes through the per-call table.
            let mut other = c.clone();
            other.g = q;
            assert!(standard_base_table(&other).is_none());
            let (s, r) = ([11, 0, 0, 0, 0, 0, 0], [13, 0, 0, 0, 0, 0, 0]);
            assert_eq!(
                other.mul_add_vartime(&s, &r, &c.g),
                c.add(c.mul(&s, &q), c.mul(&r, &c.g)),
                "{}",
                c.name
            );
        }
    }
}
