//! The test CA's OCSP responder (RFC 6960): reads a request as OpenSSL or [`crate::ocsp`] sends
//! it and answers a BasicOCSPResponse signed by the CA key itself (responderID byName), one
//! SingleResponse per CertID asked with that same CertID, and the nonce echoed — what a
//! Ukrainian QTSP's responder does. The faults a test wants (a foreign signer, no nonce, a stale
//! answer) are [`OcspOptions`].

use der::asn1::{GeneralizedTime, OctetString};
use der::{Any, Decode, Encode, Sequence};
use time::OffsetDateTime;
use x509_cert::ext::Extension;

use super::ca::TestCa;
use super::error::TestCaError;
use crate::ocsp::asn1::{
    BASIC, BasicOcspResponse, CertId, OcspResponse, Request, ResponseBytes, ResponseData,
    ResponseStatus, SingleResponse,
};
use crate::ocsp::{CertStatus, NONCE, cert_id_digest};
use crate::tlv::encode as tlv;

/// TBSRequest with everything a client may send (ocsp::asn1's leaves out what kepgate never
/// sends: a version, a requestor name, a signature).
#[derive(Sequence)]
struct TbsRequestIn {
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    version: Option<u8>,
    #[asn1(context_specific = "1", optional = "true", tag_mode = "EXPLICIT")]
    requestor_name: Option<Any>,
    request_list: Vec<Request>,
    #[asn1(context_specific = "2", optional = "true", tag_mode = "EXPLICIT")]
    request_extensions: Option<Vec<Extension>>,
}

#[derive(Sequence)]
struct OcspRequestIn {
    tbs_request: TbsRequestIn,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    optional_signature: Option<Any>,
}

/// How [`TestCa::ocsp_response_with`] answers; [`TestCa::ocsp_response`] is the honest answer.
#[derive(Clone, Copy, Debug)]
pub struct OcspOptions<'a> {
    /// thisUpdate and producedAt.
    pub now: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    /// Signs as this other CA instead (responderID its name, its certificate in `certs`): the
    /// CA's delegated responder ([`TestCa::issue_ocsp_responder`]), or one it never certified.
    pub signed_by: Option<&'a TestCa>,
    /// false leaves the request's nonce out, as a pre-produced or replayed answer would.
    pub echo_nonce: bool,
}

impl<'a> OcspOptions<'a> {
    pub fn new(now: OffsetDateTime, next_update: Option<OffsetDateTime>) -> Self {
        OcspOptions {
            now,
            next_update,
            signed_by: None,
            echo_nonce: true,
        }
    }
}

/// DER of an OCSPResponse that is not `successful` (no responseBytes).
pub fn ocsp_error_response(status: OcspResponseStatus) -> Vec<u8> {
    vec![0x30, 0x03, 0x0a, 0x01, status as u8]
}

/// The refusals an OCSP responder can answer instead of a response (RFC 6960 §4.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum OcspResponseStatus {
    MalformedRequest = 1,
    InternalError = 2,
    TryLater = 3,
    SigRequired = 5,
    Unauthorized = 6,
}

fn generalized(t: OffsetDateTime) -> Result<GeneralizedTime, TestCaError> {
    let secs = u64::try_from(t.unix_timestamp()).map_err(|e| TestCaError::Time(e.to_string()))?;
    Ok(GeneralizedTime::from_unix_duration(
        std::time::Duration::from_secs(secs),
    )?)
}

/// certStatus: good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2].
fn cert_status(status: &CertStatus) -> Result<Any, TestCaError> {
    let der = match status {
        CertStatus::Good => vec![0x80, 0x00],
        CertStatus::Unknown => vec![0x82, 0x00],
        CertStatus::Revoked { at, reason } => {
            let mut info = generalized(*at)?.to_der()?;
            if let Some(code) = reason {
                info.extend(tlv(0xa0, &[0x0a, 0x01, *code]));
            }
            tlv(0xa1, &info)
        }
    };
    Ok(Any::from_der(&der)?)
}

