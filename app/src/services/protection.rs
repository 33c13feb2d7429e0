//! The account-protection limits (sign-in mails, admin passwords, refused link tokens), counted
//! twice: first in this process's table (cheap flood control: a client hammering one instance is
//! refused there without a database round trip), then in the database, which every instance
//! sharing it counts in together (an attacker spreading tries over instances gets no more). A
//! SQLite database has one process: its table in memory is the whole count.

use crate::rate::LimitOp;

use super::{Refusal, Services, identity::limited};

impl Services {
    /// Applies a limit's operation to `key` here, then in the shared store; refused when either
    /// refuses (`rate_limited` with the wait).
    pub(super) async fn protect(&self, key: &str, op: LimitOp) -> Result<(), Refusal> {
        let now = Self::unix_now();
        self.limiter.apply(key, op, now).map_err(limited)?;
        if !self.identity.limits_shared() {
            return Ok(());
        }
        self.identity
            .apply_limit(key, op, now)
            .await?
            .map_err(limited)
    }

    /// Gives back what [`Services::protect`] counted (a refund, an undone or reset try): in both
    /// places, and a failure of the database only logged (a missed refund makes the limit
    /// stricter, never looser).
    pub(super) async fn unprotect(&self, key: &str, op: LimitOp) {
        let now = Self::unix_now();
        let _ = self.limiter.apply(key, op, now);
        if !self.identity.limits_shared() {
            return;
        }
        if let Err(e) = self.identity.apply_limit(key, op, now).await {
            tracing::warn!(error = %e, "a shared limit could not be given back");
        }
    }

    /// Forgets shared limit records nobody touched for a day (longer than any window or wait).
    pub async fn prune_limits(&self) -> Result<u64, Refusal> {
        if !self.identity.limits_shared() {
            return Ok(0);
        }
        Ok(self
            .identity
            .prune_limits(Self::unix_now() - 24 * 3600)
            .await?)
    }
}
