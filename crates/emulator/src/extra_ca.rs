//! A private CA the emulator and the sample cabinet trust beside the system's, for a gateway
//! that serves HTTPS with a certificate of its own CA (the tests, `scripts/demo.sh --tls`).

use std::path::Path;

use anyhow::Context;

/// `builder` also trusting the PEM CA certificates in `ca_file`, when there is one.
pub fn trusting(
    builder: reqwest::ClientBuilder,
    ca_file: Option<&Path>,
) -> anyhow::Result<reqwest::ClientBuilder> {
    let Some(path) = ca_file else {
        return Ok(builder);
    };
    let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .with_context(|| format!("{} is not PEM certificates", path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "{} holds no certificate", path.display());
    Ok(builder.tls_certs_merge(certs))
}
