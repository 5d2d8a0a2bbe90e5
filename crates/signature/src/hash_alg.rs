//! The digests signatures and certificates are made over.

use const_oid::ObjectIdentifier;
use sha2::Digest;

use crate::oids;

/// Hash algorithms we can compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
    /// GOST 34.311-95 with the DKE №1 S-box: DSTU 4145's hash.
    Gost34311,
}

impl HashAlg {
    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            oids::SHA256 => Some(Self::Sha256),
            oids::SHA384 => Some(Self::Sha384),
            oids::SHA512 => Some(Self::Sha512),
            oids::GOST34311 => Some(Self::Gost34311),
            _ => None,
        }
    }

    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
            Self::Gost34311 => crate::gost34311::digest(data).to_vec(),
        }
    }
}
