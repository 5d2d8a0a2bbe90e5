//! What an emulator is started with: [`EmulatorSettings`], and the `kepgate emulator` flags
//! ([`EmulatorArgs`]) they come from.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::error::EmulatorError;

/// Diia's SDKs cache the session token for 2 h, so that is what the emulator grants.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(2 * 60 * 60);
pub const DEFAULT_ACQUIRER_TOKEN: &str = "emulator-acquirer-token";
pub const DEFAULT_SERVICE_NAME: &str = "Дія.Підпис · емулятор";

#[derive(Clone)]
pub struct EmulatorSettings {
    pub listen: SocketAddr,
    /// Deeplinks and the phone page's links are built on it (a trailing `/` is added if missing).
    pub public_base_url: Url,
    /// Where callbacks are POSTed. Diia registers this per partner, not per request.
    pub partner_callback_url: Url,
    /// The secret in the token path, `GET /api/v1/auth/acquirer/{acquirer_token}`.
    pub acquirer_token: String,
    /// If set, token requests must carry `Authorization: Basic <this>`.
    pub auth_acquirer_token: Option<String>,
    pub token_ttl: Duration,
    /// Keeps the CA and the identity keys across restarts (`None`: a new CA every start).
    pub state_dir: Option<PathBuf>,
    /// Shown in the phone page's title.
    pub service_name: String,
    /// A CA to trust for the callback URL beside the system's (a gateway on HTTPS with a
    /// private CA; Diia itself trusts public CAs only).
    pub partner_ca_file: Option<PathBuf>,
    /// A branch and offer the emulator holds from its start, as if `kepgate diia setup` had
    /// created them once: a gateway configured with these ids needs no setup step.
    pub registered: Option<Registered>,
    /// Where the emulator writes its test CA certificates at start, for a gateway to trust.
    pub ca_cert_file: Option<PathBuf>,
}

/// The ids of a branch and its offer, both for login and for document signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub branch_id: String,
    pub offer_id: String,
}

impl EmulatorSettings {
    /// Settings for a local run: everything but the addresses at its default.
    pub fn new(listen: SocketAddr, public_base_url: Url, partner_callback_url: Url) -> Self {
        EmulatorSettings {
            listen,
            public_base_url,
            partner_callback_url,
            acquirer_token: DEFAULT_ACQUIRER_TOKEN.to_owned(),
            auth_acquirer_token: None,
            token_ttl: DEFAULT_TOKEN_TTL,
            state_dir: None,
            service_name: DEFAULT_SERVICE_NAME.to_owned(),
            partner_ca_file: None,
            registered: None,
            ca_cert_file: None,
        }
    }
}

impl fmt::Debug for EmulatorSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorSettings")
            .field("listen", &self.listen)
            .field("public_base_url", &self.public_base_url.as_str())
            .field("partner_callback_url", &self.partner_callback_url.as_str())
            .field("acquirer_token", &"REDACTED")
            .field(
                "auth_acquirer_token",
                &self.auth_acquirer_token.as_ref().map(|_| "REDACTED"),
            )
            .field("token_ttl", &self.token_ttl)
            .field("state_dir", &self.state_dir)
            .field("service_name", &self.service_name)
            .field("registered", &self.registered)
            .field("ca_cert_file", &self.ca_cert_file)
            .finish()
    }
}

