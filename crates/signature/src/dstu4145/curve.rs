//! Points of y² + xy = x³ + ax² + b over GF(2^m) (DSTU 4145-2002 section 6): the point
//! decompression of section 6.9 / 6.10 (trace-based), public-key validation, and scalar
//! multiplication.
//!
//! Scalar multiplication is the Montgomery ladder in López–Dahab x-only projective coordinates
//! with y recovery (López and Dahab, "Fast multiplication on elliptic curves over GF(2^m) without
//! precomputation", CHES 1999; Hankerson–Menezes–Vanstone alg. 3.40): one shape per bit of a
//! fixed bit length and a branch-free swap. `mul` runs it with the fast comb multiplier for
//! verification; `mul_secret` with the constant-time one for signing (nonce and private key).

use super::field::{Fe, Field, Limbs, bit_len};

/// An affine point; the point at infinity is `None` wherever one can occur.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Point {
    pub(crate) x: Fe,
    pub(crate) y: Fe,
}

/// A curve with its base point of prime order n.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Curve {
    /// "M257" etc.: explicit parameters are accepted only when they equal a named curve.
    pub(crate) name: &'static str,
    pub(crate) field: Field,
    pub(crate) a: Fe,
    pub(crate) b: Fe,
    pub(crate) n: Limbs,
    pub(crate) g: Point,
}

impl Curve {
    /// Bit length L(n) of the base point's order.
    pub(crate) fn order_bits(&self) -> usize {
        bit_len(&self.n)
    }

    pub(crate) fn contains(&self, p: &Point) -> bool {
        let f = &self.field;
        let x2 = f.sqr(&p.x);
        let lhs = f.sqr(&p.y).add(&f.mul(&p.x, &p.y));
        let rhs = f.mul(&x2, &p.x).add(&f.mul(&self.a, &x2)).add(&self.b);
        lhs == rhs
    }

    /// DSTU 4145 §6.10: from the compressed x̃ (x with its lowest bit replaced by Tr(y/x)).
    /// None if no point has that encoding. x = 0 (the point of order 2) is refused: it is never
    /// a public key or a base point.
    pub(crate) fn decompress(&self, xc: &Fe) -> Option<Point> {
        let f = &self.field;
        if xc.is_zero() {
            return None;
        }
        let k = xc.0[0] & 1 == 1;
        let mut x = *xc;
        x.0[0] &= !1;
        // Points of odd order satisfy Tr(x) = Tr(a); the lowest bit of x is chosen to make it so.
        if f.trace(&x) != f.trace(&self.a) {
            x.0[0] |= 1;
        }
        if x.is_zero() {
            return None;
        }
        // y = z·x with z² + z = x + a + b/x².
        let w = x.add(&self.a).add(&f.mul(&self.b, &f.sqr(&f.inv(&x))));
        let mut z = f.half_trace(&w);
        if f.sqr(&z).add(&z) != w {
            return None;
        }
        if f.trace(&z) != k {
            z = z.add(&Fe::ONE);
        }
        let p = Point {
            x,
            y: f.mul(&z, &x),
        };
        debug_assert!(self.contains(&p));
        Some(p)
    }

    /// DSTU 4145 §6.9 compression: x with its lowest bit replaced by Tr(y/x).
    pub(crate) fn compress(&self, p: &Point) -> Fe {
        let f = &self.field;
        let mut xc = p.x;
        let t = f.trace(&f.mul(&p.y, &f.inv(&p.x)));
        xc.0[0] = (xc.0[0] & !1) | u64::from(t);
        xc
    }

    /// A usable public key (or base point): on the curve, x ≠ 0, and n·Q = O.
    pub(crate) fn is_valid_key(&self, q: &Point) -> bool {
        // Public values: the variable-time multiplication of multi.rs.
        !q.x.is_zero() && self.contains(q) && self.mul_vartime(&self.n, q).is_none()
    }

    /// k·P for k < 2^L(n) and x(P) ≠ 0; None for the point at infinity.
    pub(crate) fn mul(&self, k: &Limbs, p: &Point) -> Option<Point> {
        self.ladder::<false>(k, p)
    }

    /// As `mul` for a secret k (signing): every field multiply and the inversion of the y
    /// recovery are the constant-time ones. The only branches on k are the y recovery's checks
    /// for k ≡ 0 or −1 (mod the order of P), which a nonce or key in [1, n − 2] never hits.
    pub(crate) fn mul_secret(&self, k: &Limbs, p: &Point) -> Option<Point> {
        self.ladder::<true>(k, p)
    }

    fn fmul<const CT: bool>(&self, a: &Fe, b: &Fe) -> Fe {
        if CT {
            self.field.mul_ct(a, b)
        } else {
            self.field.mul(a, b)
        }
    }

