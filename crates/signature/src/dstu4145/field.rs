//! GF(2^m) in polynomial basis, f(t) = t^m + t^k3 + t^k2 + t^k1 + 1 or t^m + t^k + 1, the fields
//! of DSTU 4145-2002 (section 5, annex C). One element type for every curve (m ≤ 447, seven
//! 64-bit limbs, little-endian limb order); loops run over the field's word count, which is
//! public, never over data. No heap, no branch or table index on operand values except, in a
//! build without the carry-less multiply, the 4-bit window of the comb multiplier `mul` (a
//! cache-timing channel that does not matter for verification, which handles only public
//! data). Signing uses `mul_ct` — the carry-less multiply, or a bit-serial comb whose only
//! dependence on operand bits is through masks — and `inv_ct` built on it; squaring and
//! reduction are data-independent already (shifts and XORs at public positions).
//!
//! Algorithms: the products in field_mul.rs (PCLMULQDQ, or the left-to-right comb with 4-bit
//! windows of Hankerson, Menezes, Vanstone, "Guide to Elliptic Curve Cryptography", alg. 2.36,
//! and squaring by bit interleaving, 2.39), word-wise reduction by the sparse polynomial
//! (2.40–2.42, generalised to any tri- or pentanomial whose middle terms lie 64 bits below t^m
//! — true of all ten DSTU fields), inversion by Fermat with the Itoh–Tsujii addition chain
//! (DSTU 4145 annex C.4 describes the same), half-trace for solving z² + z = w in odd degree
//! (DSTU 4145 annex C).

use super::field_mul::Standard;
pub(crate) use super::limbs::{LIMBS, Limbs};
const WIDE: usize = 2 * LIMBS;

/// An element of some `Field`; only meaningful together with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Fe(pub(crate) Limbs);

impl Fe {
    pub(crate) const ZERO: Fe = Fe([0; LIMBS]);
    pub(crate) const ONE: Fe = Fe([1, 0, 0, 0, 0, 0, 0]);

    pub(crate) fn add(&self, other: &Fe) -> Fe {
        let mut r = self.0;
        for (x, y) in r.iter_mut().zip(other.0.iter()) {
            *x ^= y;
        }
        Fe(r)
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// Swaps `a` and `b` when `swap` is true, without a branch on it.
    pub(crate) fn cswap(a: &mut Fe, b: &mut Fe, swap: bool) {
        let mask = 0u64.wrapping_sub(u64::from(swap));
        for (x, y) in a.0.iter_mut().zip(b.0.iter_mut()) {
            let t = (*x ^ *y) & mask;
            *x ^= t;
            *y ^= t;
        }
    }
}

/// The field GF(2^m) with its reduction polynomial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    m: usize,
    /// Words an element occupies: ceil(m / 64).
    words: usize,
    /// Exponents of f below t^m, including the constant term 0, highest first.
    terms: [usize; 4],
    nterms: usize,
    /// Set for the ten DSTU polynomials: their arithmetic compiled for them (field_mul.rs).
    standard: Option<Standard>,
}

impl Field {
    /// `ks` are the middle exponents: one (trinomial) or three (pentanomial), any order.
    /// Returns None for a polynomial this reduction does not handle (no DSTU field is one).
    pub(crate) fn new(m: usize, ks: &[usize]) -> Option<Field> {
        if !(128..LIMBS * 64).contains(&m) || m.is_multiple_of(64) {
            return None;
        }
        let mut terms = [0usize; 4];
        match ks {
            [k] => terms[0] = *k,
            [a, b, c] => {
                let mut s = [*a, *b, *c];
                s.sort_unstable_by(|x, y| y.cmp(x));
                if s[0] == s[1] || s[1] == s[2] {
                    return None;
                }
                terms[..3].copy_from_slice(&s);
            }
            _ => return None,
        }
        let nterms = ks.len() + 1;
        // The word-wise reduction folds a whole word at once: it needs the highest middle term
        // at least 64 below m (and > 0) so a folded word never lands on bits it still has to fold.
        if terms[0] == 0 || terms[0] + 64 >= m || terms[nterms - 2] == 0 {
            return None;
        }
        Some(Field {
            m,
            words: m.div_ceil(64),
            terms,
            nterms,
            standard: Standard::of(m, &terms[..nterms - 1]),
        })
    }

