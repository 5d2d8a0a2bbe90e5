//! The waiting browser's live status (SSE): the pending login's state, and with rotating QR
//! links a new link at every rotation, until the login leaves `pending`.
//!
//! A state machine polled by the response body itself, not a task feeding a channel: with
//! 10,000 browsers waiting, a spawned task and a channel per stream were about 3 KB each of the
//! gateway's memory (heaptrack, bench/sse_waiters.sh). A browser that goes away drops the body,
//! and with it the stream, its subscription and its timers.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use serde::Serialize;
use serde_json::json;

use super::browser::ThisBrowsersLogin;
use super::context::LoginContext;
use super::outcome::Reason;
use super::pending::{self, PendingLogin};
use super::state::{PendingLoginId, PendingState};
use super::status_text::status_text;
use super::waiting::current_link;
use crate::http::draining::DrainingWatch;
use crate::http::error::AppError;
use crate::language::Lang;
use crate::notifications::watchers::Subscription;

/// `GET {prefix}/login/events/{id}`: the live status, for the browser that started the login.
pub async fn events(
    State(state): State<LoginContext>,
    login: ThisBrowsersLogin,
    request: Request,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let (parts, _) = request.into_parts();
    let lang = Lang::from_parts(&parts, state.web.settings.ui.default_language);
    // Subscribe before the first read, so a change between the two is not missed; the row read
    // to check the binding cookie is then the stream's first state (one query, not two). A
    // refused subscription is dropped, and unregistered, on the early return.
    let subscription = state.login_events.subscribe(login.id);
    let login = login.find(&state.web.db).await?;
    let stream = StatusStream::new(state, lang, subscription, login).into_stream();
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[derive(Serialize)]
struct StateEvent<'a> {
    state: &'a str,
    reason: Option<&'a Reason>,
    message: String,
}

pub struct StatusStream {
    state: LoginContext,
    id: PendingLoginId,
    lang: Lang,
    subscription: Subscription,
    draining: DrainingWatch,
    /// The last state read; the first comes from the handler's ownership check.
    login: PendingLogin,
    /// Look at the state (and, but for the first time, read it again) before waiting.
    check_state: bool,
    read_again: bool,
    last_sent: Option<PendingState>,
    last_link: Option<String>,
    rotations: u64,
    finished: bool,
}

impl StatusStream {
    /// `subscription` must have been taken before `login` was read, so that a change between
    /// the two is not missed.
    pub fn new(
        state: LoginContext,
        lang: Lang,
        subscription: Subscription,
        login: PendingLogin,
    ) -> Self {
        let draining = state.web.draining.watch();
        Self {
            id: login.id,
            state,
            lang,
            subscription,
            draining,
            login,
            check_state: true,
            read_again: false,
            last_sent: None,
            last_link: None,
            rotations: 0,
            finished: false,
        }
    }

    pub fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> + Send {
        futures_util::stream::unfold(self, |mut stream| async move {
            let event = stream.next_event().await?;
            Some((Ok(event), stream))
        })
    }

