//! One canonical form of a request path, decided before any route, policy or forward-auth
//! decision is made, and the form the cabinet receives.
//!
//! A gateway that decides on one spelling of a path while the upstream reads another is the
//! classic identity-aware-proxy bypass: `/static/../private/x`, `/%61dmin`, `//admin`,
//! `/admin;x/…` (Tomcat drops `;` parameters), `%2e%2e`, overlong UTF-8. Here every path is
//! brought to one form (RFC 3986 §6.2.2: percent-encoding normalized, §5.2.4: dot segments
//! removed; and duplicate slashes merged, as nginx does), and the shapes that cannot be made
//! canonical without guessing how the upstream reads them are refused:
//!
//! - an encoded `/` or `\` (`%2F`, `%5C`): a separator to some servers, a name to others;
//! - a raw `\` (IIS and some frameworks read it as `/`);
//! - NUL and other control characters, raw or encoded;
//! - malformed percent-encoding (`%`, `%zz`), and encoded bytes that are not UTF-8 (overlong
//!   forms such as `%C0%AE` for `.` included);
//! - a double-encoded separator, dot or control character (`%252F`, `%252e`): harmless to an
//!   upstream that decodes once, a bypass in one that decodes twice;
//! - a dot segment carrying path parameters (`..;x`): `..` to Tomcat, a name to everyone else;
//! - a path that climbs above the root (`/../x`).

use std::fmt;

/// A request path in canonical form; only [`CanonicalPath::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalPath {
    /// What the upstream receives.
    path: String,
    /// What routes and policies are matched on when it differs from `path`: `path` without `;`
    /// path parameters (servlet containers drop them before routing, so `/admin;x/y` is
    /// `/admin/y` there). Usually there are none, and no second string per request.
    decision: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path does not start with '/'")]
    NotAbsolute,
    #[error("the path has an encoded '/' or '\\' inside a segment")]
    EncodedSeparator,
    #[error("the path has a backslash")]
    Backslash,
    #[error("the path has a control character")]
    ControlCharacter,
    #[error("the path has a malformed percent-encoding")]
    BadPercentEncoding,
    #[error("the path's encoded bytes are not UTF-8")]
    NotUtf8,
    #[error("the path has a double-encoded separator, dot or control character")]
    DoubleEncoded,
    #[error("the path has a dot segment with parameters")]
    DotSegmentWithParameters,
    #[error("the path climbs above the root")]
    EscapesRoot,
}

impl CanonicalPath {
    /// The canonical form of a request path (no query: the caller splits it off first).
    pub fn parse(raw: &str) -> Result<Self, PathError> {
        if !raw.starts_with('/') {
            return Err(PathError::NotAbsolute);
        }
        let normalized = normalize_encoding(raw)?;
        let trailing_slash = normalized.ends_with('/');
        let mut kept: Vec<&str> = Vec::new();
        let mut ends_in_directory = trailing_slash;
        // Empty segments (`//`) are merged away before dot segments are resolved.
        for segment in normalized.split('/').filter(|s| !s.is_empty()) {
            let name = segment.split(';').next().unwrap_or_default();
            let is_dot = matches!(name, "." | "..");
            if is_dot && name != segment {
                return Err(PathError::DotSegmentWithParameters);
            }
            ends_in_directory = trailing_slash;
            match segment {
                "." => ends_in_directory = true,
                ".." => {
                    kept.pop().ok_or(PathError::EscapesRoot)?;
                    ends_in_directory = true;
                }
                _ => kept.push(segment),
            }
        }
        let path = join(kept.iter().copied(), ends_in_directory);
        let decision = path.contains(';').then(|| {
            join(
                kept.iter()
                    .map(|s| s.split(';').next().unwrap_or_default())
                    .filter(|s| !s.is_empty()),
                ends_in_directory,
            )
        });
        Ok(CanonicalPath { path, decision })
    }

    /// What the upstream receives.
    pub fn as_str(&self) -> &str {
        &self.path
    }

    /// What routes, public/private and access policies are matched on.
    pub fn for_decisions(&self) -> &str {
        self.decision.as_deref().unwrap_or(&self.path)
    }
}

