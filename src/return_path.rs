//! Where to send the browser after login or a language switch: same-origin paths only.
//!
//! Open redirects are the classic hole in login gateways (CVE-2020-5233 and friends): browsers
//! treat `//evil`, `/\evil` and `/%5Cevil`-after-decoding as other hosts. A [`ReturnPath`] can
//! only be built by [`ReturnPath::parse`], which accepts a plain absolute path and nothing that a
//! browser or a proxy could read as another origin.

use std::fmt;

use url::Url;

const MAX_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPath(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnPathError {
    #[error("the return path is empty")]
    Empty,
    #[error("the return path is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("the return path must be a path on this site, starting with a single '/'")]
    NotALocalPath,
    #[error("the return path contains characters that are not allowed")]
    ForbiddenCharacters,
}

impl ReturnPath {
    pub fn root() -> Self {
        ReturnPath("/".to_owned())
    }

    pub fn parse(raw: &str) -> Result<Self, ReturnPathError> {
        if raw.is_empty() {
            return Err(ReturnPathError::Empty);
        }
        if raw.len() > MAX_LEN {
            return Err(ReturnPathError::TooLong);
        }
        // Backslashes and control characters are never needed in a path we would send people to,
        // and browsers "fix" them into slashes or drop them.
        if raw
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
        {
            return Err(ReturnPathError::ForbiddenCharacters);
        }
        if !is_single_slash_path(raw) {
            return Err(ReturnPathError::NotALocalPath);
        }
        still_local_when_decoded(raw)?;
        // Final word to a real URL parser: resolved against a base, the origin must not change.
        let base =
            Url::parse("https://kepgate.invalid/").map_err(|_| ReturnPathError::NotALocalPath)?;
        let resolved = base.join(raw).map_err(|_| ReturnPathError::NotALocalPath)?;
        if resolved.origin() != base.origin() {
            return Err(ReturnPathError::NotALocalPath);
        }
        let mut path = resolved.path().to_owned();
        // Dot segments can collapse into a leading "//" ("/.//evil" → "//evil"): check the
        // result, not only the input.
        if !is_single_slash_path(&path) {
            return Err(ReturnPathError::NotALocalPath);
        }
        if let Some(query) = resolved.query() {
            path.push('?');
            path.push_str(query);
        }
        // And the result too: resolving dot segments can bring an encoded slash to the front
        // ("/%2/../%2F." → "/%2F.", "//." once decoded). Found by the return_path fuzz target.
        still_local_when_decoded(&path)?;
        // The URL parser percent-encodes what it must (up to 9 bytes per character): the limit
        // holds for what is kept, not only for what came in. Found by fuzzing too.
        if path.len() > MAX_LEN {
            return Err(ReturnPathError::TooLong);
        }
        Ok(ReturnPath(path))
    }

    /// Parses, or falls back to `/` for anything unsafe; for places where a bad value must not
    /// stop the user (a language switch), only be ignored.
    pub fn parse_or_root(raw: Option<&str>) -> Self {
        raw.and_then(|r| Self::parse(r).ok())
            .unwrap_or_else(Self::root)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReturnPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Once percent-decoded (some proxies and apps decode again), a path must still be local.
fn still_local_when_decoded(path: &str) -> Result<(), ReturnPathError> {
    let decoded = percent_decode(path);
    if decoded.chars().any(|c| c == '\\' || c.is_control()) || !is_single_slash_path(&decoded) {
        return Err(ReturnPathError::NotALocalPath);
    }
    Ok(())
}

fn is_single_slash_path(s: &str) -> bool {
    s.starts_with('/') && !s.starts_with("//")
}

/// Repeated percent-decoding (at most a few rounds), lossy: only used to look for hidden slashes
/// and control characters. Plain `%XX` decoding of the whole string: a form decoder (as used
/// here before fuzzing found it) stops at the first `&`, and hid everything after it.
fn percent_decode(raw: &str) -> String {
    let mut current = raw.to_owned();
    for _ in 0..3 {
        let next = percent_decode_once(&current);
        if next == current {
            break;
        }
        current = next;
    }
    current
}

fn percent_decode_once(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let value = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_local_paths_are_kept() {
        for ok in ["/", "/cabinet", "/a/b?x=1&y=%D0%A2", "/reports/2026?page=2"] {
            assert_eq!(ReturnPath::parse(ok).unwrap().as_str(), ok, "{ok}");
        }
    }

    #[test]
    fn other_origins_in_every_disguise_are_refused() {
        let evil = [
            "//evil.example",
            "https://evil.example",
            "http:/evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/%2F%2Fevil.example",
            "/%2fevil.example",
            "%2F%2Fevil.example",
            "/%5Cevil.example",
            "/%255Cevil.example",
            "/%252F%252Fevil.example",
            "javascript:alert(1)",
            "evil.example",
            "/\tevil",
            "/.//evil.example",
            "/a/..//evil.example",
            "/\r\nLocation: https://evil",
            "",
            " /x",
        ];
        for bad in evil {
            assert!(ReturnPath::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn encoded_characters_are_found_after_an_ampersand_and_after_dot_segments() {
        // Both found by the return_path fuzz target (fuzz/regressions/return_path/).
        for bad in [
            "/a&%0d%0aSet-Cookie:x",
            "/a?b=1&c=%5C%5Cevil",
            "/x&%2e%2e/%00",
            // Dot segments bringing an encoded slash to the front.
            "/%2/.././%2F.",
            "/x/../%2Fevil.example",
        ] {
            assert!(ReturnPath::parse(bad).is_err(), "accepted {bad:?}");
        }
        assert_eq!(
            ReturnPath::parse("/a?b=1&c=%D0%A2").unwrap().as_str(),
            "/a?b=1&c=%D0%A2"
        );
    }

    #[test]
    fn the_length_limit_holds_after_percent_encoding() {
        let grows = format!("/{}", ">".repeat(MAX_LEN - 1));
        assert_eq!(ReturnPath::parse(&grows), Err(ReturnPathError::TooLong));
    }

    #[test]
    fn dot_segments_are_resolved_and_stay_local() {
        assert_eq!(ReturnPath::parse("/a/../b").unwrap().as_str(), "/b");
        assert_eq!(ReturnPath::parse("/../../etc").unwrap().as_str(), "/etc");
    }

    #[test]
    fn unsafe_values_fall_back_to_root() {
        assert_eq!(ReturnPath::parse_or_root(Some("//evil")).as_str(), "/");
        assert_eq!(ReturnPath::parse_or_root(None).as_str(), "/");
    }

    #[test]
    fn fuzzed_inputs_never_yield_another_origin() {
        // A cheap property test: every short string over a hostile alphabet either fails or
        // resolves to a path on our origin.
        let alphabet = ['/', '\\', '%', '2', 'F', '5', 'C', 'e', ':', '.', '@', '?'];
        let base = Url::parse("https://kepgate.invalid/").unwrap();
        let mut count = 0;
        let mut stack = vec![String::new()];
        while let Some(prefix) = stack.pop() {
            if let Ok(p) = ReturnPath::parse(&prefix) {
                let joined = base
                    .join(p.as_str())
                    .unwrap_or_else(|e| panic!("{prefix:?} → {p}: {e}"));
                assert_eq!(joined.origin(), base.origin(), "{prefix:?}");
                assert!(!p.as_str().starts_with("//"), "{prefix:?}");
                count += 1;
            }
            if prefix.len() < 5 {
                for c in alphabet {
                    stack.push(format!("{prefix}{c}"));
                }
            }
        }
        assert!(count > 1000);
    }
}
