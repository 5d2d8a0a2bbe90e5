//! The national list in force on this replica, behind one cheap handle: created once at start,
//! cloned into the login's and the signing's contexts, read at every verification together with
//! `trust.files`' list. The refresher (`super::refresher`) replaces the list whole: a reader sees
//! the old list or the new, never a mix.

use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::{Notify, watch};

use super::store::StoredList;
use crate::config::TrustSources;
use crate::signature::TrustList;

/// The national list this replica trusts now, and where it came from.
#[derive(Default)]
pub struct InForce {
    pub list: TrustList,
    /// The stored list it was read from; `None` before any was in force.
    pub record: Option<StoredList>,
}

/// Cloned freely: an `Arc` inside.
#[derive(Clone)]
pub struct NationalTrust(Arc<Inner>);

struct Inner {
    in_force: RwLock<Arc<InForce>>,
    /// `trust.files` ∪ the list in force, made again only when either changes.
    joined: Mutex<Option<Joined>>,
    sources: watch::Sender<Option<TrustSources>>,
    refresh_now: Notify,
    /// Downloads tried by this replica so far, whatever came of them.
    attempts: watch::Sender<u64>,
    /// Another replica stored a new list (or notices may have been lost): read it.
    reload: Notify,
}

struct Joined {
    files: Arc<TrustList>,
    national: Arc<InForce>,
    union: Arc<TrustList>,
}

impl NationalTrust {
    /// Nothing in force yet; the refresher fetches from `sources` (none: nothing to fetch).
    pub fn new(sources: Option<TrustSources>) -> Self {
        NationalTrust(Arc::new(Inner {
            in_force: RwLock::new(Arc::new(InForce::default())),
            joined: Mutex::new(None),
            sources: watch::Sender::new(sources),
            refresh_now: Notify::new(),
            attempts: watch::Sender::new(0),
            reload: Notify::new(),
        }))
    }

