//! Every feature's context, built once at start from the settings, the database and the clock.

use std::sync::Arc;

use anyhow::Context;
use axum::extract::FromRef;
use sqlx::PgPool;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::http::branding::Branding;
use crate::http::context::Outage;
use crate::http::draining::{Draining, Stopping};
use crate::http::local_time::DisplayZone;
use crate::http::{Web, WebParts};
use crate::login::certificate_status::StatusPolicy;
use crate::login::events::LoginEvents;
use crate::login::limits::{WaitingLogins, start_limiter};
use crate::login::qr_link::QrLinks;
use crate::login::{LoginContext, LoginParts};
use crate::notifications::Listening;
use crate::oidc::clients::OidcClients;
use crate::oidc::{OidcContext, OidcParts};
use crate::provider::Providers;
use crate::proxy::assertion::AssertionSigner;
use crate::proxy::headers::IdentityHeaders;
use crate::proxy::{CabinetRoutes, ProxyContext, ProxyParts};
use crate::revocation::{CaList, CheckerSettings, RevocationChecker};
use crate::session::SessionStore;
use crate::signature::TrustList;
use crate::signing_key::SigningKey;

/// Cloned for every request: one `Arc`; each handler then takes its feature's part.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

pub struct AppParts {
    pub web: Web,
    pub login: LoginContext,
    pub proxy: ProxyContext,
    pub oidc: OidcContext,
}

impl AppState {
    /// Reads what the features share from the database (the assertion key, the QR link key) and
    /// builds their contexts.
    pub async fn build(
        settings: Settings,
        db: PgPool,
        clock: SharedClock,
        trust: TrustList,
    ) -> anyhow::Result<Self> {
        let settings = Arc::new(settings);
        let providers = Providers::from_settings(&settings.providers, &settings.server)?;
        let verifying: Vec<&str> = providers
            .iter()
            .filter(|p| p.verifies_signatures())
            .map(|p| p.id())
            .collect();
        // id.gov.ua verifies its own signatures: only the providers whose signatures kepgate
        // verifies need the trust list.
        if !verifying.is_empty() && trust.is_empty() {
            tracing::warn!(
                providers = %verifying.join(", "),
                "trust.files is empty: every signature of these providers will be refused"
            );
        }
        let signing_key =
            Arc::new(SigningKey::load(&db, &settings.identity, &settings.oidc, clock.now()).await?);
        // Stored once, whether or not the provider is on: the key may change before it is.
        let pairwise_key = crate::oidc::pairwise::load(&db, &signing_key, clock.now()).await?;
        let identity_headers =
            IdentityHeaders::from_settings(&settings.identity).context("identity header names")?;
        let assertions = AssertionSigner::new(
            signing_key.clone(),
            &settings.identity,
            settings.server.base_url.as_str(),
            identity_headers.clone(),
        )
        .with_provider_names(
            settings
                .providers
                .iter()
                .map(|(id, p)| (id.clone(), p.common().display_name.clone()))
                .collect(),
        );
        let qr_links = QrLinks::load(&db, &settings.login, clock.now()).await?;
        let certificate_status = StatusPolicy {
            mode: settings.trust.revocation,
            checker: RevocationChecker::new(
                db.clone(),
                clock.clone(),
                CheckerSettings {
                    timeout: settings.trust.revocation_timeout,
                    retries: settings.trust.revocation_retries,
                    skew: time::Duration::try_from(settings.trust.revocation_skew)?,
                    cache_max: time::Duration::try_from(settings.trust.revocation_cache_max)?,
                },
                CaList::load(settings.trust.ca_list.as_deref())?,
            )?,
        };
        let web = Web::new(WebParts {
            sessions: SessionStore::new(db.clone(), clock.clone(), &settings.session),
            settings: settings.clone(),
            db,
            clock,
            listening: Listening::default(),
            draining: Draining::default(),
            stopping: Stopping::default(),
            outage: Outage::default(),
            zone: DisplayZone::named(&settings.ui.time_zone).map_err(anyhow::Error::msg)?,
            branding: Arc::new(Branding::load(&settings.ui.branding)?),
            custom_pages: Arc::new(super::custom_pages::load_custom_pages(&settings)?),
        });
        let login = LoginContext::new(LoginParts {
            web: web.clone(),
            providers: providers.clone(),
            trust: Arc::new(trust),
            certificate_status,
            login_events: LoginEvents::default(),
            start_limiter: start_limiter(settings.login.start_rate_per_minute),
            start_slots: tokio::sync::Semaphore::new(settings.login.max_starts_in_flight as usize),
            waiting_logins: WaitingLogins::default(),
            qr_links,
        });
        let proxy = ProxyContext::new(ProxyParts {
            web: web.clone(),
            routes: CabinetRoutes::from_settings(&settings)?,
            assertions,
            identity_headers,
            providers,
        });
        let oidc = OidcContext::new(OidcParts {
            web: web.clone(),
            clients: OidcClients::load(&settings.oidc)?,
            pairwise_key,
            key: signing_key,
            issuer: settings
                .server
                .base_url
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
        });
        Ok(AppState(Arc::new(AppParts {
            web,
            login,
            proxy,
            oidc,
        })))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

impl FromRef<AppState> for Web {
    fn from_ref(state: &AppState) -> Web {
        state.web.clone()
    }
}

impl FromRef<AppState> for LoginContext {
    fn from_ref(state: &AppState) -> LoginContext {
        state.login.clone()
    }
}

impl FromRef<AppState> for ProxyContext {
    fn from_ref(state: &AppState) -> ProxyContext {
        state.proxy.clone()
    }
}

impl FromRef<AppState> for OidcContext {
    fn from_ref(state: &AppState) -> OidcContext {
        state.oidc.clone()
    }
}

impl FromRef<AppState> for Providers {
    fn from_ref(state: &AppState) -> Providers {
        state.login.providers.clone()
    }
}
