//! The answers kept for the senders' idempotency keys: a retried write gets the first answer.

use crate::store::*;

/// The answer given to a write request with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptAnswer {
    /// The SHA-256 (hex) of the request's body.
    pub request_sha256: String,
    pub status: u16,
    pub response: String,
    pub created_at: OffsetDateTime,
}

/// Answers kept per API key and idempotency key; the first kept stays.
#[async_trait]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// The answer kept for an API key's idempotency key.
    async fn idempotent_answer(&self, api_key: &str, key: &str) -> StoreResult<Option<KeptAnswer>>;
    /// Keeps an answer; false when one is kept already for that key (the first stays).
    async fn keep_idempotent_answer(
        &self,
        api_key: &str,
        key: &str,
        answer: &KeptAnswer,
    ) -> StoreResult<bool>;
}
