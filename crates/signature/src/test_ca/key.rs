//! The test CA's keys: ECDSA P-256 (the default) or DSTU 4145, and what each signs with —
//! certificates (signatureAlgorithm, BIT STRING contents) and CMS (digest and signature
//! algorithms, signature octets).

use const_oid::ObjectIdentifier;
use der::Decode;
use der::asn1::BitString;
use p256::ecdsa::{DerSignature, SigningKey as P256Key, VerifyingKey};
use p256::pkcs8::EncodePublicKey;
use sha2::Digest;
use signature::Signer;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use super::asn1::alg;
use super::error::{TestCaError, key_err};
use crate::dstu4145::{DstuCurve, ParamsForm, SigningKey as DstuKey};
use crate::oids;

/// Which key to generate for a CA, sub-CA or signer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA P-256 with SHA-256 (the default; what the emulator has always used).
    #[default]
    EcdsaP256,
    /// DSTU 4145-2002 with GOST 34.311-95 on a standard curve; the key's parameters are written
    /// explicitly, as the central root (M431) and the Diia CA (M257) do.
    Dstu4145(DstuCurve),
}

/// A private key of the test CA.
#[derive(Clone)]
pub(super) enum TestKey {
    P256(P256Key),
    Dstu(DstuKey),
}

/// The operating system's random source. A failure of it panics (inside `UnwrapErr`): this is
/// the test CA, and the signing API takes an infallible RNG.
fn sys_rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

impl TestKey {
    pub(super) fn generate(kind: KeyKind) -> Result<TestKey, TestCaError> {
        Ok(match kind {
            KeyKind::EcdsaP256 => TestKey::P256(
                <P256Key as p256::elliptic_curve::Generate>::try_generate().map_err(key_err)?,
            ),
            KeyKind::Dstu4145(curve) => {
                TestKey::Dstu(DstuKey::generate(curve, &mut sys_rng()).map_err(key_err)?)
            }
        })
    }

    pub(super) fn kind(&self) -> KeyKind {
        match self {
            TestKey::P256(_) => KeyKind::EcdsaP256,
            TestKey::Dstu(k) => KeyKind::Dstu4145(k.curve()),
        }
    }

    pub(super) fn spki(&self) -> Result<SubjectPublicKeyInfoOwned, TestCaError> {
        let der = match self {
            TestKey::P256(k) => VerifyingKey::from(k)
                .to_public_key_der()
                .map_err(key_err)?
                .into_vec(),
            TestKey::Dstu(k) => k.public_key().to_spki_der(ParamsForm::Explicit),
        };
        Ok(SubjectPublicKeyInfoOwned::from_der(&der)?)
    }

    /// signatureAlgorithm of what this key signs (certificates; no parameters for either).
    pub(super) fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        alg(self.signature_oid())
    }

    pub(super) fn signature_oid(&self) -> ObjectIdentifier {
        match self {
            TestKey::P256(_) => oids::ECDSA_SHA256,
            TestKey::Dstu(_) => oids::DSTU4145_LE,
        }
    }

    /// The CMS digestAlgorithm that goes with the key.
    pub(super) fn digest_algorithm(&self) -> AlgorithmIdentifierOwned {
        match self {
            TestKey::P256(_) => alg(oids::SHA256),
            TestKey::Dstu(_) => alg(oids::GOST34311),
        }
    }

    pub(super) fn digest(&self, data: &[u8]) -> Vec<u8> {
        match self {
            TestKey::P256(_) => sha2::Sha256::digest(data).to_vec(),
            TestKey::Dstu(_) => crate::gost34311::digest(data).to_vec(),
        }
    }

    /// The signature octets over `data` as a SignerInfo carries them: DER ECDSA-Sig-Value, or
    /// DSTU r‖s (little-endian halves) over its GOST 34.311 digest.
    pub(super) fn sign(&self, data: &[u8]) -> Result<Vec<u8>, TestCaError> {
        Ok(match self {
            TestKey::P256(k) => {
                let sig: DerSignature = k.try_sign(data).map_err(key_err)?;
                sig.as_bytes().to_vec()
            }
            TestKey::Dstu(k) => k.sign(data, &mut sys_rng()),
        })
    }

    /// A certificate's signature BIT STRING: for DSTU the r‖s octets wrapped in a DER OCTET
    /// STRING, as Ukrainian CAs write it (and chain.rs unwraps).
    pub(super) fn sign_certificate(&self, tbs_der: &[u8]) -> Result<BitString, TestCaError> {
        let sig = self.sign(tbs_der)?;
        let bits = match self {
            TestKey::P256(_) => sig,
            TestKey::Dstu(_) => der::Encode::to_der(&der::asn1::OctetString::new(sig)?)?,
        };
        Ok(BitString::from_bytes(&bits)?)
    }

    pub(super) fn dstu(&self) -> Option<&DstuKey> {
        match self {
            TestKey::Dstu(k) => Some(k),
            TestKey::P256(_) => None,
        }
    }

    pub(super) fn p256(&self) -> Option<&P256Key> {
        match self {
            TestKey::P256(k) => Some(k),
            TestKey::Dstu(_) => None,
        }
    }
}
