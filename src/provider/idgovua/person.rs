//! Who id.gov.ua says the person is, read from its user info: how they signed in (one of the
//! configured methods, or nobody), the name, the РНОКПП only when `drfocode` is one, the
//! ЄДРПОУ only when `edrpoucode` is one, the certificate when there was one.

use super::settings::IdGovUaMethod;
use super::wire::{UserInfo, field};
use crate::auth_method::AuthMethod;
use crate::identity::{Edrpou, Rnokpp, SignerIdentity};
use crate::provider::exchange::{Identified, IdentifyError};

/// The method recorded when `auth_type` was missing or not a plain word.
const METHOD_NOT_SAID: &str = "unspecified";

/// The person, if they signed in by one of `allowed`. The `auth_type` of the authorization
/// request is only what kepgate asks id.gov.ua to offer: the browser carries it and can change
/// it, so the answer's own `auth_type` is what counts.
pub fn identified(info: &UserInfo, allowed: &[IdGovUaMethod]) -> Result<Identified, IdentifyError> {
    let said = field(info, "auth_type")
        .filter(|m| m.len() <= 32 && m.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    let method = said
        .and_then(IdGovUaMethod::parse)
        .filter(|m| allowed.contains(m))
        .ok_or_else(|| IdentifyError::MethodNotAllowed {
            method: said.unwrap_or(METHOD_NOT_SAID).to_owned(),
        })?;
    let surname = field(info, "lastname").map(str::to_owned);
    // As in a qualified certificate's givenName: the first name and the patronymic.
    let given_name = match (field(info, "givenname"), field(info, "middlename")) {
        (Some(first), Some(middle)) => Some(format!("{first} {middle}")),
        (first, middle) => first.or(middle).map(str::to_owned),
    };
    let full_name = field(info, "subjectcn")
        .map(str::to_owned)
        .or_else(|| {
            let parts: Vec<&str> = [surname.as_deref(), given_name.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
        .unwrap_or_default();
    // `drfocode` holds a passport series and number for people who refused a РНОКПП on
    // religious grounds (the specification, as the Laravel client quotes it): not a РНОКПП.
    let rnokpp = field(info, "drfocode").and_then(|code| Rnokpp::parse(code).ok());
    // A sole trader's `edrpoucode` is their personal 10-digit number: not an ЄДРПОУ.
    let edrpou = field(info, "edrpoucode").and_then(|code| Edrpou::parse(code).ok());
    let cert_serial_hex = field(info, "serial").map(serial_hex).unwrap_or_default();
    let issuer = field(info, "issuer").unwrap_or_default().to_owned();
    // Without a РНОКПП or a certificate there is nothing stable to know the person by.
    if full_name.is_empty()
        || (rnokpp.is_none() && (cert_serial_hex.is_empty() || issuer.is_empty()))
    {
        return Err(IdentifyError::NoIdentity);
    }
    Ok(Identified {
        identity: SignerIdentity {
            full_name,
            surname,
            given_name,
            rnokpp,
            edrpou,
            organization: field(info, "o").map(str::to_owned),
            title: field(info, "title").map(str::to_owned),
            cert_serial_hex,
            issuer,
            issuer_cn: field(info, "issuercn").map(str::to_owned),
            // id.gov.ua names the issuer but not its key.
            issuer_key_sha256: None,
            not_before: None,
            not_after: None,
        }
        .parse_text()?,
        method: AuthMethod::IdGovUa(method),
    })
}

/// The serial as kepgate writes serials (upper-case hex, nothing between the digits), or empty
/// when it is not hex.
fn serial_hex(serial: &str) -> String {
    let hex: String = serial
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if hex.bytes().all(|b| b.is_ascii_hexdigit()) && hex.len() <= 128 {
        hex
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(pairs: &[(&str, &str)]) -> UserInfo {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
            .collect()
    }

    const PERSON: &[(&str, &str)] = &[
        ("auth_type", "dig_sign"),
        ("subjectcn", "Шевченко Тарас Григорович"),
        ("lastname", "Шевченко"),
        ("givenname", "Тарас"),
        ("middlename", "Григорович"),
        ("drfocode", "3012345670"),
        ("edrpoucode", "n/a"),
        ("o", "n/a"),
        ("serial", "5e 98 4d 52"),
        ("issuer", "O=Надавач;CN=КНЕДП;C=UA"),
        ("issuercn", "КНЕДП"),
    ];

    const ALL: &[IdGovUaMethod] = &IdGovUaMethod::ALL;

    #[test]
    fn a_person_with_a_key_is_named_and_numbered() {
        let who = identified(&info(PERSON), ALL).unwrap();
        assert_eq!(who.method, AuthMethod::IdGovUa(IdGovUaMethod::DigSign));
        let id = who.identity;
        assert_eq!(id.full_name, "Шевченко Тарас Григорович");
        assert_eq!(id.surname.as_deref(), Some("Шевченко"));
        assert_eq!(id.given_name.as_deref(), Some("Тарас Григорович"));
        assert_eq!(id.rnokpp.unwrap().as_str(), "3012345670");
        assert!(id.edrpou.is_none() && id.organization.is_none());
        assert_eq!(id.cert_serial_hex, "5E984D52");
    }

    #[test]
    fn a_passport_number_or_a_bad_check_digit_is_not_a_rnokpp() {
        for drfo in ["МЕ123456", "123456789", "3012345671"] {
            let mut pairs = PERSON.to_vec();
            pairs.retain(|(k, _)| *k != "drfocode");
            pairs.push(("drfocode", drfo));
            let id = identified(&info(&pairs), ALL).unwrap().identity;
            assert!(id.rnokpp.is_none(), "{drfo}");
            assert_eq!(id.cert_serial_hex, "5E984D52", "known by the certificate");
        }
    }

    #[test]
    fn without_a_rnokpp_or_a_certificate_nobody_is_identified() {
        // A BankID login of a person whose `drfocode` is a passport number.
        let pairs = [
            ("auth_type", "bank_id"),
            ("subjectcn", "Петренко Марія Іванівна"),
            ("drfocode", "МЕ123456"),
            ("serial", "n/a"),
            ("issuer", "n/a"),
        ];
        assert!(matches!(
            identified(&info(&pairs), ALL),
            Err(IdentifyError::NoIdentity)
        ));
        assert!(matches!(
            identified(
                &info(&[("auth_type", "dig_sign"), ("drfocode", "3012345670")]),
                ALL
            ),
            Err(IdentifyError::NoIdentity)
        ));
    }

    #[test]
    fn a_sole_traders_personal_number_is_not_an_edrpou() {
        let mut pairs = PERSON.to_vec();
        pairs.push(("edrpoucode", "3012345670"));
        let who = identified(&info(&pairs), ALL).unwrap();
        assert!(who.identity.edrpou.is_none());
    }

    #[test]
    fn a_method_not_configured_a_strange_one_or_none_is_refused() {
        let with_method = |method: &'static str| {
            let mut pairs = PERSON.to_vec();
            pairs.retain(|(k, _)| *k != "auth_type");
            if !method.is_empty() {
                pairs.push(("auth_type", method));
            }
            info(&pairs)
        };
        let signatures = &[IdGovUaMethod::DigSign, IdGovUaMethod::DiiaId];
        for (method, recorded) in [
            ("bank_id", "bank_id"),
            ("<script>", "unspecified"),
            ("", "unspecified"),
            ("password", "password"),
        ] {
            match identified(&with_method(method), signatures) {
                Err(IdentifyError::MethodNotAllowed { method }) => assert_eq!(method, recorded),
                other => panic!("{method}: {other:?}"),
            }
        }
        let who = identified(&with_method("diia_id"), signatures).unwrap();
        assert_eq!(who.method, AuthMethod::IdGovUa(IdGovUaMethod::DiiaId));
    }
}
