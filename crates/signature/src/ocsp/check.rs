//! The complete check of an OCSP answer (RFC 6960 §3.2, §4.2): a successful basic response,
//! signed by the issuing CA itself or by a responder certificate that CA issued for
//! id-kp-OCSPSigning and that is valid now; our nonce echoed; a SingleResponse for exactly our
//! CertID; thisUpdate not in the future and nextUpdate not in the past, each within `skew`.

use der::asn1::GeneralizedTime;
use der::{Decode, Encode};
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::ExtendedKeyUsage;

use super::asn1::{
    BASIC, BasicOcspResponse, OcspResponse, ResponseData, ResponseStatus, SingleResponse,
};
use super::query::{NONCE, OcspQuery, SHA1, cert_id, cert_id_digest};
use crate::algorithm::{cert_scheme, signature_octets, verify_with_key};
use crate::chain::{check_validity, verify_cert_signature};
use crate::oids;
use crate::parsed_cert::ParsedCert;

/// id-kp-OCSPSigning.
const KP_OCSP_SIGNING: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");

/// The certificate's status as its CA's responder states it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertStatus {
    Good,
    /// `reason` is the CRLReason code when the responder gave one (1 = key compromise, …).
    Revoked {
        at: OffsetDateTime,
        reason: Option<u8>,
    },
    Unknown,
}

/// A checked answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcspAnswer {
    pub status: CertStatus,
    pub this_update: OffsetDateTime,
    /// None: the responder promises nothing; callers cache such an answer only briefly.
    pub next_update: Option<OffsetDateTime>,
    pub produced_at: OffsetDateTime,
}

/// Why an answer cannot be used. Each is a reason the login history can name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcspError {
    #[error("the OCSP answer is malformed: {0}")]
    Malformed(String),
    #[error("the OCSP responder refused the request: {0}")]
    NotSuccessful(&'static str),
    #[error("the OCSP answer is signed by a certificate not entitled to sign it: {0}")]
    UnauthorizedResponder(String),
    #[error("the OCSP answer's signature is invalid: {0}")]
    BadSignature(String),
    #[error("the OCSP answer does not echo our nonce (a replayed or pre-produced answer)")]
    NonceMismatch,
    #[error("the OCSP answer is not about the certificate asked for")]
    WrongCertificate,
    #[error("the OCSP answer is stale: its nextUpdate {next_update} is past (now {now})")]
    Stale {
        next_update: OffsetDateTime,
        now: OffsetDateTime,
    },
    #[error("the OCSP answer is dated in the future: {at} (now {now})")]
    FromTheFuture {
        at: OffsetDateTime,
        now: OffsetDateTime,
    },
}

impl OcspError {
    /// Stable reason code for the login history and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            OcspError::Malformed(_) => "ocsp_malformed",
            OcspError::NotSuccessful(_) => "ocsp_refused",
            OcspError::UnauthorizedResponder(_) => "ocsp_unauthorized_responder",
            OcspError::BadSignature(_) => "ocsp_bad_signature",
            OcspError::NonceMismatch => "ocsp_nonce_mismatch",
            OcspError::WrongCertificate => "ocsp_wrong_certificate",
            OcspError::Stale { .. } => "ocsp_stale",
            OcspError::FromTheFuture { .. } => "ocsp_future",
        }
    }
}

fn malformed(e: impl std::fmt::Display) -> OcspError {
    OcspError::Malformed(e.to_string())
}

fn time(t: GeneralizedTime) -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + t.to_unix_duration()
}

impl OcspQuery {
    /// Checks `answer` (the DER body of the responder's reply) at `now`, allowing `skew` between
    /// the responder's clock and ours.
    pub fn check(
        &self,
        answer: &[u8],
        now: OffsetDateTime,
        skew: Duration,
    ) -> Result<OcspAnswer, OcspError> {
        let basic = basic_response(answer)?;
        let tbs_der = basic.tbs_response_data.to_der().map_err(malformed)?;
        let data = ResponseData::from_der(&tbs_der).map_err(malformed)?;
        let signer = self.responder(&basic, &data, now)?;
        let scheme = cert_scheme(&basic.signature_algorithm)
            .map_err(|e| OcspError::BadSignature(e.to_string()))?;
        let sig = signature_octets(scheme, &basic.signature)
            .map_err(|e| OcspError::BadSignature(e.to_string()))?;
        verify_with_key(
            signer.cert.tbs_certificate().subject_public_key_info(),
            scheme,
            &tbs_der,
            sig,
        )
        .map_err(|e| OcspError::BadSignature(e.to_string()))?;

        let echoed = data
            .response_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == NONCE)
            .map(|e| e.extn_value.as_bytes());
        if echoed != Some(self.nonce_value.as_slice()) {
            return Err(OcspError::NonceMismatch);
        }
        let single = self.our_response(&data.responses)?;
        let answer = OcspAnswer {
            status: cert_status(&single.cert_status)?,
            this_update: time(single.this_update),
            next_update: single.next_update.map(time),
            produced_at: time(data.produced_at),
        };
        for at in [answer.this_update, answer.produced_at] {
            if at > now + skew {
                return Err(OcspError::FromTheFuture { at, now });
            }
        }
        if let Some(next_update) = answer.next_update
            && next_update < now - skew
        {
            return Err(OcspError::Stale { next_update, now });
        }
        Ok(answer)
    }

    /// The certificate whose key must have signed the answer: the issuer itself, or a delegated
    /// responder certificate from the answer that the issuer issued for OCSP signing.
    fn responder(
        &self,
        basic: &BasicOcspResponse,
        data: &ResponseData,
        now: OffsetDateTime,
    ) -> Result<ParsedCert, OcspError> {
        let named = |c: &ParsedCert| responder_id_names(&data.responder_id, c);
        if named(&self.issuer) {
            return Ok(self.issuer.clone());
        }
        let unauthorized = |m: String| OcspError::UnauthorizedResponder(m);
        let mut reason =
            "the responder is neither the issuing CA nor a certificate in the answer".to_owned();
        for any in basic.certs.iter().flatten() {
            let der = any.to_der().map_err(malformed)?;
            let candidate = ParsedCert::parse(&der).map_err(malformed)?;
            if !named(&candidate) {
                continue;
            }
            if let Err(why) = delegated_responder(&candidate, &self.issuer, now) {
                reason = why;
                continue;
            }
            return Ok(candidate);
        }
        Err(unauthorized(reason))
    }

    /// The SingleResponse for our CertID, compared under the hash the responder chose.
    fn our_response<'a>(
        &self,
        responses: &'a [SingleResponse],
    ) -> Result<&'a SingleResponse, OcspError> {
        responses
            .iter()
            .find(|r| {
                cert_id(&r.cert_id.hash_algorithm.oid, &self.cert, &self.issuer).is_some_and(
                    |ours| {
                        ours.issuer_name_hash == r.cert_id.issuer_name_hash
                            && ours.issuer_key_hash == r.cert_id.issuer_key_hash
                            && ours.serial_number == r.cert_id.serial_number
                    },
                )
            })
            .ok_or(OcspError::WrongCertificate)
    }
}

