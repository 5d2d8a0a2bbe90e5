//! Entry points of the fuzz targets in `fuzz/` and of their regression tests: each takes the
//! fuzzer's raw bytes, frames them into the arguments the product's own functions take, runs
//! those functions, and checks what must hold for every input. Nothing here re-implements
//! product logic, so a crash found here is a crash of the gateway.

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use time::OffsetDateTime;

use crate::canonical_path::CanonicalPath;
use crate::login::callback::judge;
use crate::login::pending::Outcome;
use crate::provider::DecodedCallback;
use crate::provider::diia::{decode_callback, wire};
use crate::return_path::ReturnPath;
use crate::signature::crl::{CheckedCrl, CrlError, CrlKind, CrlNumber, CrlScope, check_crl};
use crate::signature::dstu4145::{ByteOrder, PublicKey};
use crate::signature::ocsp::{OcspAnswer, OcspError, OcspQuery};
use crate::signature::{TrustList, verify_auth_signature};

/// The callback decoder, end to end, as the handler runs it minus the database:
/// multipart body → `encodeData` base64 → JSON → signature base64 → CMS → X.509 → chain to
/// `trust` → identity (РНОКПП/ЄДРПОУ).
///
/// Input framing: `content-type \n trace-id \n body` (the two headers the decoder reads besides
/// the action, which is fixed to `auth`; without both newlines the whole input is the body).
/// Returns the decision, or `None` when the decoder refused the bytes.
pub fn callback_decoder(data: &[u8], trust: &TrustList, now: OffsetDateTime) -> Option<Outcome> {
    let (content_type, trace_id, body) = split_callback_input(data);
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static(wire::ACTION_HEADER),
        HeaderValue::from_static(wire::ACTION_AUTH),
    );
    // Bytes a real client could not put in a header are not worth the fuzzer's time.
    if let Ok(v) = HeaderValue::from_bytes(content_type) {
        headers.insert(axum::http::header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_bytes(trace_id) {
        headers.insert(HeaderName::from_static(wire::TRACE_ID_HEADER), v);
    }
    let body = Bytes::copy_from_slice(body);
    let decoded = runtime().block_on(decode_callback(&headers, &body));
    let DecodedCallback::Login(callback) = decoded.ok()? else {
        panic!("an auth callback decoded as another action");
    };
    let outcome = judge(
        callback.result.clone(),
        &callback.request_hash,
        // The corpus is signed by the ECDSA test CA.
        crate::provider::HashAlgorithm::Sha256,
        trust,
        now,
        now - time::Duration::minutes(1),
    );
    if matches!(outcome, Outcome::Confirmed(_)) {
        // Nothing unsigned may ever confirm a login.
        assert!(
            matches!(callback.result, crate::provider::CallbackResult::Signed(_)),
            "confirmed without a signature"
        );
    }
    Some(outcome)
}

/// Splits `content-type \n trace-id \n body`.
pub fn split_callback_input(data: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(ct), Some(trace), Some(body)) => (ct, trace, body),
        _ => (b"", b"", data),
    }
}

/// The CMS/X.509 layer alone, so the fuzzer spends its time in the ASN.1 instead of in the
/// multipart and base64 around it. Input framing: 32 bytes of the expected hash, then the p7s.
pub fn cms_verify(data: &[u8], trust: &TrustList, now: OffsetDateTime) -> bool {
    let Some((hash, p7s)) = data.split_at_checked(32) else {
        return false;
    };
    match verify_auth_signature(p7s, hash, trust, now) {
        Ok(verified) => {
            // Identity numbers, when present, passed their check digits.
            if let Some(rnokpp) = &verified.identity.rnokpp {
                assert_eq!(rnokpp.as_str().len(), 10);
            }
            true
        }
        Err(e) => {
            // Every refusal has a stable code for the login row and the metrics.
            assert!(!e.code().is_empty());
            false
        }
    }
}

