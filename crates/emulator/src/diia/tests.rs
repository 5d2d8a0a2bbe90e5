//! The emulator over real HTTP on loopback, with a tiny partner server receiving callbacks.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Digest;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

use kepgate_signature::identity::{Edrpou, Rnokpp};
use kepgate_signature::test_ca::TestCa;
use kepgate_signature::{TrustList, verify_auth_signature};

use super::*;
use crate::clock;

// ---------- a partner that records callbacks ----------

#[derive(Clone, Debug)]
pub(super) struct Received {
    pub headers: HeaderMap,
    pub fields: Vec<(String, String)>,
    /// The body as sent, for decoders that read it whole.
    pub body: Bytes,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PartnerMode {
    Ack,
    Fail500,
}

#[derive(Clone)]
struct PartnerState {
    received: Arc<Mutex<Vec<Received>>>,
    mode: Arc<Mutex<PartnerMode>>,
}

pub(super) struct Partner {
    url: Url,
    state: PartnerState,
    _stop: oneshot::Sender<()>,
}

impl Partner {
    fn set_mode(&self, mode: PartnerMode) {
        *self.state.mode.lock().unwrap() = mode;
    }

    pub(super) fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }
}

/// Just enough multipart parsing for one small text field (no multer in the tree).
pub(super) fn parse_multipart(content_type: &str, body: &[u8]) -> Vec<(String, String)> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .unwrap()
        .trim_matches('"');
    let body = std::str::from_utf8(body).unwrap();
    let delimiter = format!("--{boundary}");
    let mut fields = Vec::new();
    for part in body.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let (head, value) = part.split_once("\r\n\r\n").unwrap();
        let name = head
            .split("name=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap();
        fields.push((
            name.to_owned(),
            value.strip_suffix("\r\n").unwrap_or(value).to_owned(),
        ));
    }
    fields
}

async fn partner_callback(
    State(state): State<PartnerState>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    // As Diia sends it (the SDK examples parse multipart/mixed).
    assert!(ct.starts_with("multipart/mixed; boundary="), "{ct}");
    let fields = parse_multipart(&ct, &body);
    state.received.lock().unwrap().push(Received {
        headers,
        fields,
        body,
    });
    match *state.mode.lock().unwrap() {
        PartnerMode::Ack => (StatusCode::OK, r#"{"success":true}"#.to_owned()),
        PartnerMode::Fail500 => (
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"success":false,"error":"db down"}"#.to_owned(),
        ),
    }
}

pub(super) async fn start_partner() -> Partner {
    let state = PartnerState {
        received: Arc::default(),
        mode: Arc::new(Mutex::new(PartnerMode::Ack)),
    };
    let app = Router::new()
        .route("/.kepgate/diia/callback/secret", post(partner_callback))
        .with_state(state.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    Partner {
        url: Url::parse(&format!("http://{addr}/.kepgate/diia/callback/secret")).unwrap(),
        state,
        _stop: stop,
    }
}

// ---------- what a partner reads, as the SDKs read it ----------

#[derive(Deserialize)]
struct Token {
    token: String,
}

#[derive(Deserialize)]
struct Id {
    #[serde(rename = "_id")]
    id: String,
}

#[derive(Deserialize)]
struct Deeplink {
    deeplink: String,
}

/// The JSON inside the callback's `encodeData`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Callback {
    request_id: String,
    signature: Option<String>,
    status: Option<String>,
}

// ---------- the emulator under test ----------

pub(super) struct TestEmulator {
    pub shared: Arc<super::state::Shared>,
    pub base: String,
    ca_pem: String,
    pub http: reqwest::Client,
    _stop: oneshot::Sender<()>,
}

pub(super) const ACQ: &str = "test-acquirer-token";