/// Whether `candidate` may answer for `issuer`'s certificates (RFC 6960 §4.2.2.2): issued by
/// it, for id-kp-OCSPSigning, valid at `now`.
pub(crate) fn delegated_responder(
    candidate: &ParsedCert,
    issuer: &ParsedCert,
    now: OffsetDateTime,
) -> Result<(), String> {
    let subject = candidate.subject_string();
    if !issuer.could_issue(candidate) || verify_cert_signature(candidate, issuer).is_err() {
        return Err(format!(
            "\"{subject}\" was not issued by the certificate's CA"
        ));
    }
    let eku = candidate
        .cert
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .map_err(|e| format!("extendedKeyUsage of \"{subject}\": {e}"))?;
    if !eku.is_some_and(|(_, eku)| eku.0.contains(&KP_OCSP_SIGNING)) {
        return Err(format!("\"{subject}\" lacks id-kp-OCSPSigning"));
    }
    check_validity(candidate, now).map_err(|e| e.to_string())
}

/// The BasicOCSPResponse of a successful answer.
fn basic_response(answer: &[u8]) -> Result<BasicOcspResponse, OcspError> {
    let response = OcspResponse::from_der(answer).map_err(malformed)?;
    let refused = match response.response_status {
        ResponseStatus::Successful => None,
        ResponseStatus::MalformedRequest => Some("malformedRequest"),
        ResponseStatus::InternalError => Some("internalError"),
        ResponseStatus::TryLater => Some("tryLater"),
        ResponseStatus::SigRequired => Some("sigRequired"),
        ResponseStatus::Unauthorized => Some("unauthorized"),
    };
    if let Some(status) = refused {
        return Err(OcspError::NotSuccessful(status));
    }
    let bytes = response
        .response_bytes
        .ok_or_else(|| malformed("a successful answer without responseBytes"))?;
    if bytes.response_type != BASIC {
        return Err(malformed(format!(
            "response type {} is not id-pkix-ocsp-basic",
            bytes.response_type
        )));
    }
    BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(malformed)
}

/// Whether ResponderID (byName [1] or byKey [2]) designates `cert`. byKey is the SHA-1 of the
/// key's BIT STRING contents (RFC 6960 §4.2.1); Ukrainian responders with DSTU keys may use
/// GOST 34.311 instead, which is accepted too.
fn responder_id_names(responder_id: &der::Any, cert: &ParsedCert) -> bool {
    let Ok(der) = responder_id.to_der() else {
        return false;
    };
    let Some(outer) = crate::tlv::single(&der) else {
        return false;
    };
    match outer.tag {
        0xa1 => outer.value == cert.subject_der.as_slice(),
        0xa2 => {
            let Some(hash) = crate::tlv::single(outer.value).filter(|t| t.tag == 0x04) else {
                return false;
            };
            let key = cert
                .cert
                .tbs_certificate()
                .subject_public_key_info()
                .subject_public_key
                .raw_bytes();
            [SHA1, oids::GOST34311]
                .iter()
                .any(|h| cert_id_digest(h, key).as_deref() == Some(hash.value))
        }
        _ => false,
    }
}

/// certStatus: good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2].
fn cert_status(status: &der::Any) -> Result<CertStatus, OcspError> {
    let der = status.to_der().map_err(malformed)?;
    let t = crate::tlv::single(&der).ok_or_else(|| malformed("certStatus"))?;
    match t.tag {
        0x80 => Ok(CertStatus::Good),
        0x82 => Ok(CertStatus::Unknown),
        0xa1 => {
            // RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime,
            //                            revocationReason [0] EXPLICIT CRLReason OPTIONAL }
            let kids = crate::tlv::children(t.value).ok_or_else(|| malformed("RevokedInfo"))?;
            let at = kids
                .first()
                .and_then(|k| GeneralizedTime::from_der(k.raw).ok())
                .ok_or_else(|| malformed("revocationTime"))?;
            let reason = match kids.get(1) {
                Some(r) if r.tag == 0xa0 => crate::tlv::single(r.value)
                    .filter(|e| e.tag == 0x0a && e.value.len() == 1)
                    .map(|e| e.value[0]),
                _ => None,
            };
            Ok(CertStatus::Revoked {
                at: time(at),
                reason,
            })
        }
        other => Err(malformed(format!("certStatus tag 0x{other:02x}"))),
    }
}
