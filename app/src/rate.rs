//! Rate limits, decided in memory from the time passed in (so tests need no clock): fixed windows
//! for counted actions, and a growing delay after repeated password failures.

use std::{collections::HashMap, sync::Mutex};

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
        }
    }
}

/// Refused: try again after this many seconds (the `Retry-After` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub i64);

#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    count: u32,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: i64,
}

/// Counters keyed by what is limited (`"signin-ip:192.0.2.1"`). One per server process: with
/// several instances each applies the limits on its own.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, Window>>,
    failures: Mutex<HashMap<String, Failures>>,
}

const PRUNE_AT: usize = 100_000;

impl RateLimiter {
    /// Counts one action; refuses it when the window already holds `limit.max`.
    pub fn hit(&self, key: &str, limit: Limit, now: i64) -> Result<(), RetryAfter> {
        self.check(key, limit, now)?;
        self.count(key, limit, now);
        Ok(())
    }

    /// Whether another action would be allowed, without counting it.
    pub fn check(&self, key: &str, limit: Limit, now: i64) -> Result<(), RetryAfter> {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match windows.get(key) {
            Some(w) if now - w.start < limit.window_secs && w.count >= limit.max => {
                Err(RetryAfter((w.start + limit.window_secs - now).max(1)))
            }
            _ => Ok(()),
        }
    }

    /// Counts one action (a failure, say) without checking.
    pub fn count(&self, key: &str, limit: Limit, now: i64) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= PRUNE_AT {
            windows.retain(|_, w| now - w.start < limit.window_secs.max(3600));
        }
        let w = windows.entry(key.to_owned()).or_insert(Window {
            start: now,
            count: 0,
        });
        if now - w.start >= limit.window_secs {
            *w = Window {
                start: now,
                count: 0,
            };
        }
        w.count += 1;
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
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(f) = failures.get(key) else {
            return Ok(());
        };
        if f.count < free {
            return Ok(());
        }
        let delay = backoff_delay(f.count - free, max_delay);
        let ready = f.last + delay;
        if now < ready {
            Err(RetryAfter(ready - now))
        } else {
            Ok(())
        }
    }

    pub fn backoff_fail(&self, key: &str, now: i64) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= PRUNE_AT {
            failures.retain(|_, f| now - f.last < 24 * 3600);
        }
        let f = failures.entry(key.to_owned()).or_insert(Failures {
            count: 0,
            last: now,
        });
        f.count += 1;
        f.last = now;
    }

    pub fn backoff_reset(&self, key: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(key);
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
}
