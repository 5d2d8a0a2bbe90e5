//! What the signature targets verify against: the fixed test CA the seeds were signed under
//! (so seeds verify completely and mutations start deep in the chain and identity code), plus
//! the national CA bundle when it is on this machine (its 638 real certificates are what chain
//! building searches in production). `now` is fixed so the seeds never expire.

use std::sync::OnceLock;

use kepgate::signature::TrustList;
use time::OffsetDateTime;

pub struct Fixture {
    pub trust: TrustList,
    pub now: OffsetDateTime,
}

pub fn get() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (mut trust, _) = TrustList::from_pem(include_bytes!("../seeds/trust-ca.pem"))
            .expect("the seeds' CA loads");
        let national = std::env::var("KEPGATE_UA_TRUST").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../tests/fixtures/ua-trust/CACertificates.p7b"
            )
            .to_owned()
        });
        if let Ok(bytes) = std::fs::read(&national) {
            let (list, _) = TrustList::from_bytes(&bytes).expect("the national bundle loads");
            trust.merge(list);
        }
        let now: i64 = include_str!("../seeds/now.txt")
            .trim()
            .parse()
            .expect("seeds/now.txt holds a unix time");
        Fixture {
            trust,
            now: OffsetDateTime::from_unix_timestamp(now).expect("a valid time"),
        }
    })
}
