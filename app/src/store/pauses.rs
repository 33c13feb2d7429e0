//! Pauses (withdrawals with an end the person chose) and frequencies (how often the person wants
//! the messages of a purpose): issue 34 items 2 and 3.

use super::*;
use crate::domain::{Frequency, PauseOutcome};

/// A pause: the withdrawal that began it (`event_id`, the consent's latest event while the
/// pause is in force) and when it ends. How it was asked for (when, from where, by which
/// source) is kept with it: after an unsubscribe, the withdrawal it pauses was written by the
/// unsubscribe itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub id: uuid::Uuid,
    pub subject: SubjectId,
    pub purpose: PurposeKey,
    pub channel: Channel,
    pub event_id: uuid::Uuid,
    pub days: u16,
    pub until: OffsetDateTime,
    pub asked_at: OffsetDateTime,
    pub source: Source,
    /// The network the request came from (as events keep it: /24 or /48).
    pub ip: Option<String>,
    /// The notice version in force when it was asked for.
    pub notice_version: Option<String>,
    /// When and how it ended; `None` while it is open.
    pub ended: Option<(OffsetDateTime, PauseOutcome)>,
}

/// One frequency choice, as recorded (the latest per subject and purpose applies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrequencyChoice {
    pub subject: SubjectId,
    pub purpose: PurposeKey,
    pub frequency: Frequency,
    pub chosen_at: OffsetDateTime,
    pub source: Source,
    /// `subject`, `admin:<id>`, `api_key:<id>`.
    pub actor: String,
}

#[async_trait]
pub trait PauseStore: Send + Sync + 'static {
    /// Records pauses; in the same transaction, any open pause of the same consent ends as
    /// `replaced`.
    async fn start_pauses(&self, pauses: &[Pause]) -> StoreResult<()>;
    /// A subject's pauses in force: open, and the withdrawal that began each is still its
    /// consent's latest event. Soonest end first.
    async fn pauses_in_force(&self, subject: SubjectId) -> StoreResult<Vec<Pause>>;
    /// A subject's pauses, open or ended, newest first (at most `limit`).
    async fn pauses_of(&self, subject: SubjectId, limit: u32) -> StoreResult<Vec<Pause>>;
    /// Takes open pauses that end by `at` for `owner`, for `lease_ms` (one owner at a time
    /// across instances: a pause another owner holds is skipped until its lease ends). Each
    /// comes with whether it is still in force. At most `limit`.
    async fn claim_due_pauses(
        &self,
        at: OffsetDateTime,
        owner: &str,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<(Pause, bool)>>;
    /// Ends an open pause; false when it had ended already.
    async fn end_pause(
        &self,
        id: uuid::Uuid,
        at: OffsetDateTime,
        outcome: PauseOutcome,
    ) -> StoreResult<bool>;

    /// Records a frequency choice (append-only).
    async fn choose_frequency(&self, choice: &FrequencyChoice) -> StoreResult<()>;
    /// The latest frequency choice for each purpose of each of `subjects` that chose one.
    async fn frequencies_of(&self, subjects: &[SubjectId]) -> StoreResult<Vec<FrequencyChoice>>;
    /// A subject's frequency choices, newest first (its history, at most `limit`).
    async fn frequency_history(
        &self,
        subject: SubjectId,
        limit: u32,
    ) -> StoreResult<Vec<FrequencyChoice>>;
}