    async fn next_event(&mut self) -> Option<Event> {
        let rotating = self.state.web.settings.login.qr_mode == crate::config::QrMode::Rotating;
        loop {
            if self.finished {
                return None;
            }
            if self.check_state {
                self.check_state = false;
                if let Some(event) = self.look_at_state().await? {
                    return Some(event);
                }
                if self.finished {
                    return None;
                }
            }
            // Until the login changes or expires: a new QR link at every rotation, computed
            // here from the id, start time and shared key, without the database (qr_link.rs).
            let now = self.state.web.clock.now();
            if let Some(link) = rotating
                .then(|| {
                    current_link(
                        &self.state.qr_links,
                        &self.state.web.settings,
                        &self.login,
                        now,
                    )
                })
                .flatten()
                && self.last_link.as_ref() != Some(&link)
            {
                // Only the link travels on the push channel (about 100 bytes); the browser
                // fetches the picture. Pushing each SVG (kilobytes, every few seconds, to every
                // waiting browser) let hyper queue up to 16 events per slow reader: 500 KB per
                // connection, gigabytes at 10,000 waiters (bench/sse_waiters.sh).
                self.rotations += 1;
                let qr_url = self
                    .state
                    .web
                    .settings
                    .server
                    .path(&format!("/login/qr/{}?r={}", self.id, self.rotations));
                let data = json!({ "link": link, "qr_url": qr_url }).to_string();
                self.last_link = Some(link);
                return Some(Event::default().event("qr").data(data));
            }
            let until_expiry = Duration::try_from(self.login.expires_at - now)
                .unwrap_or(Duration::ZERO)
                + Duration::from_millis(50);
            let next_rotation = if rotating {
                self.state
                    .qr_links
                    .until_next_step(self.login.created_at, now)
            } else {
                until_expiry
            };
            tokio::select! {
                changed = self.subscription.changes.changed() => {
                    changed.ok()?;
                    self.check_state = true;
                }
                _ = tokio::time::sleep(until_expiry) => self.check_state = true,
                _ = tokio::time::sleep(next_rotation) => {}
                // This replica is going away: end the stream cleanly. EventSource reconnects by
                // itself after `retry` (spread out, so a replica's browsers do not all arrive at
                // once) to whichever replica the load balancer picks.
                () = self.draining.started() => {
                    self.finished = true;
                    let spread = Duration::from_millis(500 + u64::from(self.id.0.as_bytes()[15]) * 8);
                    return Some(Event::default().retry(spread).comment("draining"));
                }
            }
        }
    }

    /// At the deadline, with the row still saying pending: the one-time `pending → expired`
    /// the sweeper and late callbacks use (`pending::expire`, announced to every replica). The
    /// database decides: when the transition finds the login no longer pending (completed in
    /// the last moment, or expired by the sweeper or another stream first), the row read again
    /// says what the browser is told. `None`: the row is gone.
    async fn expire(&mut self, now: time::OffsetDateTime) -> Option<PendingState> {
        let db = &self.state.web.db;
        match Box::pin(pending::expire(db, self.id, now)).await {
            Ok(true) => {
                self.login.state = PendingState::Expired;
                return Some(PendingState::Expired);
            }
            Ok(false) => match Box::pin(pending::find(db, self.id)).await {
                Ok(Some(read)) => self.login = read,
                Ok(None) => return None,
                Err(e) => tracing::warn!(error = %e, "login stream: reading the login failed"),
            },
            // The database is away: the deadline has passed on this replica's clock, and no
            // completion is accepted after it (`record_outcome`), so expired is what it will be.
            Err(e) => tracing::warn!(error = %e, "login stream: expiring the login failed"),
        }
        Some(self.login.state_at(now))
    }

    /// Reads the login again (but the first time) and returns the state event if it changed.
    /// `None`: end the stream (the row is gone, or the database refused for good).
    async fn look_at_state(&mut self) -> Option<Option<Event>> {
        if self.read_again {
            // Boxed: the stream spends its life parked in the select!, and an unboxed query
            // future would make every waiting browser's stream as large as the query.
            match Box::pin(pending::find(&self.state.web.db, self.id)).await {
                Ok(Some(read)) => self.login = read,
                Ok(None) => return None,
                // The database is away: keep the browser waiting on what we knew (its expiry
                // still counts); when the LISTEN connection is back it wakes every stream to
                // read again. Ending the stream here would send EventSource into a 503, which
                // it does not retry: the page would stop listening for good.
                Err(e) if crate::database::is_unavailable(&e) => {}
                Err(_) => return None,
            }
        }
        self.read_again = true;
        let now = self.state.web.clock.now();
        let mut current = self.login.state_at(now);
        if current == PendingState::Expired && self.login.state == PendingState::Pending {
            current = self.expire(now).await?;
        }
        // The last state event is sent, then the stream ends.
        self.finished = current != PendingState::Pending;
        if self.last_sent == Some(current) {
            return Some(None);
        }
        self.last_sent = Some(current);
        let reason = self.login.outcome_reason.as_ref();
        let event = StateEvent {
            state: current.as_str(),
            reason,
            message: status_text(current, reason, self.lang.texts()),
        };
        let data = serde_json::to_string(&event).unwrap_or_default();
        Some(Some(
            Event::default()
                .event("state")
                .id(current.as_str())
                .data(data),
        ))
    }
}
