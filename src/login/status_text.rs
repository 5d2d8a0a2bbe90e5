//! A pending login's state in words, as the waiting page and its live stream show it.

use super::outcome::Reason;
use super::state::PendingState;
use crate::language::Texts;

pub fn status_text(state: PendingState, reason: Option<&Reason>, t: &Texts) -> String {
    let text = match state {
        PendingState::Pending => t.status_waiting,
        PendingState::Confirmed => t.status_confirmed,
        PendingState::Consumed => t.status_consumed,
        PendingState::Rejected => match reason {
            Some(Reason::DeclinedOnPhone) => t.status_declined_on_phone,
            Some(Reason::WrongCode) => t.status_wrong_code,
            Some(Reason::CancelledAtProvider(_)) => t.status_cancelled_at_provider,
            _ => t.status_declined,
        },
        PendingState::Expired => t.status_expired,
        PendingState::Failed => reason.map_or(t.status_failed, |reason| failed_text(reason, t)),
    };
    text.to_owned()
}

fn failed_text(reason: &Reason, t: &Texts) -> &'static str {
    match reason {
        Reason::CodeRefused => t.status_code_refused,
        Reason::ClientRefused => t.status_client_refused,
        Reason::MethodNotAllowed(_) => t.status_method_not_allowed,
        Reason::ProviderTimeout => t.provider_timeout,
        Reason::Provider(_) => t.provider_unavailable,
        Reason::ProviderRemoved => t.status_provider_removed,
        Reason::UnsupportedAlgorithm => t.status_unsupported_algorithm,
        Reason::CertificateRevoked => t.status_certificate_revoked,
        Reason::CaCertificateRevoked => t.status_ca_certificate_revoked,
        Reason::CertificateStatusUnknown(_) => t.status_certificate_status_unknown,
        Reason::NoIdentity => t.status_no_identity,
        Reason::UnusableName => t.status_unusable_name,
        _ => t.status_failed,
    }
}
