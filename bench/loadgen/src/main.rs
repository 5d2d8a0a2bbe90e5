//! kepgate load generator (benchmarks only; loopback only; bounded in count and time).
//!
//! `logins`: N simulated users, each looping start → SSE `pending` → the emulator confirms (as
//! the phone) → SSE `confirmed` → complete → first cabinet page, until the duration is up.
//! `waiters`: opens W pending logins whose SSE streams stay open, then runs probe logins while
//! they wait, and reports confirm-to-event latency.
//!
//! Usage:
//!   kepgate-loadgen logins  GATEWAY EMULATOR USERS SECONDS
//!   kepgate-loadgen logins-count GATEWAY EMULATOR USERS COUNT
//!   kepgate-loadgen waiters GATEWAY EMULATOR WAITERS PROBES PROBE_CONCURRENCY
//!   kepgate-loadgen rate    URL RATE SECONDS [COOKIE]
//!   kepgate-loadgen oidc    GATEWAY EMULATOR CLIENT_ID SECRET REDIRECT_URI CONCURRENCY SECONDS
//!   kepgate-loadgen signings GATEWAY EMULATOR USERS SECONDS FILES BYTES [dstu4145|ecdsa]
//!
//! `logins-count`: as `logins`, but exactly COUNT logins (USERS at a time) and no time limit,
//! for instruction counts per login (bench/login_callgrind.sh); exits non-zero on any error.
//! `rate`: open-loop GETs at a fixed RATE per second (below saturation), each timed from the
//! moment it was *due*, not sent, so a stall is not hidden by requests that were never sent
//! (coordinated omission). Comparing two URLs measured this way gives the latency one adds.
//! `oidc`: one person signs in once; then CONCURRENCY relying parties loop the authorization
//! code flow with that session (authorize → token → userinfo), a fresh code each time (oidc.rs).
//! `signings`: each user signs in once, then loops document signings of FILES random files of
//! BYTES bytes, confirmed at the emulator's phone, each result checked (signings.rs).

mod oidc;
mod signings;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let ca = private_ca()?;
    let client = client_builder(&ca).pool_max_idle_per_host(20_000).build()?;
    match args.get(1).map(String::as_str) {
        Some("logins") => {
            let users: usize = args[4].parse()?;
            let seconds: u64 = args[5].parse()?;
            // The phone confirms this long after the login started (a person reading the QR).
            let think = Duration::from_millis(args.get(6).map_or(Ok(0), |a| a.parse())?);
            logins(client, args[2].clone(), args[3].clone(), users, Duration::from_secs(seconds), think).await
        }
        Some("logins-count") => logins_count(client, args[2].clone(), args[3].clone(), args[4].parse()?, args[5].parse()?).await,
        // Prints a signed-in browser's Cookie header (for wrk against the proxy).
        Some("session") => {
            let mut started = start(&client, &args[2]).await?;
            let mut events = open_events(&client, &started).await?;
            events.until("pending").await?;
            confirm(&client, &args[3], &started.request_number).await?;
            events.until("confirmed").await?;
            complete_and_enter(&client, &args[2], &mut started).await?;
            println!("{}", started.browser.header());
            Ok(())
        }
        Some("rate") => {
            let cookie = args.get(5).cloned().unwrap_or_default();
            rate(client, args[2].clone(), args[3].parse()?, Duration::from_secs(args[4].parse()?), cookie).await
        }
        Some("waiters") => {
            waiters(client, ca, args[2].clone(), args[3].clone(), args[4].parse()?, args[5].parse()?, args[6].parse()?).await
        }
        Some("oidc") => oidc::main(client, &args[2..]).await,
        Some("signings") => signings::main(client, &args[2..]).await,
        _ => {
            eprintln!(
                "usage: kepgate-loadgen logins GATEWAY EMULATOR USERS SECONDS [THINK_MS] | waiters GATEWAY EMULATOR WAITERS PROBES CONCURRENCY | oidc GATEWAY EMULATOR CLIENT_ID SECRET REDIRECT_URI CONCURRENCY SECONDS | signings GATEWAY EMULATOR USERS SECONDS FILES BYTES [ALGORITHM]"
            );
            std::process::exit(2)
        }
    }
}

