//! Rate limits, decided from the time passed in (so tests need no clock): fixed windows for
//! counted actions, and a growing delay after repeated password failures. The decisions are pure
//! functions of a small record ([`Window`], [`Failures`]) and the time; the records live in a
//! bounded table in memory ([`Counters`], each instance its own: cheap flood control) and, for
//! the account-protection limits, in the database too ([`LimitOp`] on a [`Kept`] record, shared
//! by every instance). Beside them, the gates
//! that bound costly work on request paths: password hashing ([`HashingGate`]) and chain walks
//! ([`OneAtATime`]).

use std::{
    borrow::Cow,
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use sha2::{Digest, Sha256};

/// At most `max` in `window_secs` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_secs: i64,
}

/// Every limit Doui applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Sign-in mails asked for one address.
    pub sign_in_per_address: Limit,
    /// Sign-in mails asked from one client address.
    pub sign_in_per_ip: Limit,
    /// Refused link tokens from one client address.
    pub token_failures_per_ip: Limit,
    /// Wrong admin passwords from one client address.
    pub password_failures_per_ip: Limit,
    /// Wrong passwords an account may see before each try must wait.
    pub password_free_failures: u32,
    /// The longest wait between tries (the delay doubles up to it).
    pub password_max_delay_secs: i64,
    /// Inbound text messages posted from one client address (flood control in this process's
    /// table only: the provider's requests are signed, so a flood can only come from someone
    /// without the token; generous, since a STOP refused here would be lost).
    pub inbound_sms_per_ip: Limit,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            sign_in_per_address: Limit {
                max: 3,
                window_secs: 15 * 60,
            },
            sign_in_per_ip: Limit {
                max: 10,
                window_secs: 15 * 60,
            },
            token_failures_per_ip: Limit {
                max: 20,
                window_secs: 60,
            },
            password_failures_per_ip: Limit {
                max: 20,
                window_secs: 15 * 60,
            },
            password_free_failures: 5,
            password_max_delay_secs: 15 * 60,
            inbound_sms_per_ip: Limit {
                max: 1200,
                window_secs: 60,
            },
        }
    }
}

/// Refused: try again after this many seconds (the `Retry-After` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub i64);

/// Actions counted in the window that started at `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub count: u32,
}

impl Window {
    /// Whether one more action is allowed at `now`.
    pub fn check(this: Option<Self>, limit: Limit, now: i64) -> Result<(), RetryAfter> {
        match this {
            Some(w) if now - w.start < limit.window_secs && w.count >= limit.max => {
                Err(RetryAfter((w.start + limit.window_secs - now).max(1)))
            }
            _ => Ok(()),
        }
    }

    /// The window with one more action counted at `now` (a new window when the old one ended).
    pub fn counted(this: Option<Self>, limit: Limit, now: i64) -> Self {
        match this {
            Some(w) if now - w.start < limit.window_secs => Self {
                count: w.count.saturating_add(1),
                ..w
            },
            _ => Self {
                start: now,
                count: 1,
            },
        }
    }

    /// The window with one counted action given back (it turned out not to count).
    pub fn refunded(self) -> Self {
        Self {
            count: self.count.saturating_sub(1),
            ..self
        }
    }
}

/// Password failures of one account (from one network), the last at `last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub last: i64,
}

impl Failures {
    /// Whether another try is allowed at `now`: after `free` failures each try waits 1, 2, 4, …
    /// seconds after the last failure, up to `max_delay`.
    pub fn check(
        this: Option<Self>,
        free: u32,
        max_delay: i64,
        now: i64,
    ) -> Result<(), RetryAfter> {
        let Some(f) = this else {
            return Ok(());
        };
        if f.count < free {
            return Ok(());
        }
        let ready = f.last + backoff_delay(f.count - free, max_delay);
        if now < ready {
            Err(RetryAfter(ready - now))
        } else {
            Ok(())
        }
    }

    /// One more failure at `now`.
    pub fn failed(this: Option<Self>, now: i64) -> Self {
        Self {
            count: this.map_or(0, |f| f.count).saturating_add(1),
            last: now,
        }
    }
}

/// A counter's record as a shared store keeps it: a window (its start, the actions counted) or
/// an account's failures (the last one's time, how many).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kept {
    pub at: i64,
    pub count: u32,
}

