//! `GET {base_url}.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4): what a
//! relying party configures itself from.

use axum::Json;
use axum::extract::State;
use axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::context::OidcContext;

/// Readable from any origin: a browser-only client configures itself from it too.
pub async fn configuration(State(oidc): State<OidcContext>) -> Response {
    let document = Json(json!({
        "issuer": oidc.issuer,
        "authorization_endpoint": oidc.endpoint("/oidc/authorize"),
        "token_endpoint": oidc.endpoint("/oidc/token"),
        "userinfo_endpoint": oidc.endpoint("/oidc/userinfo"),
        "jwks_uri": oidc.endpoint("/jwks.json"),
        "end_session_endpoint": oidc.endpoint("/oidc/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": oidc.key.algorithms(),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": crate::config::SCOPES,
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr", "sid",
            "name", "given_name", "family_name", "middle_name",
            "rnokpp", "edrpou", "organization", "cert_serial", "cert_issuer", "provider"
        ],
        "acr_values_supported": crate::auth_method::AuthMethod::ACR_VALUES,
        "prompt_values_supported": ["none", "login"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "ui_locales_supported": ["uk", "en"],
    }));
    ([(ACCESS_CONTROL_ALLOW_ORIGIN, "*")], document).into_response()
}
