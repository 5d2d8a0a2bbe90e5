//! Everything the application is built from that needs no database: read and tried before the
//! database is reached, by `serve` (`startup.rs`, then [`super::AppState::build`]) and by
//! `kepgate check-config` alike, so whatever is added to the build is checked without a
//! database too.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::certificate_status::CaList;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::http::branding::Branding;
use crate::http::custom_pages::CustomPages;
use crate::http::local_time::DisplayZone;
use crate::oidc::clients::OidcClients;
use crate::provider::Providers;
use crate::proxy::CabinetRoutes;
use crate::proxy::headers::IdentityHeaders;
use crate::server::tls::ServerCertificate;
use crate::signature::{LoadReport, TrustList};

use super::trust_files::load_trust_files;

pub struct OfflineParts {
    /// The trust files' certificates, and what each file held (`check-config` prints it).
    pub trust: TrustList,
    pub trust_reports: Vec<(PathBuf, LoadReport)>,
    /// OCSP responders for certificates that name none (`trust.ca_list`).
    pub ca_list: CaList,
    pub branding: Branding,
    pub oidc_clients: OidcClients,
    /// The organisation's pages (`ui.pages_dir`), each tried with sample values.
    pub custom_pages: CustomPages,
    /// With `[server.tls]`: the certificate served.
    pub certificate: Option<Arc<ServerCertificate>>,
    /// The adapters, each with its HTTP client (reading its `ca_file`).
    pub providers: Providers,
    pub routes: CabinetRoutes,
    pub identity_headers: IdentityHeaders,
    pub zone: DisplayZone,
}

impl OfflineParts {
    /// Reads and tries each part in turn; the first that cannot be built stops with its reason.
    pub fn load(settings: &Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let (trust, trust_reports) = load_trust_files(&settings.trust.files)?;
        let ca_list = CaList::load(settings.trust.ca_list.as_deref())?;
        if let Some(sources) = &settings.trust.sources {
            // A sources' CA file that cannot be read stops the start, as a provider's does.
            crate::trust_list::fetch::client(sources).context("trust.sources")?;
        }
        let branding = Branding::load(&settings.ui.branding)?;
        let oidc_clients = OidcClients::load(&settings.oidc)?;
        let custom_pages = super::custom_pages::load_custom_pages(settings)?;
        let certificate = settings
            .server
            .tls
            .as_ref()
            .map(|tls| ServerCertificate::load(tls, &settings.server, clock))
            .transpose()?;
        let providers =
            Providers::from_settings(&settings.providers, settings.server.kepgate_address())?;
        let routes = CabinetRoutes::from_settings(settings)?;
        let identity_headers =
            IdentityHeaders::from_settings(&settings.identity).context("identity header names")?;
        let zone = DisplayZone::named(&settings.ui.time_zone).map_err(anyhow::Error::msg)?;
        Ok(OfflineParts {
            trust,
            trust_reports,
            ca_list,
            branding,
            oidc_clients,
            custom_pages,
            certificate,
            providers,
            routes,
            identity_headers,
            zone,
        })
    }
}
