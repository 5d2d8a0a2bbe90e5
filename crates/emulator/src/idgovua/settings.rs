//! What an id.gov.ua emulator is started with: [`IdGovUaSettings`] and the relying parties it
//! knows ([`RegisteredClient`]).

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use url::Url;

/// The client the demo registers with the emulator.
pub const DEMO_CLIENT_ID: &str = "kepgate-demo";
/// The demo client's secret (a test value: the emulator guards nothing real).
pub const DEMO_CLIENT_SECRET: &str = "emulator-client-secret";
/// How long an authorization code can be exchanged.
pub const DEFAULT_CODE_TTL: Duration = Duration::from_secs(5 * 60);
/// How long an access token works (`expires_in` of the token answer).
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(60 * 60);

/// A relying party as ІСЕІ registers it: the real service issues `client_id` and `client_secret`
/// and accepts only the redirect URI named in the connection request ("вказується URI згідно
/// заявки в ІСЕІ", IIT's PHP sample).
#[derive(Clone)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_secret: String,
    /// Compared with the `redirect_uri` of a request as a string, exactly (`Url::as_str`).
    pub redirect_uri: Url,
}

impl RegisteredClient {
    /// [`DEMO_CLIENT_ID`] with [`DEMO_CLIENT_SECRET`], returning to `redirect_uri`.
    pub fn demo(redirect_uri: Url) -> Self {
        RegisteredClient {
            client_id: DEMO_CLIENT_ID.to_owned(),
            client_secret: DEMO_CLIENT_SECRET.to_owned(),
            redirect_uri,
        }
    }
}

impl fmt::Debug for RegisteredClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisteredClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"REDACTED")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .finish()
    }
}

#[derive(Clone)]
pub struct IdGovUaSettings {
    pub listen: SocketAddr,
    /// The login form posts to `{public_base_url}authorize` (a trailing `/` is added if
    /// missing), so the emulator also works behind a path prefix.
    pub public_base_url: Url,
    pub clients: Vec<RegisteredClient>,
    /// Lifetime of an authorization code ([`DEFAULT_CODE_TTL`]).
    pub code_ttl: Duration,
    /// Lifetime of an access token ([`DEFAULT_TOKEN_TTL`]).
    pub token_ttl: Duration,
}

impl IdGovUaSettings {
    /// Settings for one client, everything else at its default.
    pub fn new(listen: SocketAddr, public_base_url: Url, client: RegisteredClient) -> Self {
        IdGovUaSettings {
            listen,
            public_base_url,
            clients: vec![client],
            code_ttl: DEFAULT_CODE_TTL,
            token_ttl: DEFAULT_TOKEN_TTL,
        }
    }

    pub(crate) fn client(&self, client_id: &str) -> Option<&RegisteredClient> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }
}

impl fmt::Debug for IdGovUaSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdGovUaSettings")
            .field("listen", &self.listen)
            .field("public_base_url", &self.public_base_url.as_str())
            .field("clients", &self.clients)
            .field("code_ttl", &self.code_ttl)
            .field("token_ttl", &self.token_ttl)
            .finish()
    }
}
