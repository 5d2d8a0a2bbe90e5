//! The emulator's in-memory state: authorization codes, access tokens, faults and the log of
//! what clients sent.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::params::RecordedRequest;
use super::people::{IdGovUaIdentity, IdGovUaMethod};
use super::settings::IdGovUaSettings;

/// How many requests `GET /emulator/requests` keeps.
const RECORDED: usize = 50;

pub(crate) struct Shared {
    pub settings: IdGovUaSettings,
    inner: Mutex<Inner>,
}

impl Shared {
    pub fn new(settings: IdGovUaSettings) -> Self {
        Shared {
            settings,
            inner: Mutex::new(Inner {
                next_user_id: 100,
                ..Inner::default()
            }),
        }
    }

    /// Critical sections never await; a poisoned lock (a panic in one) is taken over, the data
    /// being consistent enough for a test double.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Default)]
pub(crate) struct Inner {
    /// Authorization code → its grant. Used codes stay (marked) until they expire, so a second
    /// use is recognised.
    pub codes: HashMap<String, Grant>,
    /// Access token → the login it stands for.
    pub tokens: HashMap<String, Session>,
    /// The next `user_id`: each login is a new user-data record, numbered like the examples
    /// (`user_id=136`).
    pub next_user_id: u64,
    pub faults: Faults,
    /// User-info fields answered with these values instead of the person's, set by
    /// `POST /emulator/user-info` (a hostile or broken answer, for tests).
    pub user_info_overrides: BTreeMap<String, String>,
    pub requests: VecDeque<RecordedRequest>,
}

impl Inner {
    /// Forgets expired codes and tokens, so a long-running emulator does not grow.
    pub fn prune(&mut self, now: Instant) {
        self.codes.retain(|_, g| g.expires_at > now);
        self.tokens.retain(|_, s| s.expires_at > now);
    }

    pub fn record(&mut self, request: RecordedRequest) {
        if self.requests.len() == RECORDED {
            self.requests.pop_front();
        }
        self.requests.push_back(request);
    }
}

/// What an authorization code stands for.
pub(crate) struct Grant {
    pub client_id: String,
    pub redirect_uri: String,
    pub identity: IdGovUaIdentity,
    pub method: IdGovUaMethod,
    pub issued_at: Instant,
    pub expires_at: Instant,
    /// Set once exchanged; a second use fails and revokes the tokens of the first.
    pub used: bool,
}

/// A live access token.
pub(crate) struct Session {
    pub user_id: String,
    pub client_id: String,
    pub identity: IdGovUaIdentity,
    pub method: IdGovUaMethod,
    /// The code it was exchanged for (to revoke it when that code is replayed).
    pub code: String,
    pub expires_at: Instant,
}

/// Misbehaviour of `/get-access-token` and `/get-user-info` (and how slow `/get-user-logout` is), set by `POST /emulator/faults`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Wait this long before answering.
    #[serde(default)]
    pub delay_ms: u64,
    /// Answer this status with a JSON error instead.
    #[serde(default)]
    pub fail_status: Option<u16>,
    /// Wait this long before answering `/get-user-logout` (a slow logout must not cost a login).
    #[serde(default)]
    pub logout_delay_ms: u64,
}

/// `now + ttl`, or far in the future for a TTL too large for `Instant`.
pub(crate) fn deadline(now: Instant, ttl: Duration) -> Instant {
    now.checked_add(ttl)
        .or_else(|| now.checked_add(Duration::from_secs(10 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

/// `n` random bytes as lowercase hex.
pub(crate) fn random_hex(n: usize) -> Result<String, getrandom::Error> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