/// `LOADGEN_CA_FILE`: the PEM CA of a gateway serving HTTPS itself with a private CA.
fn private_ca() -> Result<Option<Vec<reqwest::Certificate>>, Error> {
    let Some(path) = std::env::var_os("LOADGEN_CA_FILE") else { return Ok(None) };
    Ok(Some(reqwest::Certificate::from_pem_bundle(&std::fs::read(path)?)?))
}

/// Redirects shown, not followed; over HTTPS, the private CA trusted (HTTP/2 by ALPN).
fn client_builder(ca: &Option<Vec<reqwest::Certificate>>) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120));
    match ca {
        Some(certs) => builder.tls_certs_only(certs.clone()),
        None => builder,
    }
}

/// One simulated browser: its own cookies.
struct Browser {
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn new() -> Self {
        Browser { cookies: Vec::new() }
    }
    fn header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }
    fn remember(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let Ok(text) = value.to_str() else { continue };
            let pair = text.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else { continue };
            self.cookies.retain(|(k, _)| k != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }
}

struct Started {
    browser: Browser,
    events_url: String,
    complete_url: String,
    request_number: String,
}

async fn start(client: &reqwest::Client, gateway: &str) -> Result<Started, Error> {
    let mut browser = Browser::new();
    let response = client
        .post(format!("{gateway}/.kepgate/api/login"))
        .json(&serde_json::json!({ "provider": "diia", "return_path": "/" }))
        .send()
        .await?;
    if response.status() != 201 {
        return Err(format!("start: HTTP {}", response.status()).into());
    }
    browser.remember(&response);
    let body: Value = response.json().await?;
    let mut link = body["link"].as_str().ok_or("no link")?.to_owned();
    // With rotating QR links (the default) the link is kepgate's own; the browser that started
    // the login is sent straight on to the provider's deeplink (the same-device path).
    if link.contains("/.kepgate/q/") {
        let hop = client.get(&link).header("cookie", browser.header()).send().await?;
        link = hop
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("rotating link did not lead on: HTTP {}", hop.status()))?
            .to_owned();
    }
    Ok(Started {
        browser,
        events_url: format!("{gateway}{}", body["events_url"].as_str().ok_or("no events_url")?),
        complete_url: format!("{gateway}{}", body["complete_url"].as_str().ok_or("no complete_url")?),
        request_number: link.rsplit('/').next().unwrap_or_default().to_owned(),
    })
}

async fn open_events(client: &reqwest::Client, started: &Started) -> Result<EventsReader, Error> {
    let response = client
        .get(&started.events_url)
        .header("cookie", started.browser.header())
        .header("accept", "text/event-stream")
        .send()
        .await?;
    if response.status() != 200 {
        return Err(format!("events: HTTP {}", response.status()).into());
    }
    Ok(EventsReader { stream: Box::pin(response.bytes_stream()), buffer: String::new() })
}

/// Reads SSE `state` events until one with the wanted state.
struct EventsReader {
    stream: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl EventsReader {
    async fn until(&mut self, wanted: &str) -> Result<(), Error> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if block.contains("event: state") || block.contains("event:state") {
                    if block.contains(&format!("\"state\":\"{wanted}\"")) {
                        return Ok(());
                    }
                    if !block.contains("\"state\":\"pending\"") {
                        return Err(format!("unexpected event: {block}").into());
                    }
                }
            }
            let chunk = self
                .stream
                .next()
                .await
                .ok_or("stream ended")?
                .map_err(|e| format!("stream broke: {e}"))?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

async fn confirm(client: &reqwest::Client, emulator: &str, n: &str) -> Result<(), Error> {
    let response = client
        .post(format!("{emulator}/emulator/requests/{n}/confirm"))
        .json(&serde_json::json!({ "identity": "person" }))
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(format!("confirm: HTTP {}", response.status()).into());
    }
    Ok(())
}

