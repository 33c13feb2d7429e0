//! The APPI register of third-party provision: the recipients personal data may be provided to
//! (第27条), each provision to them (第29条) and each acquisition from another business (第30条).

use crate::store::*;

/// A third party that personal data may be provided to (APPI 第27条).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipient {
    /// A short key senders use, e.g. `partner-a` (the same rules as a purpose key, with `-`).
    pub id: String,
    pub name: String,
    pub address: String,
    pub representative: String,
}

/// One provision of a person's data to a recipient (APPI 第29条): kept at least 3 years.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provision {
    /// Its number (0 before it is stored).
    pub seq: i64,
    pub subject: SubjectId,
    pub recipient: String,
    pub purpose: PurposeKey,
    pub provided_at: OffsetDateTime,
    /// The items that identify the person to the recipient, e.g. `email, name`.
    pub identified_by: String,
    /// The data items provided.
    pub data_items: String,
    /// Who recorded it: `api_key:<id>` or `admin:<id>`.
    pub recorded_by: String,
    /// The recipient as it was when the data was provided (R51), taken from the recipients
    /// row by the statement that stores the record; later edits of the recipient do not change
    /// it. `None` before it is stored, and for records stored before Doui kept it.
    pub recipient_as_provided: Option<Recipient>,
}

/// A person's data received from another business (APPI 第30条): who provided it and how they
/// had acquired it, confirmed on receipt; kept at least 3 years.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acquisition {
    /// Its number (0 before it is stored).
    pub seq: i64,
    pub subject: SubjectId,
    pub provider_name: String,
    pub provider_address: String,
    pub provider_representative: String,
    /// How the provider acquired the data.
    pub acquired_by: String,
    pub data_items: String,
    pub received_at: OffsetDateTime,
    pub recorded_by: String,
}

/// The register: recipients, and the append-only records of provisions and acquisitions.
#[async_trait]
pub trait RegisterStore: Send + Sync + 'static {
    /// Adds or changes a third-party recipient.
    async fn save_recipient(&self, recipient: &Recipient) -> StoreResult<()>;
    async fn recipients(&self) -> StoreResult<Vec<Recipient>>;
    /// Appends a provision record, with the recipient as its row is now; returns the stored
    /// record (its number and that recipient). `MissingReference` when there is no such
    /// recipient.
    async fn add_provision(&self, provision: &Provision) -> StoreResult<Provision>;
    /// A subject's provision records, newest first.
    async fn provisions(&self, subject: SubjectId, limit: u32) -> StoreResult<Vec<Provision>>;
    /// Appends a record of data received from another business; returns its number.
    async fn add_acquisition(&self, acquisition: &Acquisition) -> StoreResult<i64>;
    /// A subject's acquisition records, newest first.
    async fn acquisitions(&self, subject: SubjectId, limit: u32) -> StoreResult<Vec<Acquisition>>;
}
