//! The PEM bundle a CA or signer is stored as: a CERTIFICATE block and its private key, either
//! PKCS#8 "PRIVATE KEY" (P-256) or "DSTU4145 PRIVATE KEY". The latter is this crate's own
//! test-only form — DER SEQUENCE { curve UTF8String ("M257"), d OCTET STRING (little-endian) } —
//! readable by nothing else: real Ukrainian key containers (Key-6.dat, JKS, PKCS#12 with GOST
//! 28147 encryption) are out of scope for a throwaway CA.

use der::asn1::OctetString;
use der::{Decode, Encode};
use p256::ecdsa::SigningKey as P256Key;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use x509_cert::Certificate;

use super::asn1::DstuKeyOut;
use super::error::{TestCaError, key_err};
use super::key::TestKey;
use crate::dstu4145::{DstuCurve, SigningKey as DstuKey};

const DSTU_LABEL: &str = "DSTU4145 PRIVATE KEY";

fn pem_err(e: impl std::fmt::Display) -> TestCaError {
    TestCaError::Pem(e.to_string())
}

fn dstu_key_from_der(der: &[u8]) -> Result<DstuKey, TestCaError> {
    let k = DstuKeyOut::from_der(der)?;
    let curve = DstuCurve::from_name(&k.curve)
        .ok_or_else(|| TestCaError::Pem(format!("unknown DSTU 4145 curve {:?}", k.curve)))?;
    DstuKey::from_scalar_le(curve, k.scalar.as_bytes()).map_err(key_err)
}

fn key_pem(key: &TestKey) -> Result<String, TestCaError> {
    if let Some(k) = key.p256() {
        return Ok(k.to_pkcs8_pem(LineEnding::LF).map_err(key_err)?.to_string());
    }
    let Some(k) = key.dstu() else {
        return Err(TestCaError::Key("unknown key type".into()));
    };
    let der = DstuKeyOut {
        curve: k.curve().name().to_string(),
        scalar: OctetString::new(k.scalar_le().to_vec())?,
    }
    .to_der()?;
    der::pem::encode_string(DSTU_LABEL, LineEnding::LF, &der).map_err(pem_err)
}

/// Reads a CERTIFICATE and a private key block and checks that they belong together.
pub(super) fn parse_bundle(pem: &str) -> Result<(Vec<u8>, TestKey), TestCaError> {
    let mut cert_der = None;
    let mut key = None;
    let mut current: Option<String> = None;
    for line in pem.lines().map(str::trim) {
        if line.starts_with("-----BEGIN ") {
            current = Some(String::new());
        }
        let Some(buf) = current.as_mut() else {
            continue;
        };
        buf.push_str(line);
        buf.push('\n');
        if !line.starts_with("-----END ") {
            continue;
        }
        let text = current.take().unwrap_or_default();
        if text.starts_with("-----BEGIN CERTIFICATE-----") {
            let (_, der) = der::pem::decode_vec(text.as_bytes()).map_err(pem_err)?;
            cert_der = Some(der);
        } else if text.starts_with("-----BEGIN PRIVATE KEY-----") {
            key = Some(TestKey::P256(
                P256Key::from_pkcs8_pem(&text).map_err(key_err)?,
            ));
        } else if text.starts_with(&format!("-----BEGIN {DSTU_LABEL}-----")) {
            let (_, der) = der::pem::decode_vec(text.as_bytes()).map_err(pem_err)?;
            key = Some(TestKey::Dstu(dstu_key_from_der(&der)?));
        }
    }
    let cert_der = cert_der.ok_or_else(|| TestCaError::Pem("no CERTIFICATE block".into()))?;
    let key = key.ok_or_else(|| TestCaError::Pem("no PRIVATE KEY block".into()))?;
    let cert = Certificate::from_der(&cert_der)?;
    if &key.spki()? != cert.tbs_certificate().subject_public_key_info() {
        return Err(TestCaError::Pem(
            "private key does not match certificate".into(),
        ));
    }
    Ok((cert_der, key))
}

pub(super) fn to_bundle(cert_der: &[u8], key: &TestKey) -> Result<String, TestCaError> {
    let cert = der::pem::encode_string("CERTIFICATE", LineEnding::LF, cert_der).map_err(pem_err)?;
    Ok(format!("{cert}{}", key_pem(key)?))
}
