//! Document signing (`data.hashedFilesSigning`) over real HTTP: the request as the SDKs build it,
//! the phone page listing the files, and the `hashedFilesSigning` callback whose signatures a
//! partner verifies over each file's hash.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use sha2::Digest;

use kepgate_signature::{gost34311, verify_auth_signature};

use super::tests::{Received, TestEmulator, branch, start_emulator, start_partner};
use crate::clock;

/// signingCertificateV2 (1.2.840.113549.1.9.16.2.47) as a DER OID: present in every signature.
const SIGNING_CERT_V2_OID: &[u8] = &[
    0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f,
];

const REQUEST_ID: &str = "2783f8bd-0b5d-48a2-becf-d508a9b2086a";

/// A session token, a branch and an offer with `offer_scopes` as its `diiaId` scopes.
async fn setup(emu: &TestEmulator, offer_scopes: Value) -> (String, String, String) {
    let token = emu.token().await;
    let mut b = branch("Кабінет звітності");
    b["scopes"] = json!({"diiaId": ["auth", "hashedFilesSigning"]});
    let r = emu.post_json(&token, "/api/v2/acquirers/branch", &b).await;
    assert_eq!(r.status(), 200);
    let branch_id = r.json::<Value>().await.unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let offer = json!({"name": "Підписання звіту", "scopes": {"diiaId": offer_scopes}});
    let r = emu
        .post_json(
            &token,
            &format!("/api/v1/acquirers/branch/{branch_id}/offer"),
            &offer,
        )
        .await;
    assert_eq!(r.status(), 200);
    let offer_id = r.json::<Value>().await.unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    (token, branch_id, offer_id)
}

async fn dynamic(emu: &TestEmulator, token: &str, branch_id: &str, body: &Value) -> (u16, Value) {
    let r = emu
        .post_json(
            token,
            &format!("/api/v2/acquirers/branch/{branch_id}/offer-request/dynamic"),
            body,
        )
        .await;
    (r.status().as_u16(), r.json().await.unwrap())
}

fn signing_body(offer_id: &str, files: &[(&str, &[u8])], sign_algo: Option<&str>) -> Value {
    let mut body = json!({
        "offerId": offer_id,
        "requestId": REQUEST_ID,
        "data": {"hashedFilesSigning": {"hashedFiles": files
            .iter()
            .map(|(name, hash)| json!({"fileName": name, "fileHash": BASE64.encode(hash)}))
            .collect::<Vec<_>>()}},
    });
    if let Some(algo) = sign_algo {
        body["signAlgo"] = json!(algo);
    }
    body
}

fn n_of(emu: &TestEmulator, answer: &Value) -> u64 {
    let deeplink = answer["deeplink"].as_str().unwrap();
    deeplink
        .strip_prefix(&format!("{}/acquirers/offer-request/dynamic/", emu.base))
        .unwrap_or_else(|| panic!("deeplink of the wrong shape: {deeplink}"))
        .parse()
        .unwrap()
}

async fn control(emu: &TestEmulator, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = emu.http.post(emu.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The callback's `encodeData`, decoded.
fn encode_data(received: &Received) -> Value {
    let (name, value) = &received.fields[0];
    assert_eq!(name, "encodeData");
    serde_json::from_slice(&BASE64.decode(value).unwrap()).unwrap()
}

fn header<'a>(received: &'a Received, name: &str) -> &'a str {
    received.headers[name].to_str().unwrap()
}

