//! Erasures on request (GDPR Art. 17; R35) and the digests of the identifiers they erased.

use crate::store::*;

/// An erasure on request (GDPR Art. 17; R35).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    pub subject: SubjectId,
    pub erased_at: OffsetDateTime,
    /// Who carried it out (`admin:<email>`, `cli`).
    pub erased_by: String,
    pub reason: String,
    /// The external id that replaces the sender's own (which may identify the person).
    pub placeholder: String,
    /// (kind, digest) of each identifier erased, kept as a suppression entry.
    pub digests: Vec<(String, String)>,
    /// The email address erased, so pending requests made with it go too (not read back).
    pub email: Option<String>,
}

/// Erasures, and the identifiers' digests an erasure keeps so the person is not added again.
#[async_trait]
pub trait ErasureStore: Send + Sync + 'static {
    /// Erases a subject's identifiers in one transaction: clears email and phone, replaces the
    /// external id, records the erasure and the identifiers' digests, ends the person's sessions
    /// and drops their pending sign-in links and opt-in requests. False when the subject is
    /// unknown or already erased (nothing written).
    async fn erase_subject(&self, erasure: &Erasure) -> StoreResult<bool>;
    /// The erasure of a subject, if any (`digests` and `email` empty).
    async fn erasure(&self, subject: SubjectId) -> StoreResult<Option<Erasure>>;
    /// Whether any of these identifier digests belongs to an erased person.
    async fn erased_identifier(&self, digests: &[String]) -> StoreResult<bool>;
}
