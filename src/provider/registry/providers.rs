//! The configured providers: one enum over the adapters, and the dropdown's list of them.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::HeaderMap;

use super::settings::ProviderSettings;
use crate::language::Lang;
use crate::provider::common_settings::ProviderCommon;
use crate::provider::diia;
use crate::provider::exchange::{
    CallbackError, HashAlgorithm, Identified, IdentifyError, ProviderError, ProviderStart,
    RequestHash, RequestId, StartedRequest, UserHintSpec,
};
use crate::provider::idgovua;
use crate::provider::kepgate_address::KepgateAddress;
use crate::provider::names::ProviderNames;
use crate::provider::signing::{DecodedCallback, FileHash, SignAlgorithm};

/// A configured provider. An enum rather than a trait object: the set of adapters is known at
/// compile time, and async methods stay plain `async fn`.
#[expect(
    clippy::large_enum_variant,
    reason = "one per configured provider, built once at start and shared behind an Arc"
)]
pub enum Provider {
    Diia(diia::DiiaProvider),
    IdGovUa(idgovua::IdGovUaProvider),
}

impl Provider {
    pub fn from_settings(
        id: &str,
        settings: &ProviderSettings,
        address: KepgateAddress<'_>,
    ) -> anyhow::Result<Provider> {
        Ok(match settings {
            ProviderSettings::Diia(diia) => Provider::Diia(diia::DiiaProvider::new(id, diia)?),
            ProviderSettings::IdGovUa(idgov) => Provider::IdGovUa(idgovua::IdGovUaProvider::new(
                id,
                idgov,
                address.return_url(id)?,
            )?),
        })
    }

    pub fn id(&self) -> &str {
        match self {
            Provider::Diia(p) => p.id(),
            Provider::IdGovUa(p) => p.id(),
        }
    }

    pub fn common(&self) -> &ProviderCommon {
        match self {
            Provider::Diia(p) => p.common(),
            Provider::IdGovUa(p) => p.common(),
        }
    }

    pub fn display_name(&self, lang: Lang) -> &str {
        let common = self.common();
        match lang {
            Lang::En => common
                .display_name_en
                .as_deref()
                .unwrap_or(&common.display_name),
            Lang::Uk => &common.display_name,
        }
    }

    /// `None` when the provider needs nothing from the user (Diia: link + QR).
    pub fn user_hint(&self) -> Option<&UserHintSpec> {
        match self {
            Provider::Diia(_) | Provider::IdGovUa(_) => None,
        }
    }

