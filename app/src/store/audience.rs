//! The send gate: who may be contacted now.

use super::*;

/// One subject as the send gate reads it: their current choice for one purpose on one channel
/// (none: never chosen) and whether their lasting objection to marketing stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateRow {
    pub subject: Subject,
    pub purpose: PurposeKey,
    pub choice: Option<ConsentRecord>,
    pub objecting: bool,
    /// How often they want the purpose's messages, where they chose (none: every message).
    pub frequency: Option<crate::domain::Frequency>,
}

/// What the send gate reads (the permissions check, the audience, the lapsed entries of the
/// suppression list), in batches and pages: never one query per subject.
#[async_trait]
pub trait AudienceStore: Send + Sync + 'static {
    /// The current choices of these subjects (every purpose and channel), each with its subject.
    async fn choices_of(
        &self,
        subjects: &[SubjectId],
    ) -> StoreResult<Vec<(SubjectId, ConsentRecord)>>;
    /// Which of these subjects have a lasting objection to marketing in force.
    async fn objecting_among(&self, subjects: &[SubjectId]) -> StoreResult<Vec<SubjectId>>;
    /// The subjects with an id above `after` (and at most `upto`, where given), in id order, at
    /// most `limit`, each with their choice for `purpose` on `channel`; with `granted_only`, only
    /// those whose choice is granted.
    async fn audience_page(
        &self,
        purpose: &PurposeKey,
        channel: Channel,
        after: SubjectId,
        upto: Option<SubjectId>,
        granted_only: bool,
        limit: u32,
    ) -> StoreResult<Vec<GateRow>>;
    /// The id of the `rows`-th subject above `after` that [`AudienceStore::audience_page`] would
    /// read (`None`: there are fewer): where a range of the audience ends, found from an index
    /// alone so that the next range can be read while this one is.
    async fn audience_bound(
        &self,
        purpose: &PurposeKey,
        channel: Channel,
        after: SubjectId,
        granted_only: bool,
        rows: u32,
    ) -> StoreResult<Option<SubjectId>>;
    /// Consents withdrawn on `channel` to any purpose, in chain order, after `cursor`
    /// (the suppression list across every purpose: the same cursor as [`Store::suppressions`]).
    async fn withdrawn_on(
        &self,
        channel: Channel,
        cursor: i64,
        limit: u32,
    ) -> StoreResult<Vec<(PurposeKey, Suppression)>>;
    /// Granted consents on `channel` (to `purpose`, or to any purpose when `None`) after `after`
    /// in (subject id, purpose) order, at most `limit`.
    async fn granted_page(
        &self,
        purpose: Option<&PurposeKey>,
        channel: Channel,
        after: (SubjectId, &str),
        limit: u32,
    ) -> StoreResult<Vec<GateRow>>;
}