/// DSTU 4145 parameters, key and signature parsing and the verification after it, on their own
/// (the certificate and CMS layers around them are `cms_verify`'s). Input framing: two octets
/// (big-endian) giving the length of the parameters, one octet the key's, one the signature's;
/// then the DER `DSTU4145Params`, the SPKI BIT STRING's contents (an OCTET STRING with the
/// compressed point), the signature (r‖s) and, all the rest, the GOST 34.311 digest. Short
/// inputs are cut, not refused. Each byte order is tried; true when one of them verifies.
pub fn dstu_key_signature(data: &[u8]) -> bool {
    let (params, key, signature, digest) = split_dstu_input(data);
    let mut verified = false;
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let Ok(key) = PublicKey::from_spki_parts(params, key, order) else {
            continue;
        };
        // Only the ten standard curves are ever accepted.
        assert!(
            [163, 167, 173, 179, 191, 233, 257, 307, 367, 431].contains(&key.field_degree()),
            "{} has degree {}",
            key.curve_name(),
            key.field_degree()
        );
        verified |= key.verify_digest(digest, signature).is_ok();
    }
    verified
}

/// The framing of `dstu_key_signature`, read: (parameters, key, signature, digest).
pub fn split_dstu_input(data: &[u8]) -> (&[u8], &[u8], &[u8], &[u8]) {
    fn take<'a>(rest: &mut &'a [u8], n: usize) -> &'a [u8] {
        let (head, tail) = rest.split_at(n.min(rest.len()));
        *rest = tail;
        head
    }
    let mut rest = data;
    let lengths = take(&mut rest, 4);
    let [p_hi, p_lo, k, s] = <[u8; 4]>::try_from(lengths).unwrap_or_default();
    let params = take(&mut rest, usize::from(u16::from_be_bytes([p_hi, p_lo])));
    let key = take(&mut rest, usize::from(k));
    let signature = take(&mut rest, usize::from(s));
    (params, key, signature, rest)
}

/// The fixed question an `ocsp_response` input answers, for one CA: `query` asks about one of
/// its certificates with the fixed nonce. The same certificate asked with another nonce
/// (`other_nonce`) and another certificate of that CA asked with the fixed nonce (`other_cert`)
/// are what an answer accepted for `query` must be refused for: it is bound to our request and
/// to our certificate.
pub struct OcspFixture {
    query: OcspQuery,
    other_nonce: OcspQuery,
    other_cert: OcspQuery,
}

impl OcspFixture {
    /// `cert` and `other_cert` issued by `issuer` (DER), `nonce` 1 to 32 octets.
    pub fn new(
        cert: &[u8],
        other_cert: &[u8],
        issuer: &[u8],
        nonce: &[u8],
    ) -> Result<Self, String> {
        let mut changed = nonce.to_vec();
        if let Some(last) = changed.last_mut() {
            *last ^= 1;
        }
        Ok(Self {
            query: OcspQuery::new(cert, issuer, nonce)?,
            other_nonce: OcspQuery::new(cert, issuer, &changed)?,
            other_cert: OcspQuery::new(other_cert, issuer, nonce)?,
        })
    }
}

/// `OcspQuery::check`, the complete check of a responder's answer the gateway runs on every
/// OCSP reply (the revocation checker). Input framing: one byte choosing the fixed CA (modulo
/// their number), then the DER answer; an empty input is an empty answer for the first.
///
/// An accepted answer is current (thisUpdate and producedAt not after `now`, nextUpdate not
/// before it, within `skew`) and is about what was asked: the same answer is refused with
/// `NonceMismatch` under another nonce and with `WrongCertificate` for another certificate of the
/// same CA (the questions differ in nothing else, so no other refusal is right). Every refusal has
/// a stable code.
pub fn ocsp_response(
    data: &[u8],
    fixtures: &[OcspFixture],
    now: OffsetDateTime,
    skew: time::Duration,
) -> Result<OcspAnswer, OcspError> {
    let (choice, answer) = data.split_first().map_or((0, data), |(c, rest)| (*c, rest));
    let Some(fixture) = fixtures.get(usize::from(choice) % fixtures.len().max(1)) else {
        return Err(OcspError::Malformed("no fixed query".into()));
    };
    let checked = fixture.query.check(answer, now, skew);
    match &checked {
        Ok(a) => {
            assert!(
                a.this_update <= now + skew,
                "thisUpdate in the future: {a:?}"
            );
            assert!(
                a.produced_at <= now + skew,
                "producedAt in the future: {a:?}"
            );
            assert!(
                a.next_update.is_none_or(|next| next >= now - skew),
                "stale: {a:?}"
            );
            assert_eq!(
                fixture.other_nonce.check(answer, now, skew),
                Err(OcspError::NonceMismatch),
                "accepted under another nonce too: {a:?}"
            );
            assert_eq!(
                fixture.other_cert.check(answer, now, skew),
                Err(OcspError::WrongCertificate),
                "accepted for another certificate too: {a:?}"
            );
        }
        Err(e) => assert!(!e.code().is_empty()),
    }
    checked
}

