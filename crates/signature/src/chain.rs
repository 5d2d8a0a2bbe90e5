//! Certificate path building: from the signer's certificate through the certificates in the CMS
//! to a trust anchor, checking validity, CA constraints and every signature on the way.

use std::collections::HashSet;

use time::OffsetDateTime;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};

use crate::algorithm::{cert_scheme, signature_octets, verify_with_key};
use crate::error::{VerifyError, malformed};
use crate::names::name_to_string;
use crate::parsed_cert::ParsedCert;
use crate::trust_list::TrustList;

/// Longest accepted path: signer + intermediates + trust anchor.
const MAX_CHAIN_LEN: usize = 6;
/// Certificate signature checks allowed per chain search: attacker-supplied intermediates
/// with equal names could otherwise make the depth-first search exponential.
const MAX_CHAIN_SIGNATURE_CHECKS: usize = 32;

pub(crate) fn check_validity(c: &ParsedCert, at: OffsetDateTime) -> Result<(), VerifyError> {
    if at < c.not_before() {
        return Err(VerifyError::CertNotYetValid {
            subject: c.subject_string(),
            not_before: c.not_before(),
            at,
        });
    }
    if at > c.not_after() {
        return Err(VerifyError::CertExpired {
            subject: c.subject_string(),
            not_after: c.not_after(),
            at,
        });
    }
    Ok(())
}

pub(crate) fn key_usage(c: &ParsedCert) -> Result<Option<KeyUsage>, VerifyError> {
    c.cert
        .tbs_certificate()
        .get_extension::<KeyUsage>()
        .map(|o| o.map(|(_, ku)| ku))
        .map_err(|e| malformed(format!("keyUsage of {}: {e}", c.subject_string())))
}

/// `issuer` may issue certificates with `below` CA certificates under it (pathLen).
fn check_ca(issuer: &ParsedCert, below: usize) -> Result<(), VerifyError> {
    let wrong = |reason: &str| VerifyError::WrongKeyUsage {
        subject: issuer.subject_string(),
        reason: reason.into(),
    };
    let bc = issuer
        .cert
        .tbs_certificate()
        .get_extension::<BasicConstraints>()
        .map_err(|e| malformed(format!("basicConstraints: {e}")))?
        .map(|(_, bc)| bc);
    match bc {
        Some(bc) if bc.ca => {
            if let Some(len) = bc.path_len_constraint
                && below > usize::from(len)
            {
                return Err(wrong("path length constraint exceeded"));
            }
        }
        _ => {
            return Err(wrong(
                "issuer is not a CA (basicConstraints cA is not true)",
            ));
        }
    }
    if let Some(ku) = key_usage(issuer)?
        && !ku.0.contains(KeyUsages::KeyCertSign)
    {
        return Err(wrong("issuer key usage lacks keyCertSign"));
    }
    Ok(())
}

pub(crate) fn verify_cert_signature(
    child: &ParsedCert,
    issuer: &ParsedCert,
) -> Result<(), VerifyError> {
    let scheme = cert_scheme(child.cert.signature_algorithm())?;
    let sig = signature_octets(scheme, child.cert.signature())?;
    verify_with_key(
        issuer.cert.tbs_certificate().subject_public_key_info(),
        scheme,
        child.tbs_bytes(),
        sig,
    )
    .map(|_| ())
}

/// Ranks errors so the most specific reason for a failed path is reported.
fn rank(e: &VerifyError) -> u8 {
    match e {
        VerifyError::CertExpired { .. }
        | VerifyError::CertNotYetValid { .. }
        | VerifyError::WrongKeyUsage { .. } => 3,
        VerifyError::UnsupportedAlgorithm { .. } => 2,
        VerifyError::Malformed(_) => 1,
        _ => 0,
    }
}

struct ChainCtx<'a> {
    trust: &'a TrustList,
    intermediates: &'a [ParsedCert],
    at: OffsetDateTime,
    budget: std::cell::Cell<usize>,
}

