//! The ASN.1 of DSTU 4145 keys (DSTU 4145-2002 annex; the same structures as UAPKI's
//! `DSTU4145Params` and Bouncy Castle's `DSTU4145Params`):
//!
//! ```text
//! DSTU4145Params ::= SEQUENCE {
//!     definition CHOICE { ecbinary ECBinary, namedCurve OBJECT IDENTIFIER },
//!     dke OCTET STRING OPTIONAL }             -- packed S-box of GOST 28147
//! ECBinary ::= SEQUENCE {
//!     version [0] EXPLICIT INTEGER DEFAULT 0,
//!     f  SEQUENCE { m INTEGER, CHOICE { k INTEGER, SEQUENCE { k, j, l INTEGER } } },
//!     a  INTEGER,                             -- 0 or 1
//!     b  OCTET STRING,                        -- little-endian (big-endian under the BE OID)
//!     n  INTEGER,
//!     bp OCTET STRING }                       -- compressed base point, same byte order as b
//! ```
//!
//! Explicit parameters (what the central root and the Diia CA carry) are accepted only when the
//! field, a, b and n are those of one of the ten standard curves: a certificate cannot bring a
//! curve of its own choosing. The base point may differ (the standard lets a domain choose one);
//! a different one is validated (on the curve, order n) before use.

use super::curve::{Curve, Point};
use super::field::{Fe, Field, Limbs, limbs_decode_le};
use super::named::{NAMED, named_curve};
use crate::tlv::{self, Tlv};

/// 1.2.804.2.1.1.1.1.3.1.1.2 (DER contents), the arc under which the named curves are 0..9.
pub(crate) const NAMED_CURVE_ARC: &[u8] = &[
    0x2a, 0x86, 0x24, 0x02, 0x01, 0x01, 0x01, 0x01, 0x03, 0x01, 0x01, 0x02,
];

/// The packed S-box "DKE №1" of ДСТУ ГОСТ 28147:2009 as carried in `dke`, the only one the hash
/// (RustCrypto `Gost94UA`) implements.
pub(crate) const DKE_1: [u8; 64] = [
    0xA9, 0xD6, 0xEB, 0x45, 0xF1, 0x3C, 0x70, 0x82, 0x80, 0xC4, 0x96, 0x7B, 0x23, 0x1F, 0x5E, 0xAD,
    0xF6, 0x58, 0xEB, 0xA4, 0xC0, 0x37, 0x29, 0x1D, 0x38, 0xD9, 0x6B, 0xF0, 0x25, 0xCA, 0x4E, 0x17,
    0xF8, 0xE9, 0x72, 0x0D, 0xC6, 0x15, 0xB4, 0x3A, 0x28, 0x97, 0x5F, 0x0B, 0xC1, 0xDE, 0xA3, 0x64,
    0x38, 0xB5, 0x64, 0xEA, 0x2C, 0x17, 0x9F, 0xD0, 0x12, 0x3E, 0x6D, 0xB8, 0xFA, 0xC5, 0x79, 0x04,
];

/// Byte order of the octet strings (key, b, base point, signature): little-endian under
/// 1.2.804.2.1.1.1.1.3.1.1, big-endian under 1.2.804.2.1.1.1.1.3.1.1.1.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    /// The octets in little-endian order.
    pub(crate) fn to_le(self, bytes: &[u8]) -> Vec<u8> {
        let mut v = bytes.to_vec();
        if self == ByteOrder::Big {
            v.reverse();
        }
        v
    }
}

/// Why a key or its parameters were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    #[error("malformed DSTU 4145 parameters: {0}")]
    Malformed(&'static str),
    #[error("DSTU 4145 curve not supported: {0}")]
    UnsupportedCurve(&'static str),
    #[error("DSTU 4145 parameters name an S-box other than DKE №1")]
    UnsupportedSbox,
    #[error("invalid DSTU 4145 public key: {0}")]
    InvalidKey(&'static str),
}

use ParamsError::{InvalidKey, Malformed, UnsupportedCurve};

/// The curve described by DER `DSTU4145Params`; also its name when it is a standard one.
pub(crate) fn parse_params(der: &[u8], order: ByteOrder) -> Result<Curve, ParamsError> {
    let seq = tlv::single(der).ok_or(Malformed("not one ASN.1 element"))?;
    let kids = seq_children(&seq)?;
    let (def, rest) = kids.split_first().ok_or(Malformed("empty"))?;
    match rest {
        [] => {}
        [dke] if dke.tag == 0x04 => {
            if dke.value != DKE_1 {
                return Err(ParamsError::UnsupportedSbox);
            }
        }
        _ => return Err(Malformed("unexpected element after the curve")),
    }
    match def.tag {
        0x06 => {
            let idx = def
                .value
                .strip_prefix(NAMED_CURVE_ARC)
                .and_then(|last| match last {
                    [i] => Some(usize::from(*i)),
                    _ => None,
                })
                .ok_or(UnsupportedCurve(
                    "named curve OID is not 1.2.804.2.1.1.1.1.3.1.1.2.x",
                ))?;
            named_curve(idx)
                .cloned()
                .ok_or(UnsupportedCurve("unknown named curve number"))
        }
        0x30 => explicit(def, order),
        _ => Err(Malformed("curve is neither an OID nor explicit parameters")),
    }
}

fn seq_children<'a>(t: &Tlv<'a>) -> Result<Vec<Tlv<'a>>, ParamsError> {
    if t.tag != 0x30 {
        return Err(Malformed("expected a SEQUENCE"));
    }
    tlv::children(t.value).ok_or(Malformed("bad SEQUENCE contents"))
}

