//! DER encoders for DSTU 4145 keys: `DSTU4145Params` (named curve or explicit `ECBinary`, with
//! the DKE №1 S-box as the real Ukrainian certificates carry it) and SubjectPublicKeyInfo. The
//! structures are those `params.rs` parses; the explicit form reproduces the layout of the
//! central root's and the Diia CA's certificates (no version, pentanomial exponents ascending,
//! b and the base point as ⌈m/8⌉ octets).

use super::curve::{Curve, Point};
use super::field::{Fe, Limbs, bit_len};
use super::named::DstuCurve;
use super::params::{ByteOrder, DKE_1, NAMED_CURVE_ARC};
use crate::oids;
use crate::tlv::encode as tlv;

/// How the curve is named in the key's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamsForm {
    /// OID 1.2.804.2.1.1.1.1.3.1.1.2.x.
    Named,
    /// The whole `ECBinary` (what the central root and the Diia CA use).
    Explicit,
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A non-negative INTEGER from limbs (minimal, with a leading zero octet when the top bit is set).
fn integer(v: &Limbs) -> Vec<u8> {
    let len = bit_len(v).div_ceil(8).max(1);
    let mut be: Vec<u8> = (0..len)
        .rev()
        .map(|i| (v[i / 8] >> (8 * (i % 8))) as u8)
        .collect();
    if be[0] & 0x80 != 0 {
        be.insert(0, 0);
    }
    tlv(0x02, &be)
}

fn small_integer(v: usize) -> Vec<u8> {
    let mut l = [0u64; super::field::LIMBS];
    l[0] = v as u64;
    integer(&l)
}

/// A field element as ⌈m/8⌉ octets in the given order.
fn field_octets(curve: &Curve, x: &Fe, order: ByteOrder) -> Vec<u8> {
    let len = curve.field.degree().div_ceil(8);
    let le: Vec<u8> = (0..len)
        .map(|i| (x.0[i / 8] >> (8 * (i % 8))) as u8)
        .collect();
    order.to_le(&le) // reversing is its own inverse
}

/// DER `DSTU4145Params` for `curve`.
pub(crate) fn params_der(curve: &Curve, form: ParamsForm, order: ByteOrder) -> Vec<u8> {
    let named = DstuCurve::from_name(curve.name).filter(|id| {
        // A curve with a base point of its own must be spelled out.
        id.curve().is_some_and(|c| c.g == curve.g)
    });
    let definition = match (form, named) {
        (ParamsForm::Named, Some(id)) => {
            let mut oid = NAMED_CURVE_ARC.to_vec();
            oid.push(id.index() as u8);
            tlv(0x06, &oid)
        }
        _ => {
            let f = &curve.field;
            let mut ks: Vec<usize> = f.middle_terms().to_vec();
            ks.reverse(); // ascending, as in the real certificates
            let poly = match ks.as_slice() {
                [k] => small_integer(*k),
                _ => seq(&ks.iter().map(|&k| small_integer(k)).collect::<Vec<_>>()),
            };
            seq(&[
                seq(&[small_integer(f.degree()), poly]),
                integer(&curve.a.0),
                tlv(0x04, &field_octets(curve, &curve.b, order)),
                integer(&curve.n),
                tlv(0x04, &field_octets(curve, &curve.compress(&curve.g), order)),
            ])
        }
    };
    seq(&[definition, tlv(0x04, &DKE_1)])
}

/// The BIT STRING contents of the key: a DER OCTET STRING with the compressed point.
pub(crate) fn key_bits(curve: &Curve, q: &Point, order: ByteOrder) -> Vec<u8> {
    tlv(0x04, &field_octets(curve, &curve.compress(q), order))
}

/// DER SubjectPublicKeyInfo.
pub(crate) fn spki_der(curve: &Curve, q: &Point, form: ParamsForm, order: ByteOrder) -> Vec<u8> {
    let oid = match order {
        ByteOrder::Little => oids::DSTU4145_LE,
        ByteOrder::Big => oids::DSTU4145_BE,
    };
    let mut bits = vec![0u8]; // no unused bits
    bits.extend(key_bits(curve, q, order));
    seq(&[
        seq(&[tlv(0x06, oid.as_bytes()), params_der(curve, form, order)]),
        tlv(0x03, &bits),
    ])
}
