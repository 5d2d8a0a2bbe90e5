//! Signature algorithms: which ones we check, and the check itself.

use const_oid::ObjectIdentifier;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::dstu4145::{ByteOrder, ParamsError, PublicKey as DstuKey};
use crate::error::{VerifyError, unsupported};
use crate::hash_alg::HashAlg;
use crate::key_algorithm::KeyAlgorithm;
use crate::oids;
use crate::parsed_keys::PARSED_KEYS;

/// Signature schemes we can check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SigScheme {
    Ecdsa(Sha2),
    RsaPkcs1(Sha2),
    /// Always with GOST 34.311; the OID also says the byte order of key and signature.
    Dstu4145(ByteOrder),
}

/// The hashes ECDSA and RSA signatures are checked with here (never GOST 34.311).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sha2 {
    Sha256,
    Sha384,
    Sha512,
}

impl Sha2 {
    fn of(h: HashAlg) -> Option<Self> {
        match h {
            HashAlg::Sha256 => Some(Sha2::Sha256),
            HashAlg::Sha384 => Some(Sha2::Sha384),
            HashAlg::Sha512 => Some(Sha2::Sha512),
            HashAlg::Gost34311 => None,
        }
    }

    fn hash(self) -> HashAlg {
        match self {
            Sha2::Sha256 => HashAlg::Sha256,
            Sha2::Sha384 => HashAlg::Sha384,
            Sha2::Sha512 => HashAlg::Sha512,
        }
    }
}

impl SigScheme {
    fn hash(self) -> HashAlg {
        match self {
            SigScheme::Ecdsa(h) | SigScheme::RsaPkcs1(h) => h.hash(),
            SigScheme::Dstu4145(_) => HashAlg::Gost34311,
        }
    }
}

pub(crate) fn oid_name(oid: &ObjectIdentifier) -> String {
    let known = match *oid {
        oids::DSTU4145_LE => "DSTU 4145-2002",
        oids::DSTU4145_BE => "DSTU 4145-2002 (big-endian)",
        oids::RSA_PSS => "RSA-PSS",
        _ => "",
    };
    if known.is_empty() {
        format!("OID {oid}")
    } else {
        format!("{known} (OID {oid})")
    }
}

/// Scheme of an X.509 signatureAlgorithm (hash is implied by the OID).
pub(crate) fn cert_scheme(alg: &AlgorithmIdentifierOwned) -> Result<SigScheme, VerifyError> {
    Ok(match alg.oid {
        oids::ECDSA_SHA256 => SigScheme::Ecdsa(Sha2::Sha256),
        oids::ECDSA_SHA384 => SigScheme::Ecdsa(Sha2::Sha384),
        oids::ECDSA_SHA512 => SigScheme::Ecdsa(Sha2::Sha512),
        oids::SHA256_RSA => SigScheme::RsaPkcs1(Sha2::Sha256),
        oids::SHA384_RSA => SigScheme::RsaPkcs1(Sha2::Sha384),
        oids::SHA512_RSA => SigScheme::RsaPkcs1(Sha2::Sha512),
        oids::DSTU4145_LE => SigScheme::Dstu4145(ByteOrder::Little),
        oids::DSTU4145_BE => SigScheme::Dstu4145(ByteOrder::Big),
        other => return Err(unsupported(format!("signature {}", oid_name(&other)))),
    })
}

/// Scheme of a SignerInfo: CMS allows the bare key OID with the hash in digestAlgorithm.
pub(crate) fn signer_scheme(
    sig_alg: &AlgorithmIdentifierOwned,
    digest_alg: &AlgorithmIdentifierOwned,
) -> Result<SigScheme, VerifyError> {
    let digest = HashAlg::from_oid(&digest_alg.oid)
        .ok_or_else(|| unsupported(format!("digest {}", oid_name(&digest_alg.oid))));
    let scheme = match sig_alg.oid {
        oids::EC_PUBLIC_KEY | oids::RSA_ENCRYPTION => {
            let sha2 = Sha2::of(digest?).ok_or_else(|| {
                unsupported(format!(
                    "digest {} combined with signature {}",
                    oid_name(&digest_alg.oid),
                    oid_name(&sig_alg.oid)
                ))
            })?;
            if sig_alg.oid == oids::EC_PUBLIC_KEY {
                SigScheme::Ecdsa(sha2)
            } else {
                SigScheme::RsaPkcs1(sha2)
            }
        }
        _ => {
            let s = cert_scheme(sig_alg)?;
            if s.hash() != digest? {
                return Err(unsupported(format!(
                    "digest {} combined with signature {}",
                    oid_name(&digest_alg.oid),
                    oid_name(&sig_alg.oid)
                )));
            }
            s
        }
    };
    Ok(scheme)
}

