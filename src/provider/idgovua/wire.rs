//! id.gov.ua's relying-party API (ІСЕІ) from the client's side, field for field as public
//! clients use it. The specification itself (`IDInfoProcessingD.pdf`) has no public text; these
//! clients quote it and agree on what is below:
//! - IIT's own OAuth samples (PHP `UsagePHP/OAuth.php`, Node `UsageJS/oauth2.js`), as vendored in
//!   `pchugaienko/documateonline` (`wp-content/themes/documate-online/`);
//! - `vlbash/diklz` (C#: `src/App.Data/Models/IdGovUaUserInfo.cs`, `TokenInfo.cs`,
//!   `src/App.Business/Services/Token/TokenService.cs`);
//! - `ita-social-projects/OoS-Backend` (C#: `OutOfSchool.Encryption/Models/UserInfoResponse.cs`,
//!   `OutOfSchool.AuthCommon/Models/IdGovErrorResponse.cs`);
//! - `liquio/liquio` (TypeScript: `components/id-api/src/strategies/govid.ts`);
//! - `GigabitOff/test-shop` (Laravel Socialite: `app/Modules/SocialiteEx/Two/DiiaProvider.php`,
//!   whose comments carry the specification's field descriptions);
//! - e-Health Ukraine's `edenlabllc/ehealth.api` issues #4905 and #4906 (the specification's
//!   URIs and examples).
//!
//! The emulator (`crates/emulator/src/idgovua/`) reads the same sources for the server's side with
//! types of its own.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The authorization request is the site root: `{base}/?response_type=code&client_id=…&
/// auth_type=dig_sign,diia_id&state=…&redirect_uri=…` (IIT samples; Laravel; liquio).
pub const AUTHORIZE_PATH: &str = "";
/// `grant_type=authorization_code&client_id&client_secret&code[&redirect_uri]`. The
/// specification allows GET or POST; kepgate POSTs a form, as `vlbash/diklz` does, so that the
/// client secret is never in a URL (and so in no access log).
pub const TOKEN_PATH: &str = "get-access-token";
/// `access_token&user_id&fields=a,b,c[&cert]`; POSTed as a form too.
pub const USER_INFO_PATH: &str = "get-user-info";
/// `access_token&user_id`: ends the person's session at id.gov.ua once kepgate has what it
/// needs (liquio and the Python clients call it right after the user info).
pub const LOGOUT_PATH: &str = "get-user-logout";

/// The user-info fields kepgate asks for: the name, the numbers, the organisation and the
/// certificate. (`auth_type` comes back without being asked.)
pub const FIELDS: &str = "issuer,issuercn,serial,subject,subjectcn,o,title,lastname,givenname,middlename,edrpoucode,drfocode";

/// `get-access-token`'s answer: `{"access_token","token_type":"bearer","expires_in",
/// "refresh_token","user_id"}`. Clients disagree on whether `user_id` and `expires_in` are
/// numbers or strings (diklz: string and int; the e-Health wiki: `user_id=136`), so both are read.
#[derive(Debug, Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    pub user_id: NumberOrString,
}

/// An error as the clients read it: `error` (a number, often sent as a string; `"0"` is
/// success, as the logout answer shows), with `error_description` and/or `message`.
#[derive(Debug, Deserialize)]
pub struct ErrorAnswer {
    pub error: Option<NumberOrString>,
    pub error_description: Option<String>,
    pub message: Option<String>,
}

impl ErrorAnswer {
    /// `Some` when the body says something went wrong.
    pub fn failure(&self) -> Option<String> {
        let code = self.error.as_ref()?.0.as_str();
        if code == "0" {
            return None;
        }
        let text = self
            .error_description
            .as_deref()
            .or(self.message.as_deref())
            .unwrap_or("no description");
        Some(format!("error {code}: {text}"))
    }
}

/// Whose the fault is when `get-access-token` refuses: the code's (the person starts again) or
/// kepgate's own client (the operator's to fix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// Spent, expired, another client's, or not one id.gov.ua issued.
    Code,
    /// The client id or secret, the redirect URI, or the request's form.
    Client,
}

/// Reads a token refusal. No public source lists id.gov.ua's `error` numbers, so the names of
/// OAuth 2.0 (RFC 6749 §5.2) are read when sent, and otherwise the status as §5.2 has it: 401
/// (and 403) for a client that failed to authenticate, 400 for a bad grant. A 400 of a
/// malformed request is kepgate's own fault, which no operator setting causes; the log has the
/// answer either way.
pub fn token_refusal(status: u16, error: Option<&str>) -> TokenRefusal {
    match error {
        Some("invalid_grant") => TokenRefusal::Code,
        Some(
            "invalid_client"
            | "unauthorized_client"
            | "invalid_request"
            | "unsupported_grant_type"
            | "invalid_scope",
        ) => TokenRefusal::Client,
        _ if matches!(status, 401 | 403) => TokenRefusal::Client,
        _ => TokenRefusal::Code,
    }
}

/// A JSON number or string, kept as its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberOrString(pub String);

impl<'de> Deserialize<'de> for NumberOrString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => Ok(NumberOrString(s)),
            serde_json::Value::Number(n) => Ok(NumberOrString(n.to_string())),
            other => Err(serde::de::Error::custom(format!(
                "expected a number or a string, got {other}"
            ))),
        }
    }
}

/// `get-user-info`'s answer: a flat object of strings (`{"auth_type":"dig_sign","issuer":…,
/// "drfocode":…}`). A value id.gov.ua does not know is `"n/a"` (liquio's `NAMES_NA_LIST`), e.g.
/// every certificate field after a BankID login.
pub type UserInfo = BTreeMap<String, serde_json::Value>;

/// Present instead of the fields when the request named the relying party's certificate
/// (`cert`); kepgate never sends one (docs/providers.md: "Encrypted user info").
pub const ENCRYPTED_USER_INFO: &str = "encryptedUserInfo";

/// A field's value, unless absent, empty or "not known".
pub fn field<'a>(info: &'a UserInfo, name: &str) -> Option<&'a str> {
    let value = info.get(name)?.as_str()?.trim();
    let unknown =
        value.is_empty() || value.eq_ignore_ascii_case("n/a") || value.eq_ignore_ascii_case("n\\a");
    (!unknown).then_some(value)
}
