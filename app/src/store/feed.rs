//! What the event feed reads: sealed events in chain order (see `domain::feed`).

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::{FeedFilter, FeedItem};

#[async_trait]
pub trait FeedStore: Send + Sync + 'static {
    /// The chain's head: the highest sealed position (0 when nothing is sealed). Every position
    /// up to it is committed, so a reader that saw it may page up to it and miss nothing.
    async fn feed_head(&self) -> StoreResult<i64>;
    /// Sealed events with a chain position in `(after, upto]` that pass `filter`, in position
    /// order, at most `limit`; each with its subject as it is now. Events purged by retention
    /// are no longer there (their positions are skipped).
    async fn feed_page(
        &self,
        after: i64,
        upto: i64,
        filter: &FeedFilter,
        limit: u32,
    ) -> StoreResult<Vec<FeedItem>>;
    /// How many ranges of a long unfiltered page are best read at once: one where a page is
    /// read in the server's own process (SQLite: a second read only takes a core from the
    /// writing of the answer), more where the database works in processes of its own.
    fn feed_reads_at_once(&self) -> usize {
        1
    }
}
