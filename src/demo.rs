//! `kepgate demo`: the whole stack in one process on this machine — the gateway, the Diia
//! emulator (its phone page stands in for the phone), the id.gov.ua emulator (its login page
//! stands in for the state's), and the sample cabinet behind the gateway.
//!
//! The demo is an explicit configuration like any other: it lists the emulator's CA in
//! `trust.files` itself. A production configuration never trusts the emulator unless told to,
//! and a production build (the default, without the `demo` feature) has no emulator.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use secrecy::SecretString;
use tokio::net::TcpListener;

use kepgate_emulator::idgovua::{self as idgovua_emulator, IdGovUaEmulator, RegisteredClient};
use kepgate_emulator::sample_cabinet::{CabinetArgs, SampleCabinet};
use kepgate_emulator::{DEFAULT_ACQUIRER_TOKEN, Emulator, EmulatorSettings};

use crate::config::{
    DiiaSettings, DiiaSignAlgo, IdGovUaMethod, IdGovUaSettings, OidcClientSettings, ProviderCommon,
    ProviderSettings, RouteSettings, Settings,
};
use crate::provider::diia::DiiaProvider;
use crate::startup::{Application, shutdown_signal};
use sha2::{Digest, Sha256};

pub const DEMO_PROVIDER: &str = "diia";
pub const DEMO_IDGOVUA_PROVIDER: &str = "idgovua";
pub const DEMO_OIDC_CLIENT: &str = "demo-app";
/// A secret everybody knows: the demo's sample client only.
pub const DEMO_OIDC_SECRET: &str = "demo-app-secret-not-for-production";

/// Where the demo's stand-ins listen.
pub struct DemoAddresses {
    pub emulator: SocketAddr,
    pub idgovua: SocketAddr,
    pub cabinet: SocketAddr,
}

pub async fn run(
    mut settings: Settings,
    listen: DemoAddresses,
    state_dir: PathBuf,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&state_dir).with_context(|| {
        format!(
            "cannot create the demo state folder {}",
            state_dir.display()
        )
    })?;
    let gateway_listener = TcpListener::bind(settings.server.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on server.listen = {}",
                settings.server.listen
            )
        })?;

    if settings.providers.is_empty() {
        start_emulator(&mut settings, listen.emulator, &state_dir).await?;
        start_idgovua_emulator(&mut settings, listen.idgovua).await?;
    }
    if settings.routes.is_empty() {
        let gateway = gateway_listener.local_addr()?;
        start_cabinet(&mut settings, listen.cabinet, gateway).await?;
    }
    if !settings.oidc.enabled && settings.oidc.clients.is_empty() {
        enable_openid_provider(&mut settings)?;
    }

    let base_url = settings.server.base_url.clone();
    let app = Application::build_on(settings, gateway_listener).await?;
    println!(
        "kepgate demo: open {base_url} in a browser and sign in with «Дія.Підпис (емулятор)» \
         or «id.gov.ua (емулятор)»"
    );
    println!(
        "kepgate demo: OpenID Provider at {}.well-known/openid-configuration, client \
         `{DEMO_OIDC_CLIENT}` with secret `{DEMO_OIDC_SECRET}` (demo only)",
        base_url
    );
    app.run(shutdown_signal()).await
}

/// With `[server.tls]`, the stand-ins calling the gateway trust what its certificate file
/// holds: `scripts/demo.sh --tls` puts its demo CA there after the server certificate.
fn gateway_chain(settings: &Settings) -> Option<PathBuf> {
    settings
        .server
        .tls
        .as_ref()
        .map(|tls| tls.cert_file.clone())
}

/// The Diia emulator, and the gateway's provider and trust settings for it.
async fn start_emulator(
    settings: &mut Settings,
    emulator_listen: SocketAddr,
    state_dir: &Path,
) -> anyhow::Result<()> {
    let secret = demo_callback_secret(state_dir)?;
    let callback_url = format!(
        "{}{}/callback/{DEMO_PROVIDER}/{secret}",
        settings
            .server
            .public_base_url()
            .as_str()
            .trim_end_matches('/'),
        settings.server.route_prefix
    );
    let emulator_listener = TcpListener::bind(emulator_listen)
        .await
        .with_context(|| format!("cannot listen on the emulator address {emulator_listen}"))?;
    let emulator_addr = emulator_listener.local_addr()?;
    let emulator_base = format!("http://{emulator_addr}/");
    let mut emulator_settings =
        EmulatorSettings::new(emulator_addr, emulator_base.parse()?, callback_url.parse()?);
    emulator_settings.state_dir = Some(state_dir.join("emulator"));
    emulator_settings.partner_ca_file = gateway_chain(settings);
    let emulator = Emulator::build_on(emulator_settings, emulator_listener).await?;
    let ca_path = state_dir.join("emulator-ca.pem");
    std::fs::write(&ca_path, emulator.ca_pem())?;
    tokio::spawn(emulator.run(shutdown_signal()));

    let mut diia = DiiaSettings {
        common: ProviderCommon {
            display_name: "Дія.Підпис (емулятор)".to_owned(),
            display_name_en: Some("Diia.Signature (emulator)".to_owned()),
            order: 0,
            callback_secret: Some(SecretString::from(secret)),
            callback_allowed_ips: vec![],
            request_ttl: Duration::from_secs(180),
            http_timeout: Duration::from_secs(10),
            http_retries: 2,
            ca_file: None,
            allow_http: false,
        },
        api_base_url: emulator_base.parse()?,
        acquirer_token: SecretString::from(DEFAULT_ACQUIRER_TOKEN),
        auth_acquirer_token: None,
        branch_id: None,
        offer_id: None,
        // No signAlgo, like the official SDKs: Diia's default, DSTU 4145 over GOST 34.311.
        sign_algo: DiiaSignAlgo::Default,
        setup: Default::default(),
    };
    // The emulator keeps branches in memory: register ours at every start.
    let (branch_id, offer_id) = DiiaProvider::new(DEMO_PROVIDER, &diia)?.setup().await?;
    diia.branch_id = Some(branch_id);
    diia.offer_id = Some(offer_id);
    settings
        .providers
        .insert(DEMO_PROVIDER.to_owned(), ProviderSettings::Diia(diia));
    settings.trust.files.push(ca_path);
    tracing::info!(emulator = %emulator_base, "demo: Diia emulator running; its phone page opens from the login link");
    Ok(())
}

