//! A gateway wired to a real Diia emulator process-in-task over loopback HTTP.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kepgate::config::{
    DiiaSettings, DiiaSignAlgo, ProviderCommon, ProviderSettings, ServerTls, Settings,
};
use kepgate::login::pending::{self, PendingLogin, PendingLoginId};
use kepgate::login::start::{StartLogin, StartedLogin, start_login};
use kepgate::provider::diia::DiiaProvider;
use kepgate::return_path::ReturnPath;
use kepgate_emulator::{Emulator, EmulatorSettings};
use kepgate_signature::dstu4145::DstuCurve;
use kepgate_signature::test_ca::{KeyKind, TestCa};
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::helpers::{TestApp, client, settings_for, spawn_app_on, spawn_app_on_with_clock};
use crate::own_ca_responder::OwnCaServices;

pub const PROVIDER: &str = "diia";

pub struct DiiaStack {
    pub app: TestApp,
    /// Base URL of the emulator, `http://127.0.0.1:port`.
    pub emulator: String,
    /// A second CA the gateway trusts, for tests that sign callbacks themselves.
    pub own_ca: TestCa,
    /// Its OCSP responder and CRL, named in the certificates it issues.
    pub own_ca_services: OwnCaServices,
    /// The gateway's callback URL for the provider (with its secret segment).
    pub callback_url: String,
    pub http: reqwest::Client,
    /// What the gateway was started with, to start it again.
    pub settings: Settings,
    emulator_stop: Option<oneshot::Sender<()>>,
    dir: TempDir,
}

pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn diia_settings(api_base_url: &str, secret: &str) -> DiiaSettings {
    DiiaSettings {
        common: ProviderCommon {
            display_name: "Дія.Підпис".to_owned(),
            display_name_en: Some("Diia.Signature".to_owned()),
            order: 0,
            callback_secret: Some(SecretString::from(secret.to_owned())),
            callback_allowed_ips: vec![],
            request_ttl: Duration::from_secs(180),
            http_timeout: Duration::from_secs(5),
            http_retries: 1,
            ca_file: None,
            allow_http: false,
        },
        api_base_url: api_base_url.parse().unwrap(),
        acquirer_token: SecretString::from(kepgate_emulator::DEFAULT_ACQUIRER_TOKEN),
        auth_acquirer_token: None,
        branch_id: None,
        offer_id: None,
        // No signAlgo, like the official SDKs: Diia's default, DSTU 4145 over GOST 34.311.
        sign_algo: DiiaSignAlgo::Default,
        setup: Default::default(),
    }
}

pub async fn spawn_diia_stack() -> DiiaStack {
    spawn_diia_stack_configured(false, |_| {}).await.0
}

/// With `second_replica`, a second gateway shares the database and receives the callbacks.
pub async fn spawn_diia_stack_with(second_replica: bool) -> (DiiaStack, Option<TestApp>) {
    spawn_diia_stack_configured(second_replica, |_| {}).await
}

pub async fn spawn_diia_stack_configured(
    second_replica: bool,
    configure: impl FnOnce(&mut Settings),
) -> (DiiaStack, Option<TestApp>) {
    spawn_diia_stack_clocked(second_replica, None, configure).await
}

/// Like [`spawn_diia_stack_configured`], the gateway(s) on `clock` (the emulator keeps real time).
pub async fn spawn_diia_stack_clocked(
    second_replica: bool,
    clock: Option<kepgate::clock::SharedClock>,
    configure: impl FnOnce(&mut Settings),
) -> (DiiaStack, Option<TestApp>) {
    let options = StackOptions {
        second_replica,
        clock,
        ..StackOptions::default()
    };
    spawn_diia_stack_with_options(options, configure).await
}

/// How a stack is put together beyond its settings.
#[derive(Default)]
pub struct StackOptions {
    /// A second gateway on the same database, which receives the provider's callbacks.
    pub second_replica: bool,
    /// The gateways' clock (the emulator keeps real time).
    pub clock: Option<kepgate::clock::SharedClock>,
    /// `server.route_prefix` when not the default. An option rather than a setting in
    /// `configure`: the callback URL the emulator is built with depends on it.
    pub route_prefix: Option<String>,
    /// The gateway serves HTTPS itself (`[server.tls]`) with a certificate of a test CA
    /// ([`DiiaStack::tls_ca`]); the emulator calls back over it.
    pub tls: bool,
}

impl StackOptions {
    /// kepgate's own routes under `prefix`.
    pub fn under(prefix: &str) -> Self {
        StackOptions {
            route_prefix: Some(prefix.to_owned()),
            ..StackOptions::default()
        }
    }
}