/// Verifies `sig` over `data` with the key in `spki`; returns a readable algorithm name.
pub(crate) fn verify_with_key(
    spki: &SubjectPublicKeyInfoOwned,
    scheme: SigScheme,
    data: &[u8],
    sig: &[u8],
) -> Result<&'static str, VerifyError> {
    use signature::hazmat::PrehashVerifier;
    let key_alg = KeyAlgorithm::of_spki(spki);
    let key_bytes = spki.subject_public_key.raw_bytes();
    let bad = |e: &dyn std::fmt::Display| VerifyError::BadSignature(e.to_string());
    match (scheme, key_alg) {
        (SigScheme::Ecdsa(h), KeyAlgorithm::EcdsaP256) => {
            // aws-lc, not the p256 crate: two P-256 checks per login were a fifth of the
            // gateway's CPU (docs/benchmarks.md, section 2). It hashes `data` itself.
            use aws_lc_rs::signature::{
                ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA384_ASN1, ECDSA_P256_SHA512_ASN1,
                UnparsedPublicKey,
            };
            let algorithm = match h {
                Sha2::Sha256 => &ECDSA_P256_SHA256_ASN1,
                Sha2::Sha384 => &ECDSA_P256_SHA384_ASN1,
                Sha2::Sha512 => &ECDSA_P256_SHA512_ASN1,
            };
            UnparsedPublicKey::new(algorithm, key_bytes)
                .verify(data, sig)
                .map_err(|_| VerifyError::BadSignature("ECDSA P-256 check failed".into()))?;
            Ok(match h {
                Sha2::Sha256 => "ECDSA P-256 with SHA-256",
                Sha2::Sha384 => "ECDSA P-256 with SHA-384",
                Sha2::Sha512 => "ECDSA P-256 with SHA-512",
            })
        }
        (SigScheme::Ecdsa(h), KeyAlgorithm::EcdsaP384) => {
            let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes).map_err(|e| bad(&e))?;
            let s = p384::ecdsa::Signature::from_der(sig).map_err(|e| bad(&e))?;
            vk.verify_prehash(&h.hash().digest(data), &s)
                .map_err(|_| VerifyError::BadSignature("ECDSA P-384 check failed".into()))?;
            Ok(match h {
                Sha2::Sha256 => "ECDSA P-384 with SHA-256",
                Sha2::Sha384 => "ECDSA P-384 with SHA-384",
                Sha2::Sha512 => "ECDSA P-384 with SHA-512",
            })
        }
        (SigScheme::RsaPkcs1(h), KeyAlgorithm::Rsa) => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            let pk = rsa::PublicKey::from_pkcs1_der(key_bytes).map_err(|e| bad(&e))?;
            let scheme = match h {
                Sha2::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                Sha2::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                Sha2::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
            };
            pk.verify(scheme, &h.hash().digest(data), sig)
                .map_err(|_| VerifyError::BadSignature("RSA PKCS#1 v1.5 check failed".into()))?;
            Ok(match h {
                Sha2::Sha256 => "RSA PKCS#1 v1.5 with SHA-256",
                Sha2::Sha384 => "RSA PKCS#1 v1.5 with SHA-384",
                Sha2::Sha512 => "RSA PKCS#1 v1.5 with SHA-512",
            })
        }
        (SigScheme::Dstu4145(order), KeyAlgorithm::Dstu4145Le | KeyAlgorithm::Dstu4145Be) => {
            // Parsing the key costs more than the check; the same keys come back (parsed_keys.rs).
            let key = dstu_key_with(spki, |params, bits| {
                PARSED_KEYS.get_or_parse(params, bits, order)
            })
            .map_err(VerifyError::BadSignature)?;
            key.verify(data, sig).map_err(|e| {
                VerifyError::BadSignature(format!(
                    "DSTU 4145 {} check failed: {e}",
                    key.curve_name()
                ))
            })?;
            Ok("DSTU 4145-2002 with GOST 34.311-95")
        }
        (
            _,
            KeyAlgorithm::EcdsaP256
            | KeyAlgorithm::EcdsaP384
            | KeyAlgorithm::Rsa
            | KeyAlgorithm::Dstu4145Le
            | KeyAlgorithm::Dstu4145Be,
        ) => Err(VerifyError::BadSignature(
            "signature algorithm does not match the key type".into(),
        )),
        (_, _) => Err(unsupported(format!(
            "public key {}",
            oid_name(&spki.algorithm.oid)
        ))),
    }
}

/// The DSTU 4145 key of `spki`, validated (curve known, point on it, right order).
pub(crate) fn dstu_key(
    spki: &SubjectPublicKeyInfoOwned,
    order: ByteOrder,
) -> Result<DstuKey, String> {
    dstu_key_with(spki, |params, bits| {
        DstuKey::from_spki_parts(params, bits, order)
    })
}

/// The parameters' DER and the key's bits of `spki`, handed to `parse`.
fn dstu_key_with(
    spki: &SubjectPublicKeyInfoOwned,
    parse: impl FnOnce(&[u8], &[u8]) -> Result<DstuKey, ParamsError>,
) -> Result<DstuKey, String> {
    let params = spki
        .algorithm
        .parameters
        .as_ref()
        .ok_or("DSTU 4145 key without parameters")?;
    let params = der::Encode::to_der(params).map_err(|e| e.to_string())?;
    parse(&params, spki.subject_public_key.raw_bytes()).map_err(|e| e.to_string())
}

/// The signature octets of a certificate's, CRL's or OCSP answer's BIT STRING. A DSTU 4145
/// signature there is r‖s inside an OCTET STRING inside the BIT STRING; in a SignerInfo the
/// OCTET STRING is the field itself.
pub(crate) fn signature_octets(
    scheme: SigScheme,
    bits: &der::asn1::BitString,
) -> Result<&[u8], VerifyError> {
    let sig = bits
        .as_bytes()
        .ok_or_else(|| crate::error::malformed("signature BIT STRING has unused bits"))?;
    if matches!(scheme, SigScheme::Dstu4145(_)) {
        return crate::tlv::single(sig)
            .filter(|t| t.tag == 0x04)
            .map(|t| t.value)
            .ok_or_else(|| crate::error::malformed("DSTU 4145 signature is not an OCTET STRING"));
    }
    Ok(sig)
}
