//! The versions of collection points' signup forms (issue 34 item 6).

use super::*;

/// A collection point's signup forms: append-only versions of its settings.
#[async_trait]
pub trait FormStore: Send + Sync + 'static {
    /// Adds a version (`Conflict("form_version")` when another writer took its number).
    async fn add_signup_form(&self, form: &crate::domain::SignupForm) -> StoreResult<()>;
    /// The newest version of a point's form, if it ever had one.
    async fn signup_form(&self, point: &str) -> StoreResult<Option<crate::domain::SignupForm>>;
    /// The newest version of every point's form, by point.
    async fn signup_forms(&self) -> StoreResult<Vec<crate::domain::SignupForm>>;
}
