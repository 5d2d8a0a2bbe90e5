//! A bounded map from a SHA-256 of some bytes to what those bytes amount to: the one shape of
//! the remembered pure results (verified_issuances.rs, parsed_keys.rs, certificate_digests.rs).
//! When full it starts again empty — at most one more computation per entry — so memory stays
//! bounded whatever bytes are presented.

use std::collections::HashMap;
use std::sync::Mutex;

pub(crate) struct Memo<V> {
    entries: Mutex<HashMap<[u8; 32], V>>,
    capacity: usize,
}

impl<V: Clone> Memo<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    pub(crate) fn get(&self, id: &[u8; 32]) -> Option<V> {
        self.entries.lock().ok()?.get(id).cloned()
    }

    pub(crate) fn put(&self, id: [u8; 32], value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(id, value);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::Memo;

    #[test]
    fn remembers_until_full_then_starts_again() {
        let memo = Memo::new(2);
        memo.put([1; 32], "one");
        memo.put([2; 32], "two");
        assert_eq!(memo.get(&[1; 32]), Some("one"));
        assert_eq!(memo.get(&[3; 32]), None);
        memo.put([3; 32], "three");
        assert_eq!(memo.len(), 1);
        assert_eq!(memo.get(&[1; 32]), None);
        assert_eq!(memo.get(&[3; 32]), Some("three"));
    }
}