    pub(crate) fn degree(&self) -> usize {
        self.m
    }

    /// The middle exponents of f, highest first.
    pub(crate) fn middle_terms(&self) -> &[usize] {
        &self.terms[..self.nterms - 1]
    }

    /// Reads a little-endian octet string; None if it is longer than the limbs or ≥ 2^m.
    pub(crate) fn decode_le(&self, bytes: &[u8]) -> Option<Fe> {
        let v = limbs_decode_le(bytes)?;
        (bit_len(&v) <= self.m).then_some(Fe(v))
    }

    /// The product (field_mul.rs), then the reduction.
    pub(crate) fn mul(&self, a: &Fe, b: &Fe) -> Fe {
        match self.standard {
            Some(polynomial) => Fe(polynomial.mul(&a.0, &b.0)),
            None => self.reduce(super::field_mul::mul_unreduced(self.words, &a.0, &b.0)),
        }
    }

    /// a·b without a branch or memory index on either operand (for secret data): `mul` where
    /// that is the carry-less multiply; else the left-to-right comb with 1-bit windows, each
    /// bit of `a` turned into an all-ones or all-zeros mask (about three times slower).
    pub(crate) fn mul_ct(&self, a: &Fe, b: &Fe) -> Fe {
        if super::field_mul::CONSTANT_TIME {
            return self.mul(a, b);
        }
        let n = self.words;
        let mut c = [0u64; WIDE];
        for k in (0..64).rev() {
            for j in 0..n {
                let mask = 0u64.wrapping_sub((a.0[j] >> k) & 1);
                for i in 0..n {
                    c[j + i] ^= b.0[i] & mask;
                }
            }
            if k != 0 {
                for i in (1..2 * n).rev() {
                    c[i] = (c[i] << 1) | (c[i - 1] >> 63);
                }
                c[0] <<= 1;
            }
        }
        self.reduce(c)
    }

    pub(crate) fn sqr(&self, a: &Fe) -> Fe {
        match self.standard {
            Some(polynomial) => Fe(polynomial.sqr(&a.0)),
            None => self.reduce(super::field_mul::sqr_unreduced(self.words, &a.0)),
        }
    }

    /// a^(2^k).
    pub(crate) fn sqr_n(&self, a: &Fe, k: usize) -> Fe {
        let mut r = *a;
        for _ in 0..k {
            r = self.sqr(&r);
        }
        r
    }

    /// a^(-1) = a^(2^m - 2); 0 maps to 0 (callers check for zero first).
    pub(crate) fn inv(&self, a: &Fe) -> Fe {
        self.inv_with(a, Field::mul)
    }

    /// As `inv`, for secret `a`: the addition chain depends only on m, the multiplies are `mul_ct`.
    pub(crate) fn inv_ct(&self, a: &Fe) -> Fe {
        self.inv_with(a, Field::mul_ct)
    }

    fn inv_with(&self, a: &Fe, mul: impl Fn(&Field, &Fe, &Fe) -> Fe) -> Fe {
        // beta_k = a^(2^k - 1): beta_2k = beta_k^(2^k) · beta_k, beta_(k+1) = beta_k^2 · a.
        let e = self.m - 1;
        let mut beta = *a;
        let mut k = 1usize;
        let top = usize::BITS - 1 - e.leading_zeros();
        for bit in (0..top).rev() {
            beta = mul(self, &self.sqr_n(&beta, k), &beta);
            k *= 2;
            if (e >> bit) & 1 == 1 {
                beta = mul(self, &self.sqr(&beta), a);
                k += 1;
            }
        }
        debug_assert_eq!(k, e);
        self.sqr(&beta)
    }

    /// Tr(a) = a + a^2 + … + a^(2^(m-1)), which is 0 or 1.
    pub(crate) fn trace(&self, a: &Fe) -> bool {
        let mut t = *a;
        let mut s = *a;
        for _ in 1..self.m {
            t = self.sqr(&t);
            s = s.add(&t);
        }
        s.0[0] & 1 == 1
    }

