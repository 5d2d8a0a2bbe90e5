//! `oidc`: authorization-code round trips with a warm session. One person signs in once (the
//! JSON login API and the Diia emulator, as `session` does); then N relying-party workers loop
//! authorize (with the session cookie, the 303 not followed) → `code` from `Location` → token
//! (`client_secret_basic`, PKCE S256 verifier) → userinfo (Bearer). Every round trip has a fresh
//! state, nonce and verifier, so a fresh code; the ID token's `nonce` and `aud` are checked (its
//! signature is not: that is the relying party's CPU, not kepgate's).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{Error, Started, complete_and_enter, confirm, open_events, percentile, start};

/// What the workers share: the endpoints from discovery, the client, the session.
struct Flow {
    client_id: String,
    secret: String,
    redirect_uri: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    cookie: String,
    seed: [u8; 32],
}

/// The time each step of one round trip took.
struct RoundTrip {
    authorize: Duration,
    token: Duration,
    userinfo: Duration,
}

impl RoundTrip {
    fn total(&self) -> Duration {
        self.authorize + self.token + self.userinfo
    }
}

/// `GATEWAY EMULATOR CLIENT_ID SECRET REDIRECT_URI CONCURRENCY SECONDS`
pub async fn main(client: reqwest::Client, args: &[String]) -> Result<(), Error> {
    let [
        gateway,
        emulator,
        client_id,
        secret,
        redirect_uri,
        concurrency,
        seconds,
    ] = args
    else {
        return Err(
            "oidc GATEWAY EMULATOR CLIENT_ID SECRET REDIRECT_URI CONCURRENCY SECONDS".into(),
        );
    };
    run(
        client,
        gateway,
        emulator,
        Settings {
            client_id: client_id.clone(),
            secret: secret.clone(),
            redirect_uri: redirect_uri.clone(),
        },
        concurrency.parse()?,
        Duration::from_secs(seconds.parse()?),
    )
    .await
}

/// The relying party as registered at kepgate.
struct Settings {
    client_id: String,
    secret: String,
    redirect_uri: String,
}

async fn run(
    client: reqwest::Client,
    gateway: &str,
    emulator: &str,
    settings: Settings,
    concurrency: usize,
    duration: Duration,
) -> Result<(), Error> {
    let cookie = sign_in(&client, gateway, emulator).await?;
    let discovery: Value = client
        .get(format!("{gateway}/.well-known/openid-configuration"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let endpoint = |name: &str| -> Result<String, Error> {
        Ok(discovery[name]
            .as_str()
            .ok_or_else(|| format!("discovery has no {name}"))?
            .to_owned())
    };
    let mut seed = Sha256::new();
    seed.update(std::process::id().to_le_bytes());
    // std's per-process random hash keys: enough to make this run's values its own.
    seed.update(
        std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), 0u8)
            .to_le_bytes(),
    );
    let flow = Arc::new(Flow {
        client_id: settings.client_id,
        secret: settings.secret,
        redirect_uri: settings.redirect_uri,
        authorization_endpoint: endpoint("authorization_endpoint")?,
        token_endpoint: endpoint("token_endpoint")?,
        userinfo_endpoint: endpoint("userinfo_endpoint")?,
        cookie,
        seed: seed.finalize().into(),
    });
    // One round trip before the clock starts: the flow works, or the run stops here.
    round_trip(&client, &flow, u64::MAX).await?;

    let deadline = Instant::now() + duration;
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency as u64 {
        let (client, flow, errors) = (client.clone(), flow.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                match round_trip(&client, &flow, worker << 32 | n).await {
                    Ok(timing) => done.push(timing),
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            eprintln!("round trip failed: {e}");
                        }
                    }
                }
            }
            done
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sorted = |step: fn(&RoundTrip) -> Duration| {
        let mut v: Vec<Duration> = all.iter().map(step).collect();
        v.sort();
        v
    };
    let total = sorted(RoundTrip::total);
    let (authorize, token, userinfo) = (
        sorted(|r| r.authorize),
        sorted(|r| r.token),
        sorted(|r| r.userinfo),
    );
    println!(
        "| concurrency | round trips | errors | round trips/s | p50 ms | p99 ms | max ms | p50 ms authorize / token / userinfo |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {concurrency} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} / {:.1} / {:.1} |",
        all.len(),
        errors.load(Ordering::Relaxed),
        all.len() as f64 / elapsed,
        percentile(&total, 0.5),
        percentile(&total, 0.99),
        total
            .last()
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN),
        percentile(&authorize, 0.5),
        percentile(&token, 0.5),
        percentile(&userinfo, 0.5),
    );
    Ok(())
}

