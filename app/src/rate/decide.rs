//! The decisions of rate limits: pure functions of a small record and the time given.

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

/// 2^n seconds, at most `max`.
pub fn backoff_delay(n: u32, max: i64) -> i64 {
    if n >= 62 { max } else { (1i64 << n).min(max) }
}
