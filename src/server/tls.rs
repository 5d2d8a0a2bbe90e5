//! HTTPS towards browsers (`[server.tls]`): rustls with the certificate and key from two PEM
//! files, TLS 1.2 and 1.3, `h2` and `http/1.1` by ALPN. The pair is read again on SIGHUP (`reload.rs`)
//! and whenever the files' contents change, and a new pair is served from the next handshake on;
//! one that cannot be read, whose key is not the certificate's, or whose certificate browsers
//! refuse (expired, not yet valid, not for TLS servers) is logged and the old pair keeps being
//! served (a renewal tool caught half-way through writing must not take HTTPS down). When the
//! served certificate ends is a metric.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::certificate_check;
use crate::clock::SharedClock;
use crate::config::{ServerSettings, ServerTls};

/// ALPN names, in the server's order of preference.
pub const HTTP2: &[u8] = b"h2";
const HTTP1: &[u8] = b"http/1.1";

/// The certificate being served, and the files it came from.
pub struct ServerCertificate {
    files: ServerTls,
    /// The hosts of `base_url` and `public_base_url`, which the certificate should name.
    hosts: Vec<url::Host<String>>,
    clock: SharedClock,
    provider: Arc<CryptoProvider>,
    served: RwLock<Served>,
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

/// A pair in service, and when its certificate ends.
struct Served {
    key: Arc<CertifiedKey>,
    not_after: OffsetDateTime,
}

/// What a reload found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    Unchanged,
    Replaced,
}

impl ServerCertificate {
    /// Reads the pair; any problem stops the start with the file's path.
    pub fn load(
        files: &ServerTls,
        server: &ServerSettings,
        clock: SharedClock,
    ) -> anyhow::Result<Arc<Self>> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let (fingerprint, served) = read_pair(files, &provider, clock.now())?;
        let mut hosts: Vec<url::Host<String>> = [&server.base_url, server.public_base_url()]
            .into_iter()
            .filter_map(|url| url.host().map(|host| host.to_owned()))
            .collect();
        hosts.dedup();
        let certificate = Arc::new(Self {
            files: files.clone(),
            hosts,
            clock,
            provider,
            served: RwLock::new(served),
            fingerprint: Mutex::new(fingerprint),
        });
        certificate.log_loaded("TLS certificate loaded");
        Ok(certificate)
    }

    /// What a person should hear about the served certificate though it is served: the hosts
    /// people or providers browse that it does not name.
    pub fn warnings(&self) -> Vec<String> {
        let served = self.served.read().unwrap_or_else(|e| e.into_inner());
        let Some(leaf) = served.key.cert.first() else {
            return Vec::new();
        };
        self.hosts
            .iter()
            .filter(|host| !certificate_check::names(leaf, host))
            .map(|host| {
                format!(
                    "server.tls.cert_file: the certificate in {} does not name {host}: browsers \
                     going to https://{host}/ will refuse it (right only when a TLS terminator in \
                     front reaches kepgate by a name the certificate has)",
                    self.files.cert_file.display()
                )
            })
            .collect()
    }

    /// When the served certificate ends.
    pub fn not_after(&self) -> OffsetDateTime {
        self.served
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .not_after
    }

    /// `kepgate_tls_certificate_expiry_timestamp_seconds`: when the served certificate ends
    /// (Unix time), for an alert well before it does.
    fn publish_expiry(&self) {
        metrics::gauge!(
            "kepgate_tls_certificate_expiry_timestamp_seconds",
            "cert_file" => self.files.cert_file.display().to_string()
        )
        .set(self.not_after().unix_timestamp() as f64);
    }

    /// Reads the files again and serves them if they changed and go together.
    pub fn reload(&self) -> anyhow::Result<Reload> {
        let (cert_pem, key_pem) = read_files(&self.files)?;
        let fingerprint = fingerprint(&cert_pem, &key_pem);
        if *self.fingerprint.lock().unwrap_or_else(|e| e.into_inner()) == fingerprint {
            return Ok(Reload::Unchanged);
        }
        let served = certified_key(
            &self.files,
            &cert_pem,
            &key_pem,
            &self.provider,
            self.clock.now(),
        )?;
        *self.served.write().unwrap_or_else(|e| e.into_inner()) = served;
        *self.fingerprint.lock().unwrap_or_else(|e| e.into_inner()) = fingerprint;
        self.log_loaded("TLS certificate reloaded");
        self.publish_expiry();
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
                .key
                .clone(),
        )
    }
}

/// Reloads every `watch_interval` (when not zero), for as long as the server runs; SIGHUP's
/// reload is `server::reload`'s.
pub async fn watch(certificate: Arc<ServerCertificate>, watch_interval: Duration) {
    // Here rather than at load: the metrics recorder is installed after the certificate is read.
    certificate.publish_expiry();
    let mut ticks = (!watch_interval.is_zero()).then(|| {
        let mut ticks = tokio::time::interval(watch_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks
    });
    loop {
        next_tick(&mut ticks).await;
        reload_counted(&certificate, "file_check");
    }
}

/// Reads the pair again for `trigger` ("sighup", "file_check"): logs a failure, counts the
/// reload, and says what came of it ("unchanged", "replaced", "failed").
pub fn reload_counted(certificate: &ServerCertificate, trigger: &'static str) -> &'static str {
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
    outcome
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
    now: OffsetDateTime,
) -> anyhow::Result<([u8; 32], Served)> {
    let (cert_pem, key_pem) = read_files(files)?;
    let served = certified_key(files, &cert_pem, &key_pem, provider, now)?;
    Ok((fingerprint(&cert_pem, &key_pem), served))
}

fn fingerprint(cert_pem: &[u8], key_pem: &[u8]) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update((cert_pem.len() as u64).to_be_bytes());
    digest.update(cert_pem);
    digest.update(key_pem);
    digest.finalize().into()
}

/// The pair as rustls serves it, when the key is the certificate's and browsers accept the
/// certificate at `now`.
fn certified_key(
    files: &ServerTls,
    cert_pem: &[u8],
    key_pem: &[u8],
    provider: &CryptoProvider,
    now: OffsetDateTime,
) -> anyhow::Result<Served> {
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
    let not_after = certificate_check::servable(&files.cert_file, &chain[0], now)?;
    let key = CertifiedKey::from_der(chain, key, provider).with_context(|| {
        format!(
            "server.tls: the key in {} is not the key of the certificate in {}, or rustls cannot use it",
            files.key_file.display(),
            files.cert_file.display()
        )
    })?;
    Ok(Served {
        key: Arc::new(key),
        not_after,
    })
}

impl ServerCertificate {
    fn log_loaded(&self, message: &str) {
        let (chain, not_after) = {
            let served = self.served.read().unwrap_or_else(|e| e.into_inner());
            (served.key.cert.len(), served.not_after)
        };
        tracing::info!(
            cert_file = %self.files.cert_file.display(),
            chain,
            %not_after,
            "{message}"
        );
        for warning in self.warnings() {
            tracing::warn!("{warning}");
        }
    }
}