/// What a limit shared by every instance does to its record: the same decisions as the table in
/// memory ([`RateLimiter`]), made by the store inside one transaction, so instances sharing a
/// database count together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitOp {
    /// [`RateLimiter::hit`].
    Hit(Limit),
    /// [`RateLimiter::refund`].
    Refund(Limit),
    /// [`RateLimiter::backoff_reserve`].
    Reserve { free: u32, max_delay: i64 },
    /// [`RateLimiter::backoff_undo`].
    Undo,
    /// [`RateLimiter::backoff_reset`].
    Reset,
}

impl LimitOp {
    /// The record after this operation at `now`, and whether the action is allowed.
    pub fn apply(self, kept: Option<Kept>, now: i64) -> (Option<Kept>, Result<(), RetryAfter>) {
        let window = kept.map(|k| Window {
            start: k.at,
            count: k.count,
        });
        let failures = kept.map(|k| Failures {
            count: k.count,
            last: k.at,
        });
        let from_window = |w: Window| Kept {
            at: w.start,
            count: w.count,
        };
        let from_failures = |f: Failures| Kept {
            at: f.last,
            count: f.count,
        };
        match self {
            LimitOp::Hit(limit) => match Window::check(window, limit, now) {
                Ok(()) => (
                    Some(from_window(Window::counted(window, limit, now))),
                    Ok(()),
                ),
                Err(r) => (kept, Err(r)),
            },
            LimitOp::Refund(limit) => (
                window
                    .map(|w| {
                        if now - w.start < limit.window_secs {
                            w.refunded()
                        } else {
                            w
                        }
                    })
                    .map(from_window),
                Ok(()),
            ),
            LimitOp::Reserve { free, max_delay } => {
                match Failures::check(failures, free, max_delay, now) {
                    Ok(()) => (Some(from_failures(Failures::failed(failures, now))), Ok(())),
                    Err(r) => (kept, Err(r)),
                }
            }
            LimitOp::Undo => (
                failures.filter(|f| f.count > 1).map(|f| Kept {
                    count: f.count - 1,
                    at: f.last,
                }),
                Ok(()),
            ),
            LimitOp::Reset => (None, Ok(())),
        }
    }
}

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
    table: Mutex<Table<V>>,
}

#[derive(Debug)]
struct Table<V> {
    cap: usize,
    /// The record and the number its key was inserted with.
    map: HashMap<String, (V, u64)>,
    /// Keys in insertion order (with their number: an entry whose key was removed and inserted
    /// again since is stale and skipped).
    order: VecDeque<(String, u64)>,
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

/// Counters keyed by what is limited (`"signin-ip:192.0.2.1"`), and the gates of costly work.
/// One per server process: with several instances each applies the limits on its own.
#[derive(Debug)]
pub struct RateLimiter {
    windows: Counters<Window>,
    failures: Counters<Failures>,
    /// Password hashing and verifying on request paths.
    pub hashing: HashingGate,
    /// Chain walks asked for over HTTP.
    pub walks: OneAtATime,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::with_capacity(MAX_KEYS)
    }
}

impl RateLimiter {
    /// Tables of at most `cap` keys each.
    pub fn with_capacity(cap: usize) -> Self {
        Self {
            windows: Counters::new(cap),
            failures: Counters::new(cap),
            hashing: HashingGate::for_this_machine(),
            walks: OneAtATime::default(),
        }
    }

    /// Counts one action unless the window already holds `limit.max` (then refuses it), in one
    /// step: parallel requests cannot all pass the check before any is counted.
    pub fn hit(&self, key: &str, limit: Limit, now: i64) -> Result<(), RetryAfter> {
        self.windows
            .update(key, |w| match Window::check(w, limit, now) {
                Ok(()) => (Some(Window::counted(w, limit, now)), Ok(())),
                Err(r) => (w, Err(r)),
            })
            .inspect_err(|_| refused(key))
    }

    /// Whether another action would be allowed, without counting it.
    pub fn check(&self, key: &str, limit: Limit, now: i64) -> Result<(), RetryAfter> {
        Window::check(self.windows.get(key), limit, now)
    }

    /// Counts one action (a failure, say) without checking.
    pub fn count(&self, key: &str, limit: Limit, now: i64) {
        self.windows
            .update(key, |w| (Some(Window::counted(w, limit, now)), ()));
    }

