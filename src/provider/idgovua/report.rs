//! What `kepgate check-config` says about an id.gov.ua provider.

use super::provider::IdGovUaProvider;

impl IdGovUaProvider {
    /// Where and as whom kepgate signs people in, and the redirect URI to register.
    pub fn check_config_lines(&self) -> Vec<String> {
        let settings = self.settings();
        let methods: Vec<&str> = settings.methods.iter().map(|m| m.as_str()).collect();
        vec![
            format!(
                "  provider {} (idgovua) «{}»: {} as client {}, methods {}",
                self.id(),
                settings.common.display_name,
                settings.base_url,
                settings.client_id,
                methods.join(",")
            ),
            format!(
                "    redirect URI to register with id.gov.ua: {}",
                self.redirect_uri()
            ),
        ]
    }
}