    /// Half-trace H(w) = Σ w^(2^(2i)), i = 0..(m-1)/2: for odd m and Tr(w) = 0 it solves
    /// z² + z = w (the other root is z + 1).
    pub(crate) fn half_trace(&self, w: &Fe) -> Fe {
        let mut t = *w;
        let mut h = *w;
        for _ in 0..(self.m - 1) / 2 {
            t = self.sqr(&self.sqr(&t));
            h = h.add(&t);
        }
        h
    }

    /// c mod f for any polynomial `new` accepts (the ten DSTU ones have their own in
    /// field_mul.rs).
    fn reduce(&self, mut c: [u64; WIDE]) -> Fe {
        let m = self.m;
        let top = m / 64;
        let terms = &self.terms[..self.nterms];
        // Bit 64j + i (≥ m) becomes bits 64j + i - m + p for each term t^p of f - t^m.
        for j in (top + 1..2 * self.words).rev() {
            let zz = c[j];
            c[j] = 0;
            for &p in terms {
                let d = 64 * j - m + p;
                let (w, s) = (d / 64, d % 64);
                c[w] ^= zz << s;
                if s != 0 {
                    c[w + 1] ^= zz >> (64 - s);
                }
            }
        }
        let zz = c[top] >> (m % 64);
        c[top] &= (1u64 << (m % 64)) - 1;
        for &p in terms {
            let (w, s) = (p / 64, p % 64);
            c[w] ^= zz << s;
            if s != 0 {
                c[w + 1] ^= zz >> (64 - s);
            }
        }
        let mut r = [0u64; LIMBS];
        r.copy_from_slice(&c[..LIMBS]);
        Fe(r)
    }
}

/// Little-endian octets to limbs; None if they do not fit (leading zero octets are allowed).
pub(crate) fn limbs_decode_le(bytes: &[u8]) -> Option<Limbs> {
    let mut v = [0u64; LIMBS];
    for (i, &b) in bytes.iter().enumerate() {
        if b == 0 {
            continue;
        }
        *v.get_mut(i / 8)? |= u64::from(b) << (8 * (i % 8));
    }
    Some(v)
}

/// Big-endian hex (spaces allowed) to limbs, for the curve tables and tests.
pub(crate) fn limbs_from_hex(hex: &str) -> Option<Limbs> {
    let digits: Vec<u8> = hex.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut v = [0u64; LIMBS];
    for (i, d) in digits.iter().rev().enumerate() {
        let nib = u64::from(char::from(*d).to_digit(16)?);
        *v.get_mut(i / 16)? |= nib << (4 * (i % 16));
    }
    Some(v)
}

