//! The TLS side of https:// upstreams: rustls, verified against the system's CA certificates or
//! a route's own (`routes.<name>.tls.ca_file`), with a client certificate when configured. Read
//! once at start; a file that cannot be read stops the start with its path.

use std::path::Path;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::UpstreamTls;

pub fn client_config(route: &str, tls: &UpstreamTls) -> anyhow::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    match &tls.ca_file {
        Some(path) => {
            for cert in certificates(route, "ca_file", path)? {
                roots.add(cert).with_context(|| {
                    format!(
                        "routes.{route}.tls.ca_file: {} has a certificate rustls cannot use",
                        path.display()
                    )
                })?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            for cert in native.certs {
                // A system bundle may hold a certificate rustls cannot parse; the rest still count.
                let _ = roots.add(cert);
            }
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS 1.2 and 1.3")?
        .with_root_certificates(roots);
    // ALPN (http/1.1) is the connector's to set (`enable_http1`).
    let config = match (&tls.client_cert_file, &tls.client_key_file) {
        (Some(cert), Some(key)) => {
            let chain = certificates(route, "client_cert_file", cert)?;
            let key = PrivateKeyDer::from_pem_file(key).with_context(|| {
                format!(
                    "routes.{route}.tls.client_key_file: no private key in {}",
                    key.display()
                )
            })?;
            builder.with_client_auth_cert(chain, key).with_context(|| {
                format!("routes.{route}.tls: the client certificate and key do not go together")
            })?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(config)
}

fn certificates(
    route: &str,
    key: &str,
    path: &Path,
) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .with_context(|| {
            format!(
                "routes.{route}.tls.{key}: cannot read PEM certificates from {}",
                path.display()
            )
        })?;
    anyhow::ensure!(
        !certs.is_empty(),
        "routes.{route}.tls.{key}: {} holds no certificate",
        path.display()
    );
    Ok(certs)
}