    /// How this provider's request ids are hashed (and so what its signers digest with).
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        match self {
            Provider::Diia(p) => p.hash_algorithm(),
            Provider::IdGovUa(p) => p.hash_algorithm(),
        }
    }

    /// Whether kepgate verifies this provider's signatures itself (against `trust.files`);
    /// id.gov.ua verifies its own and tells kepgate only who the person is.
    pub fn verifies_signatures(&self) -> bool {
        matches!(self, Provider::Diia(_))
    }

    /// Whether the login page's button sends the browser away (id.gov.ua) rather than
    /// showing a link and a QR code.
    pub fn sends_browser_away(&self) -> bool {
        matches!(self, Provider::IdGovUa(_))
    }

    /// `kepgate check-config`'s lines about this provider.
    pub fn check_config_lines(&self, address: KepgateAddress<'_>) -> Vec<String> {
        match self {
            Provider::Diia(p) => p.check_config_lines(address),
            Provider::IdGovUa(p) => p.check_config_lines(),
        }
    }

    pub async fn start(
        &self,
        request_id: &RequestId,
        request_hash: &RequestHash,
        user_hint: Option<&str>,
    ) -> Result<ProviderStart, ProviderError> {
        match self {
            Provider::Diia(p) => Ok(ProviderStart::OnPhone(
                p.start(request_hash, user_hint).await?,
            )),
            Provider::IdGovUa(p) => Ok(ProviderStart::Redirect {
                to: p.authorize_url(request_id)?,
            }),
        }
    }

    /// Whether this provider can have documents signed: Diia can; id.gov.ua only tells who
    /// the person is.
    pub fn can_sign(&self) -> bool {
        matches!(self, Provider::Diia(_))
    }

    /// The key family signing uses when a request names none.
    pub fn default_sign_algorithm(&self) -> Option<SignAlgorithm> {
        match self {
            Provider::Diia(p) => Some(p.default_sign_algorithm()),
            Provider::IdGovUa(_) => None,
        }
    }

    /// Asks the provider to have `files` signed on the person's phone.
    pub async fn start_signing(
        &self,
        request_id: &str,
        files: &[FileHash<'_>],
        algorithm: SignAlgorithm,
    ) -> Result<StartedRequest, ProviderError> {
        match self {
            Provider::Diia(p) => p.start_signing(request_id, files, algorithm).await,
            Provider::IdGovUa(_) => Err(ProviderError::NotConfigured(
                "this provider does not sign documents".to_owned(),
            )),
        }
    }

    /// A cross-device provider's server-side callback: about a login or a signing request.
    pub async fn decode_callback(
        &self,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<DecodedCallback, CallbackError> {
        match self {
            Provider::Diia(p) => p.decode_callback(headers, body).await,
            Provider::IdGovUa(_) => Err(CallbackError::Malformed(
                "this provider sends the browser back instead of calling".to_owned(),
            )),
        }
    }

    /// A redirect provider's code, exchanged server-side for who the person is.
    pub async fn identify(&self, code: &str) -> Result<Identified, IdentifyError> {
        match self {
            Provider::IdGovUa(p) => p.identify(code).await,
            Provider::Diia(_) => Err(ProviderError::NotConfigured(
                "this provider does not send the browser back".to_owned(),
            )
            .into()),
        }
    }
}

/// Where a redirect provider sends the browser back: `{base_url}{prefix}/login/return/{id}`,
/// on the address people browse, where the login's binding cookie is. Takes `&ServerSettings`
/// too (it converts).
pub fn return_url<'a>(
    address: impl Into<KepgateAddress<'a>>,
    provider_id: &str,
) -> anyhow::Result<url::Url> {
    Ok(address.into().return_url(provider_id)?)
}

/// The configured providers, in dropdown order.
#[derive(Clone, Default)]
pub struct Providers {
    by_id: BTreeMap<String, Arc<Provider>>,
    order: Vec<String>,
}

impl Providers {
    pub fn from_settings(
        settings: &BTreeMap<String, ProviderSettings>,
        address: KepgateAddress<'_>,
    ) -> anyhow::Result<Self> {
        let mut by_id = BTreeMap::new();
        for (id, s) in settings {
            by_id.insert(
                id.clone(),
                Arc::new(Provider::from_settings(id, s, address)?),
            );
        }
        let mut order: Vec<String> = by_id.keys().cloned().collect();
        order.sort_by_key(|id| {
            (
                settings.get(id).map(|s| s.common().order).unwrap_or(0),
                id.clone(),
            )
        });
        Ok(Providers { by_id, order })
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Provider>> {
        self.by_id.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Provider>> {
        self.order.iter().filter_map(|id| self.by_id.get(id))
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// `kepgate check-config`'s lines about every provider, by id.
    pub fn check_config_lines(&self, address: KepgateAddress<'_>) -> Vec<String> {
        self.by_id
            .values()
            .flat_map(|p| p.check_config_lines(address))
            .collect()
    }

    /// The display names alone, for the features that show them.
    pub fn names(&self) -> ProviderNames {
        ProviderNames::new(self.iter().map(|p| {
            let common = p.common();
            (
                p.id().to_owned(),
                common.display_name.clone(),
                common.display_name_en.clone(),
            )
        }))
    }

    /// The origins the login form's redirects lead to (`https://id.gov.ua`), for its
    /// Content-Security-Policy's `form-action`.
    pub fn redirect_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = self
            .iter()
            .filter_map(|p| match p.as_ref() {
                Provider::IdGovUa(p) => Some(p.authorize_origin()),
                Provider::Diia(_) => None,
            })
            .collect();
        origins.sort();
        origins.dedup();
        origins
    }
}
