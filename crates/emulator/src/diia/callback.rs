//! The phone's answer: sign the requested hash (or decline) and POST Diia's callback to the
//! partner, exactly in Diia's shape (multipart `encodeData`, action and trace-id headers).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use kepgate_signature::test_ca::TestCaError;

use super::identities::KeyFamily;
use super::state::{Answer, Delivery, Progress, RequestView, Shared};
use super::wire::{
    ACTION_AUTH, ACTION_HEADER, AuthCallbackData, CallbackAck, ENCODE_DATA_FIELD, TRACE_ID_HEADER,
};
use crate::clock;

/// The most of the partner's answer body kept for display.
const MAX_KEPT_BODY: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub(crate) enum AnswerError {
    #[error("no such request")]
    NotFound,
    #[error("this request has already been answered")]
    AlreadyAnswered(Box<RequestView>),
}

/// Answers request `n` once: marks it answered (so a second answer is refused even while this
/// one is in flight), delivers the callback and records what the partner said.
pub(crate) async fn answer(
    shared: &Shared,
    n: u64,
    answer: Answer,
) -> Result<RequestView, AnswerError> {
    let (request_id, hash) = {
        let mut inner = shared.lock();
        let request = inner.requests.get_mut(&n).ok_or(AnswerError::NotFound)?;
        if !matches!(request.progress, Progress::Waiting) {
            return Err(AnswerError::AlreadyAnswered(Box::new(request.view())));
        }
        request.progress = Progress::Sending(answer);
        (request.request_id.clone(), request.hash.clone())
    };

    let delivery = match encode_data(shared, &request_id, &hash, answer) {
        Ok(encoded) => deliver(shared, &request_id, encoded).await,
        Err(e) => Delivery {
            at: clock::now(),
            partner_status: None,
            partner_body: None,
            failure: Some(format!("the emulator could not sign: {e}")),
        },
    };
    match &delivery.failure {
        None => tracing::info!(n, ?answer, "callback delivered"),
        Some(reason) => tracing::warn!(n, ?answer, %reason, "callback not accepted"),
    }
    let mut inner = shared.lock();
    let request = inner.requests.get_mut(&n).ok_or(AnswerError::NotFound)?;
    request.progress = Progress::Done(answer, delivery);
    Ok(request.view())
}

/// base64 of the [`AuthCallbackData`] JSON, the value of the `encodeData` field.
fn encode_data(
    shared: &Shared,
    request_id: &str,
    hash: &[u8],
    answer: Answer,
) -> Result<String, TestCaError> {
    let data = match answer {
        Answer::Confirm(who) => {
            let p7s = shared
                .keys
                .signer(who, KeyFamily::Ecdsa)
                .sign_hash_cades(hash, clock::now())?;
            AuthCallbackData {
                request_id: request_id.to_owned(),
                signature: Some(BASE64.encode(p7s)),
                status: None,
            }
        }
        Answer::Decline => AuthCallbackData {
            request_id: request_id.to_owned(),
            signature: None,
            status: Some("declined".to_owned()),
        },
    };
    let json = serde_json::to_vec(&data).map_err(|e| TestCaError::Key(e.to_string()))?;
    Ok(BASE64.encode(json))
}

async fn deliver(shared: &Shared, request_id: &str, encoded: String) -> Delivery {
    let form = reqwest::multipart::Form::new().text(ENCODE_DATA_FIELD, encoded);
    let sent = shared
        .http
        .post(shared.settings.partner_callback_url.clone())
        .header(ACTION_HEADER, ACTION_AUTH)
        .header(TRACE_ID_HEADER, request_id)
        .multipart(form)
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(e) => {
            return Delivery {
                at: clock::now(),
                partner_status: None,
                partner_body: None,
                failure: Some(format!(
                    "the partner could not be reached at {}: {}",
                    shared
                        .settings
                        .partner_callback_url
                        .origin()
                        .ascii_serialization(),
                    error_chain(&e)
                )),
            };
        }
    };
    let status = response.status();
    let body = response.text().await;
    let at = clock::now();
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return Delivery {
                at,
                partner_status: Some(status.as_u16()),
                partner_body: None,
                failure: Some(format!(
                    "reading the partner's answer failed: {}",
                    error_chain(&e)
                )),
            };
        }
    };
    let acknowledged = serde_json::from_str::<CallbackAck>(&body).is_ok_and(|ack| ack.success);
    let failure = if !status.is_success() {
        Some(format!("the partner answered HTTP {}", status.as_u16()))
    } else if !acknowledged {
        Some("the partner did not answer {\"success\": true}".to_owned())
    } else {
        None
    };
    Delivery {
        at,
        partner_status: Some(status.as_u16()),
        partner_body: Some(truncate(body, MAX_KEPT_BODY)),
        failure,
    }
}

/// reqwest's top-level message is vague ("error sending request"); the cause says why.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}