impl TestCa {
    /// The honest answer to `request_der`: `status_of(serial)` for each certificate of this CA
    /// asked about (serial as big-endian octets, as [`crate::ocsp::OcspQuery::serial`]),
    /// `unknown` for others, thisUpdate `now`. A request that cannot be read gets
    /// `malformedRequest`.
    pub fn ocsp_response(
        &self,
        request_der: &[u8],
        status_of: impl Fn(&[u8]) -> CertStatus,
        now: OffsetDateTime,
        next_update: Option<OffsetDateTime>,
    ) -> Vec<u8> {
        self.ocsp_response_with(request_der, status_of, &OcspOptions::new(now, next_update))
    }

    /// As [`Self::ocsp_response`], answered as `options` say.
    pub fn ocsp_response_with(
        &self,
        request_der: &[u8],
        status_of: impl Fn(&[u8]) -> CertStatus,
        options: &OcspOptions<'_>,
    ) -> Vec<u8> {
        let Ok(request) = OcspRequestIn::from_der(request_der) else {
            return ocsp_error_response(OcspResponseStatus::MalformedRequest);
        };
        if request.tbs_request.request_list.is_empty() {
            return ocsp_error_response(OcspResponseStatus::MalformedRequest);
        }
        self.answer(&request.tbs_request, &status_of, options)
            .unwrap_or_else(|_| ocsp_error_response(OcspResponseStatus::InternalError))
    }

    /// Whether `id` names a certificate of this CA (its name and key hashed as the client did).
    fn issued_here(&self, id: &CertId) -> bool {
        let digest = |data: &[u8]| cert_id_digest(&id.hash_algorithm.oid, data);
        let tbs = self.cert.tbs_certificate();
        let (Ok(name), key) = (
            tbs.subject().to_der(),
            tbs.subject_public_key_info().subject_public_key.raw_bytes(),
        ) else {
            return false;
        };
        digest(&name).as_deref() == Some(id.issuer_name_hash.as_bytes())
            && digest(key).as_deref() == Some(id.issuer_key_hash.as_bytes())
    }

    fn answer(
        &self,
        tbs: &TbsRequestIn,
        status_of: &dyn Fn(&[u8]) -> CertStatus,
        options: &OcspOptions<'_>,
    ) -> Result<Vec<u8>, TestCaError> {
        let signer = options.signed_by.unwrap_or(self);
        let mut responses = Vec::with_capacity(tbs.request_list.len());
        for request in &tbs.request_list {
            let id = &request.req_cert;
            let status = if self.issued_here(id) {
                status_of(id.serial_number.as_bytes())
            } else {
                CertStatus::Unknown
            };
            responses.push(SingleResponse {
                cert_id: id.clone(),
                cert_status: cert_status(&status)?,
                this_update: generalized(options.now)?,
                next_update: options.next_update.map(generalized).transpose()?,
                single_extensions: None,
            });
        }
        let nonce: Vec<Extension> = tbs
            .request_extensions
            .iter()
            .flatten()
            .filter(|e| e.extn_id == NONCE && options.echo_nonce)
            .cloned()
            .collect();
        let name = signer.cert.tbs_certificate().subject().to_der()?;
        let data = ResponseData {
            version: None,
            responder_id: Any::from_der(&tlv(0xa1, &name))?,
            produced_at: generalized(options.now)?,
            responses,
            response_extensions: (!nonce.is_empty()).then_some(nonce),
        };
        let tbs_der = data.to_der()?;
        let basic = BasicOcspResponse {
            tbs_response_data: Any::from_der(&tbs_der)?,
            signature_algorithm: signer.key.signature_algorithm(),
            signature: signer.key.sign_certificate(&tbs_der)?,
            certs: options
                .signed_by
                .map(|s| Any::from_der(s.cert_der()).map(|c| vec![c]))
                .transpose()?,
        };
        Ok(OcspResponse {
            response_status: ResponseStatus::Successful,
            response_bytes: Some(ResponseBytes {
                response_type: BASIC,
                response: OctetString::new(basic.to_der()?)?,
            }),
        }
        .to_der()?)
    }
}
