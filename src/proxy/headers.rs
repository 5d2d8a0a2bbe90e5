//! What changes between the client's request and the upstream's (and back): hop-by-hop headers
//! out (RFC 9110 §7.6.1), X-Forwarded-* / Forwarded set by us (RFC 7239), client copies trusted
//! only from configured proxies, identity headers from clients always removed, our own cookies
//! never forwarded, and never set by an upstream.

use std::net::IpAddr;

use axum::http::header::{
    CONNECTION, COOKIE, FORWARDED, PROXY_AUTHENTICATE, PROXY_AUTHORIZATION, SET_COOKIE, TE,
    TRAILER, TRANSFER_ENCODING, UPGRADE,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::config::{IdentitySettings, ServerSettings};
use crate::http::client_addr::{
    ClientOrigin, X_FORWARDED_FOR, X_FORWARDED_HOST, X_FORWARDED_PROTO,
};
use crate::http::cookies::{self, CookieKind};
use crate::language::LANG_COOKIE;

/// Hop-by-hop headers that never cross a proxy (plus any named in `Connection`). Parsed once:
/// a `&str` name is parsed and validated again on every call.
static HOP_BY_HOP: [HeaderName; 9] = [
    CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    PROXY_AUTHENTICATE,
    PROXY_AUTHORIZATION,
    TE,
    TRAILER,
    TRANSFER_ENCODING,
    UPGRADE,
];

static X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// Removes hop-by-hop headers. For a WebSocket upgrade, `Connection: upgrade` and `Upgrade`
/// are what ask the upstream to switch, so they are put back after the sweep.
pub fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    let upgrade = headers.get(UPGRADE).cloned();
    // Usually `Connection` names nothing but itself (`keep-alive`, `close`): no list to build.
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    if keep_upgrade && let Some(upgrade) = upgrade {
        headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(UPGRADE, upgrade);
    }
}

/// The identity headers' names (`[identity]`), parsed once at start rather than on every
/// proxied request. The configuration check has refused names that do not parse.
#[derive(Debug, Clone)]
pub struct IdentityHeaders {
    pub prefix: String,
    pub subject: HeaderName,
    pub name: HeaderName,
    pub rnokpp: HeaderName,
    pub edrpou: HeaderName,
    pub organization: HeaderName,
    pub provider: HeaderName,
    pub cert_serial: HeaderName,
    pub session: HeaderName,
    pub auth_method: HeaderName,
    pub assertion: HeaderName,
    /// The names in force before a reload renamed them: still removed from clients' requests,
    /// since a cabinet not yet redeployed still believes them.
    pub retired: Vec<IdentityHeaders>,
}

impl IdentityHeaders {
    pub fn from_settings(
        settings: &IdentitySettings,
    ) -> Result<Self, axum::http::header::InvalidHeaderName> {
        let parse = |name: &str| HeaderName::from_bytes(name.as_bytes());
        Ok(Self {
            prefix: settings.header_prefix.clone(),
            subject: parse(&settings.subject_header)?,
            name: parse(&settings.name_header)?,
            rnokpp: parse(&settings.rnokpp_header)?,
            edrpou: parse(&settings.edrpou_header)?,
            organization: parse(&settings.organization_header)?,
            provider: parse(&settings.provider_header)?,
            cert_serial: parse(&settings.cert_serial_header)?,
            session: parse(&settings.session_header)?,
            auth_method: parse(&settings.auth_method_header)?,
            assertion: parse(&settings.assertion_header)?,
            retired: Vec::new(),
        })
    }

    /// These names, taking over from `running`'s: every name `running` knew that these are not
    /// stays forbidden to clients for the life of the process.
    pub fn taking_over_from(mut self, running: &IdentityHeaders) -> Self {
        let mut known = running.retired.clone();
        known.push(IdentityHeaders {
            retired: Vec::new(),
            ..running.clone()
        });
        for names in known {
            let same_names = names.prefix == self.prefix && names.all() == self.all();
            let seen = self
                .retired
                .iter()
                .any(|r| r.prefix == names.prefix && r.all() == names.all());
            if !same_names && !seen {
                self.retired.push(names);
            }
        }
        self
    }

    /// Does the name start with one of the prefixes, in force or retired?
    fn has_a_prefix(&self, name: &str) -> bool {
        name.starts_with(&self.prefix) || self.retired.iter().any(|r| r.has_a_prefix(name))
    }

    fn all(&self) -> [&HeaderName; 10] {
        [
            &self.subject,
            &self.name,
            &self.rnokpp,
            &self.edrpou,
            &self.organization,
            &self.provider,
            &self.cert_serial,
            &self.session,
            &self.auth_method,
            &self.assertion,
        ]
    }
}

