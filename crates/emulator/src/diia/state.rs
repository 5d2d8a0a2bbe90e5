//! The emulator's in-memory state: session tokens, branches, offers and the requests phones
//! answer (logins and document signings).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::error::EmulatorError;
use super::identities::{Keys, TestIdentity};
use super::settings::{EmulatorSettings, Registered};
use super::wire::{ACTION_AUTH, ACTION_HASHED_FILES_SIGNING, BranchRequest, OfferRequest, Scopes};

/// Everything the handlers share.
pub(crate) struct Shared {
    pub settings: EmulatorSettings,
    pub keys: Keys,
    pub ca_pem: String,
    /// For callbacks: no redirects (a partner answering 3xx is an error worth seeing).
    pub http: reqwest::Client,
    /// Dynamic requests the `slow` fault is holding right now (`GET /emulator/faults/held`):
    /// how a test knows the gateway's starts are all waiting on the provider.
    pub held_requests: AtomicUsize,
    inner: Mutex<Inner>,
}

/// One dynamic request held by the `slow` fault, counted until its handler ends or is dropped.
pub(crate) struct HeldRequest<'a>(&'a AtomicUsize);

impl<'a> HeldRequest<'a> {
    pub fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        HeldRequest(count)
    }
}

impl Drop for HeldRequest<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Callbacks give up after this long, as a provider would.
pub(crate) const CALLBACK_TIMEOUT: Duration = Duration::from_secs(10);

impl Shared {
    pub fn new(settings: EmulatorSettings, keys: Keys) -> Result<Self, EmulatorError> {
        let settings_registered = settings.registered.clone();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(CALLBACK_TIMEOUT)
            .user_agent(concat!("kepgate-diia-emulator/", env!("CARGO_PKG_VERSION")));
        let http = crate::extra_ca::trusting(http, settings.partner_ca_file.as_deref())
            .map_err(|e| EmulatorError::Config {
                key: "partner_ca_file",
                reason: format!("{e:#}"),
            })?
            .build()?;
        Ok(Shared {
            settings,
            ca_pem: keys.ca_pem.clone(),
            keys,
            http,
            held_requests: AtomicUsize::new(0),
            inner: Mutex::new(Inner::registered(settings_registered)),
        })
    }

    /// Critical sections never await and never panic by design; if one did, the data is
    /// still consistent enough for a test double, so a poisoned lock is simply taken over.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Default)]
pub(crate) struct Inner {
    /// Session token → when it stops being valid.
    pub tokens: HashMap<String, Instant>,
    /// In creation order, so listings are stable.
    pub branches: Vec<Branch>,
    /// In creation order, like branches.
    pub offers: Vec<Offer>,
    pub requests: BTreeMap<u64, PhoneRequest>,
    pub last_n: u64,
    pub faults: Faults,
}

impl Inner {
    /// The state at start: empty, or holding the branch and offer the settings name, with the
    /// scopes `kepgate diia setup` asks for (login and document signing).
    fn registered(registered: Option<Registered>) -> Inner {
        let mut inner = Inner::default();
        let Some(Registered {
            branch_id,
            offer_id,
        }) = registered
        else {
            return inner;
        };
        let scopes = || {
            Some(Scopes {
                diia_id: Some(vec![
                    ACTION_AUTH.to_owned(),
                    ACTION_HASHED_FILES_SIGNING.to_owned(),
                ]),
                ..Scopes::default()
            })
        };
        inner.branches.push(Branch {
            id: branch_id.clone(),
            request: BranchRequest {
                name: Some("kepgate".to_owned()),
                delivery_types: Some(vec!["api".to_owned()]),
                offer_request_type: Some("dynamic".to_owned()),
                scopes: scopes(),
                ..BranchRequest::default()
            },
        });
        inner.offers.push(Offer {
            id: offer_id,
            branch_id,
            request: OfferRequest {
                name: Some("kepgate".to_owned()),
                scopes: scopes(),
                return_link: None,
            },
        });
        inner
    }

    pub fn branch(&self, id: &str) -> Option<&Branch> {
        self.branches.iter().find(|b| b.id == id)
    }

    pub fn offer(&self, branch_id: &str, id: &str) -> Option<&Offer> {
        self.offers
            .iter()
            .find(|o| o.id == id && o.branch_id == branch_id)
    }
}

pub(crate) struct Branch {
    pub id: String,
    pub request: BranchRequest,
}

pub(crate) struct Offer {
    pub id: String,
    pub branch_id: String,
    pub request: OfferRequest,
}

/// One `offer-request/dynamic`: what the phone page shows and the callback answers.
pub(crate) struct PhoneRequest {
    pub n: u64,
    /// As the partner sent it (for auth base64 of the hash, for signing an opaque id); echoed in
    /// the callback.
    pub request_id: String,
    /// What the phone signs.
    pub action: Action,
    /// How the phone signs, from the request's `signAlgo`.
    pub sign_algo: SignAlgo,
    pub offer_name: String,
    pub branch_name: String,
    pub return_link: Option<String>,
    pub created_at: OffsetDateTime,
    pub progress: Progress,
}

/// What a dynamic request asks the phone to sign.
#[derive(Clone, Debug)]
pub(crate) enum Action {
    /// A login: the decoded `requestId`.
    Auth { hash: Vec<u8> },
    /// `data.hashedFilesSigning`: every file's hash, in the request's order.
    Signing { files: Vec<FileToSign> },
}

/// One file of a signing request.
#[derive(Clone, Debug)]
pub(crate) struct FileToSign {
    /// As the partner sent it: hostile until escaped.
    pub name: String,
    /// The decoded `fileHash` (32 bytes): the signature's messageDigest.
    pub hash: Vec<u8>,
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Auth { .. } => ActionKind::Auth,
            Action::Signing { .. } => ActionKind::HashedFilesSigning,
        }
    }
}

