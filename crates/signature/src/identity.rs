//! Identity of a person/company as carried by a Ukrainian qualified certificate.
//! Newtypes are "parse, don't validate": holding one means the check digit was right.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::display_text::{DisplayText, UnsafeText};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("РНОКПП must be exactly 10 digits, got {0:?}")]
    RnokppFormat(String),
    #[error("РНОКПП {0} has a wrong check digit")]
    RnokppChecksum(String),
    #[error("ЄДРПОУ must be exactly 8 digits, got {0:?}")]
    EdrpouFormat(String),
    #[error("ЄДРПОУ {0} has a wrong check digit")]
    EdrpouChecksum(String),
}

fn digits<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != N || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut out = [0u8; N];
    for (o, c) in out.iter_mut().zip(b) {
        *o = c - b'0';
    }
    Some(out)
}

/// РНОКПП (individual taxpayer number, formerly ІПН): 10 digits, the last is a check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Rnokpp(String);

// Stored identities are re-validated when read back: a row edited by hand cannot smuggle in a
// malformed number.
impl TryFrom<String> for Rnokpp {
    type Error = IdentityError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Rnokpp> for String {
    fn from(v: Rnokpp) -> String {
        v.0
    }
}

impl Rnokpp {
    const WEIGHTS: [i32; 9] = [-1, 5, 7, 9, 4, 6, 10, 5, 7];