/// Position of the highest set bit plus one (0 for zero).
pub(crate) fn bit_len(v: &Limbs) -> usize {
    v.iter()
        .rposition(|&w| w != 0)
        .map_or(0, |i| 64 * i + 64 - v[i].leading_zeros() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m257() -> Field {
        Field::new(257, &[12]).unwrap()
    }

    fn fe(h: &str) -> Fe {
        Fe(limbs_from_hex(h).unwrap())
    }

    /// Reduces a value of up to 2m bits the slow way (bit by bit), as an independent check.
    fn slow_mul(f: &Field, a: &Fe, b: &Fe) -> Fe {
        let mut acc = Fe::ZERO;
        let mut sh = *a;
        for i in 0..f.m {
            if (b.0[i / 64] >> (i % 64)) & 1 == 1 {
                acc = acc.add(&sh);
            }
            // sh *= t, reduced
            let carry = (sh.0[(f.m - 1) / 64] >> ((f.m - 1) % 64)) & 1 == 1;
            for w in (1..LIMBS).rev() {
                sh.0[w] = (sh.0[w] << 1) | (sh.0[w - 1] >> 63);
            }
            sh.0[0] <<= 1;
            if carry {
                sh.0[f.m / 64] ^= 1 << (f.m % 64);
                for &p in &f.terms[..f.nterms] {
                    sh.0[p / 64] ^= 1 << (p % 64);
                }
            }
        }
        acc
    }

    /// jkurwa `test/test.js`, "Field": mod, mul, inv on DSTU_PB_257 (values are big-endian hex).
    #[test]
    fn jkurwa_m257_field_vectors() {
        let f = m257();
        let a = "aff3ee09cb429284985849e20de5742e194aa631490f62ba88702505629a65890";
        let a_mod = fe("ff3ee09cb429284985849e20de5742e194aa631490f62ba88702505629a60895");
        // "#mod": a has 260 bits; reduce it by multiplying with 1.
        let wide = limbs_from_hex(a).unwrap();
        let mut c = [0u64; WIDE];
        c[..LIMBS].copy_from_slice(&wide);
        assert_eq!(f.reduce(c), a_mod);

        let b = fe("01B345BC134F27DA251EDFAE97B3F306B4E8B8CB9CF86D8651E4FB301EF8E1239C");
        let want = fe("157b8e91c8b225469821fc836045a7c09c30d9fdee54b680c8247821f8c4e3352");
        assert_eq!(f.mul(&a_mod, &b), want);
        assert_eq!(slow_mul(&f, &a_mod, &b), want);

        let inv = fe("f5ae84d0c4dc2e7e89c670fb2083d124be50b413efb6863705bd63a5168352e0");
        assert_eq!(f.inv(&a_mod), inv);
        assert_eq!(f.mul(&a_mod, &inv), Fe::ONE);

        // "#trace()"
        let x = fe("2A29EF207D0E9B6C55CD260B306C7E007AC491CA1B10C62334A9E8DCD8D20FB6");
        assert!(f.trace(&x));
    }

    /// The comb multiplier, squaring and inversion agree with the bit-serial definition on
    /// every DSTU field, for a few pseudo-random elements.
    #[test]
    fn arithmetic_matches_bit_serial_reference() {
        let fields: [(usize, &[usize]); 10] = [
            (163, &[3, 6, 7]),
            (167, &[6]),
            (173, &[1, 2, 10]),
            (179, &[1, 2, 4]),
            (191, &[9]),
            (233, &[1, 4, 9]),
            (257, &[12]),
            (307, &[2, 4, 8]),
            (367, &[21]),
            (431, &[1, 3, 5]),
        ];
        let mut next = crate::dstu4145::tests::xorshift(0x9E37_79B9_7F4A_7C15u64);
        for (m, ks) in fields {
            let f = Field::new(m, ks).unwrap();
            for _ in 0..16 {
                let mut a = Fe([0; LIMBS]);
                let mut b = Fe([0; LIMBS]);
                for i in 0..f.words {
                    a.0[i] = next();
                    b.0[i] = next();
                }
                a.0[f.words - 1] &= (1u64 << (m % 64)) - 1;
                b.0[f.words - 1] &= (1u64 << (m % 64)) - 1;
                assert_eq!(f.mul(&a, &b), slow_mul(&f, &a, &b), "m = {m}");
                assert!(f.standard.is_some(), "m = {m}");
                let generic = f.reduce(super::super::field_mul::mul_unreduced(f.words, &a.0, &b.0));
                assert_eq!(generic, f.mul(&a, &b), "m = {m}");
                let generic = f.reduce(super::super::field_mul::sqr_unreduced(f.words, &a.0));
                assert_eq!(generic, f.sqr(&a), "m = {m}");
                assert_eq!(f.mul_ct(&a, &b), f.mul(&a, &b), "m = {m}");
                assert_eq!(f.inv_ct(&a), f.inv(&a), "m = {m}");
                assert_eq!(f.sqr(&a), slow_mul(&f, &a, &a), "m = {m}");
                assert_eq!(f.mul(&a, &f.inv(&a)), Fe::ONE, "m = {m}");
                let w = if f.trace(&a) { a.add(&Fe::ONE) } else { a };
                if !f.trace(&w) {
                    let z = f.half_trace(&w);
                    assert_eq!(f.sqr(&z).add(&z), w, "m = {m}");
                }
            }
        }
    }

    #[test]
    fn rejects_unsupported_polynomials() {
        assert!(Field::new(257, &[200]).is_none());
        assert!(Field::new(256, &[12]).is_none());
        assert!(Field::new(431, &[1, 1, 5]).is_none());
        assert!(Field::new(431, &[1, 3]).is_none());
        assert!(m257().decode_le(&[0u8; 33]).is_some());
        let mut too_big = [0u8; 33];
        too_big[32] = 2; // bit 257
        assert!(m257().decode_le(&too_big).is_none());
    }
}
