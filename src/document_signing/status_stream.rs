//! The signing page's live status (SSE): the request's state whenever it changes, on any
//! replica (LISTEN/NOTIFY through [`Watchers`]), and at its deadline, until it leaves
//! `pending`. The stream ends with the request, the browser, or the server's draining.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde_json::json;

use super::context::SigningContext;
use super::page::{owned, status_text};
use super::request::{SigningId, SigningState};
use super::store;
use crate::http::draining::DrainingWatch;
use crate::http::error::AppError;
use crate::http::signed_in::CurrentSession;
use crate::language::Lang;
use crate::notifications::watchers::Subscription;

/// `GET {prefix}/sign/events/{id}`.
pub async fn events(
    State(state): State<SigningContext>,
    session: CurrentSession,
    Path(id): Path<String>,
    request: Request,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let (parts, _) = request.into_parts();
    let lang = Lang::from_parts(&parts, state.web.settings.ui.default_language);
    let parsed = SigningId::parse(&id).ok_or(AppError::NotFound)?;
    // Subscribe before the ownership read, so a change between the two is not missed.
    let subscription = state.watchers.subscribe(parsed.0);
    owned(&state, &session, &id).await?;
    let watch = Watch {
        draining: state.web.draining.watch(),
        state,
        id: parsed,
        lang,
        subscription,
        last: None,
        expiry_tried: false,
    };
    let stream = stream::unfold(Some(watch), |watch| async move {
        let mut watch = watch?;
        let event = watch.next_event().await?;
        let ended = watch.last.is_some_and(|s| s != SigningState::Pending);
        Some((Ok(event), (!ended).then_some(watch)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

struct Watch {
    state: SigningContext,
    id: SigningId,
    lang: Lang,
    subscription: Subscription,
    draining: DrainingWatch,
    last: Option<SigningState>,
    /// The expiry was recorded once (or tried): the rows read after it are what is told.
    expiry_tried: bool,
}

impl Watch {
    /// The next state to tell: the first read, then each change, including the expiry at
    /// its deadline. `None` ends the stream.
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            let db = &self.state.web.db;
            let request = match store::find(db, self.id).await {
                Ok(Some(request)) => request,
                Ok(None) => return None,
                Err(e) => {
                    tracing::warn!(error = %e, "signing stream: reading the request failed");
                    return None;
                }
            };
            let now = self.state.web.clock.now();
            let shown = request.state_at(now);
            if shown == SigningState::Expired
                && request.state == SigningState::Pending
                && !self.expiry_tried
            {
                // The one-time transition first, then the row read again decides: a signature
                // recorded in the last moment is told as signed, not as expired.
                self.expiry_tried = true;
                match store::expire_overdue(db, now).await {
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "signing stream: expiring the request failed");
                    }
                }
            }
            if self.last != Some(shown) {
                self.last = Some(shown);
                let t = self.lang.texts();
                let data = json!({
                    "state": shown.as_str(),
                    "reason": request.reason,
                    "message": status_text(&request, shown, self.lang, t),
                });
                return Some(Event::default().event("state").data(data.to_string()));
            }
            let until_deadline = (request.expires_at - now)
                .try_into()
                .unwrap_or(Duration::ZERO)
                + Duration::from_millis(50);
            tokio::select! {
                changed = self.subscription.changes.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                () = tokio::time::sleep(until_deadline) => {}
                () = self.draining.started() => return None,
            }
        }
    }
}
