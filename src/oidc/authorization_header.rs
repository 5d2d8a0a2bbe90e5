//! The `Authorization` header the token endpoint (`Basic`) and userinfo (`Bearer`) read.

/// The credentials of an `Authorization` header of `scheme`, whose name is case-insensitive
/// (RFC 7235 §2.1: `bearer`, `BASIC` are as good as `Bearer`, `Basic`).
pub(crate) fn credentials<'h>(headers: &'h axum::http::HeaderMap, scheme: &str) -> Option<&'h str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (name, rest) = value.split_once(' ')?;
    name.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}
