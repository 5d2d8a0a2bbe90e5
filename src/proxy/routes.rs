//! Where signed-in users are proxied (the configured routes, longest prefix first) and who may
//! go there (a route's access policy).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::config::{RouteSettings, Settings};

pub struct CabinetRoute {
    pub name: String,
    pub settings: RouteSettings,
    pub(super) client: Client<HttpConnector, Body>,
}

/// The configured routes, longest prefix first.
#[derive(Clone, Default)]
pub struct CabinetRoutes(Arc<Vec<CabinetRoute>>);

impl CabinetRoutes {
    pub fn from_settings(settings: &Settings) -> Self {
        let mut routes: Vec<CabinetRoute> = settings
            .routes
            .iter()
            .map(|(name, route)| {
                let mut connector = HttpConnector::new();
                connector.set_connect_timeout(Some(route.connect_timeout));
                connector.set_nodelay(true);
                let client = Client::builder(TokioExecutor::new())
                    .pool_idle_timeout(Duration::from_secs(90))
                    .pool_max_idle_per_host(512)
                    .build(connector);
                CabinetRoute {
                    name: name.clone(),
                    settings: route.clone(),
                    client,
                }
            })
            .collect();
        routes.sort_by_key(|r| std::cmp::Reverse(r.settings.prefix.len()));
        CabinetRoutes(Arc::new(routes))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn find(&self, path: &str) -> Option<&CabinetRoute> {
        self.0
            .iter()
            .find(|r| prefix_matches(&r.settings.prefix, path))
    }
}

/// `/static` matches `/static` and `/static/x`, not `/staticky`.
fn prefix_matches(prefix: &str, path: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_matches;

    #[test]
    fn prefixes_match_on_segment_boundaries() {
        assert!(prefix_matches("/", "/anything"));
        assert!(prefix_matches("/static", "/static"));
        assert!(prefix_matches("/static", "/static/app.css"));
        assert!(!prefix_matches("/static", "/staticky"));
        assert!(prefix_matches("/static/", "/static/app.css"));
        assert!(!prefix_matches("/reports", "/"));
    }
}