impl fmt::Display for CanonicalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)
    }
}

fn join<'a>(segments: impl Iterator<Item = &'a str>, directory: bool) -> String {
    let mut path = String::from("/");
    let mut any = false;
    for segment in segments {
        if any {
            path.push('/');
        }
        path.push_str(segment);
        any = true;
    }
    if any && directory {
        path.push('/');
    }
    path
}

/// RFC 3986 unreserved characters: the same raw or percent-encoded, so always written raw.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Characters that may stand raw in a path and mean something else when encoded (sub-delims,
/// `:`, `@`, and the separator itself): kept as they came.
fn is_raw_path_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b':' | b'@'
    ) || b == b'/'
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

fn push_encoded(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0x0f)]));
}

/// Every byte in one spelling: unreserved characters decoded, everything else that is not a
/// raw delimiter percent-encoded with upper-case hex. Refuses what cannot be spelled safely.
fn normalize_encoding(raw: &str) -> Result<String, PathError> {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    // The path as the upstream would decode it, to check that encoded bytes are UTF-8.
    let mut decoded = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let value = match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(&h), Some(&l)) => match (hex_value(h), hex_value(l)) {
                    (Some(h), Some(l)) => h * 16 + l,
                    _ => return Err(PathError::BadPercentEncoding),
                },
                _ => return Err(PathError::BadPercentEncoding),
            };
            match value {
                b'/' | b'\\' => return Err(PathError::EncodedSeparator),
                0..=0x1f | 0x7f => return Err(PathError::ControlCharacter),
                b'%' if double_encoded(&bytes[i + 3..]) => return Err(PathError::DoubleEncoded),
                v if is_unreserved(v) => out.push(char::from(v)),
                v => push_encoded(&mut out, v),
            }
            decoded.push(value);
            i += 3;
            continue;
        }
        match b {
            b'\\' => return Err(PathError::Backslash),
            0..=0x20 | 0x7f => return Err(PathError::ControlCharacter),
            b if is_unreserved(b) || is_raw_path_delimiter(b) => out.push(char::from(b)),
            b => push_encoded(&mut out, b),
        }
        decoded.push(b);
        i += 1;
    }
    std::str::from_utf8(&decoded).map_err(|_| PathError::NotUtf8)?;
    Ok(out)
}

