//! Object identifiers used across the crate (and by the test CA, which builds what is read here).

use const_oid::ObjectIdentifier as Oid;

pub const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
pub const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
pub const ATTR_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
pub const ATTR_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
pub const ATTR_SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
pub const ATTR_SIGNING_CERT_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");

pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
pub const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
pub const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
pub const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");

pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub const RSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
pub const SHA256_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
pub const SHA384_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
pub const SHA512_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");

/// GOST 34.311-95, the hash DSTU 4145 signatures are made with.
pub const GOST34311: Oid = Oid::new_unwrap("1.2.804.2.1.1.1.1.2.1");
/// DSTU 4145-2002 (little-endian key encoding), "dstu4145WithGost34311".
pub const DSTU4145_LE: Oid = Oid::new_unwrap("1.2.804.2.1.1.1.1.3.1.1");
/// DSTU 4145-2002, big-endian key encoding ("dstu4145be" = dstu4145le.1.1).
pub const DSTU4145_BE: Oid = Oid::new_unwrap("1.2.804.2.1.1.1.1.3.1.1.1.1");

/// subjectDirectoryAttributes attribute holding the РНОКПП (DRFO code).
pub const UA_DRFO: Oid = Oid::new_unwrap("1.2.804.2.1.1.1.11.1.4.1.1");
/// subjectDirectoryAttributes attribute holding the ЄДРПОУ code.
pub const UA_EDRPOU: Oid = Oid::new_unwrap("1.2.804.2.1.1.1.11.1.4.2.1");

pub const AT_CN: Oid = Oid::new_unwrap("2.5.4.3");
pub const AT_SURNAME: Oid = Oid::new_unwrap("2.5.4.4");
pub const AT_SERIAL_NUMBER: Oid = Oid::new_unwrap("2.5.4.5");
pub const AT_COUNTRY: Oid = Oid::new_unwrap("2.5.4.6");
pub const AT_LOCALITY: Oid = Oid::new_unwrap("2.5.4.7");
pub const AT_STATE: Oid = Oid::new_unwrap("2.5.4.8");
pub const AT_STREET: Oid = Oid::new_unwrap("2.5.4.9");
pub const AT_ORG: Oid = Oid::new_unwrap("2.5.4.10");
pub const AT_ORG_UNIT: Oid = Oid::new_unwrap("2.5.4.11");
pub const AT_TITLE: Oid = Oid::new_unwrap("2.5.4.12");
pub const AT_GIVEN_NAME: Oid = Oid::new_unwrap("2.5.4.42");
pub const AT_ORG_IDENTIFIER: Oid = Oid::new_unwrap("2.5.4.97");
pub const AT_EMAIL: Oid = Oid::new_unwrap("1.2.840.113549.1.9.1");
pub const AT_DC: Oid = Oid::new_unwrap("0.9.2342.19200300.100.1.25");
pub const AT_UID: Oid = Oid::new_unwrap("0.9.2342.19200300.100.1.1");

pub const EXT_SUBJECT_DIRECTORY_ATTRIBUTES: Oid = Oid::new_unwrap("2.5.29.9");
pub const EXT_SUBJECT_KEY_ID: Oid = Oid::new_unwrap("2.5.29.14");
pub const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
pub const EXT_BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
pub const EXT_AUTHORITY_KEY_ID: Oid = Oid::new_unwrap("2.5.29.35");
pub const EXT_QC_STATEMENTS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.3");
pub const QCS_COMPLIANCE: Oid = Oid::new_unwrap("0.4.0.1862.1.1");
