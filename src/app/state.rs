//! Every feature's context, built once at start from the settings, the database and the clock.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::certificate_status::{CaList, CheckerSettings, RevocationChecker, StatusPolicy};
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::document_signing::{SigningContext, SigningParts};
use crate::http::context::Outage;
use crate::http::draining::{Draining, Stopping};
use crate::http::{Web, WebParts};
use crate::login::events::LoginEvents;
use crate::login::limits::{WaitingLogins, start_limiter};
use crate::login::qr_link::QrLinks;
use crate::login::{LoginContext, LoginParts};
use crate::notifications::Listening;
use crate::notifications::watchers::Watchers;
use crate::oidc::{OidcContext, OidcParts};
use crate::provider::{ProviderNames, Providers};
use crate::proxy::assertion::AssertionSigner;
use crate::proxy::headers::IdentityHeaders;
use crate::proxy::{ProxyContext, ProxyParts};
use crate::session::SessionStore;
use crate::signing_key::SigningKey;
use crate::trust_list::NationalTrust;

use super::offline::OfflineParts;

/// Cloned for every request: one `Arc`; each handler then takes its feature's part.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

pub struct AppParts {
    pub web: Web,
    pub login: LoginContext,
    pub signing: SigningContext,
    pub proxy: ProxyContext,
    pub oidc: OidcContext,
    /// What the next configuration (a reload) is built on.
    pub lasting: Lasting,
}

/// What outlives a reload: the database, the clock, what this replica knows of the world
/// (the LISTEN connection, an outage, draining, the national trust list in force), and whom it
/// wakes (waiting browsers, signing requests' watchers, the session cache the revocation
/// notices evict). Everything
/// else is built from the configuration, again at each reload.
#[derive(Clone)]
pub struct Lasting {
    pub db: PgPool,
    pub clock: SharedClock,
    listening: Listening,
    draining: Draining,
    stopping: Stopping,
    outage: Outage,
    sessions: SessionStore,
    /// The national trust list in force: a reload hands it new sources (`reconfigure`).
    pub national_trust: NationalTrust,
    login_events: LoginEvents,
    watchers: Watchers,
}

impl Lasting {
    fn new(settings: &Settings, db: PgPool, clock: SharedClock) -> Self {
        Lasting {
            sessions: SessionStore::new(db.clone(), clock.clone(), &settings.session),
            db,
            clock,
            listening: Listening::default(),
            draining: Draining::default(),
            stopping: Stopping::default(),
            outage: Outage::default(),
            national_trust: NationalTrust::new(settings.trust.sources.clone()),
            login_events: LoginEvents::default(),
            watchers: Watchers::new(crate::document_signing::request::NOTIFY_CHANNEL),
        }
    }
}

impl AppState {
    /// Reads what the features share from the database (the assertion key, the QR link key) and
    /// builds their contexts from it and the parts read before ([`OfflineParts`]).
    pub async fn build(
        settings: Settings,
        db: PgPool,
        clock: SharedClock,
        offline: OfflineParts,
    ) -> anyhow::Result<Self> {
        let lasting = Lasting::new(&settings, db, clock);
        crate::trust_list::load_in_force(&lasting.national_trust, &lasting.db).await;
        Self::assemble(settings, offline, lasting).await
    }

    /// The same gateway under another configuration (a reload): built anew from it, on what
    /// lasts. Requests under way keep the state they started with.
    pub async fn reconfigured(
        &self,
        settings: Settings,
        offline: OfflineParts,
    ) -> anyhow::Result<Self> {
        Self::assemble(settings, offline, self.lasting.clone()).await
    }