async fn complete_and_enter(client: &reqwest::Client, gateway: &str, started: &mut Started) -> Result<(), Error> {
    let response = client
        .post(&started.complete_url)
        .header("cookie", started.browser.header())
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await?;
    if response.status() != 200 {
        return Err(format!("complete: HTTP {}", response.status()).into());
    }
    started.browser.remember(&response);
    let page = client.get(format!("{gateway}/")).header("cookie", started.browser.header()).send().await?;
    if page.status() != 200 {
        return Err(format!("cabinet: HTTP {}", page.status()).into());
    }
    let _ = page.bytes().await?;
    Ok(())
}

/// Waits for `wanted` as a browser's EventSource does: a stream that ends (its replica drains
/// on SIGTERM) is opened again, through the load balancer to another replica, which says the
/// login's state at once.
async fn hear(client: &reqwest::Client, started: &Started, events: &mut EventsReader, wanted: &str) -> Result<(), Error> {
    const RECONNECTS: u32 = 5;
    let mut reconnects = 0;
    loop {
        match events.until(wanted).await {
            Err(e) if reconnects < RECONNECTS && e.to_string().starts_with("stream") => {
                reconnects += 1;
                RECONNECTED.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
                *events = open_events(client, started).await?;
            }
            other => return other,
        }
    }
}

/// Event streams opened again after their replica ended them.
static RECONNECTED: AtomicU64 = AtomicU64::new(0);