    /// Gives back an action `hit` counted (it turned out not to count), if its window is still
    /// the current one.
    pub fn refund(&self, key: &str, limit: Limit, now: i64) {
        self.windows.update(key, |w| {
            let w = w.map(|w| {
                if now - w.start < limit.window_secs {
                    w.refunded()
                } else {
                    w
                }
            });
            (w, ())
        });
    }

    /// Whether an account may try its password now: after `free` failures each try waits
    /// 1, 2, 4, … seconds after the last failure, up to `max_delay`.
    pub fn backoff_check(
        &self,
        key: &str,
        free: u32,
        max_delay: i64,
        now: i64,
    ) -> Result<(), RetryAfter> {
        Failures::check(self.failures.get(key), free, max_delay, now).inspect_err(|_| refused(key))
    }

    /// Like `backoff_check`, and when allowed counts the try as a failure at once (a success
    /// resets it): parallel tries see each other.
    pub fn backoff_reserve(
        &self,
        key: &str,
        free: u32,
        max_delay: i64,
        now: i64,
    ) -> Result<(), RetryAfter> {
        self.failures
            .update(key, |f| match Failures::check(f, free, max_delay, now) {
                Ok(()) => (Some(Failures::failed(f, now)), Ok(())),
                Err(r) => (f, Err(r)),
            })
            .inspect_err(|_| refused(key))
    }

    /// Takes back a try `backoff_reserve` counted that was never made.
    pub fn backoff_undo(&self, key: &str) {
        self.failures.update(key, |f| match f {
            Some(f) if f.count > 1 => (
                Some(Failures {
                    count: f.count - 1,
                    ..f
                }),
                (),
            ),
            _ => (None, ()),
        });
    }

    pub fn backoff_fail(&self, key: &str, now: i64) {
        self.failures
            .update(key, |f| (Some(Failures::failed(f, now)), ()));
    }

    pub fn backoff_reset(&self, key: &str) {
        self.failures.update(key, |_| (None, ()));
    }

    /// Applies `op` to this process's own table (what [`LimitOp::apply`] does to a shared record).
    pub fn apply(&self, key: &str, op: LimitOp, now: i64) -> Result<(), RetryAfter> {
        match op {
            LimitOp::Hit(limit) => self.hit(key, limit, now),
            LimitOp::Refund(limit) => {
                self.refund(key, limit, now);
                Ok(())
            }
            LimitOp::Reserve { free, max_delay } => self.backoff_reserve(key, free, max_delay, now),
            LimitOp::Undo => {
                self.backoff_undo(key);
                Ok(())
            }
            LimitOp::Reset => {
                self.backoff_reset(key);
                Ok(())
            }
        }
    }

    /// How many keys the tables hold (windows, failures).
    pub fn keys(&self) -> (usize, usize) {
        (self.windows.len(), self.failures.len())
    }
}

/// Counts a refusal for the metrics, by the limit's name: the key's part before the first `:`
/// (`signin-ip`, `password-account`…), never the address or account after it.
fn refused(key: &str) {
    let limit = key.split(':').next().unwrap_or_default().to_owned();
    metrics::counter!("doui_rate_limit_refusals_total", "limit" => limit).increment(1);
}

/// Bounds password hashing (argon2id: 19 MiB and a core for tens of milliseconds each): at most
/// `running` at once, at most `waiting` more queued; past that a request is refused at once
/// rather than held. Also keeps the most that ever ran at once.
#[derive(Debug)]
pub struct HashingGate {
    running: Arc<tokio::sync::Semaphore>,
    permits: usize,
    /// Requests admitted (running or waiting) and the most allowed.
    admitted: Arc<AtomicUsize>,
    max_admitted: usize,
    /// Hashes running now, and the most that ever did.
    busy: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

/// The gate is full: answer "try again shortly".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl HashingGate {
    pub fn new(running: usize, waiting: usize) -> Self {
        let running = running.max(1);
        Self {
            running: Arc::new(tokio::sync::Semaphore::new(running)),
            permits: running,
            admitted: Arc::new(AtomicUsize::new(0)),
            max_admitted: running + waiting,
            busy: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// As many at once as the machine has cores, and as many again waiting.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores, cores)
    }

    /// How many hashes may run at once.
    pub fn permits(&self) -> usize {
        self.permits
    }

    /// The most hashes that ran at once so far.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Runs `f` (a hash) on a blocking thread when its turn comes, or refuses at once when
    /// too many are already running or waiting. The permit travels with the work, so a request
    /// that goes away does not let more run than allowed.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        struct Admitted(Arc<AtomicUsize>);
        impl Drop for Admitted {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        if self.admitted.fetch_add(1, Ordering::SeqCst) >= self.max_admitted {
            self.admitted.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy);
        }
        let admitted = Admitted(self.admitted.clone());
        let permit = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Busy)?;
        let (busy, peak) = (self.busy.clone(), self.peak.clone());
        tokio::task::spawn_blocking(move || {
            let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let out = f();
            busy.fetch_sub(1, Ordering::SeqCst);
            drop((permit, admitted));
            out
        })
        .await
        .map_err(|_| Busy)
    }
}

