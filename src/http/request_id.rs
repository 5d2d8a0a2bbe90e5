//! Request ids: taken from the client's `x-request-id` when it is a sane token (so ids propagate
//! from a front proxy), otherwise a new UUID. Shown on error pages and in every log line.

use axum::extract::Request;
use axum::http::HeaderValue;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The request's id, in the request extensions for handlers and error pages.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Gives `request` its id (header and extension); the value to answer with.
pub fn assign(request: &mut Request) -> Option<HeaderValue> {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    // A client value we refused is replaced, so logs and the upstream see only sane ids.
    let value = HeaderValue::from_str(&id).ok()?;
    request
        .headers_mut()
        .insert(REQUEST_ID_HEADER, value.clone());
    request.extensions_mut().insert(RequestId(id));
    Some(value)
}

/// Up to 64 characters of `[A-Za-z0-9._-]`: nothing that can forge a log line or a page.
fn is_sane(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::is_sane;

    #[test]
    fn only_plain_tokens_are_kept_from_clients() {
        assert!(is_sane("0b7c5f1e-1f3c-4d2a-9c54-2f8f3c1d0a11"));
        assert!(!is_sane("abc\r\nlevel=error"));
        assert!(!is_sane("<script>"));
        assert!(!is_sane(&"a".repeat(65)));
        assert!(!is_sane(""));
    }
}
