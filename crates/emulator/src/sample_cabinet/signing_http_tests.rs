//! The «Підписати звіт» pages over real HTTP, against a stand-in gateway that speaks the signing
//! API's contract (JWKS, start, result) and records what the cabinet sent it.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State as AxumState;
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::tests::{HASH, ID, ISS, P7S, SUB, TestKey, claims, now, sign, test_key};
use super::*;
use crate::sample_cabinet::{ASSERTION_TYP, SampleCabinet};

/// What the stand-in answers for `GET …/signing/{id}`, and what it was sent.
#[derive(Default)]
struct Gateway {
    status: Option<Value>,
    started: Option<(String, Value)>,
    fetched_with: Vec<String>,
}

type Shared = Arc<(TestKey, Mutex<Gateway>)>;

async fn jwks(AxumState(g): AxumState<Shared>) -> Json<Value> {
    Json(json!({"keys": [g.0.jwk]}))
}

fn bearer(headers: &HeaderMap) -> String {
    headers["authorization"].to_str().unwrap().to_owned()
}

async fn start_api(
    AxumState(g): AxumState<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let size = BASE64
        .decode(body["files"][0]["content"].as_str().unwrap())
        .unwrap()
        .len();
    g.1.lock().unwrap().started = Some((bearer(&headers), body));
    (
        StatusCode::CREATED,
        Json(json!({
            "id": ID, "sign_url": format!("/.kepgate/sign/{ID}"), "algorithm": "dstu4145",
            "files": [{"name": "zvit-2026-12.txt", "size": size, "hash": HASH}],
            "expires_at": "2026-12-07T16:00:00Z",
        })),
    )
}

async fn result_api(AxumState(g): AxumState<Shared>, headers: HeaderMap) -> Json<Value> {
    let mut gateway = g.1.lock().unwrap();
    gateway.fetched_with.push(bearer(&headers));
    Json(gateway.status.clone().unwrap())
}

struct Running {
    gateway: Shared,
    cabinet: String,
    http: reqwest::Client,
    assertion: String,
    _stops: (oneshot::Sender<()>, oneshot::Sender<()>),
}

async fn serve(listener: TcpListener, app: axum::Router) -> oneshot::Sender<()> {
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    stop
}

async fn start() -> Running {
    let gateway: Shared = Arc::new((test_key(), Mutex::default()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway_base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/.kepgate/jwks.json", get(jwks))
        .route("/.kepgate/api/signing", post(start_api))
        .route("/.kepgate/api/signing/{id}", get(result_api))
        .with_state(gateway.clone());
    let gateway_stop = serve(listener, app).await;

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cabinet = format!("http://{}", listener.local_addr().unwrap());
    let args = CabinetArgs {
        listen: listener.local_addr().unwrap(),
        jwks_url: Some(
            format!("{gateway_base}/.kepgate/jwks.json")
                .parse()
                .unwrap(),
        ),
        audience: "cabinet".to_owned(),
        issuer: Some(ISS.to_owned()),
        ca_file: None,
        gateway_url: Some(gateway_base.parse().unwrap()),
    };
    let app = SampleCabinet::build_on(args, listener).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    let assertion = sign(
        &gateway.0,
        ASSERTION_TYP,
        &json!({
            "iss": ISS, "aud": "cabinet", "iat": now(), "exp": now() + 60, "sub": SUB,
            "name": "Шевченко Тарас Григорович", "rnokpp": "3012345670", "edrpou": null,
            "organization": null, "provider": "diia", "cert_serial": "01ab",
            "cert_issuer": "Тестовий КНЕДП", "sid": "s1",
        }),
    );
    Running {
        gateway,
        cabinet,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        assertion,
        _stops: (gateway_stop, stop),
    }
}

impl Running {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.cabinet))
            .header("x-kepgate-assertion", &self.assertion)
            .send()
            .await
            .unwrap()
    }

    fn answer(&self, status: Value) {
        self.gateway.1.lock().unwrap().status = Some(status);
    }

    fn signed(&self, claims: &Value) -> Value {
        json!({
            "id": ID, "state": "signed", "signed_at": "2026-12-07T15:30:00Z",
            "algorithm": "DSTU 4145-2002",
            "signer": claims["signer"],
            "files": [{"name": "zvit-2026-12.txt", "size": 120, "hash": HASH,
                       "signature": BASE64.encode(P7S)}],
            "result": sign(&self.gateway.0, SIGNING_RESULT_TYP, claims),
        })
    }
}

