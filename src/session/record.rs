//! A session as a request sees it, and what a request's cookie amounts to.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth_method::AuthMethod;
use crate::identity::SignerIdentity;

#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    pub provider: String,
    pub identity: SignerIdentity,
    /// How the person proved who they are; `None` for a session whose method was never
    /// recorded (opened before kepgate recorded it), which no policy takes for a qualified
    /// signature.
    pub auth_method: Option<AuthMethod>,
    pub created_at: OffsetDateTime,
    /// The absolute end, whatever the activity.
    pub expires_at: OffsetDateTime,
    /// Sliding: the session ends this long after its last request.
    pub idle_timeout: time::Duration,
    /// Logged in from a «public / shared computer»: shorter idle timeout, no persistent cookie,
    /// and every response for it must be `Cache-Control: no-store` (the proxy too).
    pub shared_pc: bool,
}

impl Session {
    /// Does the policy admit this session? (`routes.<name>.allow`, `oidc.clients.<id>.allow`)
    pub fn admitted_by(&self, policy: &crate::config::AccessPolicy) -> bool {
        if policy.is_open() {
            return true;
        }
        let identity = &self.identity;
        let by_identity = (policy.rnokpp.is_empty() && policy.edrpou.is_empty())
            || identity
                .rnokpp
                .as_ref()
                .is_some_and(|r| policy.rnokpp.iter().any(|p| p == r.as_str()))
            || identity
                .edrpou
                .as_ref()
                .is_some_and(|e| policy.edrpou.iter().any(|p| p == e.as_str()));
        let by_provider = policy.providers.is_empty() || policy.providers.contains(&self.provider);
        let by_method = !policy.qualified_signature
            || self
                .auth_method
                .is_some_and(AuthMethod::is_qualified_signature);
        by_identity && by_provider && by_method
    }

    /// The stable subject: `rnokpp:<number>` for people, else the certificate (issuer + serial).
    pub fn subject(&self) -> String {
        subject_of(&self.identity)
    }
}

/// A person's stable subject: `rnokpp:<number>`, else the certificate (issuer + serial). Two
/// signatures are by the same person when their subjects are equal.
pub fn subject_of(identity: &SignerIdentity) -> String {
    match &identity.rnokpp {
        Some(r) => format!("rnokpp:{r}"),
        None => format!(
            "cert:{}:{}",
            base16ct::lower::encode_string(&Sha256::digest(identity.issuer.as_bytes())[..8]),
            identity.cert_serial_hex
        ),
    }
}

/// What a request's cookie amounts to.
#[derive(Debug, Clone)]
pub enum Authentication {
    /// Shared with this replica's session cache: every request of a signed-in user gets one,
    /// and copying the identity's strings for each showed in the proxy's profile.
    Authenticated(Arc<Session>),
    /// The request carried a session cookie that no longer opens a session (idle or absolute
    /// timeout, revoked, unknown): the login page should say "your session ended".
    Expired,
    /// No session cookie at all.
    None,
}

impl Authentication {
    pub fn session(self) -> Option<Arc<Session>> {
        match self {
            Authentication::Authenticated(s) => Some(s),
            Authentication::Expired | Authentication::None => None,
        }
    }
}