pub async fn spawn_diia_stack_with_options(
    options: StackOptions,
    configure: impl FnOnce(&mut Settings),
) -> (DiiaStack, Option<TestApp>) {
    let StackOptions {
        second_replica,
        clock,
        route_prefix,
        tls,
    } = options;
    let dir = TempDir(
        std::env::temp_dir().join(format!("kepgate-trust-{}", uuid::Uuid::new_v4().simple())),
    );
    std::fs::create_dir_all(&dir.0).unwrap();
    let gateway_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut settings = settings_for(&gateway_listener);
    if let Some(prefix) = route_prefix {
        settings.server.route_prefix = prefix;
    }
    if tls {
        serve_https(&mut settings, &dir.0);
    }
    let scheme = settings.server.base_url.scheme().to_owned();
    let replica_listener = if second_replica {
        Some(TcpListener::bind("127.0.0.1:0").await.unwrap())
    } else {
        None
    };
    let callback_base = match &replica_listener {
        Some(l) => format!("{scheme}://{}", l.local_addr().unwrap()),
        None => settings
            .server
            .base_url
            .as_str()
            .trim_end_matches('/')
            .to_owned(),
    };
    let secret = uuid::Uuid::new_v4().simple().to_string() + "x";
    let callback_url = format!(
        "{callback_base}{}/callback/{PROVIDER}/{secret}",
        settings.server.route_prefix
    );

    // The emulator, calling back the gateway's callback URL as Diia would.
    let emulator_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let emulator_addr = emulator_listener.local_addr().unwrap();
    let emulator_base = format!("http://{emulator_addr}");
    let mut emulator_settings = EmulatorSettings::new(
        emulator_addr,
        format!("{emulator_base}/").parse().unwrap(),
        callback_url.parse().unwrap(),
    );
    emulator_settings.partner_ca_file = tls.then(|| dir.0.join("ca.pem"));
    let emulator = Emulator::build_on(emulator_settings, emulator_listener)
        .await
        .unwrap();
    let emulator_ca = emulator.ca_pem().to_owned();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(emulator.run(async move {
        let _ = stopped.await;
    }));

    // `kepgate diia setup` does this once per deployment: the adapter registers branch + offer.
    let mut diia = diia_settings(&emulator_base, &secret);
    let (branch_id, offer_id) = DiiaProvider::new(PROVIDER, &diia)
        .unwrap()
        .setup()
        .await
        .expect("branch and offer created at the emulator");
    diia.branch_id = Some(branch_id);
    diia.offer_id = Some(offer_id);

    // The gateway trusts exactly what its config lists: the emulator's CA and our own test CA.
    // DSTU 4145 like the provider's default: the callbacks these tests sign themselves must be
    // what kepgate asked for.
    let mut own_ca =
        TestCa::generate_with("Тестовий КНЕДП", now(), KeyKind::Dstu4145(DstuCurve::M257)).unwrap();
    let own_ca_services = crate::own_ca_responder::publish(&mut own_ca).await;
    let emulator_ca_path = dir.0.join("emulator-ca.pem");
    let own_ca_path = dir.0.join("own-ca.pem");
    std::fs::write(&emulator_ca_path, emulator_ca).unwrap();
    std::fs::write(&own_ca_path, own_ca.cert_pem().unwrap()).unwrap();
    settings.trust.files = vec![emulator_ca_path, own_ca_path];
    settings
        .providers
        .insert(PROVIDER.to_owned(), ProviderSettings::Diia(diia));
    // Last, so a test can also change the provider (say, a short `request_ttl`); the addresses
    // (base URL, callback URL) are fixed by then.
    let prefix = settings.server.route_prefix.clone();
    configure(&mut settings);
    assert_eq!(
        settings.server.route_prefix, prefix,
        "the emulator already calls back under the old prefix: use StackOptions::under"
    );

    let replica = match replica_listener {
        Some(listener) => {
            let mut replica_settings = settings.clone();
            let addr = listener.local_addr().unwrap();
            replica_settings.server.listen = addr;
            replica_settings.server.base_url = format!("{scheme}://{addr}/").parse().unwrap();
            Some(spawn_app_on_with_clock(listener, replica_settings, clock.clone()).await)
        }
        None => None,
    };
    let app = spawn_app_on_with_clock(gateway_listener, settings.clone(), clock).await;
    let stack = DiiaStack {
        app,
        emulator: emulator_base,
        own_ca,
        own_ca_services,
        callback_url,
        http: client(),
        settings,
        emulator_stop: Some(stop),
        dir,
    };
    (stack, replica)
}

pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// `[server.tls]` with a new test PKI in `dir`, and the base URL on https.
pub fn serve_https(settings: &mut Settings, dir: &std::path::Path) {
    crate::test_pki::test_pki(dir);
    settings.server.tls = Some(ServerTls {
        cert_file: dir.join("server.pem"),
        key_file: dir.join("server.key"),
        watch_interval: Duration::from_secs(1),
        http2: true,
    });
    let port = settings.server.listen.port();
    settings.server.base_url = format!("https://127.0.0.1:{port}/").parse().unwrap();
}

impl DiiaStack {
    /// The test CA of the gateway's HTTPS certificate, when it serves HTTPS.
    pub fn tls_ca(&self) -> Option<PathBuf> {
        self.settings
            .server
            .tls
            .as_ref()
            .map(|_| self.dir.0.join("ca.pem"))
    }

    /// Stops the gateway gracefully and starts a new one on the same port and database.
    pub async fn restart_gateway(&mut self) {
        self.app.stop().await;
        let listener = TcpListener::bind(self.settings.server.listen)
            .await
            .unwrap();
        self.app = spawn_app_on(listener, self.settings.clone()).await;
    }

    /// The emulator's CA revokes `identity`'s certificates (both key families): its OCSP
    /// responders and CRLs say so from now on.
    pub async fn revoke_at_emulator(&self, identity: &str) {
        self.emulator_control(
            "/emulator/revoke",
            serde_json::json!({ "identity": identity }),
        )
        .await;
    }

    /// The emulator's OCSP responders misbehave as `fault` says (see the emulator's
    /// `OcspFault`: `down`, `slow`, `garbage`, …; `none` to stop).
    pub async fn ocsp_fault(&self, fault: &str, slow_ms: u64) {
        let body = serde_json::json!({ "fault": fault, "slowMs": slow_ms });
        self.emulator_control("/emulator/ocsp-fault", body).await;
    }

    async fn emulator_control(&self, path: &str, body: serde_json::Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.emulator))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
    }

    /// Stops the emulator: the provider's address refuses connections from then on.
    pub async fn stop_emulator(&mut self) {
        if let Some(stop) = self.emulator_stop.take() {
            let _ = stop.send(());
        }
        let addr = self.emulator.trim_start_matches("http://").to_owned();
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(&addr).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the emulator still accepts connections");
    }

    pub async fn start_login(&self) -> StartedLogin {
        start_login(
            &self.app.state.login,
            StartLogin {
                provider_id: PROVIDER.to_owned(),
                user_hint: None,
                return_path: ReturnPath::parse("/cabinet").unwrap(),
                binding_nonce: [7u8; 32],
                client_ip: "127.0.0.1".parse().unwrap(),
                user_agent: Some("integration-test".to_owned()),
                shared_pc: false,
            },
        )
        .await
        .expect("login starts")
    }

    pub async fn pending(&self, id: PendingLoginId) -> PendingLogin {
        pending::find(&self.app.db, id)
            .await
            .unwrap()
            .expect("pending login exists")
    }

    /// The emulator's request number from a deeplink `…/offer-request/dynamic/{n}`.
    pub fn request_number(started: &StartedLogin) -> String {
        let link = started.link().expect("a deeplink");
        link.path_segments()
            .unwrap()
            .next_back()
            .unwrap()
            .to_owned()
    }

    /// Acts as the phone through the emulator's JSON control endpoint.
    pub async fn phone(
        &self,
        started: &StartedLogin,
        action: &str,
        identity: &str,
    ) -> serde_json::Value {
        let n = Self::request_number(started);
        let response = self
            .http
            .post(format!("{}/emulator/requests/{n}/{action}", self.emulator))
            .json(&serde_json::json!({ "identity": identity }))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "emulator {action}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// Posts a callback of Diia's shape (multipart `encodeData`) straight to the gateway.
    pub async fn post_callback(&self, trace_id: &str, encode_data: String) -> reqwest::Response {
        let form = reqwest::multipart::Form::new().text("encodeData", encode_data);
        self.http
            .post(&self.callback_url)
            .header("X-Diia-Id-Action", "auth")
            .header("X-Document-Request-Trace-Id", trace_id)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }
}

pub fn encode_data(request_id: &str, p7s: Option<&[u8]>, status: Option<&str>) -> String {
    let mut json = serde_json::json!({ "requestId": request_id });
    if let Some(p7s) = p7s {
        json["signature"] = STANDARD.encode(p7s).into();
    }
    if let Some(status) = status {
        json["status"] = status.into();
    }
    STANDARD.encode(json.to_string())
}
