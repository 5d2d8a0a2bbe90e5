//! What the emulator's CAs say about their people's certificates, like a Ukrainian QTSP: an OCSP
//! responder and a full CRL per CA (`revocation_http.rs` serves them), revocations that scripts
//! make through `/emulator/revoke`, and the responder's faults (`/emulator/ocsp-fault`) for
//! testing how the gateway copes. In memory: a restart forgets revocations.

use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use kepgate_signature::ocsp::CertStatus;
use kepgate_signature::test_ca::{OcspOptions, RevokedCert, TestCa, TestCaError};

use super::identities::{KeyFamily, Keys, TestIdentity};

/// OCSP answers promise this long; CRLs are valid twice as long as they are reused.
const OCSP_VALIDITY: Duration = Duration::minutes(10);
const CRL_VALIDITY: Duration = Duration::hours(1);
const CRL_REUSE: Duration = Duration::minutes(30);

/// How the OCSP responders misbehave (both CAs').
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OcspFault {
    #[default]
    None,
    /// 503, as a responder under maintenance.
    Down,
    /// Waits `slowMs`, then answers normally.
    Slow,
    /// 200 with a body that is not an OCSP response.
    Garbage,
    /// Signed by a responder certificate the CA never issued.
    UnauthorizedSigner,
    /// nextUpdate a day in the past.
    Stale,
    /// The previous answer's bytes again (or, before any, one without the nonce).
    Replay,
    /// Every certificate `unknown`.
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OcspFaults {
    #[serde(default)]
    pub fault: OcspFault,
    /// Delay of `slow`, in milliseconds.
    #[serde(default = "default_slow_ms")]
    pub slow_ms: u64,
}

fn default_slow_ms() -> u64 {
    30_000
}

impl Default for OcspFaults {
    fn default() -> Self {
        OcspFaults {
            fault: OcspFault::None,
            slow_ms: default_slow_ms(),
        }
    }
}

/// One revoked certificate of a test person.
#[derive(Clone, Debug)]
pub(crate) struct Revocation {
    pub identity: TestIdentity,
    pub family: KeyFamily,
    pub serial: Vec<u8>,
    pub at: OffsetDateTime,
    /// CRLReason code.
    pub reason: Option<u8>,
}

/// What an OCSP request gets.
pub(crate) enum OcspReply {
    /// An `application/ocsp-response` body.
    Der(Vec<u8>),
    Down,
    Garbage,
}

struct Crl {
    this_update: OffsetDateTime,
    der: Vec<u8>,
}

/// Per CA.
#[derive(Default)]
struct Book {
    /// Cleared on every change of revocations, so the next CRL is new (and newly numbered).
    crl: Option<Crl>,
    last_answer: Option<Vec<u8>>,
    /// The foreign responder of `unauthorized-signer`, made on first use.
    rogue: Option<TestCa>,
}

#[derive(Default)]
struct Inner {
    revoked: Vec<Revocation>,
    faults: OcspFaults,
    last_crl_number: u64,
    books: [Book; 2],
}

impl Inner {
    fn book(&mut self, family: KeyFamily) -> &mut Book {
        &mut self.books[usize::from(family == KeyFamily::Dstu)]
    }

    fn status(&self, family: KeyFamily, serial: &[u8]) -> CertStatus {
        self.revoked
            .iter()
            .find(|r| r.family == family && r.serial == serial)
            .map_or(CertStatus::Good, |r| CertStatus::Revoked {
                at: r.at,
                reason: r.reason,
            })
    }
}

#[derive(Default)]
pub(crate) struct Revocations {
    inner: Mutex<Inner>,
}

impl Revocations {
    /// As `Shared::lock`: no await or panic inside, so a poisoned lock is taken over.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn faults(&self) -> OcspFaults {
        self.lock().faults
    }

    pub fn set_faults(&self, faults: OcspFaults) {
        self.lock().faults = faults;
    }

    pub fn list(&self) -> Vec<Revocation> {
        self.lock().revoked.clone()
    }

    /// Revokes `who`'s current certificate in each of `families` (again, with the new time and
    /// reason, if it already was).
    pub fn revoke(
        &self,
        keys: &Keys,
        who: TestIdentity,
        families: &[KeyFamily],
        reason: Option<u8>,
        now: OffsetDateTime,
    ) {
        let mut inner = self.lock();
        for &family in families {
            let serial = serial_of(keys, who, family);
            inner.revoked.retain(|r| r.serial != serial);
            inner.revoked.push(Revocation {
                identity: who,
                family,
                serial,
                at: now,
                reason,
            });
            inner.book(family).crl = None;
        }
    }

    /// Takes back revocations of `who` (everyone when None) in `families`.
    pub fn unrevoke(&self, who: Option<TestIdentity>, families: &[KeyFamily]) {
        let mut inner = self.lock();
        inner
            .revoked
            .retain(|r| !(families.contains(&r.family) && who.is_none_or(|w| w == r.identity)));
        for &family in families {
            inner.book(family).crl = None;
        }
    }

    /// The answer of `family`'s responder to `request` (DER), faults applied except `slow`,
    /// which the caller sleeps.
    pub fn ocsp(
        &self,
        keys: &Keys,
        family: KeyFamily,
        request: &[u8],
        now: OffsetDateTime,
    ) -> Result<OcspReply, TestCaError> {
        let mut inner = self.lock();
        let ca = keys.ca(family);
        let honest = OcspOptions::new(now, Some(now + OCSP_VALIDITY));
        let der = match inner.faults.fault {
            OcspFault::Down => return Ok(OcspReply::Down),
            OcspFault::Garbage => return Ok(OcspReply::Garbage),
            OcspFault::None | OcspFault::Slow => {
                let der = ca.ocsp_response_with(request, |s| inner.status(family, s), &honest);
                inner.book(family).last_answer = Some(der.clone());
                der
            }
            OcspFault::Unknown => ca.ocsp_response_with(request, |_| CertStatus::Unknown, &honest),
            OcspFault::Stale => {
                let old = OcspOptions::new(now - Duration::days(2), Some(now - Duration::days(1)));
                ca.ocsp_response_with(request, |s| inner.status(family, s), &old)
            }
            OcspFault::Replay => match inner.book(family).last_answer.clone() {
                Some(previous) => previous,
                None => {
                    let no_nonce = OcspOptions {
                        echo_nonce: false,
                        ..honest
                    };
                    ca.ocsp_response_with(request, |s| inner.status(family, s), &no_nonce)
                }
            },
            OcspFault::UnauthorizedSigner => {
                let rogue = match inner.book(family).rogue.clone() {
                    Some(r) => r,
                    None => {
                        let r = TestCa::generate_with("Сторонній OCSP-сервер", now, ca.key_kind())?;
                        inner.book(family).rogue = Some(r.clone());
                        r
                    }
                };
                let options = OcspOptions {
                    signed_by: Some(&rogue),
                    ..honest
                };
                ca.ocsp_response_with(request, |s| inner.status(family, s), &options)
            }
        };
        Ok(OcspReply::Der(der))
    }

    /// `family`'s current full CRL: reused until half its validity is over or revocations
    /// change, then a new one with a higher number.
    pub fn crl(
        &self,
        keys: &Keys,
        family: KeyFamily,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, TestCaError> {
        let mut inner = self.lock();
        if let Some(crl) = &inner.book(family).crl
            && now < crl.this_update + CRL_REUSE
            && now >= crl.this_update
        {
            return Ok(crl.der.clone());
        }
        // Above any number an earlier run (with its forgotten state) can have given.
        let number = (inner.last_crl_number + 1).max(now.unix_timestamp().unsigned_abs());
        inner.last_crl_number = number;
        let revoked: Vec<RevokedCert> = inner
            .revoked
            .iter()
            .filter(|r| r.family == family)
            .map(|r| RevokedCert {
                serial: r.serial.clone(),
                at: r.at,
                reason: r.reason,
            })
            .collect();
        let der = keys
            .ca(family)
            .crl(&revoked, number, now, now + CRL_VALIDITY)?;
        inner.book(family).crl = Some(Crl {
            this_update: now,
            der: der.clone(),
        });
        Ok(der)
    }
}

pub(crate) fn serial_of(keys: &Keys, who: TestIdentity, family: KeyFamily) -> Vec<u8> {
    keys.signer(who, family)
        .certificate()
        .tbs_certificate()
        .serial_number()
        .as_bytes()
        .to_vec()
}
