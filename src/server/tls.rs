//! HTTPS towards browsers (`[server.tls]`): rustls with the certificate and key from two PEM
//! files, TLS 1.2 and 1.3, `h2` and `http/1.1` by ALPN. The pair is read again on SIGHUP and
//! whenever the files' contents change, and a new pair is served from the next handshake on;
//! one that cannot be read, or whose key is not the certificate's, is logged and the old pair
//! keeps being served (a renewal tool caught half-way through writing must not take HTTPS down).

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};

use crate::config::ServerTls;

/// ALPN names, in the server's order of preference.
pub const HTTP2: &[u8] = b"h2";
const HTTP1: &[u8] = b"http/1.1";

/// The certificate being served, and the files it came from.
pub struct ServerCertificate {
    files: ServerTls,
    provider: Arc<CryptoProvider>,
    served: RwLock<Arc<CertifiedKey>>,
    /// SHA-256 over both files as last read: unchanged files are not parsed again.
    fingerprint: Mutex<[u8; 32]>,
}

impl std::fmt::Debug for ServerCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCertificate")
            .field("cert_file", &self.files.cert_file)
            .finish_non_exhaustive()
    }
}

/// What a reload found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    Unchanged,
    Replaced,
}

impl ServerCertificate {
    /// Reads the pair; any problem stops the start with the file's path.
    pub fn load(files: &ServerTls) -> anyhow::Result<Arc<Self>> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let (fingerprint, key) = read_pair(files, &provider)?;
        log_loaded(files, &key, "TLS certificate loaded");
        Ok(Arc::new(Self {
            files: files.clone(),
            provider,
            served: RwLock::new(Arc::new(key)),
            fingerprint: Mutex::new(fingerprint),
        }))
    }

    /// Reads the files again and serves them if they changed and go together.
    pub fn reload(&self) -> anyhow::Result<Reload> {
        let (cert_pem, key_pem) = read_files(&self.files)?;
        let fingerprint = fingerprint(&cert_pem, &key_pem);
        if *self.fingerprint.lock().unwrap_or_else(|e| e.into_inner()) == fingerprint {
            return Ok(Reload::Unchanged);
        }
        let key = certified_key(&self.files, &cert_pem, &key_pem, &self.provider)?;
        log_loaded(&self.files, &key, "TLS certificate reloaded");
        *self.served.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(key);
        *self.fingerprint.lock().unwrap_or_else(|e| e.into_inner()) = fingerprint;
        Ok(Reload::Replaced)
    }

    /// The rustls server configuration: this certificate, TLS 1.2 and 1.3, and ALPN.
    pub fn server_config(self: &Arc<Self>, http2: bool) -> anyhow::Result<rustls::ServerConfig> {
        let mut config = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .context("TLS 1.2 and 1.3")?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = if http2 {
            vec![HTTP2.to_vec(), HTTP1.to_vec()]
        } else {
            vec![HTTP1.to_vec()]
        };
        Ok(config)
    }
}

impl ResolvesServerCert for ServerCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.served
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

/// Reloads on SIGHUP and every `watch_interval` (when not zero), for as long as the server runs.
pub async fn watch(certificate: Arc<ServerCertificate>, watch_interval: Duration) {
    let mut hangup = hangup_signals();
    let mut ticks = (!watch_interval.is_zero()).then(|| {
        let mut ticks = tokio::time::interval(watch_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks
    });
    loop {
        let trigger = tokio::select! {
            () = next_hangup(&mut hangup) => "sighup",
            () = next_tick(&mut ticks) => "file_check",
        };
        let outcome = match certificate.reload() {
            Ok(Reload::Unchanged) => "unchanged",
            Ok(Reload::Replaced) => "replaced",
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), trigger, "TLS certificate not reloaded; still serving the previous one");
                "failed"
            }
        };
        metrics::counter!("kepgate_tls_reloads_total", "trigger" => trigger, "outcome" => outcome)
            .increment(1);
    }
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = ();

#[cfg(unix)]
fn hangup_signals() -> Hangup {
    use tokio::signal::unix::{SignalKind, signal};
    signal(SignalKind::hangup())
        .inspect_err(|e| tracing::warn!(error = %e, "SIGHUP cannot reload the TLS certificate"))
        .ok()
}

#[cfg(not(unix))]
fn hangup_signals() -> Hangup {}

#[cfg(unix)]
async fn next_hangup(hangup: &mut Hangup) {
    if let Some(signal) = hangup
        && signal.recv().await.is_some()
    {
        return;
    }
    std::future::pending::<()>().await;
}

#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangup) {
    std::future::pending::<()>().await;
}

async fn next_tick(ticks: &mut Option<tokio::time::Interval>) {
    match ticks {
        Some(ticks) => {
            ticks.tick().await;
        }
        None => std::future::pending::<()>().await,
    }
}

fn read_files(files: &ServerTls) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let cert = std::fs::read(&files.cert_file).with_context(|| {
        format!(
            "server.tls.cert_file: cannot read {}",
            files.cert_file.display()
        )
    })?;
    let key = std::fs::read(&files.key_file).with_context(|| {
        format!(
            "server.tls.key_file: cannot read {}",
            files.key_file.display()
        )
    })?;
    Ok((cert, key))
}

fn read_pair(
    files: &ServerTls,
    provider: &CryptoProvider,
) -> anyhow::Result<([u8; 32], CertifiedKey)> {
    let (cert_pem, key_pem) = read_files(files)?;
    let key = certified_key(files, &cert_pem, &key_pem, provider)?;
    Ok((fingerprint(&cert_pem, &key_pem), key))
}

fn fingerprint(cert_pem: &[u8], key_pem: &[u8]) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update((cert_pem.len() as u64).to_be_bytes());
    digest.update(cert_pem);
    digest.update(key_pem);
    digest.finalize().into()
}

fn certified_key(
    files: &ServerTls,
    cert_pem: &[u8],
    key_pem: &[u8],
    provider: &CryptoProvider,
) -> anyhow::Result<CertifiedKey> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| {
            format!(
                "server.tls.cert_file: {} is not PEM certificates",
                files.cert_file.display()
            )
        })?;
    anyhow::ensure!(
        !chain.is_empty(),
        "server.tls.cert_file: {} holds no certificate",
        files.cert_file.display()
    );
    let key = PrivateKeyDer::from_pem_slice(key_pem).with_context(|| {
        format!(
            "server.tls.key_file: no private key in {}",
            files.key_file.display()
        )
    })?;
    CertifiedKey::from_der(chain, key, provider).with_context(|| {
        format!(
            "server.tls: the key in {} is not the key of the certificate in {}, or rustls cannot use it",
            files.key_file.display(),
            files.cert_file.display()
        )
    })
}

fn log_loaded(files: &ServerTls, key: &CertifiedKey, message: &str) {
    tracing::info!(
        cert_file = %files.cert_file.display(),
        chain = key.cert.len(),
        "{message}"
    );
}
