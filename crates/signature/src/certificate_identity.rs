//! Reads the signer's identity out of a Ukrainian qualified certificate.

use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectDirectoryAttributes;
use x509_cert::name::Name;

use crate::identity::{Edrpou, Rnokpp, SignerIdentity, UnusableName};
use crate::names::{directory_string, hex_upper, name_to_string};
use crate::oids;
use crate::parsed_cert::x509_time;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityExtractError {
    #[error("certificate subject has neither a common name nor surname/given name")]
    MissingName,
    /// A name, organisation, title or the issuer's name that cannot be shown as it is.
    #[error("certificate subject: {0}")]
    UnusableName(#[from] UnusableName),
}

fn first_attr(name: &Name, oid: const_oid::ObjectIdentifier) -> Option<String> {
    name.iter()
        .find(|atv| atv.oid == oid)
        .and_then(|atv| directory_string(&atv.value))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The CN of the certificate's issuer: what the national CA list (`CAs.json`) finds a CA's OCSP
/// responder by, for a certificate (a person's or a sub-CA's) that names none.
pub fn issuer_common_name(cert_der: &[u8]) -> Result<Option<String>, String> {
    let cert = crate::parsed_cert::ParsedCert::parse(cert_der)?;
    Ok(first_attr(
        cert.cert.tbs_certificate().issuer(),
        oids::AT_CN,
    ))
}

/// SHA-256 of the certificate's public key (its subjectPublicKey bits, as an OCSP CertID's
/// issuerKeyHash takes them), lowercase hex: how kepgate tells a CA from another of its name.
pub fn key_sha256_hex(cert_der: &[u8]) -> Result<String, String> {
    use sha2::Digest;
    let cert = crate::parsed_cert::ParsedCert::parse(cert_der)?;
    let spki = cert.cert.tbs_certificate().subject_public_key_info();
    let digest = sha2::Sha256::digest(spki.subject_public_key.raw_bytes());
    Ok(hex_upper(&digest).to_ascii_lowercase())
}

/// Extracts who the certificate was issued to.
///
/// Returns the identity plus human-readable warnings. A РНОКПП/ЄДРПОУ whose check digit is
/// wrong is *not* fatal: the field is left `None` and a warning says why, because the
/// certificate itself was verified and the caller may still want the name (e.g. to log it);
/// login code that needs the number must treat `None` as "no identity number".
pub fn identity_from_certificate(
    cert: &Certificate,
) -> Result<(SignerIdentity, Vec<String>), IdentityExtractError> {
    let tbs = cert.tbs_certificate();
    let subject = tbs.subject();
    let mut warnings = Vec::new();

    let surname = first_attr(subject, oids::AT_SURNAME);
    let given_name = first_attr(subject, oids::AT_GIVEN_NAME);
    let full_name = match first_attr(subject, oids::AT_CN) {
        Some(cn) => cn,
        None => match (&surname, &given_name) {
            (Some(s), Some(g)) => format!("{s} {g}"),
            (Some(s), None) => s.clone(),
            (None, Some(g)) => g.clone(),
            (None, None) => return Err(IdentityExtractError::MissingName),
        },
    };

    // Directory attributes first (authoritative in UA qualified certs), subject DN as fallback.
    let dir_attrs: Vec<(const_oid::ObjectIdentifier, String)> = tbs
        .get_extension::<SubjectDirectoryAttributes>()
        .ok()
        .flatten()
        .map(|(_, sda)| {
            sda.0
                .iter()
                .filter_map(|a| {
                    let v = a.values.iter().next().and_then(directory_string)?;
                    Some((a.oid, v.trim().to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    let dir = |oid| {
        dir_attrs
            .iter()
            .find(|(o, _)| *o == oid)
            .map(|(_, v)| v.clone())
    };

    let serial_attr = first_attr(subject, oids::AT_SERIAL_NUMBER);
    let rnokpp_raw = dir(oids::UA_DRFO).or_else(|| {
        serial_attr
            .as_deref()
            .and_then(|s| s.strip_prefix("TINUA-"))
            .map(str::to_owned)
    });
    let rnokpp = rnokpp_raw.and_then(|raw| match Rnokpp::parse(&raw) {
        Ok(r) => Some(r),
        Err(e) => {
            warnings.push(format!("ignoring РНОКПП from certificate: {e}"));
            None
        }
    });

    // CA certificates carry their code as serialNumber "UA-<ЄДРПОУ>-<n>"; last fallback.
    let edrpou_raw = dir(oids::UA_EDRPOU)
        .or_else(|| {
            first_attr(subject, oids::AT_ORG_IDENTIFIER)
                .and_then(|s| s.strip_prefix("NTRUA-").map(str::to_owned))
        })
        .or_else(|| {
            serial_attr
                .as_deref()
                .and_then(|s| s.strip_prefix("UA-"))
                .and_then(|s| s.split('-').next())
                .filter(|s| s.len() == 8)
                .map(str::to_owned)
        });
    let edrpou = edrpou_raw.and_then(|raw| match Edrpou::parse(&raw) {
        Ok(e) => Some(e),
        Err(e) => {
            warnings.push(format!("ignoring ЄДРПОУ from certificate: {e}"));
            None
        }
    });

    let issuer = tbs.issuer();
    let identity = SignerIdentity {
        full_name,
        surname,
        given_name,
        rnokpp,
        edrpou,
        organization: first_attr(subject, oids::AT_ORG),
        title: first_attr(subject, oids::AT_TITLE),
        cert_serial_hex: hex_upper(tbs.serial_number().as_bytes()),
        issuer: name_to_string(issuer),
        issuer_cn: first_attr(issuer, oids::AT_CN),
        // Known once the path is built (`verify`).
        issuer_key_sha256: None,
        not_before: Some(x509_time(tbs.validity().not_before)),
        not_after: Some(x509_time(tbs.validity().not_after)),
    };
    Ok((identity.parse_text()?, warnings))
}
