//! California's Do Not Sell or Share requests (R57), kept append-only.

use super::*;
use crate::domain::DoNotSellRequest;

/// The Do Not Sell or Share requests received (with or without a known subject).
#[async_trait]
pub trait DoNotSellStore: Send + Sync + 'static {
    /// Keeps one request.
    async fn record_do_not_sell(&self, request: &DoNotSellRequest) -> StoreResult<()>;
    /// A subject's requests, newest first (at most `limit`).
    async fn do_not_sell_requests_of(
        &self,
        subject: SubjectId,
        limit: u32,
    ) -> StoreResult<Vec<DoNotSellRequest>>;
}
