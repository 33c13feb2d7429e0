//! A subject's record beyond [`Store`]: found by a field's prefix or a phone number, its contact
//! fields changed with each change recorded, and the current consents of many subjects at once.

use crate::store::*;

/// A subject field the console searches by prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectField {
    ExternalId,
    Email,
    Phone,
}

/// A change of a subject's fields: `None` leaves a field as it is; for email and phone,
/// `Some(None)` removes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectUpdate {
    pub email: Option<Option<crate::domain::Email>>,
    pub phone: Option<Option<crate::domain::Phone>>,
    pub lang: Option<crate::domain::Lang>,
    pub jurisdiction: Option<crate::domain::Jurisdiction>,
    /// `Some(None)`: back to the jurisdiction's zone.
    pub time_zone: Option<Option<crate::domain::TimeZoneName>>,
}

/// One recorded change of a subject's field: which, who, when (the new value only for language,
/// jurisdiction and time zone: an address is not copied where an erasure could not reach it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectChange {
    pub seq: i64,
    pub field: String,
    pub new_value: Option<String>,
    pub changed_at: OffsetDateTime,
    pub changed_by: String,
}

/// Subjects' records: search, recorded field changes, and current consents read in bulk.
#[async_trait]
pub trait SubjectRecordStore: Send + Sync + 'static {
    /// Subjects whose `field` starts with `prefix`, in that field's order, at most `limit`.
    async fn subjects_by_prefix(
        &self,
        field: SubjectField,
        prefix: &str,
        limit: u32,
    ) -> StoreResult<Vec<Subject>>;
    /// The subjects whose phone is exactly `phone` (E.164, as stored), at most `limit`, oldest
    /// first (an inbound text message is from one number).
    async fn subjects_by_phone(
        &self,
        phone: &crate::domain::Phone,
        limit: u32,
    ) -> StoreResult<Vec<Subject>>;
    /// Changes a subject's contact fields and records each field that changed (who, when), in
    /// one transaction. `None`: no such subject, or an erased one (never changed again).
    async fn update_subject(
        &self,
        id: SubjectId,
        update: &SubjectUpdate,
        changed_by: &str,
        at: OffsetDateTime,
    ) -> StoreResult<Option<Subject>>;
    /// The recorded changes of a subject's fields, oldest first.
    async fn subject_changes(&self, id: SubjectId) -> StoreResult<Vec<SubjectChange>>;
    /// The current choices of several subjects at once.
    async fn current_consents(
        &self,
        subjects: &[SubjectId],
    ) -> StoreResult<Vec<(SubjectId, ConsentRecord)>>;
    /// Consents to `purpose` granted (or renewed) before `before`, still granted: (subject,
    /// channel), oldest first, at most `limit`.
    async fn granted_before(
        &self,
        purpose: &PurposeKey,
        before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<(SubjectId, Channel)>>;
}
