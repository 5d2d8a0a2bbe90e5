//! Every official acquirer SDK's requests, byte for byte as its source builds them (method, path,
//! query, headers, JSON with its nulls and extra fields), replayed against the emulator; and
//! the emulator's callbacks fed to decoders written the way the SDK examples decode them.
//!
//! Sources (read from the public repositories):
//! - JS: diiaintegration/ua-acquirers-sdk-js `src/diia-client-sdk/remote/**/*.ts`,
//!   `service/session-token/SessionTokenService.ts`, `utils/index.ts` (`genUrlParams`),
//!   `src/tests/createBranch.ts`.
//! - Python: A-App-Main/ua-acquirers-sdk-python-main `diia_client/sdk/remote/diia_api.py`,
//!   `sdk/service/session_token_service.py`, `sdk/service/sign_service.py`,
//!   `sdk/remote/model/{branch,offer,branch_scopes}.py`, `examples/fast_api/app/routers/api.py`.
//! - Java: diiaintegration/ua-acquirers-sdk-java `diia-client-sdk/.../remote/HttpMethodExecutor.java`,
//!   `remote/impl/Diia{Branch,Offer,Id}ApiImpl.java`, `service/impl/SessionTokenServiceImpl.java`,
//!   `service/impl/DocumentServiceImpl.java` (`decodeSignature`), `ObjectMapperHolder.java`
//!   (NON_NULL), `diia-client-example/.../UploadController.java`.
//! - .NET: diiaintegration/ua-acquirers-sdk-dotnet(-master) `src/DiiaClient.SDK/Helper/HttpMethodExecutor.cs`,
//!   `Services/Remote/{DiiaBranchApiImpl,DiiaOfferApimpl,DiiaSharingApiImpl,DiiaSignApiImpl,SessionTokenServiceImpl}.cs`,
//!   `src/DiiaClient.DocUpload/{Controllers/DocEndpointController.cs,Helpers/MutipartMixedHelper.cs}`.
//! - PHP: diiaintegration/ua-acquirers-sdk-php `SDK/diia-php-sdk-diiaId/src/DiiaApi.php`,
//!   `tests/DiiaAPIAuthTest.php`, `tests/DiiaAPICreateBranchTest.php`.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use sha2::Digest;

use super::tests::{ACQ, Received, TestEmulator, start_emulator, start_partner};

const JSON_UTF8: &str = "application/json; charset=utf-8";

