//! Lasting objections to direct marketing (GDPR Art. 21(3), R34), kept append-only.

use crate::store::*;

/// A lasting objection to direct marketing (GDPR Art. 21(3), R34), raised or lifted, with who,
/// when, where from and under which notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objection {
    pub subject: SubjectId,
    /// Raised (`true`) or lifted.
    pub objecting: bool,
    pub provenance: crate::domain::Provenance,
}

/// The objections raised and lifted, the latest of each subject's in force.
#[async_trait]
pub trait ObjectionStore: Send + Sync + 'static {
    /// Appends the raising or lifting of a lasting objection to direct marketing.
    async fn add_objection(&self, objection: &Objection) -> StoreResult<()>;
    /// The subject's latest objection record (in force when `objecting`), if any.
    async fn objection(&self, subject: SubjectId) -> StoreResult<Option<Objection>>;
    /// Every subject whose objection is in force.
    async fn objecting_subjects(&self) -> StoreResult<Vec<SubjectId>>;
}
