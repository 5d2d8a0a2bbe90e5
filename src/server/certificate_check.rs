//! What browsers refuse in the certificate they are shown, checked before kepgate serves one
//! (at start, by `check-config`, at every reload): outside its validity, or an extended key
//! usage without TLS server authentication. A certificate that does not name the host people
//! browse is only warned about: a TLS terminator in front may reach kepgate by another name.

use std::path::Path;

use anyhow::Context;
use rustls::pki_types::{CertificateDer, ServerName};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use url::Host;
use x509_cert::Certificate;
use x509_cert::der::Decode;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::ext::pkix::ExtendedKeyUsage;

/// id-kp-serverAuth (RFC 5280 §4.2.1.12). With an extended key usage, browsers and rustls
/// require it; anyExtendedKeyUsage does not stand in for it.
const SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");

/// The certificate (the chain's first) is one a browser accepts at `now` for a TLS server;
/// returns when it ends.
pub fn servable(
    cert_file: &Path,
    leaf: &CertificateDer<'_>,
    now: OffsetDateTime,
) -> anyhow::Result<OffsetDateTime> {
    let file = cert_file.display();
    let cert = Certificate::from_der(leaf).with_context(|| {
        format!("server.tls.cert_file: the first certificate in {file} cannot be read")
    })?;
    let tbs = cert.tbs_certificate();
    let validity = tbs.validity();
    let not_before = OffsetDateTime::UNIX_EPOCH + validity.not_before.to_unix_duration();
    let not_after = OffsetDateTime::UNIX_EPOCH + validity.not_after.to_unix_duration();
    anyhow::ensure!(
        now >= not_before,
        "server.tls.cert_file: the certificate in {file} is not valid before {} (now {}); \
         browsers refuse it",
        rfc3339(not_before),
        rfc3339(now)
    );
    anyhow::ensure!(
        now <= not_after,
        "server.tls.cert_file: the certificate in {file} expired at {}; browsers refuse it",
        rfc3339(not_after)
    );
    let usage = tbs
        .get_extension::<ExtendedKeyUsage>()
        .with_context(|| {
            format!("server.tls.cert_file: the extended key usage of the certificate in {file} cannot be read")
        })?;
    if let Some((_, ExtendedKeyUsage(purposes))) = usage {
        anyhow::ensure!(
            purposes.contains(&SERVER_AUTH),
            "server.tls.cert_file: the certificate in {file} is not for TLS servers (its extended \
             key usage lacks serverAuth); browsers refuse it"
        );
    }
    Ok(not_after)
}

/// Does the certificate name `host` (a DNS name, wildcards as browsers match them, or an IP
/// address)?
pub fn names(leaf: &CertificateDer<'_>, host: &Host<String>) -> bool {
    let name = match host {
        Host::Domain(domain) => match ServerName::try_from(domain.clone()) {
            Ok(name) => name,
            Err(_) => return false,
        },
        Host::Ipv4(ip) => ServerName::IpAddress(std::net::IpAddr::V4(*ip).into()),
        Host::Ipv6(ip) => ServerName::IpAddress(std::net::IpAddr::V6(*ip).into()),
    };
    rustls::server::ParsedCertificate::try_from(leaf)
        .and_then(|parsed| rustls::client::verify_server_name(&parsed, &name))
        .is_ok()
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}