impl IdentityHeaders {
    /// Is this header name (lower-case, as `HeaderName` keeps it) one of ours once `_` is read
    /// as `-`? Python's WSGI/CGI environ and Rack fold both to `HTTP_X_KEPGATE_RNOKPP`, so to
    /// them `x_kepgate_rnokpp` *is* the identity header.
    pub fn is_identity_name(&self, name: &str) -> bool {
        self.is_named_here(name) || self.retired.iter().any(|r| r.is_named_here(name))
    }

    fn is_named_here(&self, name: &str) -> bool {
        let normalized = name
            .as_bytes()
            .iter()
            .map(|&b| if b == b'_' { b'-' } else { b });
        let prefix = self.prefix.as_bytes();
        let has_prefix =
            name.len() >= prefix.len() && normalized.clone().zip(prefix).all(|(a, &b)| a == b);
        has_prefix
            || self.all().iter().any(|ours| {
                ours.as_str().len() == name.len()
                    && normalized
                        .clone()
                        .zip(ours.as_str().bytes())
                        .all(|(a, b)| a == b)
            })
    }
}

/// Headers that tell an upstream where a request came from or what it "really" asked for (its
/// path, method or scheme): frameworks honour them (Symfony and IIS `X-Original-URL`, Spring's
/// `X-Forwarded-Prefix`, method overrides), so only kepgate may set them, and it sets only the
/// forwarding ones.
fn is_forwarding_name(normalized: &str) -> bool {
    normalized.starts_with("x-forwarded-")
        || matches!(
            normalized,
            "forwarded"
                | "x-real-ip"
                | "x-client-ip"
                | "true-client-ip"
                | "x-cluster-client-ip"
                | "x-original-uri"
                | "x-original-url"
                | "x-rewrite-url"
                | "x-http-method-override"
                | "x-http-method"
                | "x-method-override"
                | "front-end-https"
                | "x-scheme"
                | "x-url-scheme"
        )
}

/// Every client header that could pose as an identity (our prefix and every configured name,
/// in any spelling of `-` as `_`) is removed. Headers with `_` in their name are all dropped
/// unless `keep_underscores` (as nginx does by default): an upstream that folds `_` into `-`
/// would otherwise read `x_forwarded_for` as the forwarding header too.
pub fn strip_identity(headers: &mut HeaderMap, identity: &IdentityHeaders, keep_underscores: bool) {
    let spoofed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| {
            let name = name.as_str();
            if !name.contains('_') {
                return identity.has_a_prefix(name);
            }
            !keep_underscores
                || identity.is_identity_name(name)
                || is_forwarding_name(&name.replace('_', "-"))
        })
        .cloned()
        .collect();
    for name in spoofed {
        headers.remove(name);
    }
    for names in std::iter::once(identity).chain(&identity.retired) {
        for name in names.all() {
            headers.remove(name);
        }
    }
}

/// Does the client's request carry anything that poses as an identity header (any spelling)?
pub fn has_identity_header(headers: &HeaderMap, identity: &IdentityHeaders) -> bool {
    headers
        .keys()
        .any(|name| identity.is_identity_name(name.as_str()))
}

/// Drops kepgate's own cookies (session, binding, CSRF, re-authentication, language) from
/// `Cookie`.
pub fn strip_our_cookies(headers: &mut HeaderMap, server: &ServerSettings) {
    let ours: Vec<String> = CookieKind::ALL
        .iter()
        .map(|&kind| cookies::name(server, kind))
        .chain([LANG_COOKIE.to_owned()])
        .collect();
    let kept: Vec<String> = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !ours.iter().any(|o| o == name)
        })
        .map(str::to_owned)
        .collect();
    headers.remove(COOKIE);
    if !kept.is_empty()
        && let Ok(value) = HeaderValue::from_str(&kept.join("; "))
    {
        headers.insert(COOKIE, value);
    }
}

/// Cookie name prefixes browsers give a meaning to (`__Host-`, `__Secure-`, and the newer
/// `__Http-` and `__Host-Http-`), matched in any case as browsers match them.
const COOKIE_PREFIXES: [&[u8]; 4] = [b"__host-http-", b"__host-", b"__secure-", b"__http-"];