/// One request as an SDK sends it; the answer must be JSON (the Python SDK calls `r.json()` even
/// on a 4xx) and is returned with its status.
async fn send(
    emu: &TestEmulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (StatusCode, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = emu.http.request(method.clone(), emu.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{method} {path}: {status} {content_type}"
    );
    (status, response.json().await.unwrap())
}

/// `send` that must succeed.
async fn ok(
    emu: &TestEmulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Value {
    let (status, answer) = send(emu, method, path, headers, body).await;
    assert_eq!(status, StatusCode::OK, "{method} {path}: {answer}");
    answer
}

fn id(answer: &Value) -> String {
    answer["_id"].as_str().unwrap().to_owned()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// base64 of a 32-byte hash of the partner's own id. The SDKs hash with UAPKI/IIT (GOST 34.311
/// unless configured otherwise); the emulator only checks the length, and SHA-256 stands in.
fn request_id_hash(plain: &str) -> String {
    BASE64.encode(sha2::Sha256::digest(plain.as_bytes()))
}

/// What the listings must show after a branch and an offer were created.
fn assert_listed(branches: &Value, offers: &Value, branch_id: &str, offer_id: &str) {
    assert_eq!(branches["total"], 1, "{branches}");
    assert_eq!(branches["branches"][0]["_id"], branch_id);
    assert_eq!(offers["total"], 1, "{offers}");
    assert_eq!(offers["offers"][0]["_id"], offer_id);
    assert_eq!(offers["offers"][0]["scopes"]["diiaId"], json!(["auth"]));
}

#[tokio::test]
async fn js_sdk_requests_are_accepted() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    // axios' default Accept; no Authorization on the token call (SessionTokenService.ts).
    let accept = "application/json, text/plain, */*";
    let token = ok(
        &emu,
        "GET",
        &format!("/api/v1/auth/acquirer/{ACQ}"),
        &[("Accept", accept)],
        None,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let auth = bearer(&token);
    let h = [
        ("Accept", accept),
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    // src/tests/createBranch.ts: an empty `id` in the body, the scopes typed `SignBranchScope`.
    let branch = ok(
        &emu,
        "POST",
        "/api/v2/acquirers/branch",
        &h,
        Some(
            r#"{"id":"","name":"Test Branch","email":"test@example.com","region":"Kyiv","district":"Central","location":"Test Location","street":"123 Test Street","house":"1A","customFullName":"Test Branch Full Name","customFullAddress":"Test Branch Full Address","deliveryTypes":["api"],"offerRequestType":"dynamic","scopes":{"diiaId":["auth"]}}"#,
        ),
    )
    .await;
    let b = id(&branch);
    // OfferApi.ts posts to a path without the leading slash; axios joins it to baseURL.
    let offer = ok(
        &emu,
        "POST",
        &format!("/api/v1/acquirers/branch/{b}/offer"),
        &h,
        Some(r#"{"name":"Test Offer","returnLink":"http://google.com/","scopes":{"diiaId":["auth"]}}"#),
    )
    .await;
    let o = id(&offer);
    let get = [("Accept", accept), ("Authorization", auth.as_str())];
    // genUrlParams: both, one, or neither of skip/limit.
    let branches = ok(
        &emu,
        "GET",
        "/api/v2/acquirers/branches?skip=0&limit=10",
        &get,
        None,
    )
    .await;
    ok(&emu, "GET", "/api/v2/acquirers/branches", &get, None).await;
    ok(
        &emu,
        "GET",
        "/api/v2/acquirers/branches?limit=10",
        &get,
        None,
    )
    .await;
    ok(
        &emu,
        "GET",
        &format!("/api/v2/acquirers/branch/{b}"),
        &get,
        None,
    )
    .await;
    let offers = ok(
        &emu,
        "GET",
        &format!("/api/v1/acquirers/branch/{b}/offers?skip=0&limit=10"),
        &get,
        None,
    )
    .await;
    assert_listed(&branches, &offers, &b, &o);
    // DeeplinkApi.ts: {offerId, requestId, ...rest}; an unset returnLink is dropped by JSON.
    let body = json!({"offerId": o, "requestId": request_id_hash("some-document-id")}).to_string();
    let link = ok(
        &emu,
        "POST",
        &format!("/api/v2/acquirers/branch/{b}/offer-request/dynamic"),
        &h,
        Some(&body),
    )
    .await;
    assert!(link["deeplink"].as_str().unwrap().starts_with(&emu.base));
    ok(
        &emu,
        "DELETE",
        &format!("/api/v1/acquirers/branch/{b}/offer/{o}"),
        &get,
        None,
    )
    .await;
    ok(
        &emu,
        "DELETE",
        &format!("/api/v2/acquirers/branch/{b}"),
        &get,
        None,
    )
    .await;
}

#[tokio::test]
async fn python_sdk_requests_are_accepted() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    // session_token_service.py sends the acquirer token as a Bearer token.
    let acq_bearer = bearer(ACQ);
    let token = ok(
        &emu,
        "GET",
        &format!("/api/v1/auth/acquirer/{ACQ}"),
        &[
            ("Accept", "application/json"),
            ("Authorization", &acq_bearer),
        ],
        None,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let auth = bearer(&token);
    let h = [
        ("Accept", "application/json"),
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    // branch.dict(by_alias=True): `_id` "", unset Optional fields and scopes as null.
    let branch = ok(
        &emu,
        "POST",
        "/api/v2/acquirers/branch",
        &h,
        Some(
            r#"{"_id": "", "name": "Branch", "email": "test@email.com", "region": "Kyiv Region", "district": "Kyiv", "location": "Vyshneve", "street": "Kyivska Street", "house": "2g", "customFullName": null, "customFullAddress": null, "scopes": {"sharing": null, "documentIdentification": null, "identification": null, "diiaId": ["auth"]}, "deliveryTypes": ["api"], "offerRequestType": "dynamic"}"#,
        ),
    )
    .await;
    let b = id(&branch);
    // offer.dict(by_alias=True, exclude_none=True): `_id` "" stays, returnLink goes.
    let offer = ok(
        &emu,
        "POST",
        &format!("/api/v1/acquirers/branch/{b}/offer"),
        &h,
        Some(r#"{"_id": "", "name": "Auth", "scopes": {"diiaId": ["auth"]}}"#),
    )
    .await;
    let o = id(&offer);
    let get = [
        ("Accept", "application/json"),
        ("Authorization", auth.as_str()),
    ];
    // _prepare_params: no skip/limit unless given.
    let branches = ok(&emu, "GET", "/api/v2/acquirers/branches", &get, None).await;
    let offers = ok(
        &emu,
        "GET",
        &format!("/api/v1/acquirers/branch/{b}/offers"),
        &get,
        None,
    )
    .await;
    assert_listed(&branches, &offers, &b, &o);
    // update_branch: the same dict, now with its `_id`.
    let put = format!(
        r#"{{"_id": "{b}", "name": "Branch 2", "email": "test@email.com", "region": "Kyiv Region", "district": "Kyiv", "location": "Vyshneve", "street": "Kyivska Street", "house": "2g", "customFullName": null, "customFullAddress": null, "scopes": {{"sharing": null, "documentIdentification": null, "identification": null, "diiaId": ["auth"]}}, "deliveryTypes": ["api"], "offerRequestType": "dynamic"}}"#
    );
    assert_eq!(
        id(&ok(
            &emu,
            "PUT",
            &format!("/api/v2/acquirers/branch/{b}"),
            &h,
            Some(&put)
        )
        .await),
        b
    );
    // get_deep_link for auth: returnLink only when given, no signAlgo.
    let plain = BASE64.encode(b"30a075a9-a91d-4b1c-bcb7-a286839098a1");
    for body in [
        json!({"offerId": o, "requestId": request_id_hash(&plain)}),
        json!({"offerId": o, "requestId": request_id_hash(&plain), "returnLink": "https://example.com/back"}),
    ] {
        ok(
            &emu,
            "POST",
            &format!("/api/v2/acquirers/branch/{b}/offer-request/dynamic"),
            &h,
            Some(&body.to_string()),
        )
        .await;
    }
    let delete = [("Accept", "*/*"), ("Authorization", auth.as_str())];
    delete_offer_and_branch(&emu, &b, &o, &delete).await;
}

#[tokio::test]
async fn java_sdk_requests_are_accepted() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    // SessionTokenServiceImpl.java: `Authorization: Basic {acquirer_token}`.
    let acq_basic = format!("Basic {ACQ}");
    let token = ok(
        &emu,
        "GET",
        &format!("/api/v1/auth/acquirer/{ACQ}"),
        &[
            ("Accept", "application/json"),
            ("Authorization", &acq_basic),
        ],
        None,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let auth = bearer(&token);
    // HttpMethodExecutor.java: OkHttp with MEDIA_TYPE_JSON; Jackson NON_NULL drops unset fields.
    let h = [
        ("Accept", "application/json"),
        ("Authorization", auth.as_str()),
        ("Content-Type", JSON_UTF8),
    ];
    let branch = ok(
        &emu,
        "POST",
        "/api/v2/acquirers/branch",
        &h,
        Some(
            r#"{"name":"Назва відділення","email":"test@email.com","region":"Київська обл.","district":"Києво-Святошинський р-н","location":"м. Вишневе","street":"вул. Київська","house":"2г","deliveryTypes":["api"],"offerRequestType":"dynamic","scopes":{"diiaId":["auth"]}}"#,
        ),
    )
    .await;
    let b = id(&branch);
    let offer = ok(
        &emu,
        "POST",
        &format!("/api/v1/acquirers/branch/{b}/offer"),
        &h,
        Some(r#"{"name":"Назва послуги","scopes":{"diiaId":["auth"]}}"#),
    )
    .await;
    let o = id(&offer);
    let get = [
        ("Accept", "application/json"),
        ("Authorization", auth.as_str()),
    ];
    // AuthController.java lists with getBranches(null, null): no query at all.
    let branches = ok(&emu, "GET", "/api/v2/acquirers/branches", &get, None).await;
    let offers = ok(
        &emu,
        "GET",
        &format!("/api/v1/acquirers/branch/{b}/offers"),
        &get,
        None,
    )
    .await;
    assert_listed(&branches, &offers, &b, &o);
    ok(
        &emu,
        "GET",
        &format!("/api/v1/acquirers/branch/{b}/offers?skip=0&limit=100"),
        &get,
        None,
    )
    .await;
    let fetched = ok(
        &emu,
        "GET",
        &format!("/api/v2/acquirers/branch/{b}"),
        &get,
        None,
    )
    .await;
    assert_eq!(fetched["name"], "Назва відділення");
    // updateBranch: the branch as read, `_id` unwrapped into it.
    let mut put = fetched.clone();
    put["name"] = json!("Нова назва");
    ok(
        &emu,
        "PUT",
        &format!("/api/v2/acquirers/branch/{b}"),
        &h,
        Some(&put.to_string()),
    )
    .await;
    // DiiaIdServiceImpl.getAuthDeepLink: {offerId, requestId} only (no returnLink, no signAlgo).
    let body = json!({"offerId": o, "requestId": request_id_hash("uuid")}).to_string();
    ok(
        &emu,
        "POST",
        &format!("/api/v2/acquirers/branch/{b}/offer-request/dynamic"),
        &h,
        Some(&body),
    )
    .await;
    let delete = [("Accept", "*/*"), ("Authorization", auth.as_str())];
    delete_offer_and_branch(&emu, &b, &o, &delete).await;
}

#[tokio::test]
async fn dotnet_sdk_requests_are_accepted() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let acq_basic = format!("Basic {ACQ}");
    let token = ok(
        &emu,
        "GET",
        &format!("/api/v1/auth/acquirer/{ACQ}"),
        &[
            ("Accept", "application/json"),
            ("Authorization", &acq_basic),
        ],
        None,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let auth = bearer(&token);
    // StringContent(content, UTF8, "application/json"); WhenWritingNull on create.
    let h = [
        ("Accept", "application/json"),
        ("Authorization", auth.as_str()),
        ("Content-Type", JSON_UTF8),
    ];
    let branch = ok(
        &emu,
        "POST",
        "/api/v2/acquirers/branch",
        &h,
        Some(
            r#"{"name":"Назва відділення","email":"test@email.com","region":"Київська обл.","district":"Києво-Святошинський р-н","location":"м. Вишневе","street":"вул. Київська","house":"2г","customFullName":"Повна назва","customFullAddress":"Повна адреса","deliveryTypes":["api"],"offerRequestType":"dynamic","scopes":{"diiaId":["auth"]}}"#,
        ),
    )
    .await;
    let b = id(&branch);
    let offer = ok(
        &emu,
        "POST",
        &format!("/api/v1/acquirers/branch/{b}/offer"),
        &h,
        Some(r#"{"name":"Назва послуги","scopes":{"diiaId":["auth"]}}"#),
    )
    .await;
    let o = id(&offer);
    let get = [
        ("Accept", "application/json"),
        ("Authorization", auth.as_str()),
    ];
    // GetBranches/GetOffers(null, null): `skip=&limit=` from ParseQueryString of empty values.
    let branches = ok(
        &emu,
        "GET",
        "/api/v2/acquirers/branches?skip=&limit=",
        &get,
        None,
    )
    .await;
    let offers = ok(
        &emu,
        "GET",
        &format!("/api/v1/acquirers/branch/{b}/offers?skip=&limit="),
        &get,
        None,
    )
    .await;
    assert_listed(&branches, &offers, &b, &o);
    // UpdateBranch serializes WITHOUT WhenWritingNull: every unset field is null.
    let put = format!(
        r#"{{"_id":"{b}","name":"Назва","email":"test@email.com","region":"Київська обл.","district":"Києво-Святошинський р-н","location":"м. Вишневе","street":"вул. Київська","house":"2г","customFullName":null,"customFullAddress":null,"deliveryTypes":["api"],"offerRequestType":"dynamic","scopes":{{"sharing":null,"documentIdentification":null,"diiaId":["auth"]}}}}"#
    );
    ok(
        &emu,
        "PUT",
        &format!("/api/v2/acquirers/branch/{b}"),
        &h,
        Some(&put),
    )
    .await;
    // DiiaSharingApiImpl.GetDeepLink via DiiaSignApiImpl.GetAuthDeepLink: no signAlgo.
    for body in [
        json!({"offerId": o, "requestId": request_id_hash("rid")}),
        json!({"offerId": o, "requestId": request_id_hash("rid"), "returnLink": "https://example.com/"}),
    ] {
        ok(
            &emu,
            "POST",
            &format!("/api/v2/acquirers/branch/{b}/offer-request/dynamic"),
            &h,
            Some(&body.to_string()),
        )
        .await;
    }
    let delete = [("Accept", "*/*"), ("Authorization", auth.as_str())];
    delete_offer_and_branch(&emu, &b, &o, &delete).await;
}

#[tokio::test]
async fn php_sdk_requests_are_accepted() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let token = ok(
        &emu,
        "GET",
        &format!("/api/v1/auth/acquirer/{ACQ}"),
        &[("Accept", "application/json")],
        None,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let auth = bearer(&token);
    let h = [
        ("Content-Type", "application/json"),
        ("Authorization", auth.as_str()),
        ("Accept", "application/json"),
    ];
    // DiiaAPICreateBranchTest.php through json_encode (which escapes slashes).
    let branch = ok(
        &emu,
        "POST",
        "/api/v2/acquirers/branch",
        &h,
        Some(
            r#"{"name":"Branch Name","email":"test@email.com","region":"Kyiv Region","district":"Kyivo-Sviatoshynskyi District","location":"Vyshneve","street":"Kyivska Street","house":"2g","customFullName":"Full name of the requester","customFullAddress":"Full branch address","deliveryTypes":["api"],"offerRequestType":"dynamic","scopes":{"diiaId":["auth"]}}"#,
        ),
    )
    .await;
    let b = id(&branch);
    let offer = ok(
        &emu,
        "POST",
        &format!("/api/v1/acquirers/branch/{b}/offer"),
        &h,
        Some(r#"{"name":"Offer","scopes":{"diiaId":["auth"]}}"#),
    )
    .await;
    let o = id(&offer);
    let get = [
        ("Authorization", auth.as_str()),
        ("Accept", "application/json"),
    ];
    let branches = ok(
        &emu,
        "GET",
        "/api/v2/acquirers/branches?skip=0&limit=10",
        &get,
        None,
    )
    .await;
    let offers = ok(
        &emu,
        "GET",
        &format!("/api/v1/acquirers/branch/{b}/offers?skip=0&limit=10"),
        &get,
        None,
    )
    .await;
    assert_listed(&branches, &offers, &b, &o);
    // getAuthLink (DiiaAPIAuthTest.php): signAlgo "DSTU" or "ECDSA", returnLink possibly null.
    let rid = request_id_hash("MzBhMDc1YTktYTkxZC00YjFjLWJjYjctYTI4NjgzOTA5OGEx");
    for (return_link, algo) in [(r#""https:\/\/return_link""#, "DSTU"), ("null", "ECDSA")] {
        let body = format!(
            r#"{{"offerId":"{o}","returnLink":{return_link},"requestId":"{rid}","signAlgo":"{algo}"}}"#
        );
        ok(
            &emu,
            "POST",
            &format!("/api/v2/acquirers/branch/{b}/offer-request/dynamic"),
            &h,
            Some(&body),
        )
        .await;
    }
    // deleteOffer/deleteBranch: a JSON Content-Type and no body at all.
    ok(
        &emu,
        "DELETE",
        &format!("/api/v1/acquirers/branch/{b}/offer/{o}"),
        &h,
        None,
    )
    .await;
    ok(
        &emu,
        "DELETE",
        &format!("/api/v2/acquirers/branch/{b}"),
        &h,
        None,
    )
    .await;
}

/// Method, path, headers, body, then the expected status and error name.
type ErrorCase<'a> = (
    &'a str,
    &'a str,
    Vec<(&'a str, &'a str)>,
    Option<&'a str>,
    u16,
    &'a str,
);

#[tokio::test]
async fn every_error_is_json_in_diias_shape() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let token = ok(
        &emu,
        "GET",
        &format!("/api/v1/auth/acquirer/{ACQ}"),
        &[],
        None,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let auth = bearer(&token);
    let json_h = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let get = [("Authorization", auth.as_str())];
    let cases: Vec<ErrorCase> = vec![
        (
            "POST",
            "/api/v2/acquirers/branch",
            json_h.to_vec(),
            Some("{not json"),
            400,
            "BadRequestError",
        ),
        (
            "GET",
            "/api/v2/acquirers/branches?skip=x",
            get.to_vec(),
            None,
            400,
            "BadRequestError",
        ),
        (
            "GET",
            "/api/v2/acquirers/branches",
            vec![],
            None,
            401,
            "UnauthorizedError",
        ),
        (
            "GET",
            "/api/v2/acquirers/branch/nope",
            get.to_vec(),
            None,
            404,
            "NotFoundError",
        ),
        ("GET", "/api/v9/nothing", vec![], None, 404, "NotFoundError"),
        (
            "PATCH",
            "/api/v2/acquirers/branch/x",
            get.to_vec(),
            None,
            405,
            "MethodNotAllowedError",
        ),
        (
            "POST",
            "/api/v2/acquirers/branch",
            vec![
                ("Authorization", auth.as_str()),
                ("Content-Type", "text/plain"),
            ],
            Some("{}"),
            415,
            "UnsupportedMediaTypeError",
        ),
    ];
    for (method, path, headers, body, code, name) in cases {
        let (status, answer) = send(&emu, method, path, &headers, body).await;
        assert_eq!(status.as_u16(), code, "{method} {path}: {answer}");
        assert_eq!(answer["code"], code, "{answer}");
        assert_eq!(answer["name"], name, "{answer}");
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{answer}"
        );
    }
    // 500 (an emulated fault) has the same shape.
    let r = emu
        .http
        .post(emu.url("/emulator/faults"))
        .json(&json!({"dynamic": "error500"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (status, answer) = send(
        &emu,
        "POST",
        "/api/v2/acquirers/branch/x/offer-request/dynamic",
        &json_h,
        Some("{}"),
    )
    .await;
    assert_eq!(status, 500);
    assert_eq!(answer["name"], "InternalServerError");
    assert_eq!(answer["code"], 500);
}

// ---------- the callback, decoded as the SDK examples decode it ----------

/// .NET `MutipartMixedHelper.ParseMultipartMixedRequestAsync` + `DocEndpointController`: the
/// boundary from Content-Type, sections typed JSON/XML/text (absent = text/plain, anything else
/// throws), `form-data` disposition with a name; `encodeData` must be non-empty.
fn dotnet_encode_data(content_type: &str, body: &str) -> String {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .expect("boundary")
        .trim_matches('"');
    let mut found = None;
    for section in body.split(&format!("--{boundary}")).skip(1) {
        if section.starts_with("--") {
            break;
        }
        let (head, data) = section.split_once("\r\n\r\n").expect("section headers");
        let header = |name: &str| {
            head.lines()
                .find_map(|l| {
                    l.split_once(':')
                        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                })
                .map(|(_, v)| v.trim().to_owned())
        };
        let media = header("content-type").unwrap_or_else(|| "text/plain".to_owned());
        let media = media.split(';').next().unwrap().trim().to_ascii_lowercase();
        assert!(
            ["application/json", "text/xml", "text/plain"].contains(&media.as_str()),
            "only handling json/xml/text: {media}"
        );
        let disposition = header("content-disposition").expect("Content-Disposition");
        if disposition.starts_with("form-data") {
            let name = disposition
                .split("name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            if name == "encodeData" {
                found = Some(data.strip_suffix("\r\n").unwrap_or(data).to_owned());
            }
        }
    }
    let encode_data = found.expect("encodeData");
    assert!(!encode_data.is_empty(), "Empty encodeData");
    encode_data
}

/// The Python FastAPI example's `get_encode_data`: the lexically greatest line of the body.
fn python_encode_data(body: &str) -> String {
    body.split("\r\n").max().unwrap().to_owned()
}

/// What every SDK then does (Java `DocumentServiceImpl.decodeSignature`, .NET
/// `DiiaSignApiImpl.DecodeSignaturePackage`, Python `SignService.decode_signature_package`):
/// both headers required, base64 → JSON, `requestId` read, `signature` read unconditionally and
/// base64-decoded (Java throws on null, Python raises KeyError on a missing key).
fn decode_like_the_sdks(received: &Received, encode_data: &str) -> (String, Vec<u8>) {
    let header = |name: &str| received.headers[name].to_str().unwrap().to_owned();
    let action = header("x-diia-id-action");
    assert!(["auth", "hashedFilesSigning"].contains(&action.as_str()));
    let trace_id = header("x-document-request-trace-id");
    let data: Value = serde_json::from_slice(&BASE64.decode(encode_data).unwrap()).unwrap();
    let request_id = data["requestId"].as_str().expect("requestId").to_owned();
    assert_eq!(request_id, trace_id);
    let signature = data
        .get("signature")
        .and_then(Value::as_str)
        .expect("signature must be a string");
    (request_id, BASE64.decode(signature).unwrap())
}

#[tokio::test]
async fn callbacks_decode_as_the_sdk_examples_decode_them() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let token = ok(
        &emu,
        "GET",
        &format!("/api/v1/auth/acquirer/{ACQ}"),
        &[],
        None,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let auth = bearer(&token);
    let h = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let b = id(&ok(
        &emu,
        "POST",
        "/api/v2/acquirers/branch",
        &h,
        Some(r#"{"name":"b","email":"a@b.ua","region":"Kyiv","district":"Kyiv","location":"Kyiv","street":"Street","house":"1","deliveryTypes":["api"],"offerRequestType":"dynamic","scopes":{"diiaId":["auth"]}}"#),
    )
    .await);
    let o = id(&ok(
        &emu,
        "POST",
        &format!("/api/v1/acquirers/branch/{b}/offer"),
        &h,
        Some(r#"{"name":"o","scopes":{"diiaId":["auth"]}}"#),
    )
    .await);
    // Request 1 is confirmed (ECDSA: the emulator signs it), request 2 declined.
    for plain in ["one", "two"] {
        let body = json!({"offerId": o, "requestId": request_id_hash(plain), "signAlgo": "ECDSA"});
        ok(
            &emu,
            "POST",
            &format!("/api/v2/acquirers/branch/{b}/offer-request/dynamic"),
            &h,
            Some(&body.to_string()),
        )
        .await;
    }
    for (n, action, payload) in [
        (1, "confirm", json!({"identity": "person"})),
        (2, "decline", json!({})),
    ] {
        let r = emu
            .http
            .post(emu.url(&format!("/emulator/requests/{n}/{action}")))
            .json(&payload)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    let received = partner.received();
    assert_eq!(received.len(), 2);
    for (i, callback) in received.iter().enumerate() {
        let content_type = callback.headers["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("multipart/mixed;"),
            "{content_type}"
        );
        let body = std::str::from_utf8(&callback.body).unwrap();
        let dotnet = dotnet_encode_data(content_type, body);
        assert_eq!(python_encode_data(body), dotnet);
        let (request_id, signature) = decode_like_the_sdks(callback, &dotnet);
        assert_eq!(request_id, request_id_hash(["one", "two"][i]));
        // The confirmation carries a CAdES signature; the decline an empty one, which no
        // verification accepts.
        assert_eq!(signature.is_empty(), i == 1);
    }
}

/// The offer delete and the branch delete each SDK ends with, with that SDK's headers.
async fn delete_offer_and_branch(emu: &TestEmulator, b: &str, o: &str, headers: &[(&str, &str)]) {
    let offer = format!("/api/v1/acquirers/branch/{b}/offer/{o}");
    ok(emu, "DELETE", &offer, headers, None).await;
    ok(
        emu,
        "DELETE",
        &format!("/api/v2/acquirers/branch/{b}"),
        headers,
        None,
    )
    .await;
}

// ---------- signing file hashes: every SDK's deeplink request ----------

/// SDK, headers, body, then the expected `signAlgo` and files (name, fileHash).
type SigningCase<'a> = (
    &'a str,
    &'a [(&'a str, &'a str)],
    String,
    &'a str,
    Vec<(&'a str, &'a str)>,
);

/// `get_deep_link`/`getSignDeepLink` with `data.hashedFilesSigning`, as each SDK serializes it:
/// - Python `sign_service.py` `get_sign_deep_link` → `diia_api.py` `get_deep_link`: requests'
///   `json=` (`json.dumps`: `", "`/`": "` separators, non-ASCII as `\uXXXX`), no returnLink;
/// - Java `DiiaIdServiceImpl.getSignDeepLink`: Jackson NON_NULL in `DeepLinkRequest.java` field
///   order, `FileHash.java` `{fileName, fileHash}`;
/// - .NET `DiiaSignApiImpl.GetSignDeepLink` → `DiiaSharingApiImpl.GetDeepLink`: WhenWritingNull,
///   Cyrillic unescaped (`UnicodeRanges.Cyrillic`), several files;
/// - PHP `DiiaApi.php` `getSignLink` with `DiiaAPISignFileHashTest.php`'s values: json_encode
///   (slashes escaped), `returnLink` possibly null and `signAlgo` always sent.
///
/// Signing requests carry the partner's id as is (a UUID), not a hash of it.
#[tokio::test]
async fn signing_requests_of_every_sdk_are_accepted() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let token = ok(
        &emu,
        "GET",
        &format!("/api/v1/auth/acquirer/{ACQ}"),
        &[("Accept", "application/json")],
        None,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let auth = bearer(&token);
    let h = [
        ("Accept", "application/json"),
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let b = id(&ok(
        &emu,
        "POST",
        "/api/v2/acquirers/branch",
        &h,
        Some(
            r#"{"name":"Branch Name","email":"test@email.com","region":"Kyiv Region","district":"Kyiv","location":"Vyshneve","street":"Kyivska Street","house":"2g","deliveryTypes":["api"],"offerRequestType":"dynamic","scopes":{"diiaId":["auth","hashedFilesSigning"]}}"#,
        ),
    )
    .await);
    // PHP `createOffer($branchId, $offerName, 'hashedFilesSigning')`.
    let o = id(&ok(
        &emu,
        "POST",
        &format!("/api/v1/acquirers/branch/{b}/offer"),
        &h,
        Some(r#"{"name":"Offer","scopes":{"diiaId":["hashedFilesSigning"]}}"#),
    )
    .await);
    let hash = BASE64.encode(sha2::Sha256::digest(b"file"));
    let java_h = [
        ("Accept", "application/json"),
        ("Authorization", auth.as_str()),
        ("Content-Type", JSON_UTF8),
    ];
    let cases: Vec<SigningCase> = vec![
        (
            "python",
            &h,
            format!(
                r#"{{"offerId": "{o}", "requestId": "30a075a9-a91d-4b1c-bcb7-a286839098a1", "data": {{"hashedFilesSigning": {{"hashedFiles": [{{"fileName": "\u0437\u0432\u0456\u0442.pdf", "fileHash": "{hash}"}}]}}}}}}"#
            ),
            "DSTU",
            vec![("звіт.pdf", hash.as_str())],
        ),
        (
            "java",
            &java_h,
            format!(
                r#"{{"offerId":"{o}","requestId":"8d2b1c1e-5b1a-4c55-a3a3-0f6b1f1e2d3c","data":{{"hashedFilesSigning":{{"hashedFiles":[{{"fileName":"Договір.pdf","fileHash":"{hash}"}}]}}}}}}"#
            ),
            "DSTU",
            vec![("Договір.pdf", hash.as_str())],
        ),
        (
            "dotnet",
            &java_h,
            format!(
                r#"{{"offerId":"{o}","requestId":"c1f0e8e2-4a55-4b2b-9a51-6f2f0f3a9b11","data":{{"hashedFilesSigning":{{"hashedFiles":[{{"fileName":"звіт.pdf","fileHash":"{hash}"}},{{"fileName":"додаток.xml","fileHash":"{hash}"}}]}}}}}}"#
            ),
            "DSTU",
            vec![("звіт.pdf", hash.as_str()), ("додаток.xml", hash.as_str())],
        ),
        (
            "php",
            &h,
            format!(
                r#"{{"offerId":"{o}","returnLink":"https:\/\/return_link","requestId":"2783f8bd-0b5d-48a2-becf-d508a9b2086a","signAlgo":"DSTU","data":{{"hashedFilesSigning":{{"hashedFiles":[{{"fileName":"1.pdf","fileHash":"MTIzNDU4Nzg4MDEyMzQ1Njc4OTAxMjM0NTY4ODkwMTI="}}]}}}}}}"#
            ),
            "DSTU",
            vec![("1.pdf", "MTIzNDU4Nzg4MDEyMzQ1Njc4OTAxMjM0NTY4ODkwMTI=")],
        ),
        (
            "php, ECDSA, no return link",
            &h,
            format!(
                r#"{{"offerId":"{o}","returnLink":null,"requestId":"2783f8bd-0b5d-48a2-becf-d508a9b2086a","signAlgo":"ECDSA","data":{{"hashedFilesSigning":{{"hashedFiles":[{{"fileName":"1.pdf","fileHash":"MTIzNDU4Nzg4MDEyMzQ1Njc4OTAxMjM0NTY4ODkwMTI="}}]}}}}}}"#
            ),
            "ECDSA",
            vec![("1.pdf", "MTIzNDU4Nzg4MDEyMzQ1Njc4OTAxMjM0NTY4ODkwMTI=")],
        ),
    ];
    for (sdk, headers, body, algo, files) in cases {
        let answer = ok(
            &emu,
            "POST",
            &format!("/api/v2/acquirers/branch/{b}/offer-request/dynamic"),
            headers,
            Some(&body),
        )
        .await;
        let deeplink = answer["deeplink"].as_str().unwrap();
        let n = deeplink.rsplit('/').next().unwrap();
        let view = ok(&emu, "GET", &format!("/emulator/requests/{n}"), &[], None).await;
        let sent: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(view["action"], "hashedFilesSigning", "{sdk}");
        assert_eq!(view["requestId"], sent["requestId"], "{sdk}");
        assert_eq!(view["signAlgo"], algo, "{sdk}");
        let expected: Vec<Value> = files
            .iter()
            .map(|(name, hash)| json!({"name": name, "fileHash": hash}))
            .collect();
        assert_eq!(view["files"], json!(expected), "{sdk}");
    }
}
