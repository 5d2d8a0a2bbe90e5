//! Where signed-in users are proxied (the configured routes, longest prefix first) and who may
//! go there (a route's access policy).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::upstream_connect::WithDeadline;
use crate::config::{RouteSettings, Settings};

pub struct CabinetRoute {
    pub name: String,
    pub settings: RouteSettings,
    /// Plain http, or https verified as `routes.<name>.tls` says; connected within
    /// `connect_timeout`, TLS handshake included.
    pub(super) client: Client<WithDeadline<HttpsConnector<HttpConnector>>, Body>,
}

/// The configured routes, longest prefix first.
#[derive(Clone, Default)]
pub struct CabinetRoutes(Arc<Vec<CabinetRoute>>);

impl CabinetRoutes {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let mut routes: Vec<CabinetRoute> = settings
            .routes
            .iter()
            .map(|(name, route)| {
                let mut connector = HttpConnector::new();
                connector.set_connect_timeout(Some(route.connect_timeout));
                connector.set_nodelay(true);
                // `https_or_http`: the route's own scheme decides; an https upstream is never
                // reached without TLS.
                connector.enforce_http(false);
                let connector = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(super::upstream_tls::client_config(name, &route.tls)?)
                    .https_or_http()
                    .enable_http1()
                    .wrap_connector(connector);
                let connector = WithDeadline::new(connector, route.connect_timeout);
                let client = Client::builder(TokioExecutor::new())
                    .pool_idle_timeout(Duration::from_secs(90))
                    .pool_max_idle_per_host(512)
                    .build(connector);
                Ok(CabinetRoute {
                    name: name.clone(),
                    settings: route.clone(),
                    client,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        routes.sort_by_key(|r| std::cmp::Reverse(r.settings.prefix.len()));
        Ok(CabinetRoutes(Arc::new(routes)))
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
