//! Where kepgate is reached, as a provider names it: a redirect provider's return address and
//! the callback address `check-config` prints. The caller takes it from `[server]`
//! (`config::ServerSettings` converts), so `provider/` never reads the whole configuration.

use url::Url;

use crate::routes::PROVIDER_RETURN;

#[derive(Debug, Clone, Copy)]
pub struct KepgateAddress<'a> {
    /// `server.base_url`: the address people browse, where the login's binding cookie is.
    pub base_url: &'a Url,
    /// `server.public_base_url` (or `base_url`): what providers call and phones open.
    pub public_base_url: &'a Url,
    /// `server.route_prefix`: kepgate's own routes are below it.
    pub route_prefix: &'a str,
}

impl KepgateAddress<'_> {
    /// Where a redirect provider sends the browser back:
    /// `{base_url}{route_prefix}/login/return/{id}`.
    pub fn return_url(&self, provider_id: &str) -> Result<Url, url::ParseError> {
        self.base_url.join(&format!(
            "{}{PROVIDER_RETURN}{provider_id}",
            self.route_prefix
        ))
    }

    /// `{public_base_url}{route_prefix}`, without a trailing slash: callback URLs go on from it.
    pub fn public_routes(&self) -> String {
        format!(
            "{}{}",
            self.public_base_url.as_str().trim_end_matches('/'),
            self.route_prefix
        )
    }
}
