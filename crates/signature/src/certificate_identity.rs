//! Reads the signer's identity out of a Ukrainian qualified certificate.

use der::{Any, Tag, Tagged};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectDirectoryAttributes;
use x509_cert::name::Name;

use super::{oids, x509_time};
use crate::identity::{Edrpou, Rnokpp, SignerIdentity};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityExtractError {
    #[error("certificate subject has neither a common name nor surname/given name")]
    MissingName,
}

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

pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn first_attr(name: &Name, oid: const_oid::ObjectIdentifier) -> Option<String> {
    name.iter()
        .find(|atv| atv.oid == oid)
        .and_then(|atv| directory_string(&atv.value))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Extracts who the certificate was issued to.
///
/// Returns the identity plus human-readable warnings. A РНОКПП/ЄДРПОУ whose check digit is
/// wrong is *not* fatal: the field is left `None` and a warning says why, because the
/// certificate itself was verified and the caller may still want the name (e.g. to log it);
/// login code that needs the number must treat `None` as "no identity number".
pub fn identity_from_certificate(
    cert: &Certificate,
) -> Result<(SignerIdentity, Vec<String>), IdentityExtractError> {
    let tbs = cert.tbs_certificate();
    let subject = tbs.subject();
    let mut warnings = Vec::new();

    let surname = first_attr(subject, oids::AT_SURNAME);
    let given_name = first_attr(subject, oids::AT_GIVEN_NAME);
    let full_name = match first_attr(subject, oids::AT_CN) {
        Some(cn) => cn,
        None => match (&surname, &given_name) {
            (Some(s), Some(g)) => format!("{s} {g}"),
            (Some(s), None) => s.clone(),
            (None, Some(g)) => g.clone(),
            (None, None) => return Err(IdentityExtractError::MissingName),
        },
    };

    // Directory attributes first (authoritative in UA qualified certs), subject DN as fallback.
    let dir_attrs: Vec<(const_oid::ObjectIdentifier, String)> = tbs
        .get_extension::<SubjectDirectoryAttributes>()
        .ok()
        .flatten()
        .map(|(_, sda)| {
            sda.0
                .iter()
                .filter_map(|a| {
                    let v = a.values.iter().next().and_then(directory_string)?;
                    Some((a.oid, v.trim().to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    let dir = |oid| {
        dir_attrs
            .iter()
            .find(|(o, _)| *o == oid)
            .map(|(_, v)| v.clone())
    };

    let serial_attr = first_attr(subject, oids::AT_SERIAL_NUMBER);
    let rnokpp_raw = dir(oids::UA_DRFO).or_else(|| {
        serial_attr
            .as_deref()
            .and_then(|s| s.strip_prefix("TINUA-"))
            .map(str::to_owned)
    });
    let rnokpp = rnokpp_raw.and_then(|raw| match Rnokpp::parse(&raw) {
        Ok(r) => Some(r),
        Err(e) => {
            warnings.push(format!("ignoring РНОКПП from certificate: {e}"));
            None
        }
    });

    // CA certificates carry their code as serialNumber "UA-<ЄДРПОУ>-<n>"; last fallback.
    let edrpou_raw = dir(oids::UA_EDRPOU)
        .or_else(|| {
            first_attr(subject, oids::AT_ORG_IDENTIFIER)
                .and_then(|s| s.strip_prefix("NTRUA-").map(str::to_owned))
        })
        .or_else(|| {
            serial_attr
                .as_deref()
                .and_then(|s| s.strip_prefix("UA-"))
                .and_then(|s| s.split('-').next())
                .filter(|s| s.len() == 8)
                .map(str::to_owned)
        });
    let edrpou = edrpou_raw.and_then(|raw| match Edrpou::parse(&raw) {
        Ok(e) => Some(e),
        Err(e) => {
            warnings.push(format!("ignoring ЄДРПОУ from certificate: {e}"));
            None
        }
    });

    let issuer = tbs.issuer();
    let identity = SignerIdentity {
        full_name,
        surname,
        given_name,
        rnokpp,
        edrpou,
        organization: first_attr(subject, oids::AT_ORG),
        title: first_attr(subject, oids::AT_TITLE),
        cert_serial_hex: hex_upper(tbs.serial_number().as_bytes()),
        issuer: name_to_string(issuer),
        issuer_cn: first_attr(issuer, oids::AT_CN),
        not_before: x509_time(tbs.validity().not_before),
        not_after: x509_time(tbs.validity().not_after),
    };
    Ok((identity, warnings))
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
