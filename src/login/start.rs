//! Starting a login: the provider request server-side, then the pending row with its deeplink
//! in one statement (it was an INSERT before the request and an UPDATE after it). A callback
//! cannot outrun the row: every adapter's request reaches the person only through this
//! replica's answer, sent after the row is committed (Diia: the deeplink, its QR code;
//! id.gov.ua: the redirect). An adapter that pushed requests to the phone by itself
//! (`StartedRequest::pushed_to_phone`) would need the row written before it is asked.

use std::net::IpAddr;

use time::OffsetDateTime;
use url::Url;

use super::context::LoginContext;
use super::pending::{self, NewPendingLogin, PendingLoginId};
use crate::provider::{ProviderError, ProviderStart, RequestHash};
use crate::return_path::ReturnPath;

pub struct StartLogin {
    pub provider_id: String,
    pub user_hint: Option<String>,
    pub return_path: ReturnPath,
    /// The random nonce that goes into the browser's binding cookie; only its hash is stored.
    pub binding_nonce: [u8; 32],
    pub client_ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// «Public / shared computer» ticked: the session will get the shorter idle timeout.
    pub shared_pc: bool,
}

#[derive(Debug)]
pub struct StartedLogin {
    pub id: PendingLoginId,
    /// How the login goes on: on a phone (a link, a QR code), or by sending this browser to the
    /// provider.
    pub next: ProviderStart,
    /// As stored (PostgreSQL keeps microseconds): the rotating QR link's steps count from it.
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl StartedLogin {
    /// The phone's link, for a cross-device provider.
    pub fn link(&self) -> Option<&Url> {
        match &self.next {
            ProviderStart::OnPhone(started) => started.link.as_ref(),
            ProviderStart::Redirect { .. } => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("unknown provider")]
    UnknownProvider,
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("no randomness available")]
    Random(#[source] getrandom::Error),
    /// `login.max_starts_in_flight` starts are running on this replica, or
    /// `login.max_pending` logins are waiting: a flood, most likely from many addresses.
    #[error("too many logins in progress")]
    Busy,
}

pub async fn start_login(
    state: &LoginContext,
    request: StartLogin,
) -> Result<StartedLogin, StartError> {
    let provider = state
        .providers
        .get(&request.provider_id)
        .ok_or(StartError::UnknownProvider)?;
    // The per-address rate limit does not stop a flood from many addresses; these two bounds do,
    // so that the pool and the table stay there for signed-in users. The permit bounds the
    // connections and provider calls starts hold at once; the count bounds rows (it may be
    // overshot by what other replicas start within a second of this one's count, never by the
    // flood as a whole).
    let Ok(_permit) = state.start_slots.try_acquire() else {
        metrics::counter!("kepgate_login_starts_busy_total", "bound" => "in_flight").increment(1);
        return Err(StartError::Busy);
    };
    let max_pending = i64::from(state.web.settings.login.max_pending);
    let waiting = state
        .waiting_logins
        .count(&state.web.db, state.web.clock.now(), max_pending)
        .await?;
    if waiting >= max_pending {
        metrics::counter!("kepgate_login_starts_busy_total", "bound" => "pending").increment(1);
        return Err(StartError::Busy);
    }
    let (request_hash, request_id) =
        RequestHash::generate(provider.hash_algorithm()).map_err(StartError::Random)?;
    let now = to_microseconds(state.web.clock.now());
    let ttl = time::Duration::try_from(provider.common().request_ttl)
        .unwrap_or(time::Duration::minutes(3));
    let id = PendingLoginId::new();
    let binding_hash = super::binding::BindingCookie::hash(&request.binding_nonce);
    let started = provider
        .start(&request_id, &request_hash, request.user_hint.as_deref())
        .await;
    let deeplink = match &started {
        Ok(ProviderStart::OnPhone(on_phone)) => on_phone.link.as_ref().map(Url::as_str),
        _ => None,
    };
    pending::insert(
        &state.web.db,
        &NewPendingLogin {
            id,
            provider: provider.id(),
            user_hint: request.user_hint.as_deref(),
            request_hash: &request_hash,
            binding_hash: binding_hash.as_slice(),
            return_path: &request.return_path,
            client_ip: request.client_ip,
            user_agent: request.user_agent.as_deref(),
            shared_pc: request.shared_pc,
            deeplink,
            now,
            expires_at: now + ttl,
        },
    )
    .await?;
    state.waiting_logins.started_one();
    match started {
        Ok(next) => {
            metrics::counter!("kepgate_logins_started_total", "provider" => provider.id().to_owned()).increment(1);
            Ok(StartedLogin {
                id,
                next,
                created_at: now,
                expires_at: now + ttl,
            })
        }
        Err(e) => {
            // Written all the same: the history shows the attempt and why it failed.
            pending::mark_start_failed(&state.web.db, id, e.code(), state.web.clock.now()).await?;
            Err(e.into())
        }
    }
}

/// `at` as PostgreSQL stores a `timestamptz`, so what this replica computes from the start time
/// before reading the row back is what every replica computes from the row.
fn to_microseconds(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at)
}
