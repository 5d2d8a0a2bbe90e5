//! How a pending login ends, and the reason recorded with it.
//!
//! A reason reaches `pending_logins.outcome_reason`, by the history trigger
//! `login_history.reason`, the callback's answer and the waiting page's stream, always as the
//! same text: [`Reason`] is written and read through that text ([`Reason::parse`] gives back
//! exactly what [`fmt::Display`] wrote), so the enum changes none of them.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::auth_method::AuthMethod;
use crate::certificate_status::StatusRefusal;
use crate::identity::SignerIdentity;
use crate::provider::METHOD_NOT_ALLOWED;

/// What the callback (or a redirect provider's return, or the phone) may set; nothing else
/// moves a login out of `pending`.
#[derive(Debug, Clone)]
pub enum Outcome {
    Confirmed(Box<SignerIdentity>),
    /// A redirect provider said who the person is, and how they proved it to the provider
    /// (recorded as the history's reason, [`Reason::IdentifiedBy`]).
    Identified {
        identity: Box<SignerIdentity>,
        method: AuthMethod,
    },
    Rejected {
        reason: Reason,
    },
    Failed {
        reason: Reason,
    },
}

/// Why a login ended as it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Decline pressed on the phone's check page.
    DeclinedOnPhone,
    /// A wrong verification code picked on the phone: a relayed QR code, most likely.
    WrongCode,
    /// The person declined in the provider's app (`declined:<what the provider said>`).
    Declined(String),
    /// A redirect provider sent the browser back without a code (`cancelled:<its error>`;
    /// `access_denied` when the person pressed «Скасувати» there).
    CancelledAtProvider(String),
    /// The method a redirect provider says the person proved themselves with
    /// (`auth_type:<method>`), recorded with a confirmed login.
    IdentifiedBy(String),
    /// The CA has revoked the signer's key.
    CertificateRevoked,
    /// A CA certificate of the key's path (a sub-CA) has been revoked.
    CaCertificateRevoked,
    /// The certificate's status could not be learned (`ocsp_<why>`).
    CertificateStatusUnknown(String),
    WrongDigestAlgorithm,
    SigningTimeBeforeRequest,
    UnsupportedAlgorithm,
    /// The provider timed out (`provider_timeout`) or failed otherwise (`provider_<how>`).
    ProviderTimeout,
    Provider(String),
    /// The provider was taken out of the configuration (a reload) while the login waited.
    ProviderRemoved,
    /// id.gov.ua refused the code, or kepgate's own client.
    CodeRefused,
    ClientRefused,
    /// The provider's answer named nobody, or a name kepgate cannot use.
    NoIdentity,
    UnusableName,
    /// A method the provider's settings do not allow (`method_not_allowed:<method>`).
    MethodNotAllowed(String),
    /// Any other code (a signature check's, as `crate::signature` names it).
    Other(String),
}

/// A reason whose code is a prefix and what follows it.
type Prefixed = fn(String) -> Reason;

const DECLINED: &str = "declined:";
const CANCELLED_AT_PROVIDER: &str = "cancelled:";
const IDENTIFIED_BY: &str = "auth_type:";
const CERTIFICATE_STATUS: &str = "ocsp_";
const PROVIDER: &str = "provider_";

impl Reason {
    /// The reason of a signature the certificate-status policy refused.
    pub fn refused_status(refusal: StatusRefusal) -> Reason {
        match refusal {
            StatusRefusal::Revoked => Reason::CertificateRevoked,
            StatusRefusal::CaRevoked => Reason::CaCertificateRevoked,
            StatusRefusal::Unknown(code) => Reason::parse(code),
        }
    }

