//! What document signing and a provider exchange: the files as the provider is told of them
//! (a name and a hash), the key family asked for, and the decoded callback with one signature
//! per file or a decline.

use super::exchange::{HashAlgorithm, ProviderCallback};

/// The key family a signing request asks the phone to sign with, and so the hash of the files
/// (the signer's messageDigest is that hash as sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignAlgorithm {
    /// DSTU 4145 over a GOST 34.311 hash: Diia's default.
    Dstu4145,
    /// ECDSA over a SHA-256 hash.
    Ecdsa,
}

impl SignAlgorithm {
    pub fn hash_algorithm(self) -> HashAlgorithm {
        match self {
            SignAlgorithm::Dstu4145 => HashAlgorithm::Gost34311,
            SignAlgorithm::Ecdsa => HashAlgorithm::Sha256,
        }
    }

    /// As stored and as the API names it.
    pub fn as_str(self) -> &'static str {
        match self {
            SignAlgorithm::Dstu4145 => "dstu4145",
            SignAlgorithm::Ecdsa => "ecdsa",
        }
    }

    pub fn parse(text: &str) -> Option<SignAlgorithm> {
        match text {
            "dstu4145" => Some(SignAlgorithm::Dstu4145),
            "ecdsa" => Some(SignAlgorithm::Ecdsa),
            _ => None,
        }
    }
}

/// One file as the provider is told of it: its name (shown on the phone) and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHash<'a> {
    pub name: &'a str,
    pub hash: &'a [u8; 32],
}

/// A provider's callback, decoded but not trusted: about a login or about a signing request.
#[derive(Debug, Clone)]
pub enum DecodedCallback {
    Login(ProviderCallback),
    Signing(SigningCallback),
}

/// A signing callback: which request (the id kepgate sent) and what came back.
#[derive(Debug, Clone)]
pub struct SigningCallback {
    pub request_id: String,
    pub result: SigningResult,
}

#[derive(Debug, Clone)]
pub enum SigningResult {
    /// One CMS signature (DER) per file, named as the provider names the file.
    Signed(Vec<SignedItem>),
    /// The person declined (or the provider refused): never signs anything.
    Declined { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedItem {
    pub name: String,
    pub signature: Vec<u8>,
}