/// The action as the callback's `X-Diia-Id-Action` names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionKind {
    #[default]
    #[serde(rename = "auth")]
    Auth,
    #[serde(rename = "hashedFilesSigning")]
    HashedFilesSigning,
}

/// A file of a signing request in [`RequestView`]: `fileHash` as the partner sent it (base64).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileView {
    pub name: String,
    pub file_hash: String,
}

/// The `signAlgo` of a dynamic offer request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SignAlgo {
    /// DSTU 4145 over a GOST 34.311 hash: Diia's default, what a request without `signAlgo`
    /// (every SDK but PHP's) gets.
    Dstu,
    /// ECDSA over a SHA-256 hash.
    Ecdsa,
}

impl SignAlgo {
    /// `None` for a value Diia does not know (answered 400).
    pub fn from_wire(value: Option<&str>) -> Option<SignAlgo> {
        match value {
            None | Some("DSTU") => Some(SignAlgo::Dstu),
            Some("ECDSA") => Some(SignAlgo::Ecdsa),
            Some(_) => None,
        }
    }

    pub fn hash_name(self) -> &'static str {
        match self {
            SignAlgo::Dstu => "GOST 34.311",
            SignAlgo::Ecdsa => "SHA-256",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    Confirm(TestIdentity),
    Decline,
}

#[derive(Clone, Debug)]
pub(crate) enum Progress {
    Waiting,
    /// Answered; the callback is on its way.
    Sending(Answer),
    Done(Answer, Delivery),
}

/// What happened to the callback.
#[derive(Clone, Debug)]
pub(crate) struct Delivery {
    pub at: OffsetDateTime,
    pub partner_status: Option<u16>,
    pub partner_body: Option<String>,
    /// Set when the partner did not acknowledge with `{"success": true}`.
    pub failure: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestState {
    Waiting,
    Confirmed,
    Declined,
    Failed,
}

impl PhoneRequest {
    pub fn state(&self) -> RequestState {
        let by_answer = |a: &Answer| match a {
            Answer::Confirm(_) => RequestState::Confirmed,
            Answer::Decline => RequestState::Declined,
        };
        match &self.progress {
            Progress::Waiting => RequestState::Waiting,
            Progress::Sending(a) => by_answer(a),
            Progress::Done(_, d) if d.failure.is_some() => RequestState::Failed,
            Progress::Done(a, _) => by_answer(a),
        }
    }

    pub fn answer(&self) -> Option<Answer> {
        match &self.progress {
            Progress::Waiting => None,
            Progress::Sending(a) | Progress::Done(a, _) => Some(*a),
        }
    }

    pub fn delivery(&self) -> Option<&Delivery> {
        match &self.progress {
            Progress::Done(_, d) => Some(d),
            _ => None,
        }
    }

    pub fn view(&self) -> RequestView {
        let delivery = self.delivery();
        RequestView {
            n: self.n,
            request_id: self.request_id.clone(),
            offer_name: self.offer_name.clone(),
            branch_name: self.branch_name.clone(),
            sign_algo: self.sign_algo,
            action: self.action.kind(),
            files: match &self.action {
                Action::Auth { .. } => None,
                Action::Signing { files } => Some(
                    files
                        .iter()
                        .map(|f| FileView {
                            name: f.name.clone(),
                            file_hash: BASE64.encode(&f.hash),
                        })
                        .collect(),
                ),
            },
            state: self.state(),
            created_at: self.created_at,
            identity: match self.answer() {
                Some(Answer::Confirm(who)) => Some(who),
                _ => None,
            },
            answered_at: delivery.map(|d| d.at),
            partner_status: delivery.and_then(|d| d.partner_status),
            partner_body: delivery.and_then(|d| d.partner_body.clone()),
            failure_reason: delivery.and_then(|d| d.failure.clone()),
        }
    }
}

/// JSON of `GET /emulator/requests/{n}` and of the control answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestView {
    pub n: u64,
    pub request_id: String,
    pub offer_name: String,
    pub branch_name: String,
    /// How the phone signs: "DSTU" (Diia's default) or "ECDSA".
    pub sign_algo: SignAlgo,
    /// "auth" or "hashedFilesSigning".
    #[serde(default)]
    pub action: ActionKind,
    /// The files to sign, for "hashedFilesSigning" only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileView>>,
    pub state: RequestState,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who confirmed (absent when waiting or declined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<TestIdentity>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub answered_at: Option<OffsetDateTime>,
    /// The partner's HTTP status for the callback (absent if it never answered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

/// How `offer-request/dynamic` misbehaves, for testing the adapter's error handling.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DynamicFault {
    #[default]
    Ok,
    /// Answers 500 with an error body.
    Error500,
    /// Waits `slowMs` before answering normally.
    Slow,
    /// Answers 200 with a body that is not JSON.
    Garbage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Faults {
    #[serde(default)]
    pub dynamic: DynamicFault,
    /// Delay of the `slow` fault, in milliseconds.
    #[serde(default = "default_slow_ms")]
    pub slow_ms: u64,
}

fn default_slow_ms() -> u64 {
    30_000
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            dynamic: DynamicFault::Ok,
            slow_ms: default_slow_ms(),
        }
    }
}

/// `n` random bytes as lowercase hex (ids look like Diia's Mongo ObjectIds at 12 bytes).
pub(crate) fn random_hex(n: usize) -> Result<String, getrandom::Error> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