async fn confirm_and_verify(sign_algo: Option<&str>, identity: &str) {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let (token, b, o) = setup(&emu, json!(["hashedFilesSigning"])).await;
    let hash = |content: &[u8]| match sign_algo {
        Some("ECDSA") => sha2::Sha256::digest(content).to_vec(),
        _ => gost34311::digest(content).to_vec(),
    };
    let report = hash("Звіт за грудень 2026".as_bytes());
    let annex = hash(b"annex");
    let files: [(&str, &[u8]); 2] = [("zvit-2026-12.txt", &report), ("додаток 1.pdf", &annex)];
    let (status, answer) = dynamic(&emu, &token, &b, &signing_body(&o, &files, sign_algo)).await;
    assert_eq!(status, 200, "{answer}");
    let n = n_of(&emu, &answer);

    let view: Value = emu
        .get(&format!("/emulator/requests/{n}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["action"], "hashedFilesSigning");
    assert_eq!(view["requestId"], REQUEST_ID);
    assert_eq!(view["signAlgo"], sign_algo.unwrap_or("DSTU"));
    assert_eq!(view["state"], "waiting");
    assert_eq!(
        view["files"],
        json!([
            {"name": "zvit-2026-12.txt", "fileHash": BASE64.encode(&report)},
            {"name": "додаток 1.pdf", "fileHash": BASE64.encode(&annex)},
        ])
    );

    let (status, view) = control(
        &emu,
        &format!("/emulator/requests/{n}/confirm"),
        Some(json!({"identity": identity})),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["state"], "confirmed");
    assert_eq!(view["identity"], identity);

    let received = partner.received();
    assert_eq!(received.len(), 1);
    let got = &received[0];
    assert_eq!(header(got, "x-diia-id-action"), "hashedFilesSigning");
    assert_eq!(header(got, "x-document-request-trace-id"), REQUEST_ID);
    let data = encode_data(got);
    let items = data["signedItems"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{data}");
    assert!(data.get("status").is_none(), "{data}");
    let trust = emu.trust();
    let who = super::TestIdentity::parse(identity).unwrap();
    for (item, (name, hash)) in items.iter().zip(files) {
        assert_eq!(item["name"], name);
        let p7s = BASE64.decode(item["signature"].as_str().unwrap()).unwrap();
        let verified = verify_auth_signature(&p7s, hash, &trust, clock::now())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(verified.identity.full_name, who.full_name());
        assert!(verified.signing_time.is_some());
        assert_eq!(
            verified.signature_algorithm.starts_with("ECDSA"),
            sign_algo == Some("ECDSA"),
            "{}",
            verified.signature_algorithm
        );
        assert!(
            p7s.windows(SIGNING_CERT_V2_OID.len())
                .any(|w| w == SIGNING_CERT_V2_OID),
            "no signingCertificateV2"
        );
    }
    // Each signature is over its own file: the report's does not pass for the annex.
    let first = BASE64
        .decode(items[0]["signature"].as_str().unwrap())
        .unwrap();
    assert!(verify_auth_signature(&first, &annex, &trust, clock::now()).is_err());
}

#[tokio::test]
async fn confirming_a_signing_request_signs_every_file_with_dstu_by_default() {
    confirm_and_verify(None, "person").await;
}

#[tokio::test]
async fn confirming_a_signing_request_with_ecdsa_signs_with_ecdsa() {
    confirm_and_verify(Some("ECDSA"), "director").await;
}

#[tokio::test]
async fn declining_a_signing_request_sends_no_signatures() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let (token, b, o) = setup(&emu, json!(["auth", "hashedFilesSigning"])).await;
    let (_, answer) = dynamic(
        &emu,
        &token,
        &b,
        &signing_body(&o, &[("a.pdf", &[7; 32])], None),
    )
    .await;
    let n = n_of(&emu, &answer);
    let (status, view) = control(&emu, &format!("/emulator/requests/{n}/decline"), None).await;
    assert_eq!(status, 200);
    assert_eq!(view["state"], "declined");
    let received = partner.received();
    assert_eq!(
        header(&received[0], "x-diia-id-action"),
        "hashedFilesSigning"
    );
    assert_eq!(
        encode_data(&received[0]),
        json!({"signedItems": [], "status": "declined"})
    );
    // Answered once only.
    let (status, _) = control(&emu, &format!("/emulator/requests/{n}/confirm"), None).await;
    assert_eq!(status, 409);

    // The same offer still serves logins, whose view has no files.
    let auth = json!({"offerId": o, "requestId": BASE64.encode([1u8; 32])});
    let (status, answer) = dynamic(&emu, &token, &b, &auth).await;
    assert_eq!(status, 200);
    let view: Value = emu
        .get(&format!("/emulator/requests/{}", n_of(&emu, &answer)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["action"], "auth");
    assert!(view.get("files").is_none(), "{view}");
}

#[tokio::test]
async fn bad_signing_requests_are_refused_in_diias_shape() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let (token, b, o) = setup(&emu, json!(["hashedFilesSigning"])).await;
    let hash = BASE64.encode([9u8; 32]);
    let files = |list: Value| {
        json!({"offerId": o, "requestId": REQUEST_ID,
               "data": {"hashedFilesSigning": {"hashedFiles": list}}})
    };
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"fileName": format!("{i}.pdf"), "fileHash": hash}))
        .collect();
    let cases = [
        ("no files", files(json!([]))),
        ("null files", files(Value::Null)),
        ("101 files", files(json!(many))),
        (
            "hash not base64",
            files(json!([{"fileName": "a.pdf", "fileHash": "not base64!"}])),
        ),
        (
            "31-byte hash",
            files(json!([{"fileName": "a.pdf", "fileHash": BASE64.encode([1u8; 31])}])),
        ),
        ("no hash", files(json!([{"fileName": "a.pdf"}]))),
        ("no name", files(json!([{"fileHash": hash}]))),
        (
            "blank name",
            files(json!([{"fileName": " ", "fileHash": hash}])),
        ),
        (
            "256-character name",
            files(json!([{"fileName": "я".repeat(256), "fileHash": hash}])),
        ),
        (
            "empty requestId",
            json!({"offerId": o, "requestId": "",
                   "data": {"hashedFilesSigning": {"hashedFiles": [{"fileName": "a", "fileHash": hash}]}}}),
        ),
        (
            "non-ASCII requestId",
            json!({"offerId": o, "requestId": "запит",
                   "data": {"hashedFilesSigning": {"hashedFiles": [{"fileName": "a", "fileHash": hash}]}}}),
        ),
        (
            "129-character requestId",
            json!({"offerId": o, "requestId": "x".repeat(129),
                   "data": {"hashedFilesSigning": {"hashedFiles": [{"fileName": "a", "fileHash": hash}]}}}),
        ),
    ];
    for (what, body) in cases {
        let (status, answer) = dynamic(&emu, &token, &b, &body).await;
        assert_eq!(status, 400, "{what}: {answer}");
        assert_eq!(answer["name"], "BadRequestError", "{what}");
        assert_eq!(answer["code"], 400, "{what}");
    }
    // 100 files and a 255-character name are fine.
    let mut hundred = many;
    hundred.pop();
    hundred[0]["fileName"] = json!("я".repeat(255));
    let (status, answer) = dynamic(&emu, &token, &b, &files(json!(hundred))).await;
    assert_eq!(status, 200, "{answer}");

    // An offer for logins only cannot ask to sign files.
    let (_, b2, auth_only) = setup(&emu, json!(["auth"])).await;
    let body = signing_body(&auth_only, &[("a.pdf", &[9; 32])], None);
    let (status, answer) = dynamic(&emu, &token, &b2, &body).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("hashedFilesSigning"),
        "{answer}"
    );
}