    fn ladder<const CT: bool>(&self, k: &Limbs, p: &Point) -> Option<Point> {
        let f = &self.field;
        let x = p.x;
        // (X1:Z1) = j·P, (X2:Z2) = (j+1)·P; start from j = 0 (the point at infinity is (1:0)),
        // so every scalar below 2^L(n) takes the same number of steps.
        let (mut x1, mut z1) = (Fe::ONE, Fe::ZERO);
        let (mut x2, mut z2) = (x, Fe::ONE);
        for i in (0..self.order_bits()).rev() {
            let bit = (k[i / 64] >> (i % 64)) & 1 == 1;
            // bit = 1: P1 ← P1 + P2, P2 ← 2·P2; bit = 0: the same with P1 and P2 swapped.
            Fe::cswap(&mut x1, &mut x2, !bit);
            Fe::cswap(&mut z1, &mut z2, !bit);
            // Addition with difference P: Z = (X1 Z2 + X2 Z1)², X = x Z + X1 Z2 X2 Z1.
            let t1 = self.fmul::<CT>(&x1, &z2);
            let t2 = self.fmul::<CT>(&x2, &z1);
            z1 = f.sqr(&t1.add(&t2));
            x1 = self.fmul::<CT>(&x, &z1).add(&self.fmul::<CT>(&t1, &t2));
            // Doubling: X = X⁴ + b Z⁴, Z = X² Z².
            let xx = f.sqr(&x2);
            let zz = f.sqr(&z2);
            z2 = self.fmul::<CT>(&xx, &zz);
            x2 = f.sqr(&xx).add(&self.fmul::<CT>(&self.b, &f.sqr(&zz)));
            Fe::cswap(&mut x1, &mut x2, !bit);
            Fe::cswap(&mut z1, &mut z2, !bit);
        }
        self.recover_y::<CT>(p, (&x1, &z1), (&x2, &z2))
    }

    /// Affine k·P from the ladder's (X1:Z1) = k·P and (X2:Z2) = (k+1)·P (López–Dahab).
    fn recover_y<const CT: bool>(
        &self,
        p: &Point,
        (x1, z1): (&Fe, &Fe),
        (x2, z2): (&Fe, &Fe),
    ) -> Option<Point> {
        let f = &self.field;
        let (x, y) = (p.x, p.y);
        if z1.is_zero() {
            return None;
        }
        if z2.is_zero() {
            // (k+1)·P = O, so k·P = −P = (x, x + y).
            return Some(Point { x, y: x.add(&y) });
        }
        // inv = (x Z1 Z2)^(-1); xk = X1/Z1 = X1 x Z2 · inv;
        // yk = (x + xk)·[(X1 + x Z1)(X2 + x Z2) + (x² + y) Z1 Z2]·inv + y.
        let z1z2 = self.fmul::<CT>(z1, z2);
        let xz1z2 = self.fmul::<CT>(&x, &z1z2);
        let inv = if CT { f.inv_ct(&xz1z2) } else { f.inv(&xz1z2) };
        let xk = self.fmul::<CT>(&self.fmul::<CT>(x1, &self.fmul::<CT>(&x, z2)), &inv);
        let u = self.fmul::<CT>(
            &x1.add(&self.fmul::<CT>(&x, z1)),
            &x2.add(&self.fmul::<CT>(&x, z2)),
        );
        let v = self.fmul::<CT>(&f.sqr(&x).add(&y), &z1z2);
        let yk = self
            .fmul::<CT>(&self.fmul::<CT>(&x.add(&xk), &u.add(&v)), &inv)
            .add(&y);
        Some(Point { x: xk, y: yk })
    }

    /// P + Q in affine coordinates (DSTU 4145 §6.3), None standing for the point at infinity.
    pub(crate) fn add(&self, p: Option<Point>, q: Option<Point>) -> Option<Point> {
        let f = &self.field;
        let (p, q) = match (p, q) {
            (None, r) | (r, None) => return r,
            (Some(p), Some(q)) => (p, q),
        };
        let lambda = if p.x == q.x {
            if p.y != q.y || p.x.is_zero() {
                return None; // Q = −P
            }
            // Doubling: λ = x + y/x.
            p.x.add(&f.mul(&p.y, &f.inv(&p.x)))
        } else {
            f.mul(&p.y.add(&q.y), &f.inv(&p.x.add(&q.x)))
        };
        let x3 = f.sqr(&lambda).add(&lambda).add(&p.x).add(&q.x).add(&self.a);
        let y3 = f.mul(&lambda, &p.x.add(&x3)).add(&x3).add(&p.y);
        Some(Point { x: x3, y: y3 })
    }
}