pub(super) async fn start_emulator(
    partner: &Partner,
    tweak: impl FnOnce(&mut EmulatorSettings),
) -> TestEmulator {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = EmulatorSettings::new(
        addr,
        Url::parse(&format!("http://{addr}")).unwrap(),
        partner.url.clone(),
    );
    settings.acquirer_token = ACQ.to_owned();
    tweak(&mut settings);
    let emulator = Emulator::build_on(settings, listener).await.unwrap();
    let ca_pem = emulator.ca_pem().to_owned();
    let shared = emulator.shared();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        emulator
            .run(async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    TestEmulator {
        shared,
        base: format!("http://{addr}"),
        ca_pem,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        _stop: stop,
    }
}

impl TestEmulator {
    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(super) async fn token(&self) -> String {
        let r = self
            .http
            .get(self.url(&format!("/api/v1/auth/acquirer/{ACQ}")))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Token>().await.unwrap().token
    }

    pub(super) async fn post_json(
        &self,
        token: &str,
        path: &str,
        body: &impl serde::Serialize,
    ) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `GET` as the partner, the answer's JSON.
    pub(super) async fn get_json(&self, token: &str, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub(super) async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// Branch + offer as the adapter's setup creates them.
    async fn branch_and_offer(&self, token: &str) -> (String, String) {
        let r = self
            .post_json(
                token,
                "/api/v2/acquirers/branch",
                &branch("Тестовий кабінет"),
            )
            .await;
        assert_eq!(r.status(), 200);
        let branch_id = r.json::<Id>().await.unwrap().id;
        let offer = json!({
            "name": "Вхід до кабінету",
            "scopes": {"diiaId": ["auth"]},
            "returnLink": "https://cabinet.example/return",
        });
        let r = self
            .post_json(
                token,
                &format!("/api/v1/acquirers/branch/{branch_id}/offer"),
                &offer,
            )
            .await;
        assert_eq!(r.status(), 200);
        (branch_id, r.json::<Id>().await.unwrap().id)
    }

    async fn dynamic(
        &self,
        token: &str,
        branch_id: &str,
        offer_id: &str,
        request_id: &str,
        sign_algo: &str,
    ) -> reqwest::Response {
        let body = json!({
            "offerId": offer_id,
            "requestId": request_id,
            "signAlgo": sign_algo,
        });
        self.post_json(
            token,
            &format!("/api/v2/acquirers/branch/{branch_id}/offer-request/dynamic"),
            &body,
        )
        .await
    }

    /// A whole login up to the deeplink: returns (n, requestId as sent, hash).
    async fn new_request(&self) -> (u64, String, Vec<u8>) {
        let token = self.token().await;
        let (b, o) = self.branch_and_offer(&token).await;
        let hash = sha2::Sha256::digest(super::state::random_hex(16).unwrap()).to_vec();
        let request_id = BASE64.encode(&hash);
        let r = self.dynamic(&token, &b, &o, &request_id, "ECDSA").await;
        assert_eq!(r.status(), 200);
        let deeplink = r.json::<Deeplink>().await.unwrap().deeplink;
        let n = deeplink
            .strip_prefix(&format!("{}/acquirers/offer-request/dynamic/", self.base))
            .unwrap_or_else(|| panic!("deeplink of the wrong shape: {deeplink}"))
            .parse()
            .unwrap();
        (n, request_id, hash)
    }

    pub(super) fn trust(&self) -> TrustList {
        TrustList::from_bytes(self.ca_pem.as_bytes()).unwrap().0
    }
}

/// A branch as the SDKs create one (the adapter's setup sends the same fields).
pub(super) fn branch(name: &str) -> Value {
    json!({
        "name": name,
        "email": "it@example.com",
        "region": "Київ",
        "district": "Шевченківський",
        "location": "Київ",
        "street": "Хрещатик",
        "house": "1",
        "customFullName": "ТОВ «Приклад»",
        "customFullAddress": "Київ, Хрещатик, 1",
        "deliveryTypes": ["api"],
        "offerRequestType": "dynamic",
        "scopes": {"diiaId": ["auth"]},
    })
}

async fn message(r: reqwest::Response) -> String {
    r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The one callback the partner got, decoded.
fn callback_data(received: &Received) -> Callback {
    assert_eq!(received.fields.len(), 1, "{:?}", received.fields);
    let (name, value) = &received.fields[0];
    assert_eq!(name, "encodeData");
    serde_json::from_slice(&BASE64.decode(value).unwrap()).unwrap()
}

// ---------- tests ----------

#[tokio::test]
async fn session_tokens_are_issued_checked_and_expired() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;

    let token = emu.token().await;
    assert!(token.len() >= 32);
    let wrong = emu.get("/api/v1/auth/acquirer/not-the-token").await;
    assert!(
        matches!(wrong.status().as_u16(), 401 | 403),
        "{}",
        wrong.status()
    );
    assert!(!message(wrong).await.is_empty());

    // Protected calls: missing, unknown, valid bearer.
    let list = "/api/v2/acquirers/branches";
    assert_eq!(emu.get(list).await.status(), 401);
    let unknown = emu
        .http
        .get(emu.url(list))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 401);
    assert!(message(unknown).await.contains("token"));
    let ok = emu
        .http
        .get(emu.url(list))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.json::<Value>().await.unwrap(),
        json!({"total": 0, "branches": []})
    );

    // The control route forces the adapter's 401 → renew → retry path.
    let r = emu
        .http
        .post(emu.url("/emulator/tokens/expire"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let old = emu
        .http
        .get(emu.url(list))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 401);
    let renewed = emu.token().await;
    assert_ne!(renewed, token);
    let again = emu
        .http
        .get(emu.url(list))
        .bearer_auth(&renewed)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn tokens_expire_after_their_ttl() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |s| s.token_ttl = Duration::from_millis(200)).await;
    let token = emu.token().await;
    let list = emu.url("/api/v2/acquirers/branches");
    assert_eq!(
        emu.http
            .get(&list)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        emu.http
            .get(&list)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn basic_auth_is_required_when_configured() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |s| {
        s.auth_acquirer_token = Some("basic-secret".into())
    })
    .await;
    let path = emu.url(&format!("/api/v1/auth/acquirer/{ACQ}"));
    let none = emu.http.get(&path).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let wrong = emu
        .http
        .get(&path)
        .header("authorization", "Basic other")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = emu
        .http
        .get(&path)
        .header("authorization", "Basic basic-secret")
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert!(!right.json::<Token>().await.unwrap().token.is_empty());
}

