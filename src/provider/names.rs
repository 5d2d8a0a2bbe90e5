//! The providers' display names alone: what the signed-in page and the account page show,
//! without the adapters' HTTP clients and secrets.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::language::Lang;

/// Built once at start (`Providers::names`); cloning shares it.
#[derive(Clone, Default)]
pub struct ProviderNames(Arc<BTreeMap<String, Name>>);

struct Name {
    uk: String,
    en: Option<String>,
}

impl ProviderNames {
    /// (id, Ukrainian name, English name if any) for each provider.
    pub fn new(names: impl IntoIterator<Item = (String, String, Option<String>)>) -> Self {
        ProviderNames(Arc::new(
            names
                .into_iter()
                .map(|(id, uk, en)| (id, Name { uk, en }))
                .collect(),
        ))
    }

    /// The provider's name in `lang`; its id when it is no longer configured.
    pub fn display_name<'a>(&'a self, id: &'a str, lang: Lang) -> &'a str {
        match self.0.get(id) {
            Some(name) => match lang {
                Lang::En => name.en.as_deref().unwrap_or(&name.uk),
                Lang::Uk => &name.uk,
            },
            None => id,
        }
    }
}