/// `check_crl`, the check of a downloaded CRL against its CA's certificate. Input framing: one
/// byte choosing the fixed CA certificate (modulo their number), then the DER CRL; an empty
/// input is an empty CRL for the first. The CRL is checked as a complete list and, refused as
/// of the wrong kind, as a delta; the accepted check is returned.
///
/// An accepted CRL is current (thisUpdate not after `now`, nextUpdate not before it, within
/// `skew`), is of one kind only (refused as the other: a delta never passes for a complete list
/// at a full list's address, nor the reverse), carries a number and a scope that read back the
/// same from their stored form, and is refused under each of the other fixed CAs. Every refusal
/// has a stable code.
pub fn crl(
    data: &[u8],
    issuers: &[&[u8]],
    now: OffsetDateTime,
    skew: time::Duration,
) -> Result<CheckedCrl, CrlError> {
    let (choice, crl) = data.split_first().map_or((0, data), |(c, rest)| (*c, rest));
    let chosen = usize::from(choice) % issuers.len().max(1);
    let Some(issuer) = issuers.get(chosen) else {
        return Err(CrlError::Malformed("no fixed issuer".into()));
    };
    let check = |issuer: &[u8], kind| check_crl(crl, issuer, kind, now, skew);
    let checked = match check(issuer, CrlKind::Complete) {
        Err(CrlError::WrongKind { found, .. }) => {
            assert_eq!(
                found,
                CrlKind::Delta,
                "refused as a complete list for being one"
            );
            check(issuer, CrlKind::Delta)
        }
        other => other,
    };
    match &checked {
        Ok(c) => {
            assert!(c.this_update <= now + skew, "thisUpdate in the future");
            assert!(c.next_update >= now - skew, "stale");
            let (kind, other_kind) = match c.delta_base {
                Some(_) => (CrlKind::Delta, CrlKind::Complete),
                None => (CrlKind::Complete, CrlKind::Delta),
            };
            assert_eq!(c.kind(), kind);
            assert!(
                matches!(check(issuer, other_kind), Err(CrlError::WrongKind { .. })),
                "accepted as {kind} and as {other_kind}"
            );
            assert_eq!(
                CrlNumber::from_be_bytes(c.number.as_be_bytes()).as_ref(),
                Some(&c.number),
                "the stored number reads back otherwise"
            );
            assert_eq!(
                CrlScope::from_der(c.scope.as_der()).as_ref(),
                Ok(&c.scope),
                "the stored scope reads back otherwise"
            );
            for (i, other) in issuers.iter().enumerate() {
                assert!(
                    i == chosen || check(other, kind).is_err(),
                    "a CRL of CA {chosen} is accepted under CA {i} too"
                );
            }
        }
        Err(e) => assert!(!e.code().is_empty()),
    }
    checked
}

/// The return-path parser, with the properties every accepted path must have: a path on our
/// own origin (one leading `/`, not `//` or `/\` that a browser reads as a host, no scheme,
/// no control characters or whitespace), stable when parsed again, and resolving to our
/// origin under a real URL parser.
pub fn return_path(data: &[u8]) -> Option<ReturnPath> {
    let raw = std::str::from_utf8(data).ok()?;
    let parsed = ReturnPath::parse(raw).ok()?;
    let p = parsed.as_str();
    assert!(p.starts_with('/'), "{raw:?} → {p:?}: not absolute");
    assert!(!p.starts_with("//"), "{raw:?} → {p:?}: protocol-relative");
    assert!(!p.contains('\\'), "{raw:?} → {p:?}: backslash");
    assert!(
        !p.chars().any(|c| c.is_control() || c.is_whitespace()),
        "{raw:?} → {p:?}: control character or whitespace"
    );
    let base = url::Url::parse("https://kepgate.invalid/").ok()?;
    let joined = base.join(p);
    assert!(
        joined.as_ref().is_ok_and(|u| u.origin() == base.origin()),
        "{raw:?} → {p:?}: leaves the origin: {joined:?}"
    );
    let again = ReturnPath::parse(p);
    assert_eq!(again.as_ref(), Ok(&parsed), "{raw:?} → {p:?}: not stable");
    Some(parsed)
}

