//! How a person proved who they are at sign-in, as the cabinet, the assertion, OpenID Connect's
//! `acr`/`amr` and the access policies see it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The `acr` of a qualified signature kepgate verified itself, to the national trust list.
const ACR_QUALIFIED_SIGNATURE: &str = "urn:kepgate:acr:qualified-signature";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A qualified electronic signature (КЕП) kepgate verified itself, chain and revocation
    /// included (Diia.Signature's API): `kep`.
    Kep,
    /// id.gov.ua's word, by the method it names (`auth_type`): `dig_sign`, `diia_id`, `bank_id`.
    IdGovUa(IdGovUaMethod),
}

impl AuthMethod {
    /// Every `acr` [`Self::acr_of`] gives, strongest first (OpenID discovery lists them).
    pub const ACR_VALUES: [&'static str; 3] = [
        ACR_QUALIFIED_SIGNATURE,
        IDGOVUA_ACR_QUALIFIED_SIGNATURE,
        IDGOVUA_ACR,
    ];

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
            AuthMethod::IdGovUa(method) => method.is_qualified_signature(),
        }
    }

    /// OpenID Connect's `amr` (RFC 8176 style; the values are kepgate's own, listed in
    /// docs/oidc.md): `kep` for a signature kepgate verified itself, else the labels of the
    /// provider that vouched for the person.
    pub fn amr(self) -> Vec<&'static str> {
        match self {
            AuthMethod::Kep => vec!["kep"],
            AuthMethod::IdGovUa(method) => method.amr(),
        }
    }

    /// OpenID Connect's `acr`: the assurance behind [`Self::amr`].
    pub fn acr(self) -> &'static str {
        match self {
            AuthMethod::Kep => ACR_QUALIFIED_SIGNATURE,
            AuthMethod::IdGovUa(method) => method.acr(),
        }
    }

    /// `amr` of a session that may have no method recorded. Every login records one; only
    /// sessions opened before kepgate did (migration 0010) have none, and that migration gave
    /// each one with a certificate kepgate verified `kep`: the rest were id.gov.ua logins whose
    /// answer named no method, and keep id.gov.ua's word as their label.
    pub fn amr_of(method: Option<AuthMethod>) -> Vec<&'static str> {
        method.map_or_else(|| vec![IDGOVUA_AMR], AuthMethod::amr)
    }

    /// `acr` of a session that may have no method recorded (see [`Self::amr_of`]): nothing
    /// recorded is no signature.
    pub fn acr_of(method: Option<AuthMethod>) -> &'static str {
        method.map_or(IDGOVUA_ACR, AuthMethod::acr)
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value of id.gov.ua's `auth_type`: how id.gov.ua says the person signed in, and which of
/// them a provider offers (`[providers.<id>] methods`, `provider/idgovua/settings.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdGovUaMethod {
    /// Any qualified key (file, token or cloud), verified by id.gov.ua.
    DigSign,
    /// Diia.Signature in the Diia app.
    DiiaId,
    /// BankID: a bank vouches for the person; no signature.
    BankId,
}

impl IdGovUaMethod {
    pub const ALL: [IdGovUaMethod; 3] = [
        IdGovUaMethod::DigSign,
        IdGovUaMethod::DiiaId,
        IdGovUaMethod::BankId,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdGovUaMethod::DigSign => "dig_sign",
            IdGovUaMethod::DiiaId => "diia_id",
            IdGovUaMethod::BankId => "bank_id",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Any qualified key (`dig_sign`) or Diia.Signature (`diia_id`); BankID is a bank's
    /// identification, not a signature.
    pub fn is_qualified_signature(self) -> bool {
        self != IdGovUaMethod::BankId
    }

    /// OpenID Connect's `amr` for a login by this method (docs/oidc.md): id.gov.ua's word and
    /// the method it names.
    pub fn amr(self) -> Vec<&'static str> {
        vec![IDGOVUA_AMR, self.as_str()]
    }

    /// OpenID Connect's `acr`: a qualified signature id.gov.ua verified, or its word without
    /// one.
    pub fn acr(self) -> &'static str {
        if self.is_qualified_signature() {
            IDGOVUA_ACR_QUALIFIED_SIGNATURE
        } else {
            IDGOVUA_ACR
        }
    }
}

/// The `amr` value of every id.gov.ua login (docs/oidc.md).
const IDGOVUA_AMR: &str = "idgovua";
/// The `acr` of an id.gov.ua login by a qualified signature, and of one without a signature.
const IDGOVUA_ACR_QUALIFIED_SIGNATURE: &str = "urn:kepgate:acr:idgovua:qualified-signature";
const IDGOVUA_ACR: &str = "urn:kepgate:acr:idgovua";

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

    /// The labels OpenID clients see (docs/oidc.md), whichever provider decides them.
    #[test]
    fn each_method_has_its_documented_amr_and_acr() {
        use IdGovUaMethod::{BankId, DigSign, DiiaId};
        let cases = [
            (
                Some(AuthMethod::Kep),
                vec!["kep"],
                "urn:kepgate:acr:qualified-signature",
            ),
            (
                Some(AuthMethod::IdGovUa(DigSign)),
                vec!["idgovua", "dig_sign"],
                "urn:kepgate:acr:idgovua:qualified-signature",
            ),
            (
                Some(AuthMethod::IdGovUa(DiiaId)),
                vec!["idgovua", "diia_id"],
                "urn:kepgate:acr:idgovua:qualified-signature",
            ),
            (
                Some(AuthMethod::IdGovUa(BankId)),
                vec!["idgovua", "bank_id"],
                "urn:kepgate:acr:idgovua",
            ),
            (None, vec!["idgovua"], "urn:kepgate:acr:idgovua"),
        ];
        for (method, amr, acr) in cases {
            assert_eq!(AuthMethod::amr_of(method), amr, "{method:?}");
            assert_eq!(AuthMethod::acr_of(method), acr, "{method:?}");
            assert!(AuthMethod::ACR_VALUES.contains(&acr));
        }
    }
}
