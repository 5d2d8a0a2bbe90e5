//! id.gov.ua's relying-party protocol from the server's side, written from what its public
//! clients send and read. The official description (`IDInfoProcessingD.pdf`) is not public as
//! text; clients quote parts of it in their comments. The sources:
//!
//! - IIT's own OAuth samples, vendored in pchugaienko/documateonline
//!   `wp-content/themes/documate-online/UsagePHP/OAuth.php` (POST with the parameters in the query
//!   string, `Content-Type: application/json` and an empty body; `error` + `message` on failure)
//!   and `UsageJS/oauth2.js`, `UsageJS/main.js` (GET with a query string; reads `auth_type`);
//! - vlbash/diklz `src/App.Business/Services/Token/TokenService.cs` (form POSTs: five parameters
//!   with `redirect_uri` for the token, only `access_token` and `user_id` for the user info) and
//!   `src/App.Data/Models/IdGovUaUserInfo.cs`, `src/App.Data/Models/TokenInfo.cs`;
//! - ita-social-projects/OoS-Backend
//!   `OutOfSchool/OutOfSchool.AuthCommon/Models/IdGovErrorResponse.cs` (`error`, `message`,
//!   `error_description`, read on HTTP 401),
//!   `OutOfSchool/OutOfSchool.AuthorizationServer/Services/GovIdentityCommunicationService.cs`,
//!   `OutOfSchool/OutOfSchool.AuthorizationServer/appsettings.json` (`auth_type` lists, `unzr`);
//! - liquio/liquio `components/id-api/src/strategies/passport_libs/passport-govid/strategy.ts`
//!   (`n/a` values, logout by POST with the query string);
//! - GigabitOff/test-shop `app/Modules/SocialiteEx/Two/DiiaProvider.php` (field descriptions
//!   copied from the spec);
//! - edenlabllc/ehealth.api issues #4905 and #4906 (the spec's token and user-info requests,
//!   "GET / POST").
//!
//! **Error codes.** The token answer and the user-info refusal carry `error` as a number sent as
//! a string (logout's success is `"error":"0"`), but no public source lists the numbers the
//! real service uses. The [`ErrorCode`] values are this emulator's own; clients should branch
//! on the HTTP status and show `message`/`error_description`, never on the number. The token
//! endpoint's statuses are OAuth 2.0's (RFC 6749 §5.2): 400 for a code that is spent, expired
//! or unknown, 401 for a client that failed to authenticate.

use axum::Json;
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The `error` of an answer. The numbers are the emulator's own (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// `"0"`: success (the logout answer).
    Ok,
    /// `"1"` (400): a required parameter is missing or empty.
    MissingParameter,
    /// `"2"` (400): `grant_type` is not `authorization_code`.
    UnsupportedGrantType,
    /// `"3"` (401, as RFC 6749 §5.2 answers `invalid_client`): unknown `client_id`, or a wrong
    /// `client_secret`.
    InvalidClient,
    /// `"4"` (400, as RFC 6749 §5.2 answers `invalid_grant`): the code is unknown, another
    /// client's, expired or already used.
    InvalidCode,
    /// `"5"` (401): `redirect_uri` differs from the one the code was issued for.
    RedirectUriMismatch,
    /// `"6"` (401): the access token is unknown, expired or logged out.
    InvalidToken,
    /// `"7"` (401): `user_id` is not the one the access token was issued with.
    UserIdMismatch,
    /// `"8"` (400): `cert` given: the emulator does not encrypt user info.
    EncryptionNotSupported,
    /// `"9"` (400, 413, 415): the request cannot be read (body type, JSON, a parameter given
    /// twice with different values, too large).
    BadRequest,
    /// `"10"`: an emulated failure (`POST /emulator/faults`).
    InjectedFault,
    /// `"11"` (404, 405, …): no such route, or a method it does not take.
    NoRoute,
    /// `"12"` (500): the emulator itself failed (no randomness).
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Ok => "0",
            ErrorCode::MissingParameter => "1",
            ErrorCode::UnsupportedGrantType => "2",
            ErrorCode::InvalidClient => "3",
            ErrorCode::InvalidCode => "4",
            ErrorCode::RedirectUriMismatch => "5",
            ErrorCode::InvalidToken => "6",
            ErrorCode::UserIdMismatch => "7",
            ErrorCode::EncryptionNotSupported => "8",
            ErrorCode::BadRequest => "9",
            ErrorCode::InjectedFault => "10",
            ErrorCode::NoRoute => "11",
            ErrorCode::Internal => "12",
        }
    }

    /// The HTTP status it is answered with (faults and axum's refusals carry their own).
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::Ok => StatusCode::OK,
            ErrorCode::MissingParameter
            | ErrorCode::UnsupportedGrantType
            | ErrorCode::EncryptionNotSupported
            | ErrorCode::InvalidCode
            | ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::InvalidClient
            | ErrorCode::RedirectUriMismatch
            | ErrorCode::InvalidToken
            | ErrorCode::UserIdMismatch => StatusCode::UNAUTHORIZED,
            ErrorCode::InjectedFault | ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::NoRoute => StatusCode::NOT_FOUND,
        }
    }

    /// `message`: what went wrong in general; `error_description` says what exactly.
    fn message(self) -> &'static str {
        match self {
            ErrorCode::Ok => "Успішно",
            ErrorCode::MissingParameter => "Не вказано обовʼязковий параметр",
            ErrorCode::UnsupportedGrantType => "Непідтримуваний тип grant_type",
            ErrorCode::InvalidClient => "Помилка автентифікації клієнта",
            ErrorCode::InvalidCode => "Недійсний код авторизації",
            ErrorCode::RedirectUriMismatch => "Невідповідний redirect_uri",
            ErrorCode::InvalidToken => "Недійсний маркер доступу",
            ErrorCode::UserIdMismatch => "Невідповідний user_id",
            ErrorCode::EncryptionNotSupported => "Шифрування даних користувача не підтримується",
            ErrorCode::BadRequest => "Некоректний запит",
            ErrorCode::InjectedFault => "Емульований збій",
            ErrorCode::NoRoute => "Невідомий запит",
            ErrorCode::Internal => "Внутрішня помилка",
        }
    }
}

/// `{"error", "error_description", "message"}`: the shape every client reads one part of.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorBody {
    pub error: &'static str,
    pub error_description: String,
    pub message: &'static str,
}

/// An error answer of the JSON routes.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub description: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        ApiError {
            status: code.status(),
            code,
            description: description.into(),
        }
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn missing(name: &str) -> Self {
        Self::new(
            ErrorCode::MissingParameter,
            format!("Параметр {name} відсутній або порожній"),
        )
    }

    pub fn internal(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, description)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            [(CACHE_CONTROL, "no-store")],
            Json(ErrorBody {
                error: self.code.as_str(),
                error_description: self.description,
                message: self.code.message(),
            }),
        )
            .into_response()
    }
}

/// The token answer as the spec example quoted in the Yii client has it; `expires_in` a number
/// and `user_id` a decimal string, as diklz's `TokenInfo` reads them.
#[derive(Debug, Serialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub refresh_token: String,
    pub user_id: String,
}

/// Logout's answer: `{"error":"0","error_description":"Дані користувача із ID = … видалено
/// успішно"}`.
#[derive(Debug, Serialize)]
pub(crate) struct LogoutResponse {
    pub error: &'static str,
    pub error_description: String,
}
