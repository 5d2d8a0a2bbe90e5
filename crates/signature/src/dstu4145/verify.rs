//! DSTU 4145-2002 signature verification (the standard's "перевірка цифрового підпису", steps as in
//! the standard): the signature D = r‖s (each half a little-endian integer), 0 < r, s < n;
//! h = the GOST 34.311 digest read as a little-endian integer, taken as a field element of m
//! bits (0 becomes 1); R = sP + rQ ≠ O; valid iff r = x(R)·h truncated to L(n) − 1 bits.
//! Signing made Q = −dP and s = e + dr, so sP + rQ = eP, the signer's ephemeral point.

use std::sync::Arc;

use super::comb::{Comb, W_KEY_COMB, standard_base_comb};
use super::curve::{Curve, Point};
use super::encode::{self, ParamsForm};
use super::field::{Fe, LIMBS, Limbs, bit_len, limbs_decode_le};
use super::params::{ByteOrder, ParamsError, parse_params, parse_public_point};
use crate::gost34311;
use crate::tlv;

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("DSTU 4145 signature has the wrong length")]
    BadLength,
    #[error("DSTU 4145 signature value out of range")]
    OutOfRange,
    #[error("DSTU 4145 signature check failed")]
    Mismatch,
}

/// A validated DSTU 4145 public key with its curve.
#[derive(Clone, Debug)]
pub struct PublicKey {
    curve: Curve,
    q: Point,
    order: ByteOrder,
    /// Q's comb table, for a key that is kept and used again ([`PublicKey::prepared`]).
    comb: Option<Arc<Comb>>,
}

impl PublicKey {
    /// From a SubjectPublicKeyInfo's pieces: the DER `DSTU4145Params` (algorithm parameters),
    /// the BIT STRING contents (an OCTET STRING with the compressed point), and the byte order
    /// the algorithm OID implies. The point is validated here, once.
    pub fn from_spki_parts(
        params_der: &[u8],
        key_bits: &[u8],
        order: ByteOrder,
    ) -> Result<Self, ParamsError> {
        let curve = parse_params(params_der, order)?;
        let q = parse_public_point(&curve, key_bits, order)?;
        Ok(Self {
            curve,
            q,
            order,
            comb: None,
        })
    }

    /// From a DER SubjectPublicKeyInfo with a DSTU 4145 algorithm OID (either byte order).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, ParamsError> {
        use ParamsError::Malformed;
        let spki = tlv::single(der).ok_or(Malformed("SubjectPublicKeyInfo"))?;
        let [alg, bits] = tlv::children(spki.value).ok_or(Malformed("SubjectPublicKeyInfo"))?[..]
        else {
            return Err(Malformed("SubjectPublicKeyInfo must have two elements"));
        };
        let [oid, params] = tlv::children(alg.value).ok_or(Malformed("AlgorithmIdentifier"))?[..]
        else {
            return Err(Malformed("AlgorithmIdentifier without parameters"));
        };
        let order = match oid.value {
            v if oid.tag == 0x06 && v == crate::oids::DSTU4145_LE.as_bytes() => ByteOrder::Little,
            v if oid.tag == 0x06 && v == crate::oids::DSTU4145_BE.as_bytes() => ByteOrder::Big,
            _ => return Err(ParamsError::UnsupportedCurve("not a DSTU 4145 key")),
        };
        match bits.value {
            [0, key @ ..] if bits.tag == 0x03 => Self::from_spki_parts(params.raw, key, order),
            _ => Err(Malformed("public key BIT STRING")),
        }
    }

    /// A key already validated (the signer's own public key).
    pub(crate) fn from_parts(curve: Curve, q: Point, order: ByteOrder) -> Self {
        Self {
            curve,
            q,
            order,
            comb: None,
        }
    }

    /// With Q's comb table: building it costs about as much as parsing the key, and each
    /// verification then less than half as much as without (comb.rs). For keys that are kept
    /// (parsed_keys.rs).
    pub(crate) fn prepared(mut self) -> Self {
        if self.comb.is_none() {
            self.comb = self.curve.comb_table(&self.q, W_KEY_COMB).map(Arc::new);
        }
        self
    }

    /// DER `DSTU4145Params` of this key (with the DKE №1 S-box).
    pub fn params_der(&self, form: ParamsForm) -> Vec<u8> {
        encode::params_der(&self.curve, form, self.order)
    }

    /// The SubjectPublicKeyInfo BIT STRING contents: a DER OCTET STRING of the compressed point.
    pub fn key_bits(&self) -> Vec<u8> {
        encode::key_bits(&self.curve, &self.q, self.order)
    }

    /// DER SubjectPublicKeyInfo (OID by the key's byte order, parameters in `form`).
    pub fn to_spki_der(&self, form: ParamsForm) -> Vec<u8> {
        encode::spki_der(&self.curve, &self.q, form, self.order)
    }

    /// The standard curve, e.g. "M257" (also for explicit parameters, which must equal one).
    pub fn curve_name(&self) -> &'static str {
        self.curve.name
    }

    /// Bit length of the field, e.g. 257 or 431.
    pub fn field_degree(&self) -> usize {
        self.curve.field.degree()
    }

    /// Verifies `sig` (r‖s octets as carried in a SignerInfo or, unwrapped, a certificate)
    /// over `data`, hashing it with GOST 34.311-95.
    pub fn verify(&self, data: &[u8], sig: &[u8]) -> Result<(), SignatureError> {
        self.verify_digest(&gost34311::digest(data), sig)
    }

    /// As `verify`, over an already computed GOST 34.311 digest (as the hash emits it).
    pub fn verify_digest(&self, digest: &[u8], sig: &[u8]) -> Result<(), SignatureError> {
        let sig = self.order.to_le(sig);
        // Big-endian form is the whole octet string reversed: s_BE‖r_BE becomes r_LE‖s_LE.
        let (r, s) = split_signature(&sig, self.curve.order_bits())?;
        let h = hash_to_field(&self.curve, digest);
        verify_prehashed(&self.curve, &self.q, self.comb.as_deref(), &h, &r, &s)
    }
}