#[tokio::test]
async fn the_report_is_signed_through_the_gateway_and_checked() {
    let run = start().await;
    let page = run.get("/report").await.text().await.unwrap();
    assert!(page.contains("Звіт за грудень 2026"), "{page}");
    assert!(page.contains("Шевченко Тарас Григорович"));
    assert!(page.contains(">Підписати звіт</button>"));

    let r = run
        .http
        .post(format!("{}/report/sign", run.cabinet))
        .header("x-kepgate-assertion", &run.assertion)
        .form(&[("algorithm", "ecdsa")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], format!("/.kepgate/sign/{ID}"));
    let (auth, body) = run.gateway.1.lock().unwrap().started.clone().unwrap();
    assert_eq!(auth, format!("Bearer {}", run.assertion));
    assert_eq!(body["return_to"], "/report/signed");
    assert_eq!(body["algorithm"], "ecdsa");
    assert_eq!(body["files"][0]["name"], "zvit-2026-12.txt");
    let report = BASE64
        .decode(body["files"][0]["content"].as_str().unwrap())
        .unwrap();
    let report = String::from_utf8(report).unwrap();
    assert!(report.contains("Платник: Шевченко Тарас Григорович"));

    // The stand-in's result must describe the report as the start answered it.
    let mut c = claims();
    c["files"][0]["size"] = json!(report.len());
    let mut status = run.signed(&c);
    status["files"][0]["size"] = json!(report.len());
    run.answer(status);
    let page = run
        .get(&format!("/report/signed?signing={ID}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Підписано: Шевченко Тарас Григорович, ")
            && page.contains("DSTU 4145-2002, сертифікат Тестовий КНЕДП / 01ab"),
        "{page}"
    );
    assert!(page.contains("Перевірено: підпис шлюзу (JWKS)"), "{page}");
    assert!(page.contains(&format!("/report/signed/{ID}.p7s")));

    let r = run.get(&format!("/report/signed/{ID}.p7s")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pkcs7-signature");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"zvit-2026-12.txt.p7s\""
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), P7S);
    let fetched = run.gateway.1.lock().unwrap().fetched_with.clone();
    assert!(
        fetched
            .iter()
            .all(|a| *a == format!("Bearer {}", run.assertion))
    );

    // A result about someone else is neither shown as signed nor served.
    let mut other = c.clone();
    other["sub"] = json!("rnokpp:2654321099");
    let mut status = run.signed(&other);
    status["files"][0]["size"] = json!(report.len());
    run.answer(status);
    let page = run
        .get(&format!("/report/signed?signing={ID}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Не перевірено: the result is about another person"),
        "{page}"
    );
    assert!(!page.contains("Підписано:"));
    assert_eq!(
        run.get(&format!("/report/signed/{ID}.p7s")).await.status(),
        502
    );
}

#[tokio::test]
async fn a_declined_signing_shows_its_state_and_reason() {
    let run = start().await;
    run.answer(json!({
        "id": ID, "state": "declined", "reason": "declined",
        "reason_text": "Ви відхилили запит у Дії <b>",
        "files": [{"name": "zvit-2026-12.txt", "size": 120, "hash": HASH}],
    }));
    let page = run
        .get(&format!("/report/signed?signing={ID}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Звіт не підписано: відхилено"), "{page}");
    assert!(
        page.contains("Ви відхилили запит у Дії &#60;b&#62;"),
        "{page}"
    );
    assert_eq!(
        run.get(&format!("/report/signed/{ID}.p7s")).await.status(),
        404
    );
    // Ids that are not UUIDs never reach the gateway.
    let r = run.get("/report/signed?signing=..%2Fadmin").await;
    assert_eq!(r.status(), 404);
    assert_eq!(run.gateway.1.lock().unwrap().fetched_with.len(), 2);
}

#[tokio::test]
async fn without_a_verified_assertion_there_is_no_report() {
    let run = start().await;
    let r = run
        .http
        .get(format!("{}/report", run.cabinet))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = run
        .http
        .post(format!("{}/report/sign", run.cabinet))
        .form(&[("algorithm", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(run.gateway.1.lock().unwrap().started.is_none());
}
