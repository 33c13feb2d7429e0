//! Rate limits, decided from the time passed in (so tests need no clock): fixed windows for
//! counted actions, and a growing delay after repeated password failures. The decisions are pure
//! functions of a small record ([`Window`], [`Failures`]) and the time; the records live in a
//! bounded table in memory ([`Counters`], each instance its own: cheap flood control) and, for
//! the account-protection limits, in the database too ([`LimitOp`] on a [`Kept`] record, shared
//! by every instance). Beside them, the gates
//! that bound costly work on request paths: password hashing ([`HashingGate`]) and chain walks
//! ([`OneAtATime`]).
//!
//! `decide.rs` holds the pure decisions, `table.rs` the bounded table of records, `limiter.rs`
//! the per-instance limiter, `gates.rs` the gates of costly work.

mod decide;
mod gates;
mod limiter;
mod table;

pub use decide::{Failures, Kept, Limit, LimitOp, Limits, RetryAfter, Window, backoff_delay};
pub use gates::{Busy, HashingGate, OneAtATime, Turn};
pub use limiter::RateLimiter;
pub use table::{Counters, MAX_KEY, MAX_KEYS, bounded_key};

#[cfg(test)]
mod tests;