/// The id.gov.ua emulator with the demo's client registered, and the gateway's provider for it.
async fn start_idgovua_emulator(settings: &mut Settings, listen: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on the id.gov.ua emulator address {listen}"))?;
    let addr = listener.local_addr()?;
    let base: url::Url = format!("http://{addr}/").parse()?;
    let redirect_uri =
        crate::provider::registry::return_url(&settings.server, DEMO_IDGOVUA_PROVIDER)?;
    let emulator = IdGovUaEmulator::build_on(
        idgovua_emulator::IdGovUaSettings::new(
            addr,
            base.clone(),
            RegisteredClient::demo(redirect_uri),
        ),
        listener,
    )?;
    tokio::spawn(emulator.run(shutdown_signal()));
    let idgovua = IdGovUaSettings {
        common: ProviderCommon {
            display_name: "id.gov.ua (емулятор)".to_owned(),
            display_name_en: Some("id.gov.ua (emulator)".to_owned()),
            order: 1,
            callback_secret: None,
            callback_allowed_ips: vec![],
            request_ttl: Duration::from_secs(300),
            http_timeout: Duration::from_secs(10),
            http_retries: 0,
            ca_file: None,
            allow_http: false,
        },
        base_url: base,
        client_id: idgovua_emulator::DEMO_CLIENT_ID.to_owned(),
        client_secret: SecretString::from(idgovua_emulator::DEMO_CLIENT_SECRET),
        methods: IdGovUaMethod::ALL.to_vec(),
    };
    settings.providers.insert(
        DEMO_IDGOVUA_PROVIDER.to_owned(),
        ProviderSettings::IdGovUa(idgovua),
    );
    tracing::info!(emulator = %addr, "demo: id.gov.ua emulator running; «id.gov.ua» in the dropdown leads there");
    Ok(())
}

/// The OpenID Provider with one sample client, so that a newcomer can point an application at
/// the demo (Grafana on port 3001, an app on 8000).
fn enable_openid_provider(settings: &mut Settings) -> anyhow::Result<()> {
    let mut client = OidcClientSettings {
        name: Some("Демо-застосунок".to_owned()),
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        secret_sha256: Some(base16ct::lower::encode_string(&Sha256::digest(
            DEMO_OIDC_SECRET.as_bytes(),
        ))),
        secret_file: None,
        scopes: crate::config::SCOPES
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        allow: Default::default(),
        pairwise_subject: false,
        id_token_signed_response_alg: Default::default(),
    };
    for uri in [
        "http://127.0.0.1:8000/oauth2/callback",
        "http://localhost:8000/oauth2/callback",
        "http://localhost:3001/login/generic_oauth",
    ] {
        client.redirect_uris.push(uri.parse()?);
    }
    for uri in ["http://127.0.0.1:8000/", "http://localhost:3001/login"] {
        client.post_logout_redirect_uris.push(uri.parse()?);
    }
    settings.oidc.enabled = true;
    settings
        .oidc
        .clients
        .insert(DEMO_OIDC_CLIENT.to_owned(), client);
    Ok(())
}

/// The sample cabinet, and the gateway's route to it.
async fn start_cabinet(
    settings: &mut Settings,
    cabinet_listen: SocketAddr,
    gateway: SocketAddr,
) -> anyhow::Result<()> {
    let cabinet_listener = TcpListener::bind(cabinet_listen)
        .await
        .with_context(|| format!("cannot listen on the sample cabinet address {cabinet_listen}"))?;
    let cabinet_addr = cabinet_listener.local_addr()?;
    let scheme = if settings.server.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let jwks_url = format!(
        "{scheme}://{}{}/jwks.json",
        gateway, settings.server.route_prefix
    );
    let cabinet = SampleCabinet::build_on(
        CabinetArgs {
            listen: cabinet_addr,
            jwks_url: Some(jwks_url.parse()?),
            audience: "cabinet".to_owned(),
            issuer: Some(settings.server.base_url.to_string()),
            ca_file: gateway_chain(settings),
            gateway_url: None,
        },
        cabinet_listener,
    )?;
    tokio::spawn(cabinet.run(shutdown_signal()));
    settings.routes.insert(
        "cabinet".to_owned(),
        RouteSettings {
            prefix: "/".to_owned(),
            upstream: format!("http://{cabinet_addr}/").parse()?,
            public: false,
            preserve_host: false,
            allow_caching: false,
            connect_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(300),
            allow: Default::default(),
            tls: Default::default(),
        },
    );
    tracing::info!(cabinet = %cabinet_addr, "demo: sample cabinet behind the gateway at /");
    Ok(())
}

/// A callback secret kept across demo restarts (the emulator persists nothing else we need).
fn demo_callback_secret(state_dir: &Path) -> anyhow::Result<String> {
    let path = state_dir.join("callback-secret");
    if let Ok(existing) = std::fs::read_to_string(&path)
        && existing.trim().len() >= 32
    {
        return Ok(existing.trim().to_owned());
    }
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let secret = base16ct::lower::encode_string(&bytes);
    std::fs::write(&path, &secret)?;
    Ok(secret)
}
