use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

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
            LimitOp::Reserve { free, max_delay } => r.backoff_reserve("k", free, max_delay, now),
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
