//! Why a signing request did not end signed: one code per cause (stored as
//! `signing_requests.reason`, given to the cabinet as `reason`) and its words for the person
//! (`reason_text`).

use crate::certificate_status::StatusRefusal;
use crate::language::Lang;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Declined in the provider's app.
    Declined,
    /// Not confirmed in time.
    Expired,
    /// The session that asked ended before the signatures came.
    SessionEnded,
    /// Signed by someone other than the session's person.
    OtherSigner,
    /// A signature over another hash than the one sent for its file.
    HashMismatch,
    /// signingTime before the request was made: a signature made for an earlier request.
    SignedBeforeRequest,
    WrongDigestAlgorithm,
    /// No signingCertificateV2 attribute (not CAdES).
    NoSigningCertificate,
    /// Not one signature per file, by name.
    ItemsMismatch,
    /// The files were signed with different certificates.
    MixedSigners,
    CertificateRevoked,
    CaCertificateRevoked,
    /// The certificate's status could not be learned (`ocsp_<why>`).
    StatusUnknown(String),
    /// Any other failed check of a signature (`crate::signature`'s code).
    InvalidSignature(String),
}

impl Refusal {
    pub fn from_verify_code(code: &str) -> Refusal {
        match code {
            "hash_mismatch" => Refusal::HashMismatch,
            other => Refusal::InvalidSignature(other.to_owned()),
        }
    }

    pub fn from_status(refusal: StatusRefusal) -> Refusal {
        match refusal {
            StatusRefusal::Revoked => Refusal::CertificateRevoked,
            StatusRefusal::CaRevoked => Refusal::CaCertificateRevoked,
            StatusRefusal::Unknown(code) => Refusal::StatusUnknown(code.to_owned()),
        }
    }

    pub fn code(&self) -> &str {
        match self {
            Refusal::Declined => "declined",
            Refusal::Expired => "expired",
            Refusal::SessionEnded => "session_ended",
            Refusal::OtherSigner => "other_signer",
            Refusal::HashMismatch => "hash_mismatch",
            Refusal::SignedBeforeRequest => "signed_before_request",
            Refusal::WrongDigestAlgorithm => "wrong_digest_algorithm",
            Refusal::NoSigningCertificate => "no_signing_certificate",
            Refusal::ItemsMismatch => "items_mismatch",
            Refusal::MixedSigners => "mixed_signers",
            Refusal::CertificateRevoked => "certificate_revoked",
            Refusal::CaCertificateRevoked => "ca_certificate_revoked",
            Refusal::StatusUnknown(code) | Refusal::InvalidSignature(code) => code,
        }
    }
}

/// The person's words for a stored reason code.
pub fn reason_text(code: &str, lang: Lang) -> String {
    let (uk, en) = match code {
        "declined" => (
            "Підписання відхилено в застосунку.",
            "Signing was declined in the app.",
        ),
        "expired" => (
            "Час на підтвердження минув: документи не підписано.",
            "The time to confirm ran out: nothing was signed.",
        ),
        "session_ended" => (
            "Сеанс, з якого просили підпис, завершився: підпис не прийнято.",
            "The session that asked for the signature has ended: the signature was not accepted.",
        ),
        "other_signer" => (
            "Документи підписала інша особа, не та, що увійшла: підпис не прийнято.",
            "Someone other than the signed-in person signed: the signature was not accepted.",
        ),
        "hash_mismatch" => (
            "Підпис зроблено не під тим документом, що надіслано: підпис не прийнято.",
            "The signature is not over the document that was sent: it was not accepted.",
        ),
        "signed_before_request" => (
            "Підпис зроблено раніше за цей запит (повтор старого підпису): не прийнято.",
            "The signature was made before this request (an old signature replayed): not accepted.",
        ),
        "wrong_digest_algorithm" => (
            "Підпис зроблено з іншим алгоритмом гешування, ніж запитано: не прийнято.",
            "The signature uses another hash algorithm than the one asked for: not accepted.",
        ),
        "no_signing_certificate" => (
            "Підпис не містить посилання на сертифікат підписувача (не CAdES): не прийнято.",
            "The signature does not name its signing certificate (not CAdES): not accepted.",
        ),
        "items_mismatch" => (
            "Надавач повернув підписи не для тих файлів, що надіслано: не прийнято.",
            "The provider returned signatures for other files than those sent: not accepted.",
        ),
        "mixed_signers" => (
            "Файли підписано різними сертифікатами: не прийнято.",
            "The files were signed with different certificates: not accepted.",
        ),
        "certificate_revoked" => (
            "Сертифікат підписувача відкликано: підпис не прийнято.",
            "The signer's certificate is revoked: the signature was not accepted.",
        ),
        "ca_certificate_revoked" => (
            "Сертифікат центру, що видав ключ, відкликано: підпис не прийнято.",
            "A certificate of the key's issuing CA is revoked: the signature was not accepted.",
        ),
        "bad_signature" => (
            "Підпис не відповідає даним (пошкоджений або підроблений): не прийнято.",
            "The signature does not match its data (damaged or forged): not accepted.",
        ),
        "untrusted_chain" => (
            "Сертифікат підписувача не видано довіреним кваліфікованим центром: не прийнято.",
            "The signer's certificate was not issued by a trusted qualified CA: not accepted.",
        ),
        code if code.starts_with("ocsp_") => (
            "Не вдалося перевірити статус сертифіката: підпис не прийнято. Спробуйте пізніше.",
            "The certificate's status could not be checked: not accepted. Try again later.",
        ),
        code if code.starts_with("provider_") => (
            "Надавач зараз не відповідає. Спробуйте пізніше.",
            "The provider is not answering now. Try again later.",
        ),
        _ => (
            "Підпис не пройшов перевірку: не прийнято.",
            "The signature failed verification: not accepted.",
        ),
    };
    match lang {
        Lang::Uk => uk.to_owned(),
        Lang::En => en.to_owned(),
    }
}