/// Drops every `Set-Cookie` of an upstream's that would plant one of kepgate's own cookies
/// (session, binding, CSRF, re-authentication, language) in the browser, and returns the names it dropped. An
/// upstream planting a session signs the victim in as the attacker (login CSRF); a planted CSRF
/// cookie lets forms be forged. Either spelling is dropped whatever the base URL's scheme, with
/// any prefix, in any case: kepgate reads its names exactly, but a browser matches the prefixes
/// in any case, and no cabinet has a cookie of its own by these names.
pub fn strip_our_set_cookies(headers: &mut HeaderMap) -> Vec<String> {
    // Most responses set no cookie of ours: nothing is copied for them.
    let plants_ours = |v: &HeaderValue| is_our_cookie(planted_name(v.as_bytes()));
    if !headers.get_all(SET_COOKIE).iter().any(plants_ours) {
        return Vec::new();
    }
    let all: Vec<HeaderValue> = headers.get_all(SET_COOKIE).iter().cloned().collect();
    headers.remove(SET_COOKIE);
    let mut dropped = Vec::new();
    for value in all {
        let name = planted_name(value.as_bytes());
        if is_our_cookie(name) {
            dropped.push(String::from_utf8_lossy(name).into_owned());
        } else {
            headers.append(SET_COOKIE, value);
        }
    }
    dropped
}

/// The name a `Set-Cookie` value plants, as the browser will send it back (RFC 6265bis §5.6):
/// what precedes the first `=` of the part before the first `;`, without surrounding
/// whitespace. A cookie without a name (`=kepgate_session=x`) is sent back as its bare value,
/// `kepgate_session=x`, which servers read as that name: leading `=` are skipped too.
fn planted_name(value: &[u8]) -> &[u8] {
    let pair = value.split(|&b| b == b';').next().unwrap_or_default();
    let start = pair
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'='))
        .unwrap_or(pair.len());
    let name = pair[start..]
        .split(|&b| b == b'=')
        .next()
        .unwrap_or_default();
    name.trim_ascii()
}

/// Is this cookie name one of kepgate's, with or without a prefix, in any case?
fn is_our_cookie(name: &[u8]) -> bool {
    let mut base = name;
    while let Some(prefix) = COOKIE_PREFIXES
        .iter()
        .find(|p| base.len() >= p.len() && base[..p.len()].eq_ignore_ascii_case(p))
    {
        base = &base[prefix.len()..];
    }
    CookieKind::ALL
        .iter()
        .map(|kind| kind.base_name())
        .chain([LANG_COOKIE])
        .any(|ours| base.eq_ignore_ascii_case(ours.as_bytes()))
}

/// Replaces every forwarding header with ours, and drops the client's path, method and scheme
/// overrides.
pub fn set_forwarded(headers: &mut HeaderMap, origin: &ClientOrigin) {
    // Clients rarely send any: no list is built for the common case.
    if headers.keys().any(|name| is_forwarding_name(name.as_str())) {
        let overrides: Vec<HeaderName> = headers
            .keys()
            .filter(|name| is_forwarding_name(name.as_str()))
            .cloned()
            .collect();
        for name in overrides {
            headers.remove(name);
        }
    }
    let mut put = |name: HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    // Formatted once: it appears in two headers (an address's Display was a visible share of
    // the proxy's instructions).
    let ip = origin.ip.to_string();
    put(X_FORWARDED_FOR.clone(), &origin.forwarded_for);
    put(X_FORWARDED_PROTO.clone(), &origin.proto);
    put(X_REAL_IP.clone(), &ip);
    let mut forwarded = String::with_capacity(64);
    forwarded.push_str("for=");
    match origin.ip {
        IpAddr::V4(_) => forwarded.push_str(&ip),
        IpAddr::V6(_) => {
            forwarded.push_str("\"[");
            forwarded.push_str(&ip);
            forwarded.push_str("]\"");
        }
    }
    forwarded.push_str(";proto=");
    forwarded.push_str(&origin.proto);
    if let Some(host) = &origin.host {
        put(X_FORWARDED_HOST.clone(), host);
        if host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        {
            forwarded.push_str(";host=");
            forwarded.push_str(host);
        }
    }
    put(FORWARDED, &forwarded);
}