/// Command-line flags of `kepgate emulator` (each also from `KEPGATE_EMULATOR_…`).
#[derive(Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Socket the emulator listens on.
    #[arg(
        long,
        env = "KEPGATE_EMULATOR_LISTEN",
        default_value = "127.0.0.1:8090"
    )]
    pub listen: SocketAddr,
    /// Address phones open (deeplinks point here); default http://<listen>/.
    #[arg(long, env = "KEPGATE_EMULATOR_PUBLIC_BASE_URL")]
    pub public_base_url: Option<Url>,
    /// The gateway's Diia callback URL, where signed answers are POSTed.
    #[arg(long, env = "KEPGATE_EMULATOR_PARTNER_CALLBACK_URL")]
    pub partner_callback_url: Url,
    /// Acquirer token the gateway must use to get a session token.
    #[arg(
        long,
        env = "KEPGATE_EMULATOR_ACQUIRER_TOKEN",
        default_value = DEFAULT_ACQUIRER_TOKEN,
        hide_env_values = true
    )]
    pub acquirer_token: String,
    /// If set, token requests must carry `Authorization: Basic <this>`.
    #[arg(
        long,
        env = "KEPGATE_EMULATOR_AUTH_ACQUIRER_TOKEN",
        hide_env_values = true
    )]
    pub auth_acquirer_token: Option<String>,
    /// Directory keeping the test CA and identity keys across restarts (default: in memory).
    #[arg(long, env = "KEPGATE_EMULATOR_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// PEM CA certificates to trust for the callback URL beside the system's.
    #[arg(long, env = "KEPGATE_EMULATOR_PARTNER_CA_FILE")]
    pub partner_ca_file: Option<PathBuf>,
    /// Session token lifetime in seconds.
    #[arg(long, env = "KEPGATE_EMULATOR_TOKEN_TTL", default_value_t = DEFAULT_TOKEN_TTL.as_secs())]
    pub token_ttl: u64,
    /// A branch the emulator holds from its start (with `--offer-id`), as if `kepgate diia
    /// setup` had created it: give the gateway the same ids and no setup step is needed.
    #[arg(long, env = "KEPGATE_EMULATOR_BRANCH_ID", requires = "offer_id")]
    pub branch_id: Option<String>,
    /// The offer of `--branch-id`, for login and document signing.
    #[arg(long, env = "KEPGATE_EMULATOR_OFFER_ID", requires = "branch_id")]
    pub offer_id: Option<String>,
    /// Writes the emulator's test CA certificates to this file at start, for the gateway's
    /// `trust.files`.
    #[arg(long, env = "KEPGATE_EMULATOR_CA_CERT_FILE")]
    pub ca_cert_file: Option<PathBuf>,
}

impl fmt::Debug for EmulatorArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorArgs")
            .field("listen", &self.listen)
            .field(
                "public_base_url",
                &self.public_base_url.as_ref().map(Url::as_str),
            )
            .field("partner_callback_url", &self.partner_callback_url.as_str())
            .field("acquirer_token", &"REDACTED")
            .field(
                "auth_acquirer_token",
                &self.auth_acquirer_token.as_ref().map(|_| "REDACTED"),
            )
            .field("state_dir", &self.state_dir)
            .field("token_ttl", &self.token_ttl)
            .field("branch_id", &self.branch_id)
            .field("offer_id", &self.offer_id)
            .field("ca_cert_file", &self.ca_cert_file)
            .finish()
    }
}

impl EmulatorArgs {
    pub fn into_settings(self) -> Result<EmulatorSettings, EmulatorError> {
        let public_base_url = match self.public_base_url {
            Some(url) => url,
            None => Url::parse(&format!("http://{}/", self.listen)).map_err(|e| {
                EmulatorError::Config {
                    key: "public_base_url",
                    reason: e.to_string(),
                }
            })?,
        };
        Ok(EmulatorSettings {
            listen: self.listen,
            public_base_url,
            partner_callback_url: self.partner_callback_url,
            acquirer_token: self.acquirer_token,
            auth_acquirer_token: self.auth_acquirer_token,
            token_ttl: Duration::from_secs(self.token_ttl),
            state_dir: self.state_dir,
            service_name: DEFAULT_SERVICE_NAME.to_owned(),
            partner_ca_file: self.partner_ca_file,
            registered: registered(self.branch_id, self.offer_id)?,
            ca_cert_file: self.ca_cert_file,
        })
    }
}

/// Both ids or neither (clap sees to that); each one a plain token, as Diia's ids are.
fn registered(
    branch_id: Option<String>,
    offer_id: Option<String>,
) -> Result<Option<Registered>, EmulatorError> {
    let (Some(branch_id), Some(offer_id)) = (branch_id, offer_id) else {
        return Ok(None);
    };
    for (key, id) in [("branch_id", &branch_id), ("offer_id", &offer_id)] {
        let plain = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !plain {
            return Err(EmulatorError::Config {
                key,
                reason: format!("{id:?} is not 1 to 64 letters, digits, '-' or '_'"),
            });
        }
    }
    Ok(Some(Registered {
        branch_id,
        offer_id,
    }))
}