/// One at a time: a second caller is told to come back rather than queued.
#[derive(Debug, Default)]
pub struct OneAtATime(Arc<AtomicBool>);

/// Held while the one allowed runs; dropping it lets the next one in.
#[derive(Debug)]
pub struct Turn(Arc<AtomicBool>);

impl Drop for Turn {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl OneAtATime {
    /// The turn, unless another holds it.
    pub fn try_enter(&self) -> Option<Turn> {
        self.0
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .ok()
            .map(|_| Turn(self.0.clone()))
    }
}

/// 2^n seconds, at most `max`.
pub fn backoff_delay(n: u32, max: i64) -> i64 {
    if n >= 62 { max } else { (1i64 << n).min(max) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limit = Limit {
        max: 3,
        window_secs: 60,
    };

    #[test]
    fn a_window_trips_at_its_maximum_and_recovers_when_it_ends() {
        let r = RateLimiter::default();
        for _ in 0..3 {
            r.hit("a", L, 1000).unwrap();
        }
        assert_eq!(r.hit("a", L, 1010), Err(RetryAfter(50)));
        assert!(r.hit("b", L, 1010).is_ok(), "other keys are separate");
        assert!(r.hit("a", L, 1060).is_ok(), "a new window");
    }

    #[test]
    fn counting_without_checking_still_trips_the_check() {
        let r = RateLimiter::default();
        for _ in 0..3 {
            r.count("f", L, 0);
        }
        assert!(r.check("f", L, 1).is_err());
        assert!(r.check("f", L, 61).is_ok());
    }

    #[test]
    fn password_failures_make_each_try_wait_longer() {
        let r = RateLimiter::default();
        for t in 0..5 {
            assert!(r.backoff_check("acct", 5, 900, t).is_ok());
            r.backoff_fail("acct", t);
        }
        // Five failures: the next try waits 1 s, then 2 s, 4 s…
        assert_eq!(r.backoff_check("acct", 5, 900, 4), Err(RetryAfter(1)));
        assert!(r.backoff_check("acct", 5, 900, 5).is_ok());
        r.backoff_fail("acct", 5);
        assert_eq!(r.backoff_check("acct", 5, 900, 5), Err(RetryAfter(2)));
        r.backoff_fail("acct", 7);
        assert_eq!(r.backoff_check("acct", 5, 900, 7), Err(RetryAfter(4)));
        r.backoff_reset("acct");
        assert!(r.backoff_check("acct", 5, 900, 7).is_ok());
        assert_eq!(backoff_delay(40, 900), 900);
        assert_eq!(backoff_delay(100, 900), 900);
    }

    #[test]
    fn item05_limiter_memory_keys_are_bounded_in_size_and_number() {
        // A 16 KB "address" is kept as a short digest, still telling keys apart.
        let long = format!("password-account:{}", "a".repeat(16 * 1024));
        let other = format!("password-account:{}b", "a".repeat(16 * 1024));
        assert!(bounded_key(&long).len() <= MAX_KEY);
        assert_ne!(bounded_key(&long), bounded_key(&other));
        let r = RateLimiter::default();
        for t in 0..5 {
            r.backoff_fail(&long, t);
        }
        assert!(r.backoff_check(&long, 5, 900, 4).is_err());
        assert!(r.backoff_check(&other, 5, 900, 4).is_ok());

        // Past the cap the oldest keys go, at the same cost per request however full the table
        // is (the old table scanned all of itself on every insert past 100,000 keys).
        let started = std::time::Instant::now();
        for i in 0..(MAX_KEYS + 50_000) {
            r.count(&format!("signin-ip:{i}"), L, 0);
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        let (windows, _) = r.keys();
        assert_eq!(windows, MAX_KEYS);
        assert!(r.windows.get("signin-ip:0").is_none(), "the oldest went");
        let newest = format!("signin-ip:{}", MAX_KEYS + 49_999);
        assert_eq!(r.windows.get(&newest).map(|w| w.count), Some(1));
        let t = r.windows.table.lock().unwrap();
        assert!(t.map.keys().all(|k| k.len() <= MAX_KEY));
        assert!(t.order.len() < 2 * MAX_KEYS);
    }

    #[test]
    fn a_removed_key_inserted_again_is_not_dropped_for_its_old_place() {
        let c: Counters<u32> = Counters::new(2);
        c.update("a", |_| (Some(1), ()));
        c.update("b", |_| (Some(2), ()));
        c.update("a", |_| (None, ()));
        c.update("a", |_| (Some(3), ()));
        c.update("c", |_| (Some(4), ()));
        // "b" was the oldest live key; "a" came back after it.
        assert_eq!(
            (c.get("a"), c.get("b"), c.get("c")),
            (Some(3), None, Some(4))
        );
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn parallel_hits_cannot_all_pass_the_check() {
        let r = std::sync::Arc::new(RateLimiter::default());
        let passed = std::sync::Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (r, passed) = (r.clone(), passed.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        if r.hit("ip", L, 0).is_ok() {
                            passed.fetch_add(1, Ordering::SeqCst);
                        }
                        if r.backoff_reserve("acct", 5, 900, 0).is_ok() {
                            passed.fetch_add(1000, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(passed.load(Ordering::SeqCst), 3 + 5 * 1000);
        r.refund("ip", L, 1);
        assert!(
            r.hit("ip", L, 1).is_ok(),
            "a refunded action frees its place"
        );
    }

    #[test]
    fn one_at_a_time_refuses_a_second_until_the_first_ends() {
        let g = OneAtATime::default();
        let turn = g.try_enter().unwrap();
        assert!(g.try_enter().is_none());
        drop(turn);
        assert!(g.try_enter().is_some());
    }

    /// A shared store applies the same decisions as the table in memory: a run of operations
    /// on both gives the same answers.
    #[test]
    fn shared_records_decide_as_the_table_in_memory() {
        let r = RateLimiter::default();
        let (mut window, mut failures): (Option<Kept>, Option<Kept>) = (None, None);
        let steps: [(LimitOp, i64); 14] = [
            (LimitOp::Hit(L), 1000),
            (LimitOp::Hit(L), 1001),
            (LimitOp::Refund(L), 1002),
            (LimitOp::Hit(L), 1003),
            (LimitOp::Hit(L), 1004),
            (LimitOp::Hit(L), 1005),
            (LimitOp::Hit(L), 1070),
            (
                LimitOp::Reserve {
                    free: 2,
                    max_delay: 8,
                },
                1000,
            ),
            (
                LimitOp::Reserve {
                    free: 2,
                    max_delay: 8,
                },
                1000,
            ),
            (
                LimitOp::Reserve {
                    free: 2,
                    max_delay: 8,
                },
                1000,
            ),
            (LimitOp::Undo, 1000),
            (
                LimitOp::Reserve {
                    free: 2,
                    max_delay: 8,
                },
                1000,
            ),
            (LimitOp::Reset, 1001),
            (
                LimitOp::Reserve {
                    free: 2,
                    max_delay: 8,
                },
                1001,
            ),
        ];
        for (op, now) in steps {
            let kept = match op {
                LimitOp::Hit(_) | LimitOp::Refund(_) => &mut window,
                _ => &mut failures,
            };
            let (after, shared) = op.apply(*kept, now);
            *kept = after;
            let memory = match op {
                LimitOp::Hit(l) => r.hit("k", l, now),
                LimitOp::Refund(l) => {
                    r.refund("k", l, now);
                    Ok(())
                }
                LimitOp::Reserve { free, max_delay } => {
                    r.backoff_reserve("k", free, max_delay, now)
                }
                LimitOp::Undo => {
                    r.backoff_undo("k");
                    Ok(())
                }
                LimitOp::Reset => {
                    r.backoff_reset("k");
                    Ok(())
                }
            };
            assert_eq!(shared, memory, "{op:?} at {now}");
        }
        assert_eq!(
            window,
            r.windows.get("k").map(|w| Kept {
                at: w.start,
                count: w.count
            })
        );
    }
}
