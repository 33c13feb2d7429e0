//! The bounded table of records, keyed by what is limited.

use std::{
    borrow::Cow,
    collections::{HashMap, VecDeque},
    sync::Mutex,
};

use sha2::{Digest, Sha256};

/// The longest key kept as it is; longer ones (an attacker's 16 KB "address") are kept as a
/// digest, so each key costs at most about this much memory.
pub const MAX_KEY: usize = 96;

/// The most keys a table holds; a new key past it drops the oldest one.
pub const MAX_KEYS: usize = 100_000;

/// A key of bounded size: itself when short, else its beginning and a SHA-256 of all of it.
pub fn bounded_key(key: &str) -> Cow<'_, str> {
    if key.len() <= MAX_KEY {
        return Cow::Borrowed(key);
    }
    let mut cut = 24;
    while !key.is_char_boundary(cut) {
        cut -= 1;
    }
    let digest: String = Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Cow::Owned(format!("{}#{digest}", &key[..cut]))
}

/// Records by key, at most `cap` of them (a new key past it drops the oldest key), each key at
/// most [`MAX_KEY`] bytes long or kept as a digest. Every operation is O(1) (amortized), under
/// one short lock: the table never scans itself on a request.
#[derive(Debug)]
pub struct Counters<V> {
    pub(super) table: Mutex<Table<V>>,
}

#[derive(Debug)]
pub(super) struct Table<V> {
    cap: usize,
    /// The record and the number its key was inserted with.
    pub(super) map: HashMap<String, (V, u64)>,
    /// Keys in insertion order (with their number: an entry whose key was removed and inserted
    /// again since is stale and skipped).
    pub(super) order: VecDeque<(String, u64)>,
    next: u64,
}

impl<V: Copy> Counters<V> {
    pub fn new(cap: usize) -> Self {
        Self {
            table: Mutex::new(Table {
                cap: cap.max(1),
                map: HashMap::new(),
                order: VecDeque::new(),
                next: 0,
            }),
        }
    }

    /// Reads and replaces `key`'s record in one step (`None` back removes it), returning what
    /// `f` decided.
    pub fn update<R>(&self, key: &str, f: impl FnOnce(Option<V>) -> (Option<V>, R)) -> R {
        let key = bounded_key(key);
        let mut t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let old = t.map.get(key.as_ref()).map(|(v, _)| *v);
        let (new, result) = f(old);
        match (old.is_some(), new) {
            (true, Some(v)) => {
                if let Some(e) = t.map.get_mut(key.as_ref()) {
                    e.0 = v;
                }
            }
            (true, None) => {
                t.map.remove(key.as_ref());
            }
            (false, Some(v)) => t.insert(key.into_owned(), v),
            (false, None) => {}
        }
        result
    }

    /// The record under `key`.
    pub fn get(&self, key: &str) -> Option<V> {
        self.update(key, |v| (v, v))
    }

    pub fn len(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<V> Table<V> {
    fn insert(&mut self, key: String, v: V) {
        while self.map.len() >= self.cap {
            let Some((old, n)) = self.order.pop_front() else {
                break;
            };
            if self.map.get(&old).is_some_and(|(_, m)| *m == n) {
                self.map.remove(&old);
            }
        }
        // Removed keys leave stale entries behind; drop them once they are as many as the live
        // ones (amortized O(1)).
        if self.order.len() >= 2 * self.cap {
            let map = &self.map;
            self.order
                .retain(|(k, n)| map.get(k).is_some_and(|(_, m)| m == n));
        }
        let n = self.next;
        self.next += 1;
        self.order.push_back((key.clone(), n));
        self.map.insert(key, (v, n));
    }
}
