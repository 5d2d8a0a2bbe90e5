//! `POST {prefix}/callback/{provider}/{secret}`: a provider's server-side callback, about a
//! login or about a signing request (Diia calls one address for both and names the action in a
//! header).
//!
//! Trust comes from the signatures, not from the caller (each feature verifies its own). The
//! secret path segment and the optional IP allow-list only keep noise out; the list is compared
//! with the client address kepgate resolves everywhere ([`ClientAddr`]: behind a trusted front
//! proxy, the address it forwards), not with the TCP peer.

use axum::Router;
use axum::body::Bytes;
use axum::extract::FromRef;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use sha2::{Digest, Sha256};

use crate::document_signing::SigningContext;
use crate::http::Web;
use crate::http::callback_answer::answer;
use crate::http::client_addr::ClientAddr;
use crate::login::LoginContext;
use crate::provider::DecodedCallback;

/// The callback's one route (under the prefix).
pub fn router<S>() -> Router<S>
where
    LoginContext: FromRef<S>,
    SigningContext: FromRef<S>,
    Web: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new().route("/callback/{provider}/{secret}", post(receive))
}

pub async fn receive(
    State(login): State<LoginContext>,
    State(signing): State<SigningContext>,
    Path((provider_id, secret)): Path<(String, String)>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(provider) = login.providers.get(&provider_id) else {
        // Not the path segment as a label: anyone may send any, and each distinct label value
        // would stay in the metrics registry for ever.
        return answer(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such callback",
            "unknown",
        );
    };
    if !secret_matches(&secret, provider.common().callback_secret_str()) {
        tracing::warn!(provider = %provider_id, client = %client, "callback with a wrong secret");
        return answer(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such callback",
            &provider_id,
        );
    }
    let allowed = &provider.common().callback_allowed_ips;
    if !allowed.is_empty() && !allowed.iter().any(|net| net.contains(&client)) {
        tracing::warn!(provider = %provider_id, client = %client, "callback from an address not allowed");
        return answer(
            StatusCode::FORBIDDEN,
            "address_not_allowed",
            "address not allowed",
            &provider_id,
        );
    }
    let decoded = match provider.decode_callback(&headers, &body).await {
        Ok(decoded) => decoded,
        Err(e) => {
            tracing::warn!(provider = %provider_id, error = %e, "malformed callback refused");
            return answer(
                StatusCode::BAD_REQUEST,
                "malformed",
                &e.to_string(),
                &provider_id,
            );
        }
    };
    let handled = match decoded {
        DecodedCallback::Login(callback) => {
            crate::login::callback::handle(&login, provider, callback).await
        }
        DecodedCallback::Signing(callback) => {
            crate::document_signing::callback::handle(&signing, provider, callback).await
        }
    };
    handled.unwrap_or_else(|e| {
        tracing::error!(provider = %provider_id, error = %e, "callback could not be recorded");
        answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "try again later",
            &provider_id,
        )
    })
}

/// Constant-time comparison of the secret path segment (hashing first equalises lengths).
fn secret_matches(given: &str, expected: &str) -> bool {
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    subtle::ConstantTimeEq::ct_eq(a.as_slice(), b.as_slice()).into()
}