/// A signed-in browser's Cookie header: one full login through the emulator.
pub async fn sign_in(client: &reqwest::Client, gateway: &str, emulator: &str) -> Result<String, Error> {
    let mut started: Started = start(client, gateway).await?;
    let mut events = open_events(client, &started).await?;
    events.until("pending").await?;
    confirm(client, emulator, &started.request_number).await?;
    events.until("confirmed").await?;
    complete_and_enter(client, gateway, &mut started).await?;
    Ok(started.browser.header())
}

/// 43 characters of base64url, different for every (purpose, round trip): a state, a nonce, a
/// PKCE verifier (RFC 7636 §4.1: 43–128 unreserved characters).
fn fresh(seed: &[u8; 32], purpose: &str, n: u64) -> String {
    let mut hash = Sha256::new();
    hash.update(seed);
    hash.update(purpose.as_bytes());
    hash.update(n.to_le_bytes());
    URL_SAFE_NO_PAD.encode(hash.finalize())
}

/// `application/x-www-form-urlencoded`, every byte but the unreserved ones escaped.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn round_trip(client: &reqwest::Client, flow: &Flow, n: u64) -> Result<RoundTrip, Error> {
    let state = fresh(&flow.seed, "state", n);
    let nonce = fresh(&flow.seed, "nonce", n);
    let verifier = fresh(&flow.seed, "verifier", n);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));

    let at = Instant::now();
    let query = form(&[
        ("response_type", "code"),
        ("client_id", &flow.client_id),
        ("redirect_uri", &flow.redirect_uri),
        ("scope", "openid profile kep"),
        ("state", &state),
        ("nonce", &nonce),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let response = client
        .get(format!("{}?{query}", flow.authorization_endpoint))
        .header("cookie", &flow.cookie)
        .send()
        .await?;
    if response.status() != 303 {
        return Err(format!("authorize: HTTP {}", response.status()).into());
    }
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or("authorize: no Location")?
        .to_owned();
    let _ = response.bytes().await?;
    let (back, params) = location
        .split_once('?')
        .ok_or_else(|| format!("authorize: sent to {location}"))?;
    if back != flow.redirect_uri {
        return Err(format!("authorize: sent to {location}").into());
    }
    let param = |name: &str| {
        params
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    };
    let code = param("code").ok_or_else(|| format!("authorize: no code in {location}"))?;
    if param("state").as_deref() != Some(state.as_str()) {
        return Err(format!("authorize: state differs in {location}").into());
    }
    let authorize = at.elapsed();

    let at = Instant::now();
    let response = client
        .post(&flow.token_endpoint)
        .basic_auth(&flow.client_id, Some(&flow.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &flow.redirect_uri),
            ("code_verifier", &verifier),
        ]))
        .send()
        .await?;
    if response.status() != 200 {
        let status = response.status();
        return Err(format!("token: HTTP {status}: {}", response.text().await?).into());
    }
    let tokens: Value = response.json().await?;
    let access_token = tokens["access_token"]
        .as_str()
        .ok_or("token: no access_token")?;
    let id_token = tokens["id_token"].as_str().ok_or("token: no id_token")?;
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD.decode(id_token.split('.').nth(1).ok_or("token: not a JWT")?)?,
    )?;
    if claims["nonce"].as_str() != Some(nonce.as_str())
        || claims["aud"].as_str() != Some(flow.client_id.as_str())
    {
        return Err(format!("token: the ID token's nonce or aud differs: {claims}").into());
    }
    let token = at.elapsed();

    let at = Instant::now();
    let response = client
        .get(&flow.userinfo_endpoint)
        .bearer_auth(access_token)
        .send()
        .await?;
    if response.status() != 200 {
        return Err(format!("userinfo: HTTP {}", response.status()).into());
    }
    let info: Value = response.json().await?;
    if info["sub"] != claims["sub"] {
        return Err(format!("userinfo: sub {} differs from the ID token's", info["sub"]).into());
    }
    Ok(RoundTrip {
        authorize,
        token,
        userinfo: at.elapsed(),
    })
}
