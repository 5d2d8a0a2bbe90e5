//! What the login and a provider exchange, whatever the provider: the request id and its hash,
//! how the login goes on once started (on a phone, or by sending this browser to the
//! provider), the decoded callback or the identity a provider tells, and what can go wrong.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use url::Url;

use crate::signature::ObjectIdentifier;
use crate::signature::{gost34311, oids};

/// The hash of the request id, which the signer's CMS digestAlgorithm must name too: the phone
/// signs our hash as its messageDigest. Each provider decides which one it asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// GOST 34.311-95, for DSTU 4145 signatures.
    Gost34311,
    Sha256,
}

impl HashAlgorithm {
    pub fn digest(self, data: &[u8]) -> [u8; 32] {
        match self {
            HashAlgorithm::Gost34311 => gost34311::digest(data),
            HashAlgorithm::Sha256 => Sha256::digest(data).into(),
        }
    }

    /// The digest's OID, as a SignerInfo's digestAlgorithm names it
    /// (`VerifiedSignature::digest_algorithm`).
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            HashAlgorithm::Gost34311 => oids::GOST34311,
            HashAlgorithm::Sha256 => oids::SHA256,
        }
    }
}

/// The random id of one login request; kepgate stores only its [`RequestHash`]. A cross-device
/// provider is sent the hash to have signed, and the id never leaves kepgate. A redirect
/// provider is sent the id itself as OAuth `state`, and the browser's return is matched by
/// hashing the state it brings: a forged state matches nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestId([u8; 32]);

impl RequestId {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The id as `state`: base64url without padding, 43 characters.
    pub fn as_state(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Only the exact form [`Self::as_state`] writes.
    pub fn from_state(state: &str) -> Option<RequestId> {
        let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(state).ok()?.try_into().ok()?;
        (URL_SAFE_NO_PAD.encode(bytes) == state).then_some(RequestId(bytes))
    }

    pub fn hash(&self, algorithm: HashAlgorithm) -> RequestHash {
        RequestHash::of(algorithm, &self.0)
    }
}

/// What the provider is asked to have signed: base64(hash(our random request id)), the hash
/// being the provider's [`HashAlgorithm`]. The hash never reaches the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHash(String);

impl RequestHash {
    /// A fresh random request id and its hash.
    pub fn generate(
        algorithm: HashAlgorithm,
    ) -> Result<(RequestHash, RequestId), getrandom::Error> {
        let mut id = [0u8; 32];
        getrandom::fill(&mut id)?;
        Ok((RequestHash::of(algorithm, &id), RequestId(id)))
    }

    pub fn of(algorithm: HashAlgorithm, request_id: &[u8]) -> RequestHash {
        RequestHash(STANDARD.encode(algorithm.digest(request_id)))
    }