    /// Check digit for the first nine digits: (Σ wᵢ·dᵢ mod 11) mod 10.
    fn check_digit(d: &[u8; 10]) -> u8 {
        let sum: i32 = Self::WEIGHTS
            .iter()
            .zip(d)
            .map(|(w, &x)| w * i32::from(x))
            .sum();
        // rem_euclid: the -1 weight can make the sum negative.
        (sum.rem_euclid(11) % 10) as u8
    }

    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let s = s.trim();
        let d = digits::<10>(s).ok_or_else(|| IdentityError::RnokppFormat(s.to_owned()))?;
        if Self::check_digit(&d) != d[9] {
            return Err(IdentityError::RnokppChecksum(s.to_owned()));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Rnokpp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// ЄДРПОУ (legal-entity registry code): 8 digits, the last is a check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Edrpou(String);

impl TryFrom<String> for Edrpou {
    type Error = IdentityError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Edrpou> for String {
    fn from(v: Edrpou) -> String {
        v.0
    }
}

impl Edrpou {
    /// Official algorithm: weights 1..7 (or 7,1..6 for codes in 30000000..=60000000);
    /// if Σ mod 11 == 10, redo with every weight +2, and a second 10 becomes 0.
    fn check_digit(d: &[u8; 8], value: u32) -> u8 {
        let weights: [u32; 7] = if (30_000_000..=60_000_000).contains(&value) {
            [7, 1, 2, 3, 4, 5, 6]
        } else {
            [1, 2, 3, 4, 5, 6, 7]
        };
        let sum = |add: u32| -> u32 {
            weights
                .iter()
                .zip(d)
                .map(|(w, &x)| (w + add) * u32::from(x))
                .sum()
        };
        let mut r = sum(0) % 11;
        if r == 10 {
            r = (sum(2) % 11) % 10;
        }
        r as u8
    }

    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let s = s.trim();
        let d = digits::<8>(s).ok_or_else(|| IdentityError::EdrpouFormat(s.to_owned()))?;
        let value = decimal(&d);
        if Self::check_digit(&d, value) != d[7] {
            return Err(IdentityError::EdrpouChecksum(s.to_owned()));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Edrpou {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who signed, as stated by their (verified) certificate, or by a provider that checked the
/// signature itself (id.gov.ua tells the certificate's serial and issuer but not its validity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerIdentity {
    pub full_name: String,
    pub surname: Option<String>,
    pub given_name: Option<String>,
    pub rnokpp: Option<Rnokpp>,
    pub edrpou: Option<Edrpou>,
    pub organization: Option<String>,
    pub title: Option<String>,
    /// Certificate serial number, uppercase hex of the DER INTEGER contents.
    pub cert_serial_hex: String,
    /// Issuer DN, RFC 4514 style (most specific first), UTF-8.
    pub issuer: String,
    pub issuer_cn: Option<String>,
    /// SHA-256 of the issuing CA's public key (its subjectPublicKey bits, lowercase hex), when
    /// kepgate verified the path itself: what tells two CAs of the same name apart (a re-keyed
    /// CA), as `certificate_status` and `revocation_lists` key them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_key_sha256: Option<String>,
    /// The certificate's validity, when kepgate read the certificate itself.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub not_before: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub not_after: Option<OffsetDateTime>,
}

/// An identity whose text cannot be shown as it is (see [`crate::display_text`]): which field,
/// and why. The login it came with fails as `unusable_name`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {field} {why}")]
pub struct UnusableName {
    pub field: &'static str,
    pub why: UnsafeText,
}

impl SignerIdentity {
    /// The identity as it came in (a certificate, a provider's answer), with every text field
    /// parsed as [`DisplayText`]: refused as a whole when one is not, since each of them is
    /// handed on as the person's (headers, assertion, ID token) and shown to administrators.
    pub fn parse_text(self) -> Result<SignerIdentity, UnusableName> {
        let text = |field: &'static str, value: String| {
            DisplayText::parse(&value)
                .map(DisplayText::into_string)
                .map_err(|why| UnusableName { field, why })
        };
        let optional =
            |field: &'static str, value: Option<String>| value.map(|v| text(field, v)).transpose();
        Ok(SignerIdentity {
            full_name: text("name", self.full_name)?,
            surname: optional("surname", self.surname)?,
            given_name: optional("given name", self.given_name)?,
            organization: optional("organisation", self.organization)?,
            title: optional("title", self.title)?,
            issuer: DisplayText::parse_dn(&self.issuer)
                .map(DisplayText::into_string)
                .map_err(|why| UnusableName {
                    field: "issuer",
                    why,
                })?,
            issuer_cn: optional("issuer's name", self.issuer_cn)?,
            ..self
        })
    }
}

/// The number a run of decimal digits spells.
fn decimal(digits: &[u8]) -> u32 {
    let mut value = 0u32;
    for &d in digits {
        value = value * 10 + u32::from(d);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    // Valid numbers computed by hand with the published algorithms (see check_digit docs).
    const VALID_RNOKPP: &[&str] = &[
        "3652504575",
        "1759013776",
        "3068208400",
        "0000000000",
        "2900000000",
    ];
    const VALID_EDRPOU: &[&str] = &["43395033", "43005393", "14360570", "00032106", "00032129"];

    #[test]
    fn rnokpp_known_valid() {
        for s in VALID_RNOKPP {
            let r = Rnokpp::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(r.as_str(), *s);
            assert_eq!(r.to_string(), *s);
        }
        assert!(format!("{:?}", Rnokpp::parse("3652504575").unwrap()).contains("3652504575"));
    }

    #[test]
    fn rnokpp_rejects_bad_format_and_checksum() {
        assert_eq!(
            Rnokpp::parse("1759013770"),
            Err(IdentityError::RnokppChecksum("1759013770".into()))
        );
        for bad in [
            "",
            "123456789",
            "12345678901",
            "36525045a5",
            "３６５２５０４５７５",
            "-365250457",
        ] {
            assert!(
                matches!(Rnokpp::parse(bad), Err(IdentityError::RnokppFormat(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn rnokpp_every_single_digit_change_is_rejected_except_the_mod10_fold() {
        // For valid numbers whose weighted sum is not ≡ 10 (mod 11), a single-digit change
        // always changes the residue, so it must be rejected (strict property).
        // Known numbers plus ~1300 computed ones spread over the whole range.
        let mut tested = 0;
        let known = VALID_RNOKPP.iter().map(|s| s.to_string());
        let computed = (0u64..10_000_000_000)
            .step_by(7_919_113)
            .map(|n| format!("{n:010}"));
        for base in known.chain(computed) {
            let mut d: [u8; 10] = digits::<10>(&base).unwrap();
            d[9] = Rnokpp::check_digit(&d);
            let s: String = d.iter().map(|x| char::from(b'0' + x)).collect();
            assert!(Rnokpp::parse(&s).is_ok());
            for pos in 0..10 {
                for digit in 0..10u8 {
                    if d[pos] == digit {
                        continue;
                    }
                    let mut m = d;
                    m[pos] = digit;
                    let ms: String = m.iter().map(|x| char::from(b'0' + x)).collect();
                    let sum: i32 = Rnokpp::WEIGHTS
                        .iter()
                        .zip(&m)
                        .map(|(w, &x)| w * i32::from(x))
                        .sum();
                    let orig: i32 = Rnokpp::WEIGHTS
                        .iter()
                        .zip(&d)
                        .map(|(w, &x)| w * i32::from(x))
                        .sum();
                    // Weights are non-zero mod 11 (prime), so the residue always changes; only
                    // residues 10 and 0 share check digit 0 (the "mod 10" fold).
                    let folds = sum.rem_euclid(11) == 10 || orig.rem_euclid(11) == 10;
                    if pos == 9 || !folds {
                        assert!(Rnokpp::parse(&ms).is_err(), "{s} -> {ms} accepted");
                    }
                }
            }
            tested += 1;
        }
        assert!(tested > 1000);
    }

    fn identity() -> SignerIdentity {
        SignerIdentity {
            full_name: "Коваленко Олена Петрівна".into(),
            surname: Some("Коваленко".into()),
            given_name: Some("Олена Петрівна".into()),
            rnokpp: None,
            edrpou: None,
            organization: Some("ТОВ «Тестова компанія»".into()),
            title: Some("Директор".into()),
            cert_serial_hex: "01".into(),
            issuer: "CN=Тестовий КНЕДП, C=UA".into(),
            issuer_cn: Some("Тестовий КНЕДП".into()),
            issuer_key_sha256: None,
            not_before: None,
            not_after: None,
        }
    }

    #[test]
    fn an_identity_with_one_unsafe_text_field_is_refused_and_the_field_named() {
        assert_eq!(identity().parse_text(), Ok(identity()));
        let mut hostile = identity();
        hostile.organization = Some(r"ТОВ\u{0}".into());
        assert_eq!(
            hostile.clone().parse_text(),
            Ok(hostile),
            "an escape written out is text"
        );
        type Spoil = fn(&mut SignerIdentity);
        let cases: [(Spoil, &str); 4] = [
            (
                |i| i.full_name.push('\u{1b}'),
                "the name contains the control character U+001B",
            ),
            (
                |i| i.organization = Some("ТОВ\0".into()),
                "the organisation contains the control character U+0000",
            ),
            (
                |i| i.title = Some("\u{202E}ротиреД".into()),
                "the title contains the invisible formatting character U+202E",
            ),
            (
                |i| i.issuer.push_str(&"я".repeat(1024)),
                "the issuer is 1047 characters long, more than 1024",
            ),
        ];
        for (spoil, message) in cases {
            let mut hostile = identity();
            spoil(&mut hostile);
            assert_eq!(hostile.parse_text().unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn edrpou_known_valid() {
        for s in VALID_EDRPOU {
            let e = Edrpou::parse(s).unwrap_or_else(|err| panic!("{s}: {err}"));
            assert_eq!(e.as_str(), *s);
        }
    }

    #[test]
    fn edrpou_rejects_bad_format_and_checksum() {
        assert!(matches!(
            Edrpou::parse("43395034"),
            Err(IdentityError::EdrpouChecksum(_))
        ));
        for bad in ["", "4339503", "433950333", "4339503x"] {
            assert!(
                matches!(Edrpou::parse(bad), Err(IdentityError::EdrpouFormat(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn edrpou_every_single_digit_change_of_the_check_digit_is_rejected() {
        for s in VALID_EDRPOU {
            for digit in b'0'..=b'9' {
                let mut b = s.as_bytes().to_vec();
                if b[7] == digit {
                    continue;
                }
                b[7] = digit;
                let m = String::from_utf8(b).unwrap();
                assert!(Edrpou::parse(&m).is_err(), "{m}");
            }
        }
    }

    #[test]
    fn edrpou_single_digit_changes_in_body_rejected_within_a_weight_range() {
        // Changing a body digit can move the code across the 30M/60M weight boundary, or
        // hit the second-pass fold, so a few collisions are inherent to the algorithm; but
        // in the same weight range and without a fold, every change must be caught.
        for s in VALID_EDRPOU {
            let d = digits::<8>(s).unwrap();
            for pos in 0..7 {
                for digit in 0..10u8 {
                    if d[pos] == digit {
                        continue;
                    }
                    let mut m = d;
                    m[pos] = digit;
                    let ms: String = m.iter().map(|x| char::from(b'0' + x)).collect();
                    let v = |x: &[u8; 8]| decimal(x);
                    let inner = |x: u32| (30_000_000..=60_000_000).contains(&x);
                    let same_range = inner(v(&d)) == inner(v(&m));
                    let w: [u32; 7] = if inner(v(&m)) {
                        [7, 1, 2, 3, 4, 5, 6]
                    } else {
                        [1, 2, 3, 4, 5, 6, 7]
                    };
                    let s1 = |x: &[u8; 8]| -> u32 {
                        w.iter().zip(x).map(|(a, &b)| a * u32::from(b)).sum::<u32>() % 11
                    };
                    let no_fold = s1(&d) != 10 && s1(&m) != 10;
                    if same_range && no_fold {
                        assert!(Edrpou::parse(&ms).is_err(), "{s} -> {ms} accepted");
                    }
                }
            }
        }
    }
}
