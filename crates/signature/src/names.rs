//! X.509 names and strings as text: DirectoryString decoding and RFC 4514-style rendering.

use der::{Any, Tag, Tagged};
use x509_cert::name::Name;

use crate::oids;

/// Decodes any DirectoryString-like value (UTF8String, PrintableString, BMPString, …) to UTF-8.
/// Ukrainian CAs use all of these; BMPString is UTF-16BE. (der 0.8 has no UniversalString tag.)
pub fn directory_string(v: &Any) -> Option<String> {
    let bytes = v.value();
    match v.tag() {
        Tag::Utf8String => std::str::from_utf8(bytes).ok().map(str::to_owned),
        Tag::PrintableString | Tag::Ia5String | Tag::VisibleString | Tag::NumericString => bytes
            .is_ascii()
            .then(|| String::from_utf8_lossy(bytes).into_owned()),
        // T.61 in theory; in practice Latin-1.
        Tag::TeletexString => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

fn attr_short_name(oid: &const_oid::ObjectIdentifier) -> Option<&'static str> {
    Some(match *oid {
        oids::AT_CN => "CN",
        oids::AT_SURNAME => "SN",
        oids::AT_SERIAL_NUMBER => "serialNumber",
        oids::AT_COUNTRY => "C",
        oids::AT_LOCALITY => "L",
        oids::AT_STATE => "ST",
        oids::AT_STREET => "STREET",
        oids::AT_ORG => "O",
        oids::AT_ORG_UNIT => "OU",
        oids::AT_TITLE => "title",
        oids::AT_GIVEN_NAME => "GN",
        oids::AT_ORG_IDENTIFIER => "organizationIdentifier",
        oids::AT_EMAIL => "emailAddress",
        oids::AT_DC => "DC",
        oids::AT_UID => "UID",
        _ => return None,
    })
}

fn escape_rfc4514(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let last = s.chars().count().saturating_sub(1);
    for (i, c) in s.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// RFC 4514-style rendering (most specific RDN first) that keeps Cyrillic as UTF-8 and
/// uses readable names for the attributes Ukrainian certificates carry.
pub fn name_to_string(name: &Name) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let key = attr_short_name(&atv.oid)
                        .map(str::to_owned)
                        .unwrap_or_else(|| atv.oid.to_string());
                    let val = match directory_string(&atv.value) {
                        Some(s) => escape_rfc4514(&s),
                        None => {
                            // Non-string value: RFC 4514 '#'+hex of the DER.
                            let der = der::Encode::to_der(&atv.value).unwrap_or_default();
                            format!("#{}", hex_upper(&der))
                        }
                    };
                    format!("{key}={val}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(", ")
}

pub fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::asn1::BmpString;

    #[test]
    fn decodes_all_three_string_kinds() {
        let utf8 = Any::new(Tag::Utf8String, "Шевченко".as_bytes()).unwrap();
        assert_eq!(directory_string(&utf8).as_deref(), Some("Шевченко"));
        let printable = Any::new(Tag::PrintableString, b"TINUA-3652504575".as_slice()).unwrap();
        assert_eq!(
            directory_string(&printable).as_deref(),
            Some("TINUA-3652504575")
        );
        let bmp = BmpString::from_utf8("Київ").unwrap();
        let bmp_any = Any::encode_from(&bmp).unwrap();
        assert_eq!(directory_string(&bmp_any).as_deref(), Some("Київ"));
        let bad = Any::new(Tag::PrintableString, "Київ".as_bytes()).unwrap();
        assert_eq!(directory_string(&bad), None);
    }

    #[test]
    fn rfc4514_escaping() {
        assert_eq!(
            escape_rfc4514("ТОВ \"Ромашка\", Київ"),
            "ТОВ \\\"Ромашка\\\"\\, Київ"
        );
        assert_eq!(escape_rfc4514(" a "), "\\ a\\ ");
    }
}