/// One full login; returns confirm-to-event latency.
async fn one_login(client: &reqwest::Client, gateway: &str, emulator: &str, think: Duration) -> Result<Duration, Error> {
    let mut started = start(client, gateway).await?;
    let mut events = open_events(client, &started).await?;
    hear(client, &started, &mut events, "pending").await?;
    if !think.is_zero() {
        tokio::time::sleep(think).await;
    }
    let confirmed_at = Instant::now();
    let (confirm_result, event_result) = tokio::join!(
        confirm(client, emulator, &started.request_number),
        async {
            hear(client, &started, &mut events, "confirmed").await?;
            Ok::<Duration, Error>(confirmed_at.elapsed())
        }
    );
    confirm_result?;
    let latency = event_result?;
    complete_and_enter(client, gateway, &mut started).await?;
    Ok(latency)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

async fn logins(client: reqwest::Client, gateway: String, emulator: String, users: usize, duration: Duration, think: Duration) -> Result<(), Error> {
    let deadline = Instant::now() + duration;
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..users {
        let (client, gateway, emulator, errors) = (client.clone(), gateway.clone(), emulator.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                match one_login(&client, &gateway, &emulator, think).await {
                    Ok(latency) => latencies.push(latency),
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            eprintln!("login failed: {e}");
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
    println!("| users | logins | errors | logins/s | confirm→event p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|---|");
    if RECONNECTED.load(Ordering::Relaxed) > 0 {
        eprintln!("event streams opened again after their replica ended them: {}", RECONNECTED.load(Ordering::Relaxed));
    }
    println!(
        "| {users} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} |",
        all.len(),
        errors.load(Ordering::Relaxed),
        all.len() as f64 / elapsed,
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(f64::NAN)
    );
    Ok(())
}

async fn logins_count(client: reqwest::Client, gateway: String, emulator: String, users: usize, count: u64) -> Result<(), Error> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..users {
        let (client, gateway, emulator, next) = (client.clone(), gateway.clone(), emulator.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < count {
                one_login(&client, &gateway, &emulator, Duration::ZERO).await?;
            }
            Ok::<(), Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    println!("{count} logins");
    Ok(())
}

async fn waiters(
    client: reqwest::Client,
    ca: Option<Vec<reqwest::Certificate>>,
    gateway: String,
    emulator: String,
    count: usize,
    probes: usize,
    concurrency: usize,
) -> Result<(), Error> {
    // Open the waiting browsers, a few hundred at a time.
    let opened = Arc::new(AtomicU64::new(0));
    let mut held = Vec::with_capacity(count);
    let started = Instant::now();
    let mut pending = futures_util::stream::iter((0..count).map(|_| {
        let (gateway, opened) = (gateway.clone(), opened.clone());
        // Over HTTPS every browser has a connection of its own, as real ones do (HTTP/2 would
        // otherwise carry all the streams on one); over plain HTTP/1.1 each stream holds one.
        let client = match &ca {
            Some(_) => client_builder(&ca).build(),
            None => Ok(client.clone()),
        };
        async move {
            let client = client?;
            let s = start(&client, &gateway).await?;
            let mut events = open_events(&client, &s).await?;
            events.until("pending").await?;
            opened.fetch_add(1, Ordering::Relaxed);
            Ok::<_, Error>((s, events))
        }
    }))
    .buffer_unordered(200);
    let mut failures = 0;
    while let Some(result) = pending.next().await {
        match result {
            Ok(pair) => held.push(pair),
            Err(e) => {
                failures += 1;
                if failures <= 5 {
                    eprintln!("waiter failed: {e}");
                }
            }
        }
    }
    eprintln!("{} waiters open ({failures} failed) in {:.1} s", held.len(), started.elapsed().as_secs_f64());
    // Like real EventSource clients, every waiting browser keeps reading its stream (QR
    // rotations and keep-alives arrive all the time).
    let held: Vec<tokio::task::JoinHandle<()>> = held
        .into_iter()
        .map(|(started, mut events)| {
            tokio::spawn(async move {
                let _keep = started;
                while let Some(Ok(_)) = events.stream.next().await {}
            })
        })
        .collect();
    println!("WAITERS_OPEN {}", held.len());
    // Let the caller sample memory and connections while everyone waits.
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!("SAMPLE_NOW");
    // LOADGEN_HOLD_SECS: how long everyone keeps waiting after that (to sample again later).
    let hold = std::env::var("LOADGEN_HOLD_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    tokio::time::sleep(Duration::from_secs(hold)).await;
    println!("SAMPLE_AGAIN");

    let mut latencies = Vec::new();
    let mut probe_errors = 0;
    let mut runs = futures_util::stream::iter((0..probes).map(|_| {
        let (client, gateway, emulator) = (client.clone(), gateway.clone(), emulator.clone());
        async move { one_login(&client, &gateway, &emulator, Duration::ZERO).await }
    }))
    .buffer_unordered(concurrency);
    while let Some(result) = runs.next().await {
        match result {
            Ok(latency) => latencies.push(latency),
            Err(e) => {
                probe_errors += 1;
                if probe_errors <= 5 {
                    eprintln!("probe failed: {e}");
                }
            }
        }
    }
    latencies.sort();
    println!("| waiting browsers | probe logins | errors | confirm→event p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {probe_errors} | {:.1} | {:.1} | {:.1} |",
        held.len(),
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(f64::NAN)
    );
    for task in held {
        task.abort();
    }
    Ok(())
}

async fn rate(client: reqwest::Client, url: String, per_second: u64, duration: Duration, cookie: String) -> Result<(), Error> {
    let interval = Duration::from_secs_f64(1.0 / per_second as f64);
    let total = (per_second as f64 * duration.as_secs_f64()) as u64;
    let errors = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Duration>();
    // Warm the connection pool so the first second does not measure connection setup.
    for _ in 0..32 {
        let _ = client.get(&url).header("cookie", &cookie).send().await?.bytes().await?;
    }
    let start = Instant::now();
    for n in 0..total {
        let due = start + interval * n as u32;
        tokio::time::sleep_until(due.into()).await;
        let (client, url, cookie, tx, errors) = (client.clone(), url.clone(), cookie.clone(), tx.clone(), errors.clone());
        tokio::spawn(async move {
            let ok = match client.get(&url).header("cookie", cookie).send().await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            if ok {
                let _ = tx.send(due.elapsed());
            } else {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    drop(tx);
    let mut latencies = Vec::with_capacity(total as usize);
    while let Some(l) = rx.recv().await {
        latencies.push(l);
    }
    latencies.sort();
    println!(
        "RATE {} {} {} {:.2} {:.2} {:.2} {:.2}",
        per_second,
        latencies.len(),
        errors.load(Ordering::Relaxed),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
    );
    Ok(())
}
