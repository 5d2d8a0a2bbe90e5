//! What a signing callback's signatures decide, without the database: each one a CMS/CAdES
//! signature detached (no embedded content) over exactly the hash sent for its file, chained to the trust list, with
//! signingCertificateV2 and a signingTime inside the request's window, all by one certificate,
//! and that certificate the session's person's. The certificate's status is asked afterwards
//! (`callback.rs`), for the one certificate.

use time::{Duration, OffsetDateTime};

use super::refusal::Refusal;
use super::store::StoredFile;
use crate::identity::SignerIdentity;
use crate::provider::{SignAlgorithm, SignedItem};
use crate::session::subject_of;
use crate::signature::{TrustList, VerifiedSignature, verify_auth_signature};

/// Clock skew allowed between the phone's signing time and our own.
const SKEW: Duration = Duration::minutes(5);

/// What the request asked, as the verdict needs it (owned: the verdict runs on a blocking
/// thread).
pub struct Asked {
    pub files: Vec<StoredFile>,
    pub algorithm: SignAlgorithm,
    /// The session's person (`Session::subject`).
    pub subject: String,
    pub created_at: OffsetDateTime,
}

/// Every file's signature verified, by the session's person.
#[derive(Debug)]
pub struct Verified {
    /// The first file's; every other was made with the same certificate.
    pub first: Box<VerifiedSignature>,
    /// DER, in the files' order.
    pub signatures: Vec<Vec<u8>>,
}

/// A refusal, and who signed when it is known (the audit names them).
#[derive(Debug)]
pub struct Refused {
    pub refusal: Refusal,
    pub signer: Option<Box<SignerIdentity>>,
}

pub fn verdict(
    items: Vec<SignedItem>,
    asked: &Asked,
    trust: &TrustList,
    now: OffsetDateTime,
) -> Result<Verified, Refused> {
    let refused = |refusal: Refusal| Refused {
        refusal,
        signer: None,
    };
    let items =
        in_file_order(items, &asked.files).ok_or_else(|| refused(Refusal::ItemsMismatch))?;
    let mut signatures = Vec::with_capacity(items.len());
    let mut first: Option<Box<VerifiedSignature>> = None;
    for (file, item) in asked.files.iter().zip(items) {
        let verified =
            verify_auth_signature(&item.signature, &file.hash, trust, now).map_err(|e| {
                tracing::warn!(error = %e, file = %file.name.as_str(), "signature refused");
                refused(Refusal::from_verify_code(e.code()))
            })?;
        let signer = || Some(Box::new(verified.identity.clone()));
        // An attached signature whose content is the hash signs those 32 bytes, not the file
        // (and anyone can add the content to a detached one): only detached over the hash.
        if verified.attached {
            return Err(Refused {
                refusal: Refusal::HashMismatch,
                signer: signer(),
            });
        }
        if verified.digest_algorithm != asked.algorithm.hash_algorithm().oid() {
            return Err(refused(Refusal::WrongDigestAlgorithm));
        }
        if !verified.signing_certificate_v2 {
            return Err(refused(Refusal::NoSigningCertificate));
        }
        // signingTime is the signer's claim, and the certificate was checked at it: it must be
        // inside this request's window, or the signature was made for an earlier request.
        match verified.signing_time {
            Some(t) if t >= asked.created_at - SKEW => {}
            _ => {
                return Err(Refused {
                    refusal: Refusal::SignedBeforeRequest,
                    signer: signer(),
                });
            }
        }
        if subject_of(&verified.identity) != asked.subject {
            return Err(Refused {
                refusal: Refusal::OtherSigner,
                signer: signer(),
            });
        }
        match &first {
            Some(first) if first.signer_der != verified.signer_der => {
                return Err(Refused {
                    refusal: Refusal::MixedSigners,
                    signer: signer(),
                });
            }
            Some(_) => {}
            None => first = Some(Box::new(verified)),
        }
        signatures.push(item.signature);
    }
    let first = first.ok_or_else(|| refused(Refusal::ItemsMismatch))?;
    Ok(Verified { first, signatures })
}

/// The items in the files' order, matched by name: exactly one per file (names in a request
/// are distinct), none left over.
fn in_file_order(mut items: Vec<SignedItem>, files: &[StoredFile]) -> Option<Vec<SignedItem>> {
    if items.len() != files.len() {
        return None;
    }
    let mut ordered = Vec::with_capacity(files.len());
    for file in files {
        let at = items.iter().position(|i| i.name == file.name.as_str())?;
        ordered.push(items.swap_remove(at));
    }
    Some(ordered)
}