/// UTF-8 → percent-encoding (RFC 3986 unreserved kept): Ukrainian names in plain ASCII.
pub fn percent_encode(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    // One allocation: this runs for every proxied request (a String per byte did show up in
    // the proxy's profile).
    let mut encoded = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                encoded.push(char::from(b));
            }
            _ => {
                encoded.push('%');
                encoded.push(char::from(HEX[usize::from(b >> 4)]));
                encoded.push(char::from(HEX[usize::from(b & 0x0f)]));
            }
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::client_addr::client_origin;

    fn identity() -> IdentityHeaders {
        IdentityHeaders::from_settings(&IdentitySettings::default()).unwrap()
    }

    #[test]
    fn hop_by_hop_and_connection_named_headers_are_removed() {
        let mut h = HeaderMap::new();
        h.insert(
            "connection",
            HeaderValue::from_static("keep-alive, x-secret-hop"),
        );
        h.insert("x-secret-hop", HeaderValue::from_static("1"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.insert("x-kept", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut h, false);
        assert!(h.get("x-secret-hop").is_none() && h.get("transfer-encoding").is_none());
        assert!(h.get("connection").is_none());
        assert_eq!(h["x-kept"], "1");
    }

    #[test]
    fn websocket_upgrade_survives_the_sweep() {
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("Upgrade"));
        h.insert("upgrade", HeaderValue::from_static("websocket"));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h["connection"], "upgrade");
        assert_eq!(h["upgrade"], "websocket");
    }

    #[test]
    fn identity_headers_are_stripped_in_every_spelling() {
        let names = identity();
        let mut h = HeaderMap::new();
        for spoof in [
            "x-kepgate-rnokpp",
            "x_kepgate_rnokpp",
            "x-kepgate_subject",
            "x_kepgate-anything",
            "x_forwarded_for",
            "x_real_ip",
            "content_type",
        ] {
            h.insert(
                HeaderName::from_static(spoof),
                HeaderValue::from_static("1"),
            );
        }
        h.insert("x-kept", HeaderValue::from_static("1"));
        strip_identity(&mut h, &names, false);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key("x-kept"));

        // Kept underscores: only those that fold into ours or into forwarding headers go.
        let mut h = HeaderMap::new();
        for name in [
            "x_kepgate_rnokpp",
            "x_forwarded_proto",
            "x_app_token",
            "x-kepgate-name",
        ] {
            h.insert(HeaderName::from_static(name), HeaderValue::from_static("1"));
        }
        strip_identity(&mut h, &names, true);
        assert_eq!(
            h.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
            ["x_app_token"]
        );
    }

    #[test]
    fn identity_names_are_recognised_however_spelled() {
        let names = identity();
        assert!(names.is_identity_name("x_kepgate_assertion"));
        assert!(names.is_identity_name("x-kepgate-x"));
        assert!(!names.is_identity_name("x-kepgat"));
        assert!(!names.is_identity_name("x_request_id"));
    }

    #[test]
    fn path_method_and_scheme_overrides_never_reach_the_upstream() {
        let mut h = HeaderMap::new();
        for name in [
            "x-original-url",
            "x-rewrite-url",
            "x-forwarded-prefix",
            "x-forwarded-port",
            "x-http-method-override",
            "x-forwarded-for",
            "true-client-ip",
        ] {
            h.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static("/admin"),
            );
        }
        h.insert("x-kept", HeaderValue::from_static("1"));
        let origin = client_origin(&h, "10.0.0.9".parse().unwrap(), &[], "http");
        set_forwarded(&mut h, &origin);
        let mut left: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(
            left,
            [
                "forwarded",
                "x-forwarded-for",
                "x-forwarded-proto",
                "x-kept",
                "x-real-ip"
            ]
        );
        assert_eq!(h["x-forwarded-for"], "10.0.0.9");
    }

    #[test]
    fn an_upstream_never_sets_our_cookies_however_spelt() {
        let mut h = HeaderMap::new();
        for cookie in [
            "__Host-kepgate_session=a; Path=/; Secure",
            "kepgate_bind=a",
            "__HOST-Kepgate_Csrf=a; Secure",
            "__Secure-__Host-kepgate_lang=en",
            " \tkepgate_session =a",
            "=kepgate_session=a",
            "= =kepgate_csrf=a",
            "kepgate_session",
            "app=1; Path=/",
            "kepgate_sessionx=1",
            "x=kepgate_session",
        ] {
            h.append(SET_COOKIE, HeaderValue::from_static(cookie));
        }
        h.insert("x-kept", HeaderValue::from_static("1"));
        let dropped = strip_our_set_cookies(&mut h);
        assert_eq!(
            dropped,
            [
                "__Host-kepgate_session",
                "kepgate_bind",
                "__HOST-Kepgate_Csrf",
                "__Secure-__Host-kepgate_lang",
                "kepgate_session",
                "kepgate_session",
                "kepgate_csrf",
                "kepgate_session"
            ]
        );
        let kept: Vec<&[u8]> = h.get_all(SET_COOKIE).iter().map(|v| v.as_bytes()).collect();
        assert_eq!(
            kept,
            [
                &b"app=1; Path=/"[..],
                b"kepgate_sessionx=1",
                b"x=kepgate_session"
            ]
        );
        assert_eq!(h["x-kept"], "1");
    }

    #[test]
    fn names_are_percent_encoded_utf8() {
        assert_eq!(
            percent_encode("Шевченко Т"),
            "%D0%A8%D0%B5%D0%B2%D1%87%D0%B5%D0%BD%D0%BA%D0%BE%20%D0%A2"
        );
    }
}
