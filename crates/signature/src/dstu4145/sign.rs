//! DSTU 4145-2002 signing (section 7, "обчислення цифрового підпису"), for the test CA and the
//! Diia emulator's keys: private key d ∈ [1, n−1], public key Q = −dP; for a GOST 34.311
//! digest h (a field element as in verification), a random e ∈ [1, n−1], R = eP,
//! r = x(R)·h truncated to L(n) − 1 bits, s = (e + d·r) mod n, retried while r = 0 or s = 0.
//!
//! Secret-dependent arithmetic is constant-time: the ladder with the masked multiplier
//! (`Curve::mul_secret`), and mod-n arithmetic and nonce sampling by crypto-bigint (its
//! rejection sampling leaks only that a rejected candidate was ≥ n). Scalars are zeroized on
//! drop.

use crypto_bigint::ctutils::CtLt;
use crypto_bigint::{NonZero, RandomMod, U448};
use rand_core::CryptoRng;
use zeroize::{Zeroize, Zeroizing};

use super::curve::{Curve, Point};
use super::field::{Fe, LIMBS, Limbs, limbs_decode_le};
use super::named::DstuCurve;
use super::params::{ByteOrder, ParamsError};
use super::verify::{PublicKey, hash_to_field, truncate};
use crate::gost34311;

/// A DSTU 4145 private key on a standard curve. Test and emulator use: nothing here has been
/// audited for production key handling (the scalar lives in ordinary memory).
#[derive(Clone)]
pub struct SigningKey {
    id: DstuCurve,
    curve: &'static Curve,
    d: Limbs,
    q: Point,
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.d.zeroize();
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("curve", &self.id.name())
            .finish_non_exhaustive()
    }
}

fn curve_of(id: DstuCurve) -> Result<&'static Curve, ParamsError> {
    id.curve()
        .ok_or(ParamsError::UnsupportedCurve("standard curve table"))
}

fn to_uint(v: &Limbs) -> U448 {
    let mut b = Zeroizing::new([0u8; LIMBS * 8]);
    for (i, w) in v.iter().enumerate() {
        b[8 * i..8 * i + 8].copy_from_slice(&w.to_le_bytes());
    }
    U448::from_le_slice(b.as_ref())
}

fn from_uint(u: &U448) -> Limbs {
    let b = Zeroizing::new(u.to_le_bytes());
    limbs_decode_le(&b).unwrap_or_default()
}

/// n as a crypto-bigint modulus (never zero for a standard curve).
fn modulus(curve: &Curve) -> NonZero<U448> {
    NonZero::new(to_uint(&curve.n))
        .into_option()
        .unwrap_or(NonZero::<U448>::ONE)
}

/// A uniform scalar in [1, n − 1].
fn random_scalar<R: CryptoRng + ?Sized>(curve: &Curve, rng: &mut R) -> Limbs {
    let n = modulus(curve);
    loop {
        let mut k = U448::random_mod_vartime(rng, &n);
        if !bool::from(k.is_zero()) {
            let out = from_uint(&k);
            k.zeroize();
            return out;
        }
    }
}

impl SigningKey {
    /// A fresh key on `curve`.
    pub fn generate<R: CryptoRng + ?Sized>(
        curve: DstuCurve,
        rng: &mut R,
    ) -> Result<SigningKey, ParamsError> {
        let c = curve_of(curve)?;
        let mut d = random_scalar(c, rng);
        let key = Self::from_limbs(curve, &d);
        d.zeroize();
        key
    }

    /// From the private scalar d as little-endian octets (any width up to 56); 0 < d < n.
    pub fn from_scalar_le(curve: DstuCurve, d_le: &[u8]) -> Result<SigningKey, ParamsError> {
        let mut d = limbs_decode_le(d_le).ok_or(ParamsError::InvalidKey("scalar too long"))?;
        let key = Self::from_limbs(curve, &d);
        d.zeroize();
        key
    }

    fn from_limbs(id: DstuCurve, d: &Limbs) -> Result<SigningKey, ParamsError> {
        let curve = curve_of(id)?;
        let n = modulus(curve);
        let du = to_uint(d);
        if bool::from(du.is_zero()) || !bool::from(du.ct_lt(n.as_ref())) {
            return Err(ParamsError::InvalidKey("private scalar not in [1, n-1]"));
        }
        // Q = −dP: negation is (x, x + y).
        let dp = curve
            .mul_secret(d, &curve.g)
            .ok_or(ParamsError::InvalidKey("private scalar is a multiple of n"))?;
        let q = Point {
            x: dp.x,
            y: dp.x.add(&dp.y),
        };
        Ok(SigningKey {
            id,
            curve,
            d: *d,
            q,
        })
    }

