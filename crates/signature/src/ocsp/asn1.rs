//! The ASN.1 of RFC 6960 §4.1.1 and §4.2.1, as far as a client sends and reads it. Fields whose
//! bytes are signed or compared (tbsResponseData, certStatus, responderID) are kept as `Any`, so
//! the check sees them exactly as received.

use der::asn1::{BitString, GeneralizedTime, OctetString};
use der::{Any, Enumerated, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extension;
use x509_cert::serial_number::SerialNumber;

/// id-pkix-ocsp-basic: the one response type there is.
pub(crate) const BASIC: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct CertId {
    pub hash_algorithm: AlgorithmIdentifierOwned,
    pub issuer_name_hash: OctetString,
    pub issuer_key_hash: OctetString,
    pub serial_number: SerialNumber,
}

#[derive(Clone, Debug, Sequence)]
pub(crate) struct Request {
    pub req_cert: CertId,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    pub single_request_extensions: Option<Vec<Extension>>,
}

#[derive(Clone, Debug, Sequence)]
pub(crate) struct TbsRequest {
    // version [0] DEFAULT v1 and requestorName [1] are left out: DER omits the default, and
    // an unsigned request names no requestor.
    pub request_list: Vec<Request>,
    #[asn1(context_specific = "2", optional = "true", tag_mode = "EXPLICIT")]
    pub request_extensions: Option<Vec<Extension>>,
}

#[derive(Clone, Debug, Sequence)]
pub(crate) struct OcspRequest {
    pub tbs_request: TbsRequest,
}

#[derive(Enumerated, Copy, Clone, Debug, Eq, PartialEq)]
#[repr(u32)]
pub(crate) enum ResponseStatus {
    Successful = 0,
    MalformedRequest = 1,
    InternalError = 2,
    TryLater = 3,
    SigRequired = 5,
    Unauthorized = 6,
}

#[derive(Clone, Debug, Sequence)]
pub(crate) struct OcspResponse {
    pub response_status: ResponseStatus,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    pub response_bytes: Option<ResponseBytes>,
}

#[derive(Clone, Debug, Sequence)]
pub(crate) struct ResponseBytes {
    pub response_type: const_oid::ObjectIdentifier,
    pub response: OctetString,
}

#[derive(Clone, Debug, Sequence)]
pub(crate) struct BasicOcspResponse {
    pub tbs_response_data: Any,
    pub signature_algorithm: AlgorithmIdentifierOwned,
    pub signature: BitString,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    pub certs: Option<Vec<Any>>,
}

#[derive(Clone, Debug, Sequence)]
pub(crate) struct ResponseData {
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    pub version: Option<u8>,
    /// CHOICE byName [1] Name, byKey [2] KeyHash.
    pub responder_id: Any,
    pub produced_at: GeneralizedTime,
    pub responses: Vec<SingleResponse>,
    #[asn1(context_specific = "1", optional = "true", tag_mode = "EXPLICIT")]
    pub response_extensions: Option<Vec<Extension>>,
}

#[derive(Clone, Debug, Sequence)]
pub(crate) struct SingleResponse {
    pub cert_id: CertId,
    /// CHOICE good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL.
    pub cert_status: Any,
    pub this_update: GeneralizedTime,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    pub next_update: Option<GeneralizedTime>,
    #[asn1(context_specific = "1", optional = "true", tag_mode = "EXPLICIT")]
    pub single_extensions: Option<Vec<Extension>>,
}
