//! Why a person left (the answers after an unsubscribe).

use super::*;

/// Why a person left, kept beside one withdrawal its unsubscribe recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaveAnswer {
    pub event_id: uuid::Uuid,
    pub subject: SubjectId,
    pub purpose: crate::domain::PurposeKey,
    pub channel: Channel,
    pub campaign: Option<String>,
    pub reason: crate::domain::LeaveReason,
    pub text: Option<String>,
    pub answered_at: OffsetDateTime,
}

/// How many answers gave `reason` for `purpose` in `campaign`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaveCount {
    pub purpose: String,
    pub campaign: Option<String>,
    pub reason: crate::domain::LeaveReason,
    pub count: i64,
}

/// The answers to "why are you leaving?" (issue 34 item 1).
#[async_trait]
pub trait LeaveStore: Send + Sync + 'static {
    /// Keeps the answers (the first one for an event stands); how many were new.
    async fn keep_leave_reasons(&self, answers: &[LeaveAnswer]) -> StoreResult<u64>;
    /// The answers given since `since`, counted by purpose, campaign and reason.
    async fn leave_reason_counts(&self, since: OffsetDateTime) -> StoreResult<Vec<LeaveCount>>;
    /// A subject's answers: (event id, reason, text; the text is gone after an erasure).
    async fn leave_reasons_of(
        &self,
        subject: SubjectId,
    ) -> StoreResult<Vec<(String, crate::domain::LeaveReason, Option<String>)>>;
}