    async fn assemble(
        settings: Settings,
        offline: OfflineParts,
        lasting: Lasting,
    ) -> anyhow::Result<Self> {
        let settings = Arc::new(settings);
        let (db, clock) = (lasting.db.clone(), lasting.clock.clone());
        warn_if_nothing_is_trusted(&offline, &settings);
        let signing_key =
            Arc::new(SigningKey::load(&db, &settings.identity, &settings.oidc, clock.now()).await?);
        // Stored once, whether or not the provider is on: the key may change before it is.
        let pairwise_key = crate::oidc::pairwise::load(&db, &signing_key, clock.now()).await?;
        let qr_links = QrLinks::load(&db, &settings.login, clock.now()).await?;
        let certificate_status = Arc::new(certificate_status(
            &settings,
            db.clone(),
            clock.clone(),
            offline.ca_list,
        )?);
        let web = Web::new(WebParts {
            sessions: lasting.sessions.with_settings(&settings.session),
            settings: settings.clone(),
            db,
            clock,
            listening: lasting.listening.clone(),
            draining: lasting.draining.clone(),
            stopping: lasting.stopping.clone(),
            outage: lasting.outage.clone(),
            zone: offline.zone,
            branding: Arc::new(offline.branding),
            custom_pages: Arc::new(offline.custom_pages),
        });
        let trust = Arc::new(offline.trust);
        let national_trust = lasting.national_trust.clone();
        let login = LoginContext::new(LoginParts {
            web: web.clone(),
            providers: offline.providers.clone(),
            trust,
            national_trust: national_trust.clone(),
            certificate_status,
            login_events: lasting.login_events.clone(),
            start_limiter: start_limiter(settings.login.start_rate_per_minute),
            start_slots: tokio::sync::Semaphore::new(settings.login.max_starts_in_flight as usize),
            waiting_logins: WaitingLogins::default(),
            qr_links,
        });
        let proxy = ProxyContext::new(ProxyParts {
            web: web.clone(),
            routes: offline.routes,
            assertions: assertion_signer(&settings, signing_key.clone(), &offline.identity_headers),
            identity_headers: offline.identity_headers,
            provider_names: offline.providers.names(),
        });
        let oidc = OidcContext::new(OidcParts {
            web: web.clone(),
            clients: offline.oidc_clients,
            pairwise_key,
            key: signing_key.clone(),
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
        let issuer = settings.server.base_url.as_str().to_owned();
        let signing = SigningContext::new(SigningParts {
            web: web.clone(),
            providers: offline.providers.clone(),
            trust: login.trust.clone(),
            national_trust,
            certificate_status: login.certificate_status.clone(),
            key: signing_key.clone(),
            issuer,
            watchers: lasting.watchers.clone(),
            oidc: settings.oidc.enabled.then(|| oidc.clone()),
        });
        Ok(AppState(Arc::new(AppParts {
            web,
            login,
            signing,
            proxy,
            oidc,
            lasting,
        })))
    }
}

/// How a signer's certificate is checked for revocation (`trust.revocation…`).
fn certificate_status(
    settings: &Settings,
    db: PgPool,
    clock: SharedClock,
    ca_list: CaList,
) -> anyhow::Result<StatusPolicy> {
    Ok(StatusPolicy {
        mode: settings.trust.revocation,
        checker: RevocationChecker::new(
            db,
            clock,
            CheckerSettings {
                timeout: settings.trust.revocation_timeout,
                retries: settings.trust.revocation_retries,
                skew: time::Duration::try_from(settings.trust.revocation_skew)?,
                cache_max: time::Duration::try_from(settings.trust.revocation_cache_max)?,
            },
            ca_list,
        )?,
    })
}

/// id.gov.ua verifies its own signatures: only the providers whose signatures kepgate verifies
/// need the trust list.
fn warn_if_nothing_is_trusted(offline: &OfflineParts, settings: &Settings) {
    let verifying: Vec<&str> = offline
        .providers
        .iter()
        .filter(|p| p.verifies_signatures())
        .map(|p| p.id())
        .collect();
    if !verifying.is_empty() && offline.trust.is_empty() && settings.trust.sources.is_none() {
        tracing::warn!(
            providers = %verifying.join(", "),
            "trust.files is empty and no trust.sources: every signature of these providers will be refused"
        );
    }
}

/// Signs the identity assertion the cabinet receives, naming each provider by its display name.
fn assertion_signer(
    settings: &Settings,
    key: Arc<SigningKey>,
    identity_headers: &IdentityHeaders,
) -> AssertionSigner {
    AssertionSigner::new(
        key,
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
    )
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

impl FromRef<AppState> for SigningContext {
    fn from_ref(state: &AppState) -> SigningContext {
        state.signing.clone()
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

impl FromRef<AppState> for ProviderNames {
    fn from_ref(state: &AppState) -> ProviderNames {
        state.proxy.provider_names.clone()
    }
}
