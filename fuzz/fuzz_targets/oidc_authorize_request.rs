//! The OpenID authorization request (query → `AuthorizeParams` → `AuthorizeRequest::parse`),
//! with its no-open-redirect and PKCE properties asserted (see `kepgate::fuzzing`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kepgate::fuzzing::oidc_authorize_request(data);
});
