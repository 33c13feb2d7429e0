//! When a failed delivery is tried again, and when an endpoint stops being delivered to.

use super::WebhookState;

/// When failed deliveries are tried again, and when an endpoint stops being delivered to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the 1st, 2nd… failure in a row (ms); the last repeats.
    pub schedule_ms: Vec<u64>,
    /// Failures in a row that mark the endpoint failing.
    pub failing_after: i64,
    /// An endpoint failing this long (ms since its first failure in a row) is disabled.
    pub disable_after_ms: i64,
}

/// The default schedule (Standard Webhooks' example): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
/// 20 h, then every 24 h; disabled after 3 days of failures in a row.
pub const DEFAULT_SCHEDULE_MS: [u64; 9] = [
    5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000,
    86_400_000,
];

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            schedule_ms: DEFAULT_SCHEDULE_MS.to_vec(),
            failing_after: 3,
            disable_after_ms: 3 * 24 * 3600 * 1000,
        }
    }
}

/// What a failure does to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterFailure {
    pub failures: i64,
    pub state: WebhookState,
    pub next_attempt_at: i64,
    pub failing_since: i64,
    pub disabled_reason: Option<String>,
}

impl RetryPolicy {
    /// After a failed attempt at `now` (ms), the endpoint having failed `failures` times in a row
    /// before it since `failing_since`. `jitter` in [0, 1) spreads the wait by up to ±10 %.
    /// A `410 Gone` answer disables at once (the receiver asked to stop).
    pub fn after_failure(
        &self,
        failures: i64,
        failing_since: Option<i64>,
        now: i64,
        jitter: f64,
        status: Option<i64>,
    ) -> AfterFailure {
        let failures = failures + 1;
        let since = failing_since.unwrap_or(now);
        let step = usize::try_from(failures - 1).unwrap_or(0);
        let base = self
            .schedule_ms
            .get(step)
            .or(self.schedule_ms.last())
            .copied()
            .unwrap_or(5_000) as f64;
        let wait = (base * (0.9 + 0.2 * jitter.clamp(0.0, 1.0))) as i64;
        let (state, reason) = if status == Some(410) {
            (WebhookState::Disabled, Some("gone".to_owned()))
        } else if now - since >= self.disable_after_ms {
            (WebhookState::Disabled, Some("failing_too_long".to_owned()))
        } else if failures >= self.failing_after {
            (WebhookState::Failing, None)
        } else {
            (WebhookState::Active, None)
        };
        AfterFailure {
            failures,
            state,
            next_attempt_at: now + wait.max(1),
            failing_since: since,
            disabled_reason: reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_mark_failing_then_disable() {
        let p = RetryPolicy::default();
        let a = p.after_failure(0, None, 1_000, 0.5, Some(500));
        assert_eq!(
            (a.failures, a.state, a.next_attempt_at, a.failing_since),
            (1, WebhookState::Active, 6_000, 1_000)
        );
        let b = p.after_failure(2, Some(1_000), 2_000, 0.0, None);
        assert_eq!(b.state, WebhookState::Failing);
        assert_eq!(b.next_attempt_at, 2_000 + 1_620_000, "30 min less 10 %");
        let late = p.after_failure(40, Some(0), 3 * 24 * 3600 * 1000, 0.0, None);
        assert_eq!(late.state, WebhookState::Disabled);
        assert_eq!(late.disabled_reason.as_deref(), Some("failing_too_long"));
        assert_eq!(
            p.after_failure(0, None, 5, 0.0, Some(410)).state,
            WebhookState::Disabled
        );
        // The default schedule spans at least three days.
        let total: u64 = DEFAULT_SCHEDULE_MS.iter().sum();
        assert!(total >= 3 * 24 * 3600 * 1000, "{total}");
    }
}
