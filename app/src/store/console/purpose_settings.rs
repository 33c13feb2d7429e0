//! Purposes' settings as owners save them, with the append-only versions of every change.

use crate::store::*;

/// One saved version of a purpose's settings: who changed what, when. Append-only; a mode change
/// applies from its time on and never rewrites the events before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeVersion {
    pub purpose: Purpose,
    pub version: i64,
    pub changed_at: OffsetDateTime,
    /// `admin:<id>`, `system` (built-in seeds) or `cli`.
    pub changed_by: String,
}

/// The audited history of purpose settings (the purposes themselves are read through [`Store`]).
#[async_trait]
pub trait PurposeSettingsStore: Send + Sync + 'static {
    /// Saves a purpose and appends the version that records the change, in one transaction.
    async fn save_purpose(&self, purpose: &Purpose, changed_by: &str) -> StoreResult<i64>;
    /// Every saved version of a purpose, newest first.
    async fn purpose_versions(&self, key: &PurposeKey) -> StoreResult<Vec<PurposeVersion>>;
}
