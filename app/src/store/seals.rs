//! The hash chain of the events.

use super::*;

/// The hash chain of the events (tamper evidence).
#[async_trait]
pub trait SealStore: Send + Sync + 'static {
    /// Seals events no seal covers yet, oldest first, at most `limit`, in one transaction that
    /// only one sealer holds at a time (across instances). An event older than the chain's head
    /// and older than `late_window_secs` is left unsealed: it was inserted after the fact.
    /// Returns how many were sealed.
    async fn seal_pending(&self, limit: u32, late_window_secs: i64) -> StoreResult<u64>;
    /// Links of the chain after `after_position`, in position order, each with its event as it
    /// is stored now sealed again after the seal stored at the position before (read with it);
    /// and, when the store read every event in a range of seqs for them, how many.
    async fn chain_links(
        &self,
        after_position: i64,
        limit: u32,
    ) -> StoreResult<crate::domain::seal::ChainPage>;
    /// Events no seal covers whose seq is below `below_seq` and which occurred before `before`.
    async fn unsealed_below(
        &self,
        below_seq: i64,
        before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<i64>>;
    /// How many events (sealed or not) have a seq below `below_seq`: a walk that counted the
    /// sealed ones below it knows at once whether any is unsealed, without an anti-join of every
    /// event against the seals.
    async fn events_below(&self, below_seq: i64) -> StoreResult<i64>;
    /// The chain's length and its highest sealed seq.
    async fn chain_extent(&self) -> StoreResult<(i64, i64)>;
    /// How many events have a seq above `after_seq`: above the highest sealed seq, the events
    /// the sealer has not reached yet (the sealer's lag, for metrics).
    async fn events_above(&self, after_seq: i64) -> StoreResult<i64>;
    /// The highest seq written before Doui kept recorded times (0 when the row that says so is
    /// gone: then every event must have one). Every event above it has one.
    async fn recorded_since_seq(&self) -> StoreResult<i64>;
    /// Current choices that are not what the event log says, at most `limit` of each kind: a
    /// choice whose last event is missing, another consent's, says another state, source or
    /// time, or is followed by a later event of the same consent; and consents with events but
    /// no current choice. Each as a [`Break::Projection`](crate::domain::seal::Break).
    async fn projection_mismatches(
        &self,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::seal::Break>>;
    /// Stores a signed checkpoint, unless another instance is sealing right now or one with that
    /// length exists; returns whether it was stored.
    async fn add_checkpoint(&self, checkpoint: &crate::signing::Checkpoint) -> StoreResult<bool>;
    /// Checkpoints longer than `after_length`, shortest first.
    async fn checkpoints(
        &self,
        after_length: i64,
        limit: u32,
    ) -> StoreResult<Vec<crate::signing::Checkpoint>>;
    /// The longest checkpoint.
    async fn latest_checkpoint(&self) -> StoreResult<Option<crate::signing::Checkpoint>>;
    /// Sealed events with seq above `after_seq` that occurred before `before`, oldest first, each
    /// with when a later event of the same consent superseded it (`None`: still in force). What
    /// retention looks at.
    async fn purge_candidates(
        &self,
        after_seq: i64,
        before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<PurgeCandidate>>;
    /// Stores each tombstone, then deletes its event, in one transaction; returns how many.
    async fn purge(&self, tombstones: &[(i64, crate::domain::seal::Tombstone)])
    -> StoreResult<u64>;
}

/// An event retention may purge, with what the rules need to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeCandidate {
    pub seq: i64,
    pub position: i64,
    pub seal: String,
    pub jurisdiction: crate::domain::Jurisdiction,
    pub purpose: PurposeKey,
    pub channel: Channel,
    pub superseded_at: Option<OffsetDateTime>,
}