impl ChainCtx<'_> {
    fn verify_issued(&self, child: &ParsedCert, issuer: &ParsedCert) -> Result<(), VerifyError> {
        let left = self.budget.get();
        if left == 0 {
            return Err(VerifyError::UntrustedChain(
                "too many candidate certificates to examine".into(),
            ));
        }
        self.budget.set(left - 1);
        // The same person's certificate signs in again and again: its signature is checked once
        // (validity, CA constraints and the anchors are checked every time, by the caller).
        let remembered = &self.trust.verified_issuances;
        if remembered.contains(child, issuer) {
            return Ok(());
        }
        verify_cert_signature(child, issuer)?;
        remembered.remember(child, issuer);
        Ok(())
    }
}

/// Depth-first search for a path from `cur` to a trust anchor. `depth` = certs already below
/// `cur` that are CAs (0 when `cur` is the signer). Returns the path above `cur`: its issuer
/// first, the trust anchor last (DER).
fn extend_chain(
    ctx: &ChainCtx<'_>,
    cur: &ParsedCert,
    depth: usize,
    visited: &mut HashSet<Vec<u8>>,
) -> Result<Vec<Vec<u8>>, VerifyError> {
    if depth + 2 > MAX_CHAIN_LEN {
        return Err(VerifyError::UntrustedChain(format!(
            "no trust anchor within {MAX_CHAIN_LEN} certificates"
        )));
    }
    let mut best: Option<VerifyError> = None;
    let note = |e: VerifyError, best: &mut Option<VerifyError>| {
        if best.as_ref().is_none_or(|b| rank(&e) > rank(b)) {
            *best = Some(e);
        }
    };
    // Trust anchors first: the shortest path wins, and a CA copy inside the CMS is not needed.
    for anchor in ctx.trust.issuer_candidates(cur) {
        let r = ctx
            .verify_issued(cur, anchor)
            .and_then(|()| check_ca(anchor, depth))
            .and_then(|()| check_validity(anchor, ctx.at));
        match r {
            Ok(()) => return Ok(vec![anchor.der.clone()]),
            Err(e) => note(e, &mut best),
        }
    }
    for inter in ctx.intermediates.iter().filter(|i| i.could_issue(cur)) {
        if !visited.insert(inter.der.clone()) {
            continue;
        }
        let r = ctx
            .verify_issued(cur, inter)
            .and_then(|()| check_ca(inter, depth))
            .and_then(|()| check_validity(inter, ctx.at))
            .and_then(|()| extend_chain(ctx, inter, depth + 1, visited));
        visited.remove(&inter.der);
        match r {
            Ok(mut above) => {
                above.insert(0, inter.der.clone());
                return Ok(above);
            }
            Err(e) => note(e, &mut best),
        }
    }
    Err(match best {
        Some(e) if rank(&e) > 0 => e,
        _ => VerifyError::UntrustedChain(format!(
            "no trusted issuer found that signed \"{}\" (issuer \"{}\")",
            cur.subject_string(),
            name_to_string(cur.cert.tbs_certificate().issuer())
        )),
    })
}

/// Finds a path from `signer` to a trust anchor, with the other certificates of the CMS as
/// possible intermediates, everything checked at `at`. Returns the certificates above the
/// signer, its issuer first and the trust anchor last (DER).
pub(crate) fn chain_to_trust_anchor(
    signer: &ParsedCert,
    certs: &[ParsedCert],
    trust: &TrustList,
    at: OffsetDateTime,
) -> Result<Vec<Vec<u8>>, VerifyError> {
    let intermediates: Vec<ParsedCert> = certs
        .iter()
        .filter(|c| c.der != signer.der)
        .cloned()
        .collect();
    let ctx = ChainCtx {
        trust,
        intermediates: &intermediates,
        at,
        budget: std::cell::Cell::new(MAX_CHAIN_SIGNATURE_CHECKS),
    };
    let mut visited = HashSet::from([signer.der.clone()]);
    extend_chain(&ctx, signer, 0, &mut visited)
}
