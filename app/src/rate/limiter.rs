//! The limiter each instance keeps: counters by key, and the gates of costly work.

use super::decide::{Failures, Limit, LimitOp, RetryAfter, Window};
use super::gates::{HashingGate, OneAtATime};
use super::table::{Counters, MAX_KEYS};

/// Counters keyed by what is limited (`"signin-ip:192.0.2.1"`), and the gates of costly work.
/// One per server process: with several instances each applies the limits on its own.
#[derive(Debug)]
pub struct RateLimiter {
    pub(super) windows: Counters<Window>,
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