    /// The reason a stored (or any other module's) code stands for.
    pub fn parse(code: &str) -> Reason {
        let exact = match code {
            "declined_on_phone" => Some(Reason::DeclinedOnPhone),
            "relay_suspected_wrong_code" => Some(Reason::WrongCode),
            "certificate_revoked" => Some(Reason::CertificateRevoked),
            "ca_certificate_revoked" => Some(Reason::CaCertificateRevoked),
            "wrong_digest_algorithm" => Some(Reason::WrongDigestAlgorithm),
            "signing_time_before_request" => Some(Reason::SigningTimeBeforeRequest),
            "unsupported_algorithm" => Some(Reason::UnsupportedAlgorithm),
            "provider_timeout" => Some(Reason::ProviderTimeout),
            "provider_removed" => Some(Reason::ProviderRemoved),
            "code_refused" => Some(Reason::CodeRefused),
            "client_refused" => Some(Reason::ClientRefused),
            "no_identity" => Some(Reason::NoIdentity),
            "unusable_name" => Some(Reason::UnusableName),
            _ => None,
        };
        if let Some(reason) = exact {
            return reason;
        }
        let prefixed: [(&str, Prefixed); 6] = [
            (DECLINED, Reason::Declined),
            (CANCELLED_AT_PROVIDER, Reason::CancelledAtProvider),
            (IDENTIFIED_BY, Reason::IdentifiedBy),
            (CERTIFICATE_STATUS, Reason::CertificateStatusUnknown),
            (PROVIDER, Reason::Provider),
            (METHOD_NOT_ALLOWED, Reason::MethodNotAllowed),
        ];
        prefixed
            .iter()
            .find_map(|(prefix, reason)| Some(reason(code.strip_prefix(prefix)?.to_owned())))
            .unwrap_or_else(|| Reason::Other(code.to_owned()))
    }
}

/// The reason as stored and sent.
impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (prefix, rest) = match self {
            Reason::DeclinedOnPhone => ("declined_on_phone", ""),
            Reason::WrongCode => ("relay_suspected_wrong_code", ""),
            Reason::Declined(what) => (DECLINED, what.as_str()),
            Reason::CancelledAtProvider(error) => (CANCELLED_AT_PROVIDER, error.as_str()),
            Reason::IdentifiedBy(method) => (IDENTIFIED_BY, method.as_str()),
            Reason::CertificateRevoked => ("certificate_revoked", ""),
            Reason::CaCertificateRevoked => ("ca_certificate_revoked", ""),
            Reason::CertificateStatusUnknown(why) => (CERTIFICATE_STATUS, why.as_str()),
            Reason::WrongDigestAlgorithm => ("wrong_digest_algorithm", ""),
            Reason::SigningTimeBeforeRequest => ("signing_time_before_request", ""),
            Reason::UnsupportedAlgorithm => ("unsupported_algorithm", ""),
            Reason::ProviderTimeout => ("provider_timeout", ""),
            Reason::Provider(how) => (PROVIDER, how.as_str()),
            Reason::ProviderRemoved => ("provider_removed", ""),
            Reason::CodeRefused => ("code_refused", ""),
            Reason::ClientRefused => ("client_refused", ""),
            Reason::NoIdentity => ("no_identity", ""),
            Reason::UnusableName => ("unusable_name", ""),
            Reason::MethodNotAllowed(method) => (METHOD_NOT_ALLOWED, method.as_str()),
            Reason::Other(code) => (code.as_str(), ""),
        };
        write!(f, "{prefix}{rest}")
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl From<&str> for Reason {
    fn from(code: &str) -> Self {
        Reason::parse(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_read_back_as_the_text_it_was_written_as() {
        for code in [
            "declined_on_phone",
            "relay_suspected_wrong_code",
            "declined:user_cancelled",
            "cancelled:access_denied",
            "cancelled:",
            "auth_type:bankid",
            "certificate_revoked",
            "ca_certificate_revoked",
            "ocsp_unreachable",
            "wrong_digest_algorithm",
            "signing_time_before_request",
            "unsupported_algorithm",
            "provider_timeout",
            "provider_refused",
            "provider_removed",
            "code_refused",
            "client_refused",
            "no_identity",
            "unusable_name",
            "method_not_allowed:dig_sign",
            "bad_signature",
            "",
        ] {
            let reason = Reason::parse(code);
            assert_eq!(reason.to_string(), code);
            assert_eq!(Reason::parse(&reason.to_string()), reason);
            assert_eq!(serde_json::to_value(&reason).unwrap(), code);
        }
        assert_eq!(Reason::parse("declined_on_phone"), Reason::DeclinedOnPhone);
        assert_eq!(
            Reason::parse("cancelled:access_denied"),
            Reason::CancelledAtProvider("access_denied".to_owned())
        );
        assert_eq!(
            Reason::parse("ocsp_no_issuer"),
            Reason::CertificateStatusUnknown("no_issuer".to_owned())
        );
    }
}
