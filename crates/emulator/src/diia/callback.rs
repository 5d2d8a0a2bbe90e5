//! The phone's answer: sign the requested hash or file hashes (or decline) and POST Diia's
//! callback to the partner, exactly in Diia's shape (`multipart/mixed` with one `encodeData`
//! part, action and trace-id headers), for `auth` as for `hashedFilesSigning`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use kepgate_signature::test_ca::TestCaError;
use reqwest::header::CONTENT_TYPE;
use time::OffsetDateTime;

use super::identities::{KeyFamily, Keys, TestIdentity};
use super::state::{
    Action, ActionKind, Answer, Delivery, Progress, RequestView, Shared, SignAlgo, random_hex,
};
use super::wire::{
    ACTION_AUTH, ACTION_HASHED_FILES_SIGNING, ACTION_HEADER, AuthCallbackData, CALLBACK_MEDIA_TYPE,
    CallbackAck, ENCODE_DATA_FIELD, SignedItem, SigningCallbackData, TRACE_ID_HEADER,
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
    let (request_id, action, algo) = {
        let mut inner = shared.lock();
        let request = inner.requests.get_mut(&n).ok_or(AnswerError::NotFound)?;
        if !matches!(request.progress, Progress::Waiting) {
            return Err(AnswerError::AlreadyAnswered(Box::new(request.view())));
        }
        request.progress = Progress::Sending(answer);
        (
            request.request_id.clone(),
            request.action.clone(),
            request.sign_algo,
        )
    };

    let delivery = match encode_data(&shared.keys, &request_id, &action, algo, answer) {
        Ok(encoded) => deliver(shared, &request_id, action.kind(), encoded).await,
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

/// base64 of the callback JSON ([`AuthCallbackData`] or [`SigningCallbackData`]), the value of
/// the `encodeData` field.
fn encode_data(
    keys: &Keys,
    request_id: &str,
    action: &Action,
    algo: SignAlgo,
    answer: Answer,
) -> Result<String, TestCaError> {
    let now = clock::now();
    let json = match (action, answer) {
        (Action::Auth { hash }, Answer::Confirm(who)) => to_json(&AuthCallbackData {
            request_id: request_id.to_owned(),
            signature: BASE64.encode(sign(keys, who, algo, hash, now)?),
            status: None,
        }),
        // Why a decline is sent at all, and with an empty signature: see `AuthCallbackData`.
        (Action::Auth { .. }, Answer::Decline) => to_json(&AuthCallbackData {
            request_id: request_id.to_owned(),
            signature: String::new(),
            status: Some("declined".to_owned()),
        }),
        (Action::Signing { files }, Answer::Confirm(who)) => to_json(&SigningCallbackData {
            signed_items: files
                .iter()
                .map(|file| {
                    Ok(SignedItem {
                        name: file.name.clone(),
                        signature: BASE64.encode(sign(keys, who, algo, &file.hash, now)?),
                    })
                })
                .collect::<Result<_, TestCaError>>()?,
            status: None,
        }),
        (Action::Signing { .. }, Answer::Decline) => to_json(&SigningCallbackData {
            signed_items: Vec::new(),
            status: Some("declined".to_owned()),
        }),
    }?;
    Ok(BASE64.encode(json))
}

fn to_json(data: &impl serde::Serialize) -> Result<Vec<u8>, TestCaError> {
    serde_json::to_vec(data).map_err(|e| TestCaError::Key(e.to_string()))
}

/// The phone's CAdES-BES signature (DER) over `hash` with `algo`: the one place that decides how
/// the emulator signs, for logins and files alike. Signed attributes: contentType id-data,
/// messageDigest = `hash`, signingCertificateV2 and signingTime (`TestSigner::sign_hash_cades`).
fn sign(
    keys: &Keys,
    who: TestIdentity,
    algo: SignAlgo,
    hash: &[u8],
    now: OffsetDateTime,
) -> Result<Vec<u8>, TestCaError> {
    match algo {
        SignAlgo::Ecdsa => keys
            .signer(who, KeyFamily::Ecdsa)
            .sign_hash_cades(hash, now),
        // DSTU 4145 on M431 with GOST 34.311 as the digest: `hash` is the GOST hash the partner
        // sent, as Diia's default expects.
        SignAlgo::Dstu => keys.signer(who, KeyFamily::Dstu).sign_hash_cades(hash, now),
    }
}

/// The callback body: `multipart/mixed` with one `form-data` part named `encodeData`, a bare
/// form field without a `Content-Type` of its own, as the SDK examples read it: Java
/// `UploadController.java` binds it with `@RequestParam("encodeData") String` (a form field,
/// not a typed part), and .NET `MutipartMixedHelper.cs` takes a part without a type as text
/// (`section.ContentType ?? "text/plain"`). The gateway's receiver takes either form.
fn multipart_mixed(encoded: &str) -> Result<(String, String), getrandom::Error> {
    let boundary = format!("diia-emulator-{}", random_hex(16)?);
    let body = format!(
        "--{boundary}\r\n\
         Content-Disposition: form-data; name=\"{ENCODE_DATA_FIELD}\"\r\n\
         \r\n\
         {encoded}\r\n\
         --{boundary}--\r\n"
    );
    Ok((format!("{CALLBACK_MEDIA_TYPE}; boundary={boundary}"), body))
}

async fn deliver(shared: &Shared, request_id: &str, kind: ActionKind, encoded: String) -> Delivery {
    let (content_type, body) = match multipart_mixed(&encoded) {
        Ok(built) => built,
        Err(e) => {
            return Delivery {
                at: clock::now(),
                partner_status: None,
                partner_body: None,
                failure: Some(format!("no randomness for the multipart boundary: {e}")),
            };
        }
    };
    let sent = shared
        .http
        .post(shared.settings.partner_callback_url.clone())
        .header(
            ACTION_HEADER,
            match kind {
                ActionKind::Auth => ACTION_AUTH,
                ActionKind::HashedFilesSigning => ACTION_HASHED_FILES_SIGNING,
            },
        )
        .header(TRACE_ID_HEADER, request_id)
        .header(CONTENT_TYPE, content_type)
        .body(body)
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
                    error_chain(&e.without_url())
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
                    error_chain(&e.without_url())
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
