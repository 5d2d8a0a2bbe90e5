//! What `kepgate check-config` says about a Diia provider.

use super::provider::DiiaProvider;
use super::settings::DiiaSignAlgo;
use crate::config::ServerSettings;

impl DiiaProvider {
    /// The callback URL to give Diia (without its secret segment: this output ends up in
    /// tickets) and what `sign_algo` means.
    pub fn check_config_lines(&self, server: &ServerSettings) -> Vec<String> {
        let id = self.id();
        let settings = self.settings();
        let meaning = match settings.sign_algo {
            DiiaSignAlgo::Default => "no signAlgo sent: Diia's default, DSTU 4145 / GOST 34.311",
            DiiaSignAlgo::Dstu => "signAlgo DSTU: DSTU 4145 / GOST 34.311",
            DiiaSignAlgo::Ecdsa => "signAlgo ECDSA: ECDSA / SHA-256",
        };
        vec![
            format!(
                "  provider {id} (diia) «{}»: callback {}{}/callback/{id}/<callback_secret>",
                settings.common.display_name,
                server.public_base_url().as_str().trim_end_matches('/'),
                server.route_prefix
            ),
            format!(
                "    sign_algo = \"{}\" ({meaning})",
                settings.sign_algo.as_str()
            ),
        ]
    }
}
