//! What `kepgate check-config` says about a Diia provider.

use super::provider::DiiaProvider;
use super::settings::DiiaSignAlgo;
use crate::provider::kepgate_address::KepgateAddress;

impl DiiaProvider {
    /// The callback URL to give Diia (without its secret segment: this output ends up in
    /// tickets) and what `sign_algo` means.
    pub fn check_config_lines(&self, address: KepgateAddress<'_>) -> Vec<String> {
        let id = self.id();
        let settings = self.settings();
        let meaning = match settings.sign_algo {
            DiiaSignAlgo::Default => "no signAlgo sent: Diia's default, DSTU 4145 / GOST 34.311",
            DiiaSignAlgo::Dstu => "signAlgo DSTU: DSTU 4145 / GOST 34.311",
            DiiaSignAlgo::Ecdsa => "signAlgo ECDSA: ECDSA / SHA-256",
        };
        vec![
            format!(
                "  provider {id} (diia) «{}»: callback {}/callback/{id}/<callback_secret>",
                settings.common.display_name,
                address.public_routes(),
            ),
            format!(
                "    sign_algo = \"{}\" ({meaning})",
                settings.sign_algo.as_str()
            ),
        ]
    }
}
