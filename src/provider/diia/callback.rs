//! Diia's server-side callback: multipart (form-data or mixed) with one `encodeData` field,
//! base64 of JSON: for a login the request hash and the signature or a status, for document
//! signing one signature per file or a status.

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::wire;
use crate::provider::exchange::{CallbackError, CallbackResult, ProviderCallback, RequestHash};
use crate::provider::signing::{DecodedCallback, SignedItem, SigningCallback, SigningResult};

/// Reads either callback Diia sends: `auth` (a login) or `hashedFilesSigning` (documents).
pub async fn decode_callback(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<DecodedCallback, CallbackError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let action = header(wire::ACTION_HEADER).unwrap_or_default();
    let signing = if action.eq_ignore_ascii_case(wire::ACTION_AUTH) {
        false
    } else if action.eq_ignore_ascii_case(wire::ACTION_HASHED_FILES_SIGNING) {
        true
    } else {
        return Err(CallbackError::UnsupportedAction(
            action.chars().take(40).collect(),
        ));
    };
    let trace_id = header(wire::TRACE_ID_HEADER).ok_or_else(|| {
        CallbackError::Malformed(format!("missing {} header", wire::TRACE_ID_HEADER))
    })?;

    let content_type = header(CONTENT_TYPE.as_str()).unwrap_or_default();
    let boundary = multipart_boundary(content_type).ok_or_else(|| {
        CallbackError::Malformed("not a multipart body with a boundary".to_owned())
    })?;
    let encoded = encode_data_field(body.clone(), boundary).await?;

    let json = STANDARD
        .decode(encoded.trim())
        .map_err(|_| CallbackError::Malformed("encodeData is not base64".to_owned()))?;
    if signing {
        signing_callback(trace_id, &json).map(DecodedCallback::Signing)
    } else {
        auth_callback(trace_id, &json).map(DecodedCallback::Login)
    }
}

fn auth_callback(trace_id: &str, json: &[u8]) -> Result<ProviderCallback, CallbackError> {
    let data: wire::AuthCallbackData = serde_json::from_slice(json).map_err(|e| {
        CallbackError::Malformed(format!("encodeData is not the expected JSON: {e}"))
    })?;
    if data.request_id != trace_id {
        return Err(CallbackError::TraceIdMismatch);
    }
    let request_hash = RequestHash::parse(&data.request_id).ok_or_else(|| {
        CallbackError::Malformed("requestId is not base64 of a 32-byte hash".to_owned())
    })?;
    // A status wins over any signature (the emulator's decline carries an empty one); a status
    // can only ever reject.
    let signature = data.signature.as_deref().map(str::trim).unwrap_or_default();
    let result = match data.status.as_deref() {
        Some(status) => CallbackResult::Declined {
            reason: status.chars().take(40).collect(),
        },
        None if signature.is_empty() => {
            return Err(CallbackError::Malformed(
                "neither signature nor status".to_owned(),
            ));
        }
        None => CallbackResult::Signed(
            STANDARD
                .decode(signature)
                .map_err(|_| CallbackError::Malformed("signature is not base64".to_owned()))?,
        ),
    };
    Ok(ProviderCallback {
        request_hash,
        result,
    })
}

/// The signing callback names its request only by the trace id header: the JSON holds the
/// signed items alone (the SDKs' receivers read it so).
fn signing_callback(trace_id: &str, json: &[u8]) -> Result<SigningCallback, CallbackError> {
    let data: wire::SigningCallbackData = serde_json::from_slice(json).map_err(|e| {
        CallbackError::Malformed(format!("encodeData is not the expected JSON: {e}"))
    })?;
    if trace_id.is_empty() || trace_id.len() > 128 {
        return Err(CallbackError::Malformed(
            "the trace id is not a request id kepgate sends".to_owned(),
        ));
    }
    let result = match data.status.as_deref() {
        Some(status) => SigningResult::Declined {
            reason: status.chars().take(40).collect(),
        },
        None if data.signed_items.is_empty() => {
            return Err(CallbackError::Malformed(
                "neither signed items nor status".to_owned(),
            ));
        }
        None => SigningResult::Signed(
            data.signed_items
                .into_iter()
                .map(|item| {
                    let signature = STANDARD.decode(item.signature.trim()).map_err(|_| {
                        CallbackError::Malformed("a signature is not base64".to_owned())
                    })?;
                    Ok(SignedItem {
                        name: item.name,
                        signature,
                    })
                })
                .collect::<Result<_, CallbackError>>()?,
        ),
    };
    Ok(SigningCallback {
        request_id: trace_id.to_owned(),
        result,
    })
}