/// r and s from r‖s. Each half must be wide enough for n and no wider than the limbs.
pub(crate) fn split_signature(sig: &[u8], n_bits: usize) -> Result<(Limbs, Limbs), SignatureError> {
    let half = sig.len() / 2;
    if !sig.len().is_multiple_of(2) || half < n_bits.div_ceil(8) || half > LIMBS * 8 {
        return Err(SignatureError::BadLength);
    }
    let (r, s) = sig.split_at(half);
    let r = limbs_decode_le(r).ok_or(SignatureError::BadLength)?;
    let s = limbs_decode_le(s).ok_or(SignatureError::BadLength)?;
    Ok((r, s))
}

/// The digest as a field element: little-endian integer, cut to m bits, 0 → 1.
pub(crate) fn hash_to_field(curve: &Curve, digest: &[u8]) -> Fe {
    let mut v = [0u64; LIMBS];
    let m = curve.field.degree();
    for (i, &b) in digest.iter().enumerate().take(LIMBS * 8) {
        v[i / 8] |= u64::from(b) << (8 * (i % 8));
    }
    truncate(&mut v, m);
    if v.iter().all(|&w| w == 0) {
        v[0] = 1;
    }
    Fe(v)
}

/// Keeps the lowest `bits` bits.
pub(crate) fn truncate(v: &mut Limbs, bits: usize) {
    for (i, w) in v.iter_mut().enumerate() {
        let lo = 64 * i;
        if lo >= bits {
            *w = 0;
        } else if bits - lo < 64 {
            *w &= (1u64 << (bits - lo)) - 1;
        }
    }
}

fn less(a: &Limbs, b: &Limbs) -> bool {
    for i in (0..LIMBS).rev() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

/// The core check on integers and a field element.
pub(crate) fn verify_prehashed(
    curve: &Curve,
    q: &Point,
    q_comb: Option<&Comb>,
    h: &Fe,
    r: &Limbs,
    s: &Limbs,
) -> Result<(), SignatureError> {
    let zero = [0u64; LIMBS];
    if *r == zero || *s == zero || !less(r, &curve.n) || !less(s, &curve.n) {
        return Err(SignatureError::OutOfRange);
    }
    // Public data only: the variable-time multiplications, with both comb tables when there are
    // (comb.rs), else wNAF (multi.rs).
    let big_r = match (standard_base_comb(curve), q_comb) {
        (Some(g_comb), Some(q_comb)) => curve.mul_add_comb(s, r, g_comb, q_comb),
        _ => curve.mul_add_vartime(s, r, q),
    }
    .ok_or(SignatureError::Mismatch)?;
    let mut y = curve.field.mul(&big_r.x, h).0;
    truncate(&mut y, curve.order_bits() - 1);
    debug_assert!(bit_len(&y) < curve.order_bits());
    if y == *r {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}
