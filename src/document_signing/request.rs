//! A signing request's names and values: its id, where it stands, the files it holds, and what
//! the cabinet may ask for.

use std::fmt;

use serde::Serialize;
use uuid::Uuid;

/// PostgreSQL channel on which every state change of a signing request is announced (payload:
/// its id), so the replica holding the waiting page wakes up.
pub const NOTIFY_CHANNEL: &str = "kepgate_signing_request";

/// A signing request's id: the `Uuid` of its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct SigningId(pub Uuid);

impl SigningId {
    pub fn parse(text: &str) -> Option<Self> {
        // Only the hyphenated lower-case form kepgate writes: one spelling per request.
        let id = Uuid::parse_str(text).ok()?;
        (id.hyphenated().to_string() == text).then_some(SigningId(id))
    }
}

impl fmt::Display for SigningId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SigningState {
    Pending,
    Signed,
    Declined,
    Failed,
    Expired,
}

impl SigningState {
    pub fn as_str(self) -> &'static str {
        match self {
            SigningState::Pending => "pending",
            SigningState::Signed => "signed",
            SigningState::Declined => "declined",
            SigningState::Failed => "failed",
            SigningState::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => SigningState::Pending,
            "signed" => SigningState::Signed,
            "declined" => SigningState::Declined,
            "failed" => SigningState::Failed,
            "expired" => SigningState::Expired,
            _ => return None,
        })
    }
}

/// A file's name as the person sees it on the phone and in the `.p7s` offered for download:
/// 1 to 255 characters of display text (no control or formatting character), no path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FileName(String);

/// The longest file name kept (characters).
pub const MAX_FILE_NAME: usize = 255;

impl FileName {
    pub fn parse(name: &str) -> Result<FileName, &'static str> {
        let count = name.chars().count();
        if count == 0 || count > MAX_FILE_NAME {
            return Err("a file name is 1 to 255 characters");
        }
        if name.trim() != name {
            return Err("a file name has no spaces around it");
        }
        if name.contains(['/', '\\']) || name == "." || name == ".." {
            return Err("a file name has no directory in it");
        }
        if name
            .chars()
            .any(crate::signature::display_text::acts_instead_of_showing)
        {
            return Err("a file name is text to show: no control or formatting characters");
        }
        Ok(FileName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `<name>.p7s` in ASCII for `Content-Disposition`'s `filename` (the name in UTF-8 goes in
    /// `filename*`): anything else becomes `_`.
    pub fn p7s_ascii(&self) -> String {
        let ascii: String = self
            .0
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{ascii}.p7s")
    }
}

/// One file of a request: its name, its size when kepgate hashed the bytes, and its hash.
#[derive(Debug, Clone)]
pub struct FileToSign {
    pub name: FileName,
    pub size: Option<u64>,
    pub hash: [u8; 32],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_is_display_text_without_a_directory() {
        for good in ["zvit.xml", "Звіт за грудень 2026.pdf", "a"] {
            assert!(FileName::parse(good).is_ok(), "{good}");
        }
        let long = "я".repeat(256);
        for bad in [
            "",
            " x",
            "../etc/passwd",
            "a/b",
            "a\\b",
            "..",
            "a\u{202e}b",
            "a\nb",
            long.as_str(),
        ] {
            assert!(FileName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_download_name_is_ascii() {
        let name = FileName::parse("Звіт \"1\".xml").unwrap();
        assert_eq!(name.p7s_ascii(), "______1_.xml.p7s");
    }

    #[test]
    fn an_id_parses_in_one_spelling_only() {
        let id = Uuid::new_v4();
        let text = id.hyphenated().to_string();
        assert!(SigningId::parse(&text).is_some());
        assert!(SigningId::parse(&text.to_uppercase()).is_none());
        assert!(SigningId::parse(&id.simple().to_string()).is_none());
    }
}

/// Where the browser goes back to once the signing page is done: a path on kepgate's site (the
/// cabinet), or an OpenID client's address on the origin of one of its redirect URIs. Never
/// anywhere else: no open redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnTo {
    Cabinet(crate::return_path::ReturnPath),
    Client(url::Url),
}

impl ReturnTo {
    /// As stored: the path, or the absolute URL.
    pub fn as_str(&self) -> &str {
        match self {
            ReturnTo::Cabinet(path) => path.as_str(),
            ReturnTo::Client(url) => url.as_str(),
        }
    }

    /// What [`Self::as_str`] wrote.
    pub fn parse_stored(text: &str) -> Option<ReturnTo> {
        if text.starts_with('/') {
            crate::return_path::ReturnPath::parse(text)
                .ok()
                .map(ReturnTo::Cabinet)
        } else {
            url::Url::parse(text).ok().map(ReturnTo::Client)
        }
    }

    /// The address with `signing=<id>` added to its query.
    pub fn with_signing(&self, id: SigningId) -> String {
        match self {
            ReturnTo::Cabinet(path) => {
                let path = path.as_str();
                let joiner = if path.contains('?') { '&' } else { '?' };
                format!("{path}{joiner}signing={id}")
            }
            ReturnTo::Client(url) => {
                let mut url = url.clone();
                url.query_pairs_mut()
                    .append_pair("signing", &id.to_string());
                url.to_string()
            }
        }
    }
}