/// A non-negative DER INTEGER as limbs.
fn integer(t: &Tlv<'_>) -> Result<Limbs, ParamsError> {
    match t.value {
        [first, ..] if t.tag == 0x02 && first & 0x80 == 0 => {
            let le: Vec<u8> = t.value.iter().rev().copied().collect();
            limbs_decode_le(&le).ok_or(Malformed("INTEGER too large"))
        }
        _ => Err(Malformed("expected a non-negative INTEGER")),
    }
}

fn small(t: &Tlv<'_>) -> Result<usize, ParamsError> {
    let v = integer(t)?;
    if v[1..].iter().any(|&w| w != 0) || v[0] > 4096 {
        return Err(Malformed("field degree or exponent out of range"));
    }
    Ok(v[0] as usize)
}

fn octets<'a>(t: &Tlv<'a>) -> Result<&'a [u8], ParamsError> {
    (t.tag == 0x04)
        .then_some(t.value)
        .ok_or(Malformed("expected an OCTET STRING"))
}

fn explicit(def: &Tlv<'_>, order: ByteOrder) -> Result<Curve, ParamsError> {
    let mut kids = seq_children(def)?;
    if kids.first().is_some_and(|k| k.tag == 0xa0) {
        kids.remove(0); // version [0]: only 0 is defined, and it changes nothing below
    }
    let [f, a, b, n, bp] = kids.as_slice() else {
        return Err(Malformed("ECBinary must have f, a, b, n, bp"));
    };
    let fk = seq_children(f)?;
    let (m, ks) = match fk.as_slice() {
        [m, k] if k.tag == 0x02 => (small(m)?, vec![small(k)?]),
        [m, p] => {
            let ks = seq_children(p)?
                .iter()
                .map(small)
                .collect::<Result<Vec<_>, _>>()?;
            (small(m)?, ks)
        }
        _ => return Err(Malformed("bad field description")),
    };
    let a = integer(a)?;
    let n = integer(n)?;
    // Which standard curve is this? Field and coefficients must match one exactly.
    let std = NAMED
        .iter()
        .enumerate()
        .filter_map(|(i, _)| named_curve(i))
        .find(|c| {
            let mut sorted = ks.clone();
            sorted.sort_unstable_by(|x, y| y.cmp(x));
            c.field.degree() == m && c.field.middle_terms() == sorted.as_slice() && c.n == n
        })
        .ok_or(UnsupportedCurve(
            "explicit parameters are not a DSTU 4145 standard curve",
        ))?;
    let field: &Field = &std.field;
    let b = field
        .decode_le(&order.to_le(octets(b)?))
        .ok_or(Malformed("b does not fit the field"))?;
    if Fe(a) != std.a || b != std.b {
        return Err(UnsupportedCurve(
            "explicit parameters are not a DSTU 4145 standard curve",
        ));
    }
    let mut curve = std.clone();
    let g = decompress_bytes(&curve, &order.to_le(octets(bp)?))
        .ok_or(InvalidKey("base point is not on the curve"))?;
    if g != curve.g {
        if !curve.is_valid_key(&g) {
            return Err(InvalidKey("base point does not have order n"));
        }
        curve.g = g;
    }
    Ok(curve)
}

/// A point from its compressed little-endian octets.
pub(crate) fn decompress_bytes(curve: &Curve, le: &[u8]) -> Option<Point> {
    curve.decompress(&curve.field.decode_le(le)?)
}

/// The public point from the SPKI's BIT STRING contents (a DER OCTET STRING wrapping the
/// compressed point), validated: on the curve, order n, not the identity.
pub(crate) fn parse_public_point(
    curve: &Curve,
    key_bits: &[u8],
    order: ByteOrder,
) -> Result<Point, ParamsError> {
    let os = tlv::single(key_bits).ok_or(Malformed("public key is not one ASN.1 element"))?;
    let compressed = octets(&os)?;
    let q = decompress_bytes(curve, &order.to_le(compressed))
        .ok_or(InvalidKey("not the compressed form of a curve point"))?;
    if !curve.is_valid_key(&q) {
        return Err(InvalidKey("point does not have order n"));
    }
    Ok(q)
}
