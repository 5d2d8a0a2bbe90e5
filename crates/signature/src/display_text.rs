//! Text a certificate or a provider states about a person — names, organisation, title, the
//! issuer's name — parsed once where it comes in, so that every place showing it (the cabinet's
//! headers and assertion, pages, ID tokens, logs, the administrators' terminal) gets text that
//! shows what it is and nothing else.
//!
//! Refused, never repaired: a character that acts instead of showing itself (a control: NUL,
//! ESC, CR, LF, the C1 range; a line or paragraph separator; a format character: bidi
//! embeddings, overrides and isolates, zero-width characters, the BOM), or text longer than its
//! cap. No name, organisation or title of a person contains them, so their only source is a
//! broken or hostile issuer (or id.gov.ua's unsigned answer, or whoever sits between), and a
//! "repaired" name (the character dropped or replaced by U+FFFD) would be one the certificate
//! does not state, handed on to the cabinet as the person's. NUL cannot be stored at all
//! (PostgreSQL text). Caller decides what a refusal means; the login refuses the whole identity.

use std::fmt;

/// The longest name, organisation or title kept, in characters. X.520's bounds for these
/// attributes are 64; a provider that joins surname, given name and patronymic stays far below.
pub const MAX_CHARS: usize = 256;

/// The longest distinguished name kept (the issuer's, RFC 4514-style): several attributes of
/// up to [`MAX_CHARS`] each.
pub const MAX_DN_CHARS: usize = 1024;

/// Text fit to show: no control, separator or format character, at most its cap long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayText(String);

/// Why a text is not [`DisplayText`]. The character is named by its code point, never
/// written out: the message goes to logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnsafeText {
    #[error("contains the control character {}", CodePoint(*.0))]
    Control(char),
    #[error("contains the invisible formatting character {}", CodePoint(*.0))]
    Format(char),
    #[error("is {chars} characters long, more than {max}")]
    TooLong { chars: usize, max: usize },
}

impl DisplayText {
    /// A name, an organisation or a title: at most [`MAX_CHARS`].
    pub fn parse(text: &str) -> Result<DisplayText, UnsafeText> {
        Self::parse_within(text, MAX_CHARS)
    }

    /// A distinguished name: at most [`MAX_DN_CHARS`].
    pub fn parse_dn(text: &str) -> Result<DisplayText, UnsafeText> {
        Self::parse_within(text, MAX_DN_CHARS)
    }

    fn parse_within(text: &str, max: usize) -> Result<DisplayText, UnsafeText> {
        if let Some(c) = text.chars().find(|&c| acts_instead_of_showing(c)) {
            return Err(if is_format(c) {
                UnsafeText::Format(c)
            } else {
                UnsafeText::Control(c)
            });
        }
        let chars = text.chars().count();
        if chars > max {
            return Err(UnsafeText::TooLong { chars, max });
        }
        Ok(DisplayText(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A character that changes how the text around it is shown (or what a terminal does) instead
/// of showing itself: General_Category Cc (C0, DEL, C1), Zl, Zp and Cf. What the
/// administrators' commands escape, and what [`DisplayText`] refuses.
pub fn acts_instead_of_showing(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_format(c)
}

/// General_Category Cf (Unicode 16.0), the invisible formatting characters: the soft hyphen,
/// Arabic and Syriac number signs, the Mongolian vowel separator, zero-width space and joiners,
/// the directional marks, embeddings, overrides and isolates, invisible operators, the BOM,
/// interlinear annotation marks, Kaithi, Egyptian, shorthand and musical format controls, tags.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{600}'..='\u{605}'
            | '\u{61C}'
            | '\u{6DD}'
            | '\u{70F}'
            | '\u{890}'..='\u{891}'
            | '\u{8E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// `U+001B`.
struct CodePoint(char);

impl fmt::Display for CodePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U+{:04X}", u32::from(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_people_and_organisations_are_kept_as_they_are() {
        for name in [
            "Шевченко Тарас Григорович",
            "Мар'яна Ковальчук-Дзюба",
            "Мар\u{2BC}яна О\u{2019}Ніл",
            "АТ КБ \"ПРИВАТБАНК\"",
            "ТОВ «Тестова компанія»",
            // Decomposed «й» (и + combining breve): combining marks show with their letter.
            "Андрии\u{306}",
            "O=ДП «ДІЯ», CN=КНЕДП\\, ДІЯ, C=UA",
        ] {
            assert_eq!(DisplayText::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(
            DisplayText::parse(&"я".repeat(MAX_CHARS)).unwrap().0.len(),
            512
        );
    }

    #[test]
    fn controls_separators_and_format_characters_are_refused_by_code_point() {
        for (text, why) in [
            ("Іван\0", UnsafeText::Control('\0')),
            ("Іван\u{1b}]0;root\u{7}", UnsafeText::Control('\u{1b}')),
            ("Іван\r\n2026 completed", UnsafeText::Control('\r')),
            ("Іван\tТаб", UnsafeText::Control('\t')),
            ("Іван\u{7f}", UnsafeText::Control('\u{7f}')),
            ("Іван\u{9b}2J", UnsafeText::Control('\u{9b}')),
            ("Іван\u{85}", UnsafeText::Control('\u{85}')),
            ("Іван\u{2028}", UnsafeText::Control('\u{2028}')),
            ("Іван\u{202E}вокнечш", UnsafeText::Format('\u{202E}')),
            ("\u{2067}Іван\u{2069}", UnsafeText::Format('\u{2067}')),
            ("Іван\u{200B}", UnsafeText::Format('\u{200B}')),
            ("Іван\u{200F}", UnsafeText::Format('\u{200F}')),
            ("\u{FEFF}Іван", UnsafeText::Format('\u{FEFF}')),
            ("Іван\u{E0041}", UnsafeText::Format('\u{E0041}')),
        ] {
            assert_eq!(DisplayText::parse(text), Err(why), "{text:?}");
        }
        let message = DisplayText::parse("a\u{1b}[2J").unwrap_err().to_string();
        assert_eq!(message, "contains the control character U+001B");
        assert!(!message.contains('\u{1b}'));
    }

    #[test]
    fn text_longer_than_its_cap_is_refused() {
        let long = "я".repeat(MAX_CHARS + 1);
        assert_eq!(
            DisplayText::parse(&long),
            Err(UnsafeText::TooLong {
                chars: 257,
                max: 256
            })
        );
        assert!(DisplayText::parse_dn(&long).is_ok());
        assert!(DisplayText::parse_dn(&"я".repeat(MAX_DN_CHARS + 1)).is_err());
    }

    #[test]
    fn every_refused_character_is_one_std_does_not_print_either() {
        // The table above is written out by hand; the standard library's own Unicode data
        // (char::escape_debug escapes what is not printable: Cc, Cf, Zl, Zp, …) checks it.
        let mut refused = 0;
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            if acts_instead_of_showing(c) {
                refused += 1;
                assert!(c.escape_debug().nth(1).is_some(), "{:04X}", u32::from(c));
            }
        }
        // 65 controls, 2 separators and 170 format characters.
        assert_eq!(refused, 65 + 2 + 170);
    }
}
