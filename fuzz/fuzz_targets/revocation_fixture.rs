//! What the revocation targets check against (`fuzz/seeds/revocation/`): three fixed CAs, in the
//! order an input's first byte selects them — the test CA with ECDSA, the test CA with DSTU 4145,
//! an OpenSSL CA — each with the certificate the fixed OCSP query asks about and another one it
//! issued; the fixed nonce; and the fixed time the seeds are current at, so they pass the check
//! completely and mutations start past the signature.

use std::sync::OnceLock;

use kepgate::fuzzing::OcspFixture;
use time::{Duration, OffsetDateTime};

pub struct Fixture {
    // Each target reads its half: the OCSP questions or the CA certificates.
    #[allow(dead_code)]
    pub ocsp: Vec<OcspFixture>,
    #[allow(dead_code)]
    pub issuers: Vec<&'static [u8]>,
    pub now: OffsetDateTime,
    /// The gateway's default trust.revocation_skew.
    pub skew: Duration,
}

macro_rules! fixed {
    ($name:literal) => {
        include_bytes!(concat!("../seeds/revocation/", $name)).as_slice()
    };
}

/// (CA, the certificate asked about, another one), in selection order.
const CAS: [(&[u8], &[u8], &[u8]); 3] = [
    (
        fixed!("ecdsa-ca.der"),
        fixed!("ecdsa-leaf.der"),
        fixed!("ecdsa-other.der"),
    ),
    (
        fixed!("dstu-ca.der"),
        fixed!("dstu-leaf.der"),
        fixed!("dstu-other.der"),
    ),
    (
        fixed!("openssl-ca.der"),
        fixed!("openssl-leaf.der"),
        fixed!("openssl-other.der"),
    ),
];

pub fn get() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let nonce = fixed!("nonce.txt");
        let ocsp = CAS
            .iter()
            .map(|(ca, leaf, other)| {
                OcspFixture::new(leaf, other, ca, nonce).expect("the fixed OCSP query builds")
            })
            .collect();
        let now: i64 = include_str!("../seeds/revocation/now.txt")
            .trim()
            .parse()
            .expect("seeds/revocation/now.txt holds a unix time");
        Fixture {
            ocsp,
            issuers: CAS.iter().map(|(ca, _, _)| *ca).collect(),
            now: OffsetDateTime::from_unix_timestamp(now).expect("a valid time"),
            skew: Duration::minutes(5),
        }
    })
}