/// The path canonicalizer, with its properties: a canonical path is absolute, has no empty,
/// `.` or `..` segment, no encoded separator or control character, and never leaves the root;
/// it and its decision form are fixed points (idempotent); and spellings of it that RFC 3986
/// calls equivalent (unreserved characters percent-encoded in either case, `/./`, `//`,
/// `seg/../`) come out as the same canonical path, so every route decision is the same.
///
/// Input framing: one byte choosing which characters the equivalent spellings encode, then the
/// path (UTF-8).
pub fn canonical_path(data: &[u8]) -> Option<CanonicalPath> {
    let (&choice, rest) = data.split_first()?;
    let raw = std::str::from_utf8(rest).ok()?;
    let parsed = CanonicalPath::parse(raw).ok()?;
    let p = parsed.as_str();
    assert!(p.starts_with('/'), "{raw:?} → {p:?}: not absolute");
    for segment in p.split('/').skip(1) {
        let name = segment.split(';').next().unwrap_or_default();
        assert!(
            !matches!(name, "." | ".."),
            "{raw:?} → {p:?}: dot segment kept"
        );
    }
    assert!(!p.contains("//"), "{raw:?} → {p:?}: empty segment");
    let upper = p.to_ascii_uppercase();
    for encoded in ["%2F", "%5C", "%00", "%2E", "\\"] {
        assert!(!upper.contains(encoded), "{raw:?} → {p:?}: {encoded} kept");
    }
    assert!(
        !p.bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || !b.is_ascii()),
        "{raw:?} → {p:?}: raw control, space or non-ASCII byte"
    );
    // Never above the root: a URL parser resolving it agrees, segment for segment.
    let base = url::Url::parse("http://kepgate.invalid/").ok()?;
    let joined = base.join(p).ok()?;
    assert_eq!(
        joined.path(),
        p,
        "{raw:?} → {p:?}: a URL parser reads another path"
    );
    // Idempotent, the decision form too.
    assert_eq!(
        CanonicalPath::parse(p).as_ref(),
        Ok(&parsed),
        "{raw:?}: not idempotent"
    );
    let decision = parsed.for_decisions();
    assert_eq!(
        CanonicalPath::parse(decision).map(|d| d.as_str().to_owned()),
        Ok(decision.to_owned()),
        "{raw:?}: the decision form is not canonical"
    );
    // Equivalent spellings, one decision.
    for variant in equivalent_spellings(p, choice) {
        let other = CanonicalPath::parse(&variant);
        assert_eq!(
            other.as_ref(),
            Ok(&parsed),
            "{raw:?} → {p:?}: the equivalent {variant:?} is another path"
        );
    }
    Some(parsed)
}

/// Spellings of a canonical path that mean the same resource under RFC 3986 §6.2.2–6.2.3 and
/// §5.2.4: some unreserved characters percent-encoded (lower- or upper-case hex, `choice`
/// picks which), a `/./` and a `//` after the first slash, and a `x/../` detour.
fn equivalent_spellings(p: &str, choice: u8) -> Vec<String> {
    let mut encoded = String::with_capacity(p.len() * 3);
    // Bytes of an existing `%XX` stay as they are.
    let mut in_escape = 0u8;
    for (i, b) in p.bytes().enumerate() {
        let pick = (usize::from(choice) + i) % 3 == 0 && in_escape == 0;
        in_escape = if b == b'%' {
            2
        } else {
            in_escape.saturating_sub(1)
        };
        if pick && (b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')) {
            if choice & 0x80 == 0 {
                encoded.push_str(&format!("%{b:02x}"));
            } else {
                encoded.push_str(&format!("%{b:02X}"));
            }
        } else {
            encoded.push(char::from(b));
        }
    }
    let rest = &p[1..];
    vec![
        encoded,
        format!("/.//{rest}"),
        format!("//x/../{rest}"),
        format!("/%2e/{rest}"),
    ]
}

/// One current-thread runtime for the async decoder (multer reads a stream); the body is
/// complete in memory, so nothing ever waits.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("no tokio runtime: {e}"))
    })
}