#[tokio::test]
async fn the_phone_page_lists_the_files_escaped_and_signs_them() {
    let partner = start_partner().await;
    let emu = start_emulator(&partner, |_| {}).await;
    let (token, b, o) = setup(&emu, json!(["hashedFilesSigning"])).await;
    let hostile = "<script>alert(1)</script>.pdf";
    let files: [(&str, &[u8]); 2] = [(hostile, &[0xab; 32]), ("звіт.txt", &[0x01; 32])];
    let (_, answer) = dynamic(&emu, &token, &b, &signing_body(&o, &files, None)).await;
    let n = n_of(&emu, &answer);
    let page = emu
        .get(&format!("/acquirers/offer-request/dynamic/{n}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Підписати документи (2)"), "{page}");
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;.pdf"),
        "{page}"
    );
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains("звіт.txt"));
    assert!(page.contains("abab abab abab abab"), "fingerprint: {page}");
    assert!(page.contains(">Підписати</button>"));
    assert!(page.contains(">Відхилити</button>"));
    assert!(page.contains(r#"name="identity" value="director""#));

    // The person signs as the director from the page.
    let r = emu
        .http
        .post(emu.url(&format!("/acquirers/offer-request/dynamic/{n}/confirm")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("identity=director")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let data = encode_data(&partner.received()[0]);
    assert_eq!(data["signedItems"][0]["name"], hostile);
    assert_eq!(data["signedItems"][1]["name"], "звіт.txt");
    let done = emu
        .get(&format!("/acquirers/offer-request/dynamic/{n}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(done.contains("Ви підписали документи (2)"), "{done}");
    assert!(done.contains("Коваленко Олена Петрівна"));
}
