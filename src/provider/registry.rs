//! The configured providers: one enum over the adapters, and the dropdown's list of them.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::HeaderMap;

use super::diia;
use super::exchange::{
    CallbackError, HashAlgorithm, ProviderCallback, ProviderError, RequestHash, StartedRequest,
    UserHintSpec,
};
use crate::config::{ProviderCommon, ProviderSettings};
use crate::language::Lang;

/// A configured provider. An enum rather than a trait object: the set of adapters is known at
/// compile time, and async methods stay plain `async fn`.
pub enum Provider {
    Diia(diia::DiiaProvider),
}

impl Provider {
    pub fn from_settings(id: &str, settings: &ProviderSettings) -> anyhow::Result<Provider> {
        Ok(match settings {
            ProviderSettings::Diia(diia) => Provider::Diia(diia::DiiaProvider::new(id, diia)?),
        })
    }

    pub fn id(&self) -> &str {
        match self {
            Provider::Diia(p) => p.id(),
        }
    }

    pub fn common(&self) -> &ProviderCommon {
        match self {
            Provider::Diia(p) => p.common(),
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
            Provider::Diia(_) => None,
        }
    }

    /// How this provider's request ids are hashed (and so what its signers digest with).
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        match self {
            Provider::Diia(p) => p.hash_algorithm(),
        }
    }

    pub async fn start(
        &self,
        request_hash: &RequestHash,
        user_hint: Option<&str>,
    ) -> Result<StartedRequest, ProviderError> {
        match self {
            Provider::Diia(p) => p.start(request_hash, user_hint).await,
        }
    }

    pub async fn decode_callback(
        &self,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<ProviderCallback, CallbackError> {
        match self {
            Provider::Diia(p) => p.decode_callback(headers, body).await,
        }
    }
}

/// The configured providers, in dropdown order.
#[derive(Clone, Default)]
pub struct Providers {
    by_id: BTreeMap<String, Arc<Provider>>,
    order: Vec<String>,
}

impl Providers {
    pub fn from_settings(settings: &BTreeMap<String, ProviderSettings>) -> anyhow::Result<Self> {
        let mut by_id = BTreeMap::new();
        for (id, s) in settings {
            by_id.insert(id.clone(), Arc::new(Provider::from_settings(id, s)?));
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
}
