//! A streaming replica for reads (PostgreSQL, `database_read_url`): the console's event pages,
//! exports, the audience, the event feed and the suppression lists may read from it; a person's
//! own page and every write use the primary.
//!
//! A replica is used only while it is a standby (`pg_is_in_recovery()`) replaying the primary's
//! WAL no more than `replica_max_lag_ms` behind. The verdict is kept up to date by one task per
//! process, never asked for per request: every few hundred milliseconds it notes the primary's
//! WAL position (`pg_current_wal_lsn()`) with the time, and asks the replica how far it has
//! replayed (`pg_last_wal_replay_lsn()`). The replica holds everything the primary had written
//! by the last noted time whose position it has replayed: its lag is at most the time since.
//! An idle primary writes nothing, and a replica that replayed all of it lags by nothing (where
//! `now() - pg_last_xact_replay_timestamp()` would grow without end). While the replica is down,
//! behind or no standby (promoted, say), reads go to the primary; once it catches up, back to it.

use std::{
    collections::VecDeque,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::PgPool;

/// Where reads may go besides the primary, and how far behind it may be.
#[derive(Debug, Clone)]
pub struct ReadReplica {
    /// `postgres://…` of a streaming replica of the primary.
    pub url: String,
    /// A replica further behind than this is not read from.
    pub max_lag: Duration,
}

/// The default `replica_max_lag_ms`.
pub const DEFAULT_MAX_LAG: Duration = Duration::from_secs(5);

/// How long a read waits for a connection to the replica, and a check for its answers: a replica
/// that does not answer in this time is not used until it does.
pub(crate) const REPLICA_TIMEOUT: Duration = Duration::from_secs(2);

/// The replica's pool and the current verdict on it.
pub(crate) struct Replica {
    pool: PgPool,
    state: Arc<Verdict>,
    watcher: tokio::task::JoinHandle<()>,
}

/// What the watcher last found.
#[derive(Default)]
struct Verdict {
    usable: AtomicBool,
    /// The lag found, in milliseconds (`u64::MAX` when unknown: unreachable, or no standby).
    lag_ms: AtomicU64,
}

impl Replica {
    /// The replica's `pool` (connected lazily: Doui starts while the replica is down) and its
    /// watcher, which compares it with `primary`.
    pub(crate) fn watch(primary: PgPool, pool: PgPool, max_lag: Duration) -> Self {
        let state = Arc::new(Verdict {
            usable: AtomicBool::new(false),
            lag_ms: AtomicU64::new(u64::MAX),
        });
        let watcher = tokio::spawn(watch(
            primary,
            pool.clone(),
            max_lag,
            Arc::downgrade(&state),
        ));
        Self {
            pool,
            state,
            watcher,
        }
    }

    /// The replica's pool while it is fresh enough to read from.
    pub(crate) fn pool_if_usable(&self) -> Option<&PgPool> {
        self.state
            .usable
            .load(Ordering::Relaxed)
            .then_some(&self.pool)
    }

    /// The lag last measured, `None` when unknown (unreachable, or not a standby).
    pub(crate) fn lag(&self) -> Option<Duration> {
        match self.state.lag_ms.load(Ordering::Relaxed) {
            u64::MAX => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

/// How often the watcher looks: a tenth of the bound, between 50 ms and one second.
fn check_every(max_lag: Duration) -> Duration {
    (max_lag / 10).clamp(Duration::from_millis(50), Duration::from_secs(1))
}

/// Keeps the verdict up to date until the store is dropped.
async fn watch(
    primary: PgPool,
    replica: PgPool,
    max_lag: Duration,
    state: std::sync::Weak<Verdict>,
) {
    let mut lag = Lag::new(max_lag);
    let mut ticks = tokio::time::interval(check_every(max_lag));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut was_usable = false;
    loop {
        ticks.tick().await;
        let Some(state) = state.upgrade() else { return };
        let found = tokio::time::timeout(REPLICA_TIMEOUT, lag.measure(&primary, &replica))
            .await
            .unwrap_or_else(|_| Err("the replica or the primary did not answer in time".into()));
        let (usable, lag_ms) = match &found {
            Ok(l) => (
                *l <= max_lag,
                u64::try_from(l.as_millis()).unwrap_or(u64::MAX - 1),
            ),
            Err(_) => (false, u64::MAX),
        };
        state.usable.store(usable, Ordering::Relaxed);
        state.lag_ms.store(lag_ms, Ordering::Relaxed);
        if usable != was_usable {
            match (&found, usable) {
                (_, true) => tracing::info!(lag_ms, "reading from the replica"),
                (Ok(l), false) => tracing::warn!(
                    lag_ms = l.as_millis() as u64,
                    max_lag_ms = max_lag.as_millis() as u64,
                    "the replica lags too far: reading from the primary until it catches up"
                ),
                (Err(why), false) => {
                    tracing::warn!(%why, "the replica is not usable: reading from the primary")
                }
            }
            was_usable = usable;
        }
    }
}

/// The primary's WAL positions noted with their times, and what they say of the replica.
struct Lag {
    /// (when, the primary's WAL position then), oldest first.
    noted: VecDeque<(Instant, u64)>,
    /// Positions noted longer ago than this are forgotten (a replica that far behind is too far).
    keep: Duration,
}

impl Lag {
    fn new(max_lag: Duration) -> Self {
        Self {
            noted: VecDeque::new(),
            keep: max_lag * 2 + Duration::from_secs(1),
        }
    }

    /// Notes the primary's position, then reads the replica's: how far behind it is.
    async fn measure(&mut self, primary: &PgPool, replica: &PgPool) -> Result<Duration, String> {
        let (at, written) = {
            let position: i64 =
                sqlx::query_scalar("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")
                    .fetch_one(primary)
                    .await
                    .map_err(|e| format!("the primary's WAL position: {e}"))?;
            (Instant::now(), u64::try_from(position).unwrap_or(0))
        };
        self.note(at, written);
        let (standby, replayed): (bool, Option<i64>) = sqlx::query_as(
            "SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint",
        )
        .fetch_one(replica)
        .await
        .map_err(|e| format!("the replica's replay position: {e}"))?;
        if !standby {
            return Err("the read database is not a standby (promoted?)".into());
        }
        let replayed = replayed
            .and_then(|r| u64::try_from(r).ok())
            .ok_or("the replica has replayed nothing yet")?;
        self.behind(replayed, Instant::now())
            .ok_or_else(|| "the replica is behind every position noted".into())
    }

    fn note(&mut self, at: Instant, position: u64) {
        self.noted.push_back((at, position));
        while self
            .noted
            .front()
            .is_some_and(|(t, _)| at.duration_since(*t) > self.keep)
        {
            self.noted.pop_front();
        }
    }

    /// How far behind a replica that replayed up to `replayed` is at `now`: the time since the
    /// latest noted position it has reached (all the primary wrote by then, it holds). `None`
    /// when it has reached none of them (it is further behind than anything remembered).
    fn behind(&self, replayed: u64, now: Instant) -> Option<Duration> {
        let (_, latest) = *self.noted.back()?;
        if replayed >= latest {
            return Some(Duration::ZERO);
        }
        self.noted
            .iter()
            .rev()
            .find(|(_, position)| *position <= replayed)
            .map(|(t, _)| now.duration_since(*t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replica_that_replayed_everything_lags_by_nothing() {
        let mut lag = Lag::new(Duration::from_secs(5));
        let t0 = Instant::now();
        lag.note(t0, 100);
        lag.note(t0 + Duration::from_secs(1), 100);
        assert_eq!(
            lag.behind(100, t0 + Duration::from_secs(9)),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn a_replica_lags_by_the_time_since_the_last_position_it_reached() {
        let mut lag = Lag::new(Duration::from_secs(5));
        let t0 = Instant::now();
        lag.note(t0, 100);
        lag.note(t0 + Duration::from_secs(1), 200);
        lag.note(t0 + Duration::from_secs(2), 300);
        let now = t0 + Duration::from_secs(3);
        assert_eq!(lag.behind(250, now), Some(Duration::from_secs(2)));
        assert_eq!(lag.behind(100, now), Some(Duration::from_secs(3)));
        // Behind everything remembered: unknown, so not used.
        assert_eq!(lag.behind(50, now), None);
    }

    #[test]
    fn old_positions_are_forgotten() {
        let mut lag = Lag::new(Duration::from_secs(1));
        let t0 = Instant::now();
        lag.note(t0, 100);
        lag.note(t0 + Duration::from_secs(10), 200);
        assert_eq!(lag.noted.len(), 1);
    }

    #[test]
    fn checks_are_frequent_but_not_constant() {
        assert_eq!(
            check_every(Duration::from_secs(5)),
            Duration::from_millis(500)
        );
        assert_eq!(
            check_every(Duration::from_millis(100)),
            Duration::from_millis(50)
        );
        assert_eq!(
            check_every(Duration::from_secs(3600)),
            Duration::from_secs(1)
        );
    }
}