#[tokio::test]
async fn branch_offer_and_dynamic_request_give_a_deeplink_of_diias_shape() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let token = emu.token().await;

    // Branch validation.
    let mut no_auth = branch("x");
    no_auth["scopes"]["diiaId"] = json!(["sharing"]);
    let r = emu
        .post_json(&token, "/api/v2/acquirers/branch", &no_auth)
        .await;
    assert_eq!(r.status(), 400);
    assert!(message(r).await.contains("auth"));
    let mut no_name = branch("");
    no_name["name"] = json!(" ");
    let r = emu
        .post_json(&token, "/api/v2/acquirers/branch", &no_name)
        .await;
    assert_eq!(r.status(), 400);
    let r = emu
        .post_json(
            &token,
            "/api/v2/acquirers/branch",
            &json!({"name": "only a name"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(message(r).await.contains("location is required"));

    let (branch_id, offer_id) = emu.branch_and_offer(&token).await;
    assert_eq!(branch_id.len(), 24);

    // Branch read, list, offer on an unknown branch.
    let r = emu
        .http
        .get(emu.url(&format!("/api/v2/acquirers/branch/{branch_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["_id"], branch_id.as_str());
    assert_eq!(b["name"], "Тестовий кабінет");
    assert_eq!(b["scopes"]["diiaId"], json!(["auth"]));
    let r = emu
        .http
        .get(emu.url("/api/v2/acquirers/branches?skip=0&limit=10"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["branches"][0]["_id"], branch_id.as_str());
    let offer = json!({"name": "o", "scopes": {"diiaId": ["auth"]}});
    let r = emu
        .post_json(
            &token,
            "/api/v1/acquirers/branch/ffffffffffffffffffffffff/offer",
            &offer,
        )
        .await;
    assert_eq!(r.status(), 404);

    // Dynamic requests: the deeplink points back at the emulator with an increasing number.
    let rid = BASE64.encode(sha2::Sha256::digest(b"plain id 1"));
    let r = emu
        .dynamic(&token, &branch_id, &offer_id, &rid, "ECDSA")
        .await;
    assert_eq!(r.status(), 200);
    let first = r.json::<Deeplink>().await.unwrap().deeplink;
    let prefix = format!("{}/acquirers/offer-request/dynamic/", emu.base);
    let n1: u64 = first.strip_prefix(&prefix).unwrap().parse().unwrap();
    let rid2 = BASE64.encode(sha2::Sha256::digest(b"plain id 2"));
    let r = emu
        .dynamic(&token, &branch_id, &offer_id, &rid2, "ECDSA")
        .await;
    let n2: u64 = r
        .json::<Deeplink>()
        .await
        .unwrap()
        .deeplink
        .strip_prefix(&prefix)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(n2, n1 + 1);

    // The request is visible to scripts.
    let view: Value = emu
        .get(&format!("/emulator/requests/{n1}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["n"], n1);
    assert_eq!(view["requestId"], rid.as_str());
    assert_eq!(view["offerName"], "Вхід до кабінету");
    assert_eq!(view["branchName"], "Тестовий кабінет");
    assert_eq!(view["state"], "waiting");
    OffsetDateTime::parse(
        view["createdAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();

    // Unknown branch / offer.
    let r = emu
        .dynamic(&token, "ffffffffffffffffffffffff", &offer_id, &rid, "ECDSA")
        .await;
    assert_eq!(r.status(), 404);
    let r = emu
        .dynamic(
            &token,
            &branch_id,
            "ffffffffffffffffffffffff",
            &rid,
            "ECDSA",
        )
        .await;
    assert_eq!(r.status(), 404);

    // Deleting the branch.
    let r = emu
        .http
        .delete(emu.url(&format!("/api/v2/acquirers/branch/{branch_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"success": true}));
    let r = emu
        .dynamic(&token, &branch_id, &offer_id, &rid, "ECDSA")
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn sign_algo_absent_or_dstu_is_dstu_and_others_are_refused() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let token = emu.token().await;
    let (b, o) = emu.branch_and_offer(&token).await;
    let rid = BASE64.encode([7u8; 32]);
    let path = format!("/api/v2/acquirers/branch/{b}/offer-request/dynamic");

    // PHP sends "DSTU"; JS, Python, Java and .NET send no signAlgo (and Java a null returnLink).
    for body in [
        json!({"offerId": o, "requestId": rid, "signAlgo": "DSTU"}),
        json!({"offerId": o, "requestId": rid}),
        json!({"offerId": o, "requestId": rid, "returnLink": null, "signAlgo": null}),
    ] {
        let r = emu.post_json(&token, &path, &body).await;
        assert_eq!(r.status(), 200, "{body}");
    }
    let r = emu.dynamic(&token, &b, &o, &rid, "ECDSA").await;
    assert_eq!(r.status(), 200);
    {
        let shared = emu.shared.lock();
        let algos: Vec<_> = shared.requests.values().map(|r| r.sign_algo).collect();
        use super::state::SignAlgo::{Dstu, Ecdsa};
        assert_eq!(algos, [Dstu, Dstu, Dstu, Ecdsa]);
    }

    for other in ["RSA", "ecdsa", ""] {
        let r = emu.dynamic(&token, &b, &o, &rid, other).await;
        assert_eq!(r.status(), 400, "{other}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["name"], "BadRequestError");
        assert_eq!(body["code"], 400);
        assert!(body["message"].as_str().unwrap().contains("signAlgo"));
    }

    for bad in ["not base64!", &BASE64.encode([1u8; 20]), ""] {
        for algo in ["DSTU", "ECDSA"] {
            let r = emu.dynamic(&token, &b, &o, bad, algo).await;
            assert_eq!(r.status(), 400, "{bad}");
            assert!(message(r).await.contains("requestId"));
        }
    }
}

#[tokio::test]
async fn a_request_without_sign_algo_is_answered_with_a_dstu_signature_as_diia_does() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let token = emu.token().await;
    let (b, o) = emu.branch_and_offer(&token).await;
    // What the official JS, Python, Java and .NET SDKs send: no signAlgo, and the request id
    // hashed with GOST 34.311.
    let hash = kepgate_signature::gost34311::digest(b"the partner's own request id");
    let r = emu
        .post_json(
            &token,
            &format!("/api/v2/acquirers/branch/{b}/offer-request/dynamic"),
            &json!({"offerId": o, "requestId": BASE64.encode(hash)}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = emu
        .http
        .post(emu.url("/emulator/requests/1/confirm"))
        .json(&json!({"identity": "director"}))
        .send()
        .await
        .unwrap();
    let view: Value = r.json().await.unwrap();
    assert_eq!(view["state"], "confirmed", "{view}");

    let received = partner.received();
    assert_eq!(received.len(), 1);
    let data = callback_data(&received[0]);
    let p7s = BASE64.decode(data.signature.unwrap()).unwrap();
    let verified = verify_auth_signature(&p7s, &hash, &emu.trust(), clock::now()).unwrap();
    assert_eq!(
        verified.signature_algorithm,
        "DSTU 4145-2002 with GOST 34.311-95"
    );
    assert_eq!(
        verified.digest_algorithm,
        kepgate_signature::oids::GOST34311
    );
    assert_eq!(
        verified.identity.full_name,
        TestIdentity::Director.full_name()
    );
    assert_eq!(
        verified.identity.edrpou.as_ref().map(|e| e.as_str()),
        TestIdentity::Director.edrpou()
    );
    // Signed by the DSTU CA (M257) with the person's M431 key, like the real Diia chain.
    assert!(
        verified.identity.issuer.contains("ДСТУ 4145"),
        "{}",
        verified.identity.issuer
    );
    // The same bytes with one bit flipped in the signature value fail.
    let mut tampered = p7s.clone();
    let at = tampered.len() - 10;
    tampered[at] ^= 1;
    assert!(verify_auth_signature(&tampered, &hash, &emu.trust(), clock::now()).is_err());
}

#[tokio::test]
async fn phone_page_shows_the_request_in_ukrainian() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let (n, _, _) = emu.new_request().await;

    let r = emu
        .get(&format!("/acquirers/offer-request/dynamic/{n}"))
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    for needle in [
        r#"<html lang="uk">"#,
        "Тестовий кабінет",
        "Вхід до кабінету",
        "Авторизація за допомогою Дія.Підпису",
        "Шевченко Тарас Григорович",
        "Коваленко Олена Петрівна",
        "ЄДРПОУ",
        "РНОКПП",
        "Підтвердити",
        "Відхилити",
        &format!(r#"action="/acquirers/offer-request/dynamic/{n}/confirm""#),
        &format!(r#"formaction="/acquirers/offer-request/dynamic/{n}/decline""#),
        r#"href="/emulator/static/phone.css""#,
    ] {
        assert!(html.contains(needle), "missing {needle:?} in\n{html}");
    }
    assert!(!html.contains("<script"));
    assert!(!html.contains("<style"));

    let css = emu.get("/emulator/static/phone.css").await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );

    let missing = emu.get("/acquirers/offer-request/dynamic/999999").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("Запит не знайдено"));
    assert_eq!(emu.get("/emulator/requests/999999").await.status(), 404);
}

/// A branch with only the fields Diia requires: accepted, and read back (alone and in the list)
/// with every key an SDK's branch model expects, the unset ones `null`.
#[tokio::test]
async fn a_branch_without_the_optional_fields_is_accepted_and_read_back_with_every_key() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let token = emu.token().await;
    let mut minimal = branch("Мінімальна");
    for optional in [
        "email",
        "region",
        "district",
        "customFullName",
        "customFullAddress",
    ] {
        minimal.as_object_mut().unwrap().remove(optional);
    }
    let r = emu
        .post_json(&token, "/api/v2/acquirers/branch", &minimal)
        .await;
    assert_eq!(r.status(), 200);
    let id = r.json::<Id>().await.unwrap().id;

    let one = emu
        .get_json(&token, &format!("/api/v2/acquirers/branch/{id}"))
        .await;
    let list = emu.get_json(&token, "/api/v2/acquirers/branches").await;
    for read in [&one, &list["branches"][0]] {
        assert_eq!(read["_id"], id.as_str(), "{read}");
        for key in [
            "customFullName",
            "customFullAddress",
            "email",
            "region",
            "district",
        ] {
            assert_eq!(read.get(key), Some(&Value::Null), "{key} in {read}");
        }
        assert_eq!(read["name"], "Мінімальна");
    }

    // Given, they are still checked.
    for (key, value, says) in [
        ("email", " ", "email must not be empty"),
        ("email", "not an address", "email is not an e-mail address"),
        ("region", "", "region must not be empty"),
        ("district", "  ", "district must not be empty"),
    ] {
        let mut wrong = minimal.clone();
        wrong[key] = json!(value);
        let r = emu
            .post_json(&token, "/api/v2/acquirers/branch", &wrong)
            .await;
        assert_eq!(r.status(), 400, "{key}: {value:?}");
        let said = message(r).await;
        assert!(said.contains(says), "{key}: {said}");
    }
    // `null` is as good as absent (the .NET SDK writes unset fields so).
    let mut nulls = minimal.clone();
    for key in ["email", "region", "district"] {
        nulls[key] = Value::Null;
    }
    let r = emu
        .post_json(&token, "/api/v2/acquirers/branch", &nulls)
        .await;
    assert_eq!(r.status(), 200);
}

/// The headers of the multipart part named `name` in a raw body, lower-cased.
fn part_headers(content_type: &str, body: &[u8], name: &str) -> Vec<String> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .unwrap()
        .trim_matches('"');
    let body = std::str::from_utf8(body).unwrap();
    body.split(format!("--{boundary}").as_str())
        .filter_map(|part| part.split_once("\r\n\r\n"))
        .map(|(head, _)| {
            head.trim_start_matches("\r\n")
                .split("\r\n")
                .map(str::to_ascii_lowercase)
                .collect::<Vec<_>>()
        })
        .find(|head| {
            head.iter()
                .any(|h| h.contains(&format!("name=\"{}\"", name.to_ascii_lowercase())))
        })
        .unwrap_or_else(|| panic!("no part named {name}: {body}"))
}

#[tokio::test]
async fn confirming_as_the_person_delivers_a_verifiable_diia_callback() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let (n, request_id, hash) = emu.new_request().await;

    let r = emu
        .http
        .post(emu.url(&format!("/emulator/requests/{n}/confirm")))
        .json(&json!({"identity": "person"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let view: Value = r.json().await.unwrap();
    assert_eq!(view["state"], "confirmed");
    assert_eq!(view["identity"], "person");
    assert_eq!(view["partnerStatus"], 200);
    assert_eq!(view["partnerBody"], r#"{"success":true}"#);

    let received = partner.received();
    assert_eq!(received.len(), 1);
    let cb = &received[0];
    assert_eq!(cb.headers["x-diia-id-action"], "auth");
    assert_eq!(
        cb.headers["x-document-request-trace-id"],
        request_id.as_str()
    );
    // `encodeData` is a bare form field: its part says only its name, no type of its own.
    let head = part_headers(
        cb.headers["content-type"].to_str().unwrap(),
        &cb.body,
        "encodeData",
    );
    assert_eq!(
        head,
        ["content-disposition: form-data; name=\"encodedata\""],
        "the encodeData part's headers"
    );
    let data = callback_data(cb);
    assert_eq!(data.request_id, request_id);
    assert_eq!(data.status, None);
    let p7s = BASE64.decode(data.signature.unwrap()).unwrap();
    let verified = verify_auth_signature(&p7s, &hash, &emu.trust(), clock::now()).unwrap();
    let id = verified.identity;
    assert_eq!(id.full_name, "Шевченко Тарас Григорович");
    assert_eq!(
        id.rnokpp,
        Some(Rnokpp::parse(TestIdentity::Person.rnokpp()).unwrap())
    );
    assert_eq!(id.edrpou, None);
    assert!(
        verified.identity_warnings.is_empty(),
        "{:?}",
        verified.identity_warnings
    );

    // Answered once: a second answer (either kind) is refused and nothing more is sent.
    for path in ["confirm", "decline"] {
        let again = emu
            .http
            .post(emu.url(&format!("/emulator/requests/{n}/{path}")))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 409);
    }
    assert_eq!(partner.received().len(), 1);
    // The phone page now shows the outcome.
    let html = emu
        .get(&format!("/acquirers/offer-request/dynamic/{n}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Готово — поверніться до компʼютера"),
        "{html}"
    );
}

#[tokio::test]
async fn confirming_as_the_director_yields_the_company_code() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let (n, _, hash) = emu.new_request().await;

    // The phone's form, as a browser posts it.
    let r = emu
        .http
        .post(emu.url(&format!("/acquirers/offer-request/dynamic/{n}/confirm")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("identity=director")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/acquirers/offer-request/dynamic/{n}").as_str()
    );

    let data = callback_data(&partner.received()[0]);
    let p7s = BASE64.decode(data.signature.unwrap()).unwrap();
    let id = verify_auth_signature(&p7s, &hash, &emu.trust(), clock::now())
        .unwrap()
        .identity;
    assert_eq!(id.full_name, "Коваленко Олена Петрівна");
    assert_eq!(
        id.rnokpp,
        Some(Rnokpp::parse(TestIdentity::Director.rnokpp()).unwrap())
    );
    assert_eq!(id.edrpou, Some(Edrpou::parse("40123454").unwrap()));
    assert_eq!(id.title.as_deref(), Some("Директор"));
    assert_eq!(id.organization.as_deref(), Some("ТОВ «Тестова компанія»"));

    let view: Value = emu
        .get(&format!("/emulator/requests/{n}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["state"], "confirmed");
    assert_eq!(view["identity"], "director");

    // The form posted twice: 409 page, nothing sent again.
    let r = emu
        .http
        .post(emu.url(&format!("/acquirers/offer-request/dynamic/{n}/decline")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("уже відповіли"));
    assert_eq!(partner.received().len(), 1);
}

#[tokio::test]
async fn declining_delivers_status_declined_with_an_empty_signature() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let (n, request_id, _) = emu.new_request().await;

    let r = emu
        .http
        .post(emu.url(&format!("/emulator/requests/{n}/decline")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let view: Value = r.json().await.unwrap();
    assert_eq!(view["state"], "declined");

    let received = partner.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].headers["x-diia-id-action"], "auth");
    assert_eq!(
        received[0].headers["x-document-request-trace-id"],
        request_id.as_str()
    );
    let data = callback_data(&received[0]);
    assert_eq!(data.request_id, request_id);
    // An empty signature, not a missing one: the SDK decoders read it unconditionally.
    assert_eq!(data.signature.as_deref(), Some(""));
    assert_eq!(data.status.as_deref(), Some("declined"));

    let again = emu
        .http
        .post(emu.url(&format!("/emulator/requests/{n}/confirm")))
        .json(&json!({"identity": "director"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let html = emu
        .get(&format!("/acquirers/offer-request/dynamic/{n}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Запит відхилено"));
}

#[tokio::test]
async fn a_partner_refusing_the_callback_marks_the_request_failed() {
    let partner = start_partner().await;
    partner.set_mode(PartnerMode::Fail500);
    let emu = start_emulator(&partner, |_| {}).await;
    let (n, _, _) = emu.new_request().await;

    let r = emu
        .http
        .post(emu.url(&format!("/emulator/requests/{n}/confirm")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let view: Value = r.json().await.unwrap();
    assert_eq!(view["state"], "failed");
    assert_eq!(view["identity"], "person");
    assert_eq!(view["partnerStatus"], 500);
    assert!(view["failureReason"].as_str().unwrap().contains("500"));
    assert!(view["partnerBody"].as_str().unwrap().contains("db down"));

    let html = emu
        .get(&format!("/acquirers/offer-request/dynamic/{n}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Сервіс не прийняв відповідь"), "{html}");
    assert!(html.contains("db down"));
}

#[tokio::test]
async fn an_unreachable_partner_marks_the_request_failed() {
    let partner = start_partner().await;
    // A port nobody listens on: bind, note, close.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let emu = start_emulator(&partner, |s| {
        s.partner_callback_url = Url::parse(&format!("http://{closed}/cb")).unwrap();
    })
    .await;
    let (n, _, _) = emu.new_request().await;
    let view: Value = emu
        .http
        .post(emu.url(&format!("/emulator/requests/{n}/decline")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["state"], "failed");
    assert!(view.get("partnerStatus").is_none());
    assert!(
        view["failureReason"]
            .as_str()
            .unwrap()
            .contains("could not be reached")
    );
}

#[tokio::test]
async fn faults_make_the_dynamic_endpoint_misbehave() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let token = emu.token().await;
    let (b, o) = emu.branch_and_offer(&token).await;
    let rid = BASE64.encode([3u8; 32]);
    let set = |fault: Value| {
        let http = emu.http.clone();
        let url = emu.url("/emulator/faults");
        async move { http.post(url).json(&fault).send().await.unwrap().status() }
    };

    assert_eq!(set(json!({"dynamic": "error500"})).await, 200);
    let r = emu.dynamic(&token, &b, &o, &rid, "ECDSA").await;
    assert_eq!(r.status(), 500);

    assert_eq!(set(json!({"dynamic": "garbage"})).await, 200);
    let r = emu.dynamic(&token, &b, &o, &rid, "ECDSA").await;
    assert_eq!(r.status(), 200);
    assert!(r.json::<Deeplink>().await.is_err());

    assert_eq!(set(json!({"dynamic": "slow", "slowMs": 300})).await, 200);
    let started = std::time::Instant::now();
    let r = emu.dynamic(&token, &b, &o, &rid, "ECDSA").await;
    assert_eq!(r.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    assert_eq!(set(json!({"dynamic": "explode"})).await, 400);
    assert_eq!(set(json!({"dynamic": "ok"})).await, 200);
    let r = emu.dynamic(&token, &b, &o, &rid, "ECDSA").await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn the_ca_is_served_and_kept_across_restarts_with_a_state_dir() {
    let dir = std::env::temp_dir().join(format!(
        "kepgate-emulator-test-{}",
        super::state::random_hex(8).unwrap()
    ));
    let partner = start_partner().await;
    let first = start_emulator(&partner, |s| s.state_dir = Some(dir.clone())).await;
    let served = first.get("/emulator/ca.pem").await.text().await.unwrap();
    assert_eq!(served, first.ca_pem);
    assert!(served.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(!served.contains("PRIVATE KEY"));
    let (n, _, hash) = first.new_request().await;
    first
        .http
        .post(first.url(&format!("/emulator/requests/{n}/confirm")))
        .send()
        .await
        .unwrap();
    let p7s_first = BASE64
        .decode(callback_data(&partner.received()[0]).signature.unwrap())
        .unwrap();
    // The second run keeps the first's public base URL: keys naming another run's OCSP and CRL
    // URLs would be re-issued.
    let first_base = Url::parse(&first.base).unwrap();
    drop(first);
    let person_key = std::fs::read_to_string(dir.join("person.pem")).unwrap();
    let director_key = std::fs::read_to_string(dir.join("director.pem")).unwrap();
    // An expired identity key is re-issued at start (by the same CA).
    let ca =
        TestCa::from_pem_bundle(&std::fs::read_to_string(dir.join("ca.pem")).unwrap()).unwrap();
    let long_ago = clock::now() - time::Duration::days(400);
    let spec = TestIdentity::Director.spec().unwrap();
    let expired = ca
        .issue(&spec, long_ago, long_ago + time::Duration::days(30))
        .unwrap();
    std::fs::write(dir.join("director.pem"), expired.to_pem_bundle().unwrap()).unwrap();

    let second = start_emulator(&partner, |s| {
        s.state_dir = Some(dir.clone());
        s.public_base_url = first_base;
    })
    .await;
    assert_eq!(second.ca_pem, served);
    assert_eq!(
        std::fs::read_to_string(dir.join("person.pem")).unwrap(),
        person_key
    );
    let reissued = std::fs::read_to_string(dir.join("director.pem")).unwrap();
    assert_ne!(reissued, director_key);
    assert_ne!(reissued, expired.to_pem_bundle().unwrap());
    // A signature from before the restart still verifies against the CA served after it.
    verify_auth_signature(&p7s_first, &hash, &second.trust(), clock::now()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("ca.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }

    // Without a state dir every start has its own CA.
    let fresh = start_emulator(&partner, |_| {}).await;
    assert_ne!(fresh.ca_pem, served);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_corrupt_ca_file_is_an_error_not_silently_replaced() {
    let dir = std::env::temp_dir().join(format!(
        "kepgate-emulator-test-{}",
        super::state::random_hex(8).unwrap()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.pem"), "garbage").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = EmulatorSettings::new(
        addr,
        Url::parse(&format!("http://{addr}/")).unwrap(),
        Url::parse("http://127.0.0.1:1/cb").unwrap(),
    );
    settings.state_dir = Some(dir.clone());
    let err = Emulator::build_on(settings, listener).await.err().unwrap();
    assert!(matches!(err, EmulatorError::CaBundle { .. }), "{err}");
    assert!(err.to_string().contains("ca.pem"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn identities_have_valid_numbers() {
    for who in TestIdentity::ALL {
        Rnokpp::parse(who.rnokpp()).unwrap();
        if let Some(e) = who.edrpou() {
            Edrpou::parse(e).unwrap();
        }
        assert_eq!(TestIdentity::parse(who.key()), Some(who));
    }
    assert_eq!(TestIdentity::Director.edrpou(), Some("40123454"));
    assert_eq!(TestIdentity::Person.edrpou(), None);
}

#[test]
fn debug_output_hides_the_tokens() {
    let addr: SocketAddr = "127.0.0.1:8090".parse().unwrap();
    let mut s = EmulatorSettings::new(
        addr,
        Url::parse("http://127.0.0.1:8090/").unwrap(),
        Url::parse("http://127.0.0.1:8080/cb").unwrap(),
    );
    s.acquirer_token = "acq-secret-1".into();
    s.auth_acquirer_token = Some("basic-secret-2".into());
    let text = format!("{s:?}");
    assert!(
        !text.contains("acq-secret-1") && !text.contains("basic-secret-2"),
        "{text}"
    );
    assert!(text.contains("REDACTED"));
}

#[test]
fn args_parse_with_defaults_and_build_settings() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        emulator: EmulatorArgs,
    }
    let cli = Cli::try_parse_from([
        "kepgate-emulator",
        "--partner-callback-url",
        "http://127.0.0.1:8080/.kepgate/diia/callback/x",
    ])
    .unwrap();
    let text = format!("{:?}", cli.emulator);
    assert!(!text.contains("emulator-acquirer-token"), "{text}");
    let s = cli.emulator.into_settings().unwrap();
    assert_eq!(s.listen, "127.0.0.1:8090".parse::<SocketAddr>().unwrap());
    assert_eq!(s.public_base_url.as_str(), "http://127.0.0.1:8090/");
    assert_eq!(s.acquirer_token, DEFAULT_ACQUIRER_TOKEN);
    assert_eq!(s.auth_acquirer_token, None);
    assert_eq!(s.token_ttl, DEFAULT_TOKEN_TTL);
    assert!(
        Cli::try_parse_from(["kepgate-emulator"]).is_err(),
        "callback URL is required"
    );
}

#[tokio::test]
async fn deeplinks_follow_a_public_base_url_with_a_path() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |s| {
        s.public_base_url = Url::parse("https://phone.example/diia").unwrap();
    })
    .await;
    let token = emu.token().await;
    let (b, o) = emu.branch_and_offer(&token).await;
    let r = emu
        .dynamic(&token, &b, &o, &BASE64.encode([9u8; 32]), "ECDSA")
        .await;
    let link = r.json::<Deeplink>().await.unwrap().deeplink;
    assert!(
        link.starts_with("https://phone.example/diia/acquirers/offer-request/dynamic/"),
        "{link}"
    );
    let n = link.rsplit('/').next().unwrap();
    let html = emu
        .get(&format!("/acquirers/offer-request/dynamic/{n}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!(
        r#"action="/diia/acquirers/offer-request/dynamic/{n}/confirm""#
    )));
    assert!(html.contains(r#"href="/diia/emulator/static/phone.css""#));
}

#[tokio::test]
async fn an_emulator_started_with_registered_ids_serves_them_and_writes_its_ca() {
    let partner = start_partner().await;
    let ca_file = std::env::temp_dir().join(format!("emulator-ca-{}.pem", std::process::id()));
    let ca_path = ca_file.clone();
    let emu = start_emulator(&partner, move |s| {
        s.registered = Some(super::settings::Registered {
            branch_id: "compose-branch".to_owned(),
            offer_id: "compose-offer".to_owned(),
        });
        s.ca_cert_file = Some(ca_path);
    })
    .await;
    let written = std::fs::read_to_string(&ca_file).unwrap();
    let _ = std::fs::remove_file(&ca_file);
    assert_eq!(written, emu.ca_pem, "the CA the callbacks chain to");

    // As `kepgate diia setup` would have left it: both scopes, on the branch and its offer.
    let token = emu.token().await;
    let r = emu
        .http
        .get(emu.url("/api/v2/acquirers/branch/compose-branch"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let branch: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        branch["scopes"]["diiaId"],
        json!(["auth", "hashedFilesSigning"])
    );
    let request_id = BASE64.encode([7u8; 32]);
    let r = emu
        .dynamic(
            &token,
            "compose-branch",
            "compose-offer",
            &request_id,
            "DSTU",
        )
        .await;
    assert_eq!(r.status(), 200, "{}", message(r).await);
    let r = emu
        .dynamic(
            &token,
            "compose-branch",
            "no-such-offer",
            &request_id,
            "DSTU",
        )
        .await;
    assert_ne!(r.status(), 200);
}

#[test]
fn registered_ids_come_in_pairs_of_plain_tokens() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        emulator: EmulatorArgs,
    }
    let parse = |extra: &[&str]| {
        let mut args = vec![
            "kepgate-emulator",
            "--partner-callback-url",
            "http://127.0.0.1:8080/.kepgate/callback/diia/x",
        ];
        args.extend_from_slice(extra);
        Cli::try_parse_from(args).map(|cli| cli.emulator.into_settings())
    };
    assert!(
        parse(&["--branch-id", "b1"]).is_err(),
        "an offer id is needed too"
    );
    let settings = parse(&["--branch-id", "b1", "--offer-id", "o1"])
        .unwrap()
        .unwrap();
    assert_eq!(
        settings.registered,
        Some(super::settings::Registered {
            branch_id: "b1".to_owned(),
            offer_id: "o1".to_owned(),
        })
    );
    let refused = parse(&["--branch-id", "../b", "--offer-id", "o1"])
        .unwrap()
        .unwrap_err();
    assert!(refused.to_string().contains("branch_id"), "{refused}");
}
