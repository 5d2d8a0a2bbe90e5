//! `signings`: USERS people sign in once each (a full login through the emulator), then each
//! loops one document signing at a time as docs/signing.md describes it: `POST
//! {prefix}/api/signing` with FILES random files of BYTES bytes → the signing page (its
//! deeplink) → the page's SSE stream → the emulator's phone confirms → `event: state` `signed`
//! → `GET {prefix}/api/signing/{id}`, every file with its signature.
//!
//! One request at a time per user: a session may have at most 5 waiting at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::oidc::sign_in;
use crate::{Error, EventsReader, confirm, percentile};

/// `signings GATEWAY EMULATOR USERS SECONDS FILES BYTES [ALGORITHM]`.
pub async fn main(client: reqwest::Client, args: &[String]) -> Result<(), Error> {
    let [gateway, emulator, users, seconds, files, bytes, rest @ ..] = args else {
        return Err(
            "usage: signings GATEWAY EMULATOR USERS SECONDS FILES BYTES [dstu4145|ecdsa]".into(),
        );
    };
    let job = Arc::new(Job {
        client,
        gateway: gateway.clone(),
        emulator: emulator.clone(),
        files: files.parse()?,
        bytes: bytes.parse()?,
        algorithm: rest
            .first()
            .cloned()
            .unwrap_or_else(|| "dstu4145".to_owned()),
    });
    let users: usize = users.parse()?;
    let duration = Duration::from_secs(seconds.parse()?);

    // Everyone signs in first, outside the measured time.
    let mut cookies = Vec::with_capacity(users);
    for _ in 0..users {
        cookies.push(sign_in(&job.client, &job.gateway, &job.emulator).await?);
    }

    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for (user, cookie) in cookies.into_iter().enumerate() {
        let (job, errors) = (job.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut random = Random::new(user as u64);
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                match one_signing(&job, &cookie, &mut random).await {
                    Ok(latency) => latencies.push(latency),
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            eprintln!("signing failed: {e}");
                        }
                    }
                }
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let signed_files = all.len() * job.files;
    println!(
        "| algorithm | users | files × bytes | signings | signed files | errors | signings/s | files/s | confirm→signed p50 ms | p99 ms | max ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {users} | {} × {} | {} | {signed_files} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
        job.algorithm,
        job.files,
        job.bytes,
        all.len(),
        errors.load(Ordering::Relaxed),
        all.len() as f64 / elapsed,
        signed_files as f64 / elapsed,
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.last()
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN)
    );
    Ok(())
}

struct Job {
    client: reqwest::Client,
    gateway: String,
    emulator: String,
    files: usize,
    bytes: usize,
    algorithm: String,
}

/// One signing request from start to its checked result; returns confirm-to-`signed` latency.
async fn one_signing(job: &Job, cookie: &str, random: &mut Random) -> Result<Duration, Error> {
    let files: Vec<Value> = (0..job.files)
        .map(|i| serde_json::json!({ "name": format!("doc-{i}.bin"), "content": STANDARD.encode(random.bytes(job.bytes)) }))
        .collect();
    // `.json()` sends `Content-Type: application/json` and no Origin: same-origin by the CSRF rules.
    let response = job
        .client
        .post(format!("{}/.kepgate/api/signing", job.gateway))
        .header("cookie", cookie)
        .json(&serde_json::json!({ "files": files, "algorithm": job.algorithm }))
        .send()
        .await?;
    if response.status() != 201 {
        let status = response.status();
        return Err(format!(
            "start: HTTP {status}: {}",
            response.text().await.unwrap_or_default()
        )
        .into());
    }
    let answer: Value = response.json().await?;
    let id = answer["id"].as_str().ok_or("no id")?.to_owned();
    let sign_url = answer["sign_url"].as_str().ok_or("no sign_url")?;
    let prefix = sign_url
        .strip_suffix(&format!("/sign/{id}"))
        .ok_or("sign_url is not {prefix}/sign/{id}")?;

    let page = job
        .client
        .get(format!("{}{sign_url}", job.gateway))
        .header("cookie", cookie)
        .send()
        .await?;
    if page.status() != 200 {
        return Err(format!("signing page: HTTP {}", page.status()).into());
    }
    let deeplink = deeplink(&page.text().await?).ok_or("no deeplink on the signing page")?;
    let request_number = deeplink.rsplit('/').next().unwrap_or_default().to_owned();

    // Subscribed before the phone confirms: the `signed` event is the one the page would show.
    let mut events = events(
        job,
        cookie,
        &format!("{}{prefix}/sign/events/{id}", job.gateway),
    )
    .await?;
    events.until("pending").await?;
    let confirmed_at = Instant::now();
    let (confirmed, heard) = tokio::join!(
        confirm(&job.client, &job.emulator, &request_number),
        async {
            events.until("signed").await?;
            Ok::<Duration, Error>(confirmed_at.elapsed())
        }
    );
    confirmed?;
    let latency = heard?;

    let result = job
        .client
        .get(format!("{}{prefix}/api/signing/{id}", job.gateway))
        .header("cookie", cookie)
        .send()
        .await?;
    if result.status() != 200 {
        return Err(format!("result: HTTP {}", result.status()).into());
    }
    let result: Value = result.json().await?;
    if result["state"] != "signed" {
        return Err(format!("result: state {} ({})", result["state"], result["reason"]).into());
    }
    let signed = result["files"].as_array().map_or(0, |files| {
        files
            .iter()
            .filter(|f| f["signature"].as_str().is_some_and(|s| !s.is_empty()))
            .count()
    });
    if signed != job.files {
        return Err(format!("result: {signed} of {} files have a signature", job.files).into());
    }
    Ok(latency)
}

async fn events(job: &Job, cookie: &str, url: &str) -> Result<EventsReader, Error> {
    let response = job
        .client
        .get(url)
        .header("cookie", cookie)
        .header("accept", "text/event-stream")
        .send()
        .await?;
    if response.status() != 200 {
        return Err(format!("events: HTTP {}", response.status()).into());
    }
    Ok(EventsReader {
        stream: Box::pin(response.bytes_stream()),
        buffer: String::new(),
    })
}

/// The signing page's `id="deeplink" href="…"`, HTML-unescaped (templates/sign.html).
fn deeplink(page: &str) -> Option<String> {
    let marker = "id=\"deeplink\" href=\"";
    let start = page.find(marker)? + marker.len();
    let end = start + page[start..].find('"')?;
    let raw = &page[start..end];
    Some(
        raw.replace("&#x2F;", "/")
            .replace("&#x2f;", "/")
            .replace("&#47;", "/")
            .replace("&amp;", "&"),
    )
}

/// Fresh file bytes for every request (splitmix64): each file has a hash of its own.
struct Random(u64);

impl Random {
    fn new(user: u64) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Random(now ^ user.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(n);
        out
    }
}