    /// Accepts only the exact form we send: base64 (standard, padded) of 32 bytes (both hashes
    /// are 32 bytes long).
    pub fn parse(s: &str) -> Option<RequestHash> {
        let bytes = STANDARD.decode(s).ok()?;
        (bytes.len() == 32 && STANDARD.encode(&bytes) == s).then(|| RequestHash(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 32 hash bytes the signature's messageDigest must equal.
    pub fn digest(&self) -> Vec<u8> {
        STANDARD.decode(&self.0).unwrap_or_default()
    }
}

/// How a login goes on once its provider accepted it: one shape for both kinds of provider.
#[derive(Debug, Clone)]
pub enum ProviderStart {
    /// Cross-device (Diia): this browser waits while the person answers on a phone; the result
    /// arrives by the provider's server-side callback.
    OnPhone(StartedRequest),
    /// Redirect (id.gov.ua): this browser goes to the provider and comes back to kepgate with a
    /// code, which kepgate exchanges server-side for who the person is.
    Redirect { to: Url },
}

/// Who a redirect provider says the person is, and how they proved it to it (id.gov.ua's
/// `auth_type`: `dig_sign`, `diia_id`, `bank_id`), one of the methods configured.
#[derive(Debug, Clone)]
pub struct Identified {
    pub identity: crate::identity::SignerIdentity,
    pub method: crate::auth_method::AuthMethod,
}

/// Why a redirect provider's code did not tell kepgate who the person is.
#[derive(Debug, thiserror::Error)]
pub enum IdentifyError {
    /// Unavailable, slow, or an answer kepgate cannot read: try again later.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The provider refused the code: already spent (a second use), expired, or not one it
    /// issued. The person starts again.
    #[error("the provider refused the code: {0}")]
    CodeRefused(String),
    /// The provider refused kepgate itself (its client id or secret, the redirect URI, the
    /// request's form): the operator's to fix, and no new start helps.
    #[error("the provider refused kepgate's client: {0}")]
    ClientRefused(String),
    /// The provider answered, but with neither a РНОКПП nor a certificate: nothing to know the
    /// person by again next time.
    #[error("the provider named no РНОКПП and no certificate")]
    NoIdentity,
    /// The person signed in at the provider by a method the configuration does not allow
    /// (`providers.<id>.methods`), or the answer named none: the browser, not kepgate, chose
    /// what the provider offered.
    #[error("the person signed in by {method:?}, which providers.<id>.methods does not allow")]
    MethodNotAllowed { method: String },
    /// The provider's name, organisation, title or issuer is not text to show (a control or
    /// formatting character, or too long): refused, not repaired (`crate::signature::display_text`).
    #[error("the provider's answer: {0}")]
    UnusableName(#[from] crate::identity::UnusableName),
}

/// The outcome reason of a login whose method the configuration does not allow, followed by
/// that method.
pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed:";

impl IdentifyError {
    /// The pending login's outcome reason (the method, after [`METHOD_NOT_ALLOWED`], is one
    /// of a few lower-case words, checked when read).
    pub fn reason(&self) -> String {
        match self {
            IdentifyError::Provider(e) => e.code().to_owned(),
            IdentifyError::CodeRefused(_) => "code_refused".to_owned(),
            IdentifyError::ClientRefused(_) => "client_refused".to_owned(),
            IdentifyError::NoIdentity => "no_identity".to_owned(),
            IdentifyError::MethodNotAllowed { method } => format!("{METHOD_NOT_ALLOWED}{method}"),
            IdentifyError::UnusableName(_) => "unusable_name".to_owned(),
        }
    }
}

/// What the login page shows after a cross-device provider accepted the request.
#[derive(Debug, Clone)]
pub struct StartedRequest {
    /// Link that opens the provider's app (deeplink), if the provider works that way.
    pub link: Option<Url>,
    /// Whether a QR code of `link` should be offered for scanning with a phone.
    pub show_qr: bool,
    /// True when the provider pushed the request to the user's phone by their identifier.
    pub pushed_to_phone: bool,
}

/// Input the provider needs from the user, when it needs any («Ідентифікатор користувача»).
#[derive(Debug, Clone)]
pub struct UserHintSpec {
    pub label_uk: String,
    pub label_en: String,
}

/// A callback, decoded but not yet trusted.
#[derive(Debug, Clone)]
pub struct ProviderCallback {
    pub request_hash: RequestHash,
    pub result: CallbackResult,
}

#[derive(Debug, Clone)]
pub enum CallbackResult {
    /// A CMS/CAdES signature (DER) to verify against the request hash.
    Signed(Vec<u8>),
    /// The user declined (or the provider refused) — never grants anything.
    Declined { reason: String },
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// Network error or 5xx after the allowed retries: "provider unavailable".
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// No answer within `http_timeout`. Not retried: the request may have reached the provider
    /// (a second offer request would be a duplicate), and the user should not wait twice.
    #[error("provider did not answer in time: {0}")]
    Timeout(String),
    /// The provider refused the request (4xx other than a renewable 401).
    #[error("provider refused the request (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    /// The provider answered something that is not its documented format.
    #[error("provider answered in an unexpected format: {0}")]
    BadAnswer(String),
    /// kepgate is not set up for this provider yet (e.g. `kepgate diia setup` not run).
    #[error("provider not set up: {0}")]
    NotConfigured(String),
}

impl ProviderError {
    /// Label for metrics and the pending login's outcome reason.
    pub fn code(&self) -> &'static str {
        match self {
            ProviderError::Unavailable(_) => "provider_unavailable",
            ProviderError::Timeout(_) => "provider_timeout",
            ProviderError::Refused { .. } => "provider_refused",
            ProviderError::BadAnswer(_) => "provider_bad_answer",
            ProviderError::NotConfigured(_) => "provider_not_configured",
        }
    }

    /// The `kind` label of `kepgate_provider_errors_total`: what an operator acts on.
    pub fn kind(&self) -> &'static str {
        match self {
            ProviderError::Unavailable(_) => "unavailable",
            ProviderError::Timeout(_) => "timeout",
            ProviderError::Refused { .. } => "refused",
            ProviderError::BadAnswer(_) => "bad_response",
            ProviderError::NotConfigured(_) => "not_configured",
        }
    }
}

/// Why a callback could not even be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallbackError {
    #[error("malformed callback: {0}")]
    Malformed(String),
    #[error("the trace id header does not match the request id in the body")]
    TraceIdMismatch,
    #[error("unsupported callback action {0:?}")]
    UnsupportedAction(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_hash_is_base64_of_the_hash_and_parses_only_that_form() {
        let (gost, id) = RequestHash::generate(HashAlgorithm::Gost34311).unwrap();
        assert_eq!(gost.digest(), gost34311::digest(id.as_bytes()).to_vec());
        let (hash, id) = RequestHash::generate(HashAlgorithm::Sha256).unwrap();
        assert_eq!(hash.digest(), Sha256::digest(id.as_bytes()).to_vec());
        assert_eq!(RequestHash::parse(hash.as_str()), Some(hash.clone()));
        assert_eq!(RequestHash::parse("not base64!"), None);
        assert_eq!(RequestHash::parse(&STANDARD.encode([1u8; 31])), None);
        let unpadded = hash.as_str().trim_end_matches('=');
        assert_eq!(RequestHash::parse(unpadded), None);
    }

    #[test]
    fn a_state_is_the_request_id_and_only_its_exact_form_parses() {
        let (hash, id) = RequestHash::generate(HashAlgorithm::Sha256).unwrap();
        let state = id.as_state();
        assert_eq!(state.len(), 43);
        let back = RequestId::from_state(&state).unwrap();
        assert_eq!(back.hash(HashAlgorithm::Sha256), hash);
        for forged in [
            "",
            "x",
            &state[..42],
            &format!("{state}A"),
            &format!("{state}="),
            &STANDARD.encode(id.as_bytes()),
        ] {
            assert!(RequestId::from_state(forged).is_none(), "{forged:?}");
        }
    }
}
