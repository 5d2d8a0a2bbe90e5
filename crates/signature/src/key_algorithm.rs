//! The public-key algorithm of a certificate, as far as verification and trust-list reports care.

use serde::Serialize;
use spki::SubjectPublicKeyInfoOwned;

use crate::oids;

/// Public-key algorithm of a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum KeyAlgorithm {
    /// DSTU 4145-2002, little-endian key encoding (the common Ukrainian form).
    Dstu4145Le,
    /// DSTU 4145-2002, big-endian key encoding.
    Dstu4145Be,
    EcdsaP256,
    EcdsaP384,
    /// ECDSA on a curve we cannot verify (e.g. P-521, brainpool).
    EcdsaOtherCurve,
    Rsa,
    Other,
}

impl KeyAlgorithm {
    pub(crate) fn of_spki(spki: &SubjectPublicKeyInfoOwned) -> Self {
        let oid = spki.algorithm.oid;
        if oid == oids::DSTU4145_LE {
            Self::Dstu4145Le
        } else if oid == oids::DSTU4145_BE {
            Self::Dstu4145Be
        } else if oid == oids::RSA_ENCRYPTION {
            Self::Rsa
        } else if oid == oids::EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok());
            match curve {
                Some(oids::SECP256R1) => Self::EcdsaP256,
                Some(oids::SECP384R1) => Self::EcdsaP384,
                _ => Self::EcdsaOtherCurve,
            }
        } else {
            Self::Other
        }
    }

    pub fn is_ecdsa(self) -> bool {
        matches!(
            self,
            Self::EcdsaP256 | Self::EcdsaP384 | Self::EcdsaOtherCurve
        )
    }
}