/// The boundary of `multipart/form-data` or `multipart/mixed` (Diia is documented to send either).
fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    let mime = parts.next()?.trim().to_ascii_lowercase();
    if !mime.starts_with("multipart/") {
        return None;
    }
    parts
        .find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| v.trim().trim_matches('"').to_owned())
        })
        .filter(|b| !b.is_empty() && b.len() <= 200)
}

async fn encode_data_field(body: Bytes, boundary: String) -> Result<String, CallbackError> {
    let stream =
        futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut found = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| CallbackError::Malformed(format!("multipart: {e}")))?
    {
        if field.name() == Some(wire::ENCODE_DATA_FIELD) {
            if found.is_some() {
                return Err(CallbackError::Malformed(
                    "encodeData appears twice".to_owned(),
                ));
            }
            found = Some(
                field
                    .text()
                    .await
                    .map_err(|e| CallbackError::Malformed(format!("multipart: {e}")))?,
            );
        }
    }
    found.ok_or_else(|| CallbackError::Malformed("no encodeData field".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callback(content_type: &str, body: String) -> (HeaderMap, Bytes) {
        let mut headers = HeaderMap::new();
        headers.insert(wire::ACTION_HEADER, "auth".parse().unwrap());
        headers.insert(wire::TRACE_ID_HEADER, HASH.parse().unwrap());
        headers.insert(CONTENT_TYPE, content_type.parse().unwrap());
        (headers, Bytes::from(body))
    }

    const HASH: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

    /// The callback under either multipart type, its `encodeData` part typed `text/plain` or
    /// a bare form field (what the emulator sends; Diia's own may be either).
    async fn decode(
        media: &str,
        part_type: &str,
        json: &str,
    ) -> Result<CallbackResult, CallbackError> {
        let encoded = STANDARD.encode(json);
        let body = format!(
            "--b\r\nContent-Disposition: form-data; name=\"encodeData\"\r\n\
             {part_type}\r\n{encoded}\r\n--b--\r\n"
        );
        let (headers, body) = callback(&format!("{media}; boundary=b"), body);
        match decode_callback(&headers, &body).await? {
            DecodedCallback::Login(c) => Ok(c.result),
            DecodedCallback::Signing(_) => panic!("an auth callback decoded as signing"),
        }
    }

    #[tokio::test]
    async fn mixed_and_form_data_callbacks_decode_and_a_status_declines() {
        let signed = format!(r#"{{"requestId":"{HASH}","signature":"AQID"}}"#);
        let declined = format!(r#"{{"requestId":"{HASH}","signature":"","status":"declined"}}"#);
        for media in ["multipart/mixed", "multipart/form-data"] {
            for part_type in ["Content-Type: text/plain; charset=utf-8\r\n", ""] {
                assert!(matches!(
                    decode(media, part_type, &signed).await,
                    Ok(CallbackResult::Signed(p7s)) if p7s == [1, 2, 3]
                ));
                assert!(matches!(
                    decode(media, part_type, &declined).await,
                    Ok(CallbackResult::Declined { reason }) if reason == "declined"
                ));
                let empty = format!(r#"{{"requestId":"{HASH}","signature":""}}"#);
                assert!(matches!(
                    decode(media, part_type, &empty).await,
                    Err(CallbackError::Malformed(_))
                ));
            }
        }
    }

    #[test]
    fn boundary_of_form_data_and_mixed() {
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            multipart_boundary("multipart/mixed;boundary=\"x y\"").as_deref(),
            Some("x y")
        );
        assert_eq!(multipart_boundary("application/json"), None);
        assert_eq!(multipart_boundary("multipart/form-data"), None);
    }
}
