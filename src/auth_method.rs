//! How a person proved who they are at sign-in, as the cabinet, the assertion, OpenID Connect's
//! `acr`/`amr` and the access policies see it.

use std::fmt;

use crate::config::IdGovUaMethod;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A qualified electronic signature (КЕП) kepgate verified itself, chain and revocation
    /// included (Diia.Signature's API): `kep`.
    Kep,
    /// id.gov.ua's word, by the method it names (`auth_type`): `dig_sign`, `diia_id`, `bank_id`.
    IdGovUa(IdGovUaMethod),
}

impl AuthMethod {
    /// The value of the identity header, the assertion's `auth_method` claim and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Kep => "kep",
            AuthMethod::IdGovUa(method) => method.as_str(),
        }
    }

    pub fn parse(s: &str) -> Option<AuthMethod> {
        match s {
            "kep" => Some(AuthMethod::Kep),
            other => IdGovUaMethod::parse(other).map(AuthMethod::IdGovUa),
        }
    }

    /// A qualified electronic signature: kepgate's own check, or id.gov.ua's of any qualified
    /// key (`dig_sign`) or of Diia.Signature (`diia_id`). BankID is a bank's identification,
    /// not a signature.
    pub fn is_qualified_signature(self) -> bool {
        match self {
            AuthMethod::Kep => true,
            AuthMethod::IdGovUa(method) => method != IdGovUaMethod::BankId,
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_parses_back_and_only_bank_id_is_no_signature() {
        let all = [
            AuthMethod::Kep,
            AuthMethod::IdGovUa(IdGovUaMethod::DigSign),
            AuthMethod::IdGovUa(IdGovUaMethod::DiiaId),
            AuthMethod::IdGovUa(IdGovUaMethod::BankId),
        ];
        for method in all {
            assert_eq!(AuthMethod::parse(method.as_str()), Some(method));
            assert_eq!(
                method.is_qualified_signature(),
                method.as_str() != "bank_id"
            );
        }
        assert_eq!(AuthMethod::parse("unspecified"), None);
        assert_eq!(AuthMethod::parse(""), None);
    }
}