/// The OpenID authorization request as the `authorize` endpoint reads it: the query through
/// axum's `Query` (as the GET handler extracts it; duplicated parameters refused there), then
/// [`AuthorizeRequest::parse`] against two fixed clients, one confidential and one public.
///
/// Input framing: the query string as sent (what follows `?`); bytes that cannot be in a URI
/// end there, as they would at the HTTP parser. Checked on every input: nothing but a
/// registered redirect URI of the named client is ever a place to send the browser (an error
/// for an unknown client or URI is a page of kepgate's); an accepted request asks for the
/// code flow with `openid` first and only scopes the client may have, a public client always
/// with an S256 challenge of the right form, and `state` and `nonce` within their bounds.
pub fn oidc_authorize_request(data: &[u8]) -> Option<bool> {
    use crate::oidc::request::{AuthorizeError, AuthorizeParams, AuthorizeRequest};
    let query = std::str::from_utf8(data).ok()?;
    let uri: axum::http::Uri = format!("/authorize?{query}").parse().ok()?;
    let params = axum::extract::Query::<AuthorizeParams>::try_from_uri(&uri)
        .ok()?
        .0;
    let clients = oidc_clients();
    let registered = |client_id: Option<&str>, uri: &str| {
        client_id
            .and_then(|id| clients.get(id))
            .is_some_and(|c| c.redirect_uri_allowed(uri))
    };
    match AuthorizeRequest::parse(&params, clients) {
        Ok(request) => {
            assert!(
                request.client.redirect_uri_allowed(&request.redirect_uri),
                "accepted an unregistered redirect URI {:?}",
                request.redirect_uri
            );
            assert_eq!(
                params.client_id.as_deref(),
                Some(request.client.id.as_str())
            );
            assert_eq!(params.response_type.as_deref(), Some("code"));
            let mut scopes = request.scope.split(' ');
            assert_eq!(scopes.next(), Some("openid"), "{:?}", request.scope);
            for scope in scopes {
                assert!(
                    request.client.scopes.iter().any(|s| s == scope),
                    "granted {scope:?}, which the client may not have"
                );
            }
            match &request.code_challenge {
                Some(c) => assert!(
                    c.len() == 43
                        && c.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                    "a code challenge not of S256's form: {c:?}"
                ),
                None => assert!(!request.client.is_public(), "a public client without PKCE"),
            }
            assert!(
                request
                    .state
                    .as_ref()
                    .is_none_or(|s| !s.is_empty() && s.len() <= 2048)
            );
            assert!(
                request
                    .nonce
                    .as_ref()
                    .is_none_or(|n| !n.is_empty() && n.len() <= 512)
            );
            Some(true)
        }
        Err(AuthorizeError::Redirect {
            redirect_uri,
            error,
            ..
        }) => {
            assert!(
                registered(params.client_id.as_deref(), &redirect_uri),
                "an error sent to an unregistered redirect URI {redirect_uri:?}"
            );
            assert!(!error.is_empty());
            Some(false)
        }
        Err(AuthorizeError::Page(text)) => {
            assert!(!text.is_empty());
            Some(false)
        }
    }
}

/// The clients the authorization-request target is checked against (built once).
fn oidc_clients() -> &'static crate::oidc::clients::OidcClients {
    static CLIENTS: OnceLock<crate::oidc::clients::OidcClients> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        use crate::config::{OidcClientSettings, OidcSettings};
        let client = |secret: Option<String>, uris: &[&str], scopes: &[&str]| OidcClientSettings {
            name: None,
            redirect_uris: uris.iter().filter_map(|u| u.parse().ok()).collect(),
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
            secret_sha256: secret,
            secret_file: None,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            allow: Default::default(),
            pairwise_subject: false,
            id_token_signed_response_alg: Default::default(),
        };
        let mut settings = OidcSettings::default();
        settings.clients.insert(
            "app".into(),
            client(
                Some("ab".repeat(32)),
                &["https://app.example.ua/cb", "https://app.example.ua/cb?x=1"],
                &["openid", "profile"],
            ),
        );
        settings.clients.insert(
            "spa".into(),
            client(
                None,
                &["http://127.0.0.1:5173/cb"],
                &["openid", "profile", "kep"],
            ),
        );
        crate::oidc::clients::OidcClients::load(&settings).unwrap_or_default()
    })
}