    /// The list in force now.
    pub fn in_force(&self) -> Arc<InForce> {
        match self.0.in_force.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// What a signature is verified against: `files` (`trust.files`) and the list in force.
    pub fn joined_with(&self, files: &Arc<TrustList>) -> Arc<TrustList> {
        let national = self.in_force();
        if national.list.is_empty() {
            return files.clone();
        }
        let mut joined = match self.0.joined.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(j) = joined.as_ref()
            && Arc::ptr_eq(&j.files, files)
            && Arc::ptr_eq(&j.national, &national)
        {
            return j.union.clone();
        }
        let mut union = TrustList::clone(files);
        union.merge(national.list.clone());
        let union = Arc::new(union);
        *joined = Some(Joined {
            files: files.clone(),
            national,
            union: union.clone(),
        });
        union
    }

    /// New sources (a configuration reload): fetched from at once if they differ. Whether
    /// they did.
    pub fn reconfigure(&self, sources: Option<TrustSources>) -> bool {
        self.0.sources.send_if_modified(|current| {
            let changed = *current != sources;
            *current = sources;
            changed
        })
    }

    /// Fetch the sources now rather than at the next scheduled time.
    pub fn refresh_now(&self) {
        self.0.refresh_now.notify_one();
    }

    /// How many downloads this replica has tried; changes after each (to wait for one).
    pub fn attempts(&self) -> watch::Receiver<u64> {
        self.0.attempts.subscribe()
    }

    pub(super) fn attempted(&self) {
        self.0.attempts.send_modify(|n| *n += 1);
    }

    pub(super) fn has_sources(&self) -> bool {
        self.0.sources.borrow().is_some()
    }

    /// The sources were taken out of the configuration: the national list is no longer trusted.
    pub(super) fn withdraw(&self) {
        let empty = Arc::new(InForce::default());
        match self.0.in_force.write() {
            Ok(mut guard) => *guard = empty,
            Err(poisoned) => *poisoned.into_inner() = empty,
        }
        metrics::gauge!("kepgate_trust_list_certificates").set(0.0);
        tracing::warn!("trust.sources removed: the national trust list is no longer trusted");
    }

    pub(super) fn sources(&self) -> watch::Receiver<Option<TrustSources>> {
        self.0.sources.subscribe()
    }

    pub(super) async fn refresh_requested(&self) {
        self.0.refresh_now.notified().await
    }

    pub(super) async fn reload_requested(&self) {
        self.0.reload.notified().await
    }

    /// `record`, what the database holds in force, becomes the list in force here unless it
    /// already is: a newer row, or an older one after an operator deleted the newest (a
    /// rollback must reach the running replicas too).
    pub(super) fn put_in_force(&self, record: StoredList) -> bool {
        let current = self.in_force();
        if current.record.as_ref().is_some_and(|r| r.id == record.id) {
            return false;
        }
        let list = record.trust_list();
        record_metrics(&record, list.len());
        let new = Arc::new(InForce {
            list,
            record: Some(record),
        });
        match self.0.in_force.write() {
            Ok(mut guard) => *guard = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
        true
    }
}

fn record_metrics(record: &StoredList, certificates: usize) {
    metrics::gauge!("kepgate_trust_list_certificates").set(certificates as f64);
    metrics::gauge!("kepgate_trust_list_in_force_since_seconds")
        .set(record.in_force_since.unix_timestamp() as f64);
}

/// Another replica's `NOTIFY` of a new list in force: read it from the database.
impl crate::notifications::Subscriber for NationalTrust {
    fn channel(&self) -> &'static str {
        super::store::NOTIFY_CHANNEL
    }

    fn notify(&self, _payload: &str) {
        self.0.reload.notify_one();
    }

    fn missed(&self) {
        self.0.reload.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn national_bundle() -> TrustList {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/ua-trust/CACertificates.p7b"
        );
        TrustList::from_pkcs7_der(&std::fs::read(path).unwrap())
            .unwrap()
            .0
    }

    fn stored(id: i64, certificates: Vec<Vec<u8>>) -> StoredList {
        StoredList {
            id,
            certificates,
            sha256: vec![],
            bundle_url: "https://mirror.example/CACertificates.p7b".into(),
            providers_url: "https://mirror.example/CAs.json".into(),
            bundle_entries: 0,
            skipped: Default::default(),
            in_force_since: time::OffsetDateTime::UNIX_EPOCH,
            checked_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn verification_sees_the_files_and_the_list_in_force_and_a_newer_list_replaces_it_whole() {
        let ders: Vec<Vec<u8>> = national_bundle()
            .entries()
            .map(|(_, der, _)| der.to_vec())
            .collect();
        let mut files = TrustList::new();
        files.add_der(&ders[0]).unwrap();
        let files = Arc::new(files);
        let national = NationalTrust::new(None);
        // Nothing in force: the files' list itself.
        assert!(Arc::ptr_eq(&national.joined_with(&files), &files));

        assert!(national.put_in_force(stored(1, ders[1..3].to_vec())));
        let joined = national.joined_with(&files);
        assert_eq!(joined.len(), 3);
        // Made once per change.
        assert!(Arc::ptr_eq(&joined, &national.joined_with(&files)));

        // The same row changes nothing; a newer one replaces the old whole.
        assert!(!national.put_in_force(stored(1, ders[1..3].to_vec())));
        assert!(national.put_in_force(stored(2, ders[3..5].to_vec())));
        let joined = national.joined_with(&files);
        assert_eq!(joined.len(), 3);
        assert!(joined.contains_der(&ders[0]) && joined.contains_der(&ders[4]));
        assert!(!joined.contains_der(&ders[1]));
        // The operator deleted row 2: the database's row 1 is in force again.
        assert!(national.put_in_force(stored(1, ders[1..3].to_vec())));
        let joined = national.joined_with(&files);
        assert!(joined.contains_der(&ders[1]) && !joined.contains_der(&ders[4]));
    }
}