    /// The private scalar as little-endian octets, ⌈L(n)/8⌉ of them (for storing a test key).
    pub fn scalar_le(&self) -> Zeroizing<Vec<u8>> {
        let len = self.curve.order_bits().div_ceil(8);
        let mut out = Zeroizing::new(vec![0u8; len]);
        for (i, b) in out.iter_mut().enumerate() {
            *b = (self.d[i / 8] >> (8 * (i % 8))) as u8;
        }
        out
    }

    pub fn curve(&self) -> DstuCurve {
        self.id
    }

    /// The verifying key (little-endian byte order, as under 1.2.804.2.1.1.1.1.3.1.1).
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_parts(self.curve.clone(), self.q, ByteOrder::Little)
    }

    /// Signs `data`, hashing it with GOST 34.311-95 (DKE №1); r‖s little-endian.
    pub fn sign<R: CryptoRng + ?Sized>(&self, data: &[u8], rng: &mut R) -> Vec<u8> {
        self.sign_digest(&gost34311::digest(data), rng)
    }

    /// Signs a GOST 34.311 digest (as the hash emits it): r‖s, each a little-endian integer of
    /// ⌈L(n)/8⌉ octets, the form `PublicKey::verify_digest` and SignerInfos carry.
    pub fn sign_digest<R: CryptoRng + ?Sized>(&self, digest: &[u8], rng: &mut R) -> Vec<u8> {
        self.sign_digest_ordered(digest, ByteOrder::Little, rng)
    }

    /// As `sign_digest`, in the byte order of the given OID (big-endian: the whole octet
    /// string reversed, s first).
    pub fn sign_digest_ordered<R: CryptoRng + ?Sized>(
        &self,
        digest: &[u8],
        order: ByteOrder,
        rng: &mut R,
    ) -> Vec<u8> {
        let h = hash_to_field(self.curve, digest);
        loop {
            let mut e = random_scalar(self.curve, rng);
            let sig = self.sign_with_nonce(&h, &e);
            e.zeroize();
            if let Some((r, s)) = sig {
                return order.to_le(&self.encode(&r, &s));
            }
        }
    }

    /// r‖s little-endian, each half ⌈L(n)/8⌉ octets.
    fn encode(&self, r: &Limbs, s: &Limbs) -> Vec<u8> {
        let half = self.curve.order_bits().div_ceil(8);
        let mut out = vec![0u8; 2 * half];
        for i in 0..half {
            out[i] = (r[i / 8] >> (8 * (i % 8))) as u8;
            out[half + i] = (s[i / 8] >> (8 * (i % 8))) as u8;
        }
        out
    }

    /// The signature for field element h and nonce e ∈ [1, n−1]; None when the standard says
    /// to pick another e (x(eP) = 0, r = 0 or s = 0). Deterministic, for known-answer tests.
    pub(crate) fn sign_with_nonce(&self, h: &Fe, e: &Limbs) -> Option<(Limbs, Limbs)> {
        let c = self.curve;
        let big_r = c.mul_secret(e, &c.g)?;
        if big_r.x.is_zero() {
            return None;
        }
        let mut r = c.field.mul_ct(h, &big_r.x).0;
        truncate(&mut r, c.order_bits() - 1);
        if r.iter().all(|&w| w == 0) {
            return None;
        }
        let n = modulus(c);
        let mut d = to_uint(&self.d);
        let mut eu = to_uint(e);
        // r < 2^(L(n)-1) < n, d < n, e < n: the mod-n operations' preconditions hold.
        let mut s = d.mul_mod(&to_uint(&r), &n).add_mod(&eu, &n);
        let out = from_uint(&s);
        d.zeroize();
        eu.zeroize();
        s.zeroize();
        if out.iter().all(|&w| w == 0) {
            return None;
        }
        Some((r, out))
    }

    /// Signs with a caller-chosen nonce (tests reproducing third-party vectors).
    #[cfg(test)]
    pub(crate) fn sign_digest_with_nonce(&self, digest: &[u8], e: &Limbs) -> Option<Vec<u8>> {
        let h = hash_to_field(self.curve, digest);
        let (r, s) = self.sign_with_nonce(&h, e)?;
        Some(self.encode(&r, &s))
    }
}