/// After an encoded `%`: do the next two characters spell a separator, a dot or a control
/// character once decoded a second time?
fn double_encoded(rest: &[u8]) -> bool {
    match (
        rest.first().copied().and_then(hex_value),
        rest.get(1).copied().and_then(hex_value),
    ) {
        (Some(h), Some(l)) => {
            let v = h * 16 + l;
            matches!(v, b'/' | b'\\' | b'.' | b'%') || v < 0x20 || v == 0x7f
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(raw: &str) -> String {
        CanonicalPath::parse(raw)
            .unwrap_or_else(|e| panic!("{raw:?}: {e}"))
            .as_str()
            .to_owned()
    }

    #[test]
    fn plain_paths_stay_as_they_are() {
        for p in [
            "/",
            "/a",
            "/a/",
            "/a/b.txt",
            "/a-b_c~d/e",
            "/x:y@z/!$&'()*+,=",
            "/a;jsessionid=1/b",
        ] {
            assert_eq!(canonical(p), p);
        }
    }

    #[test]
    fn dot_segments_plain_and_encoded_are_resolved() {
        let cases = [
            ("/ng/static/../private/report.txt", "/ng/private/report.txt"),
            (
                "/ng/static/%2e%2e/private/report.txt",
                "/ng/private/report.txt",
            ),
            (
                "/ng/static/%2E%2E/private/report.txt",
                "/ng/private/report.txt",
            ),
            (
                "/ng/static/.%2e/private/report.txt",
                "/ng/private/report.txt",
            ),
            ("/ng/./admin/x", "/ng/admin/x"),
            ("/ng/%2e/admin/x", "/ng/admin/x"),
            ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/a/..", "/"),
            ("/..a/.b/", "/..a/.b/"),
        ];
        for (raw, want) in cases {
            assert_eq!(canonical(raw), want, "{raw}");
        }
    }

    #[test]
    fn slashes_are_merged_and_unreserved_octets_decoded() {
        assert_eq!(canonical("/ng//admin/x"), "/ng/admin/x");
        assert_eq!(canonical("///ng///admin//"), "/ng/admin/");
        assert_eq!(canonical("/ng/%61dmin/x"), "/ng/admin/x");
        assert_eq!(canonical("/ng/%41%7a%2D%5f%7E"), "/ng/Az-_~");
        // Reserved and non-ASCII octets stay encoded, in upper case; raw UTF-8 gets encoded.
        assert_eq!(canonical("/a%3fb%3B%c3%a9"), "/a%3Fb%3B%C3%A9");
        assert_eq!(canonical("/звіт"), "/%D0%B7%D0%B2%D1%96%D1%82");
        assert_eq!(canonical("/a|b{c}\"d"), "/a%7Cb%7Bc%7D%22d");
    }

    #[test]
    fn path_parameters_are_kept_for_the_upstream_but_not_decided_on() {
        let p = CanonicalPath::parse("/ng/admin;x=1/report").unwrap();
        assert_eq!(p.as_str(), "/ng/admin;x=1/report");
        assert_eq!(p.for_decisions(), "/ng/admin/report");
        let p = CanonicalPath::parse("/ng/;x/admin/").unwrap();
        assert_eq!(p.for_decisions(), "/ng/admin/");
        assert_eq!(CanonicalPath::parse("/a").unwrap().for_decisions(), "/a");
    }

    #[test]
    fn unsafe_shapes_are_refused() {
        let cases = [
            ("ng/x", PathError::NotAbsolute),
            ("*", PathError::NotAbsolute),
            ("/ng/static%2f..%2fprivate", PathError::EncodedSeparator),
            ("/ng/static/..%2Fprivate", PathError::EncodedSeparator),
            ("/ng/static/..%5cprivate", PathError::EncodedSeparator),
            ("/ng/static/..\\private", PathError::Backslash),
            ("/a%00b", PathError::ControlCharacter),
            ("/a%0d%0ab", PathError::ControlCharacter),
            ("/a b", PathError::ControlCharacter),
            ("/a%", PathError::BadPercentEncoding),
            ("/a%2", PathError::BadPercentEncoding),
            ("/a%zz", PathError::BadPercentEncoding),
            ("/ng/static/%c0%ae%c0%ae/private", PathError::NotUtf8),
            ("/ng/%c0%af", PathError::NotUtf8),
            ("/a%ff", PathError::NotUtf8),
            ("/ng/static/%252e%252e/private", PathError::DoubleEncoded),
            ("/ng/static%252Fprivate", PathError::DoubleEncoded),
            (
                "/ng/static/..;/private",
                PathError::DotSegmentWithParameters,
            ),
            (
                "/ng/static/.;x/private",
                PathError::DotSegmentWithParameters,
            ),
            (
                "/ng/static/%2e%2e;/private",
                PathError::DotSegmentWithParameters,
            ),
            ("/..", PathError::EscapesRoot),
            ("/a/../../b", PathError::EscapesRoot),
            ("/%2e%2e/etc/passwd", PathError::EscapesRoot),
        ];
        for (raw, want) in cases {
            assert_eq!(CanonicalPath::parse(raw), Err(want), "{raw}");
        }
    }

    #[test]
    fn canonical_paths_are_fixed_points() {
        for raw in [
            "/ng/static/%2e%2e/private/%c3%a9",
            "//a/./b/../c;x/",
            "/a%7cb",
            "/%25",
            "/a/%3B/..",
        ] {
            let once = CanonicalPath::parse(raw).unwrap();
            let twice = CanonicalPath::parse(once.as_str()).unwrap();
            assert_eq!(once, twice, "{raw}");
            let decided = CanonicalPath::parse(once.for_decisions()).unwrap();
            assert_eq!(decided.as_str(), once.for_decisions(), "{raw}");
        }
    }
}
