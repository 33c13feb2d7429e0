//! What the console reads and changes: recipients and provisions, erasures, the event log
//! with its filters, purposes' versions, collection points, subjects' fields, idempotent answers.

use super::*;

/// A third party that personal data may be provided to (APPI 第27条).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipient {
    /// A short key senders use, e.g. `partner-a` (the same rules as a purpose key, with `-`).
    pub id: String,
    pub name: String,
    pub address: String,
    pub representative: String,
}

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

/// A lasting objection to direct marketing (GDPR Art. 21(3), R34), raised or lifted, with who,
/// when, where from and under which notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objection {
    pub subject: SubjectId,
    /// Raised (`true`) or lifted.
    pub objecting: bool,
    pub provenance: crate::domain::Provenance,
}

/// An event retention may purge, with what the rules need to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeCandidate {
    pub seq: i64,
    pub position: i64,
    pub seal: String,
    pub jurisdiction: crate::domain::Jurisdiction,
    pub purpose: PurposeKey,
    pub channel: Channel,
    pub superseded_at: Option<OffsetDateTime>,
}

/// Which events a console view or an export shows. Every part is optional; all that are set
/// must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub subject: Option<SubjectId>,
    pub purpose: Option<PurposeKey>,
    pub channel: Option<Channel>,
    pub source: Option<Source>,
    /// Occurred at or after.
    pub from: Option<OffsetDateTime>,
    /// Occurred before.
    pub until: Option<OffsetDateTime>,
}

/// Where a page of events starts: newest first below a seq (console), or oldest first above one
/// (exports, which must not miss or repeat an event while new ones arrive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventCursor {
    NewestBelow(i64),
    OldestAbove(i64),
}

/// How many events of a kind happened on a day (UTC), for the charts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCount {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub purpose: String,
    pub channel: String,
    pub to: ConsentState,
    pub source: String,
    pub count: i64,
}

/// A subject field the console searches by prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectField {
    ExternalId,
    Email,
    Phone,
}

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

/// What the console reads beyond a single subject: prefix search, event streams, counts, and the
/// audited history of purpose settings.
#[async_trait]
pub trait ConsoleStore:
    ImportStore
    + WebhookStore
    + LeaveStore
    + DoNotSellStore
    + PauseStore
    + FormStore
    + Send
    + Sync
    + 'static
{
    /// The same store's send-gate reads.
    fn audience(&self) -> &dyn AudienceStore;
    /// The same store's event feed.
    fn feed(&self) -> &dyn FeedStore;
    /// Erases a subject's identifiers in one transaction: clears email and phone, replaces the
    /// external id, records the erasure and the identifiers' digests, ends the person's sessions
    /// and drops their pending sign-in links and opt-in requests. False when the subject is
    /// unknown or already erased (nothing written).
    async fn erase_subject(&self, erasure: &Erasure) -> StoreResult<bool>;
    /// The erasure of a subject, if any (`digests` and `email` empty).
    async fn erasure(&self, subject: SubjectId) -> StoreResult<Option<Erasure>>;
    /// Whether any of these identifier digests belongs to an erased person.
    async fn erased_identifier(&self, digests: &[String]) -> StoreResult<bool>;
    /// Consents to `purpose` granted (or renewed) before `before`, still granted: (subject,
    /// channel), oldest first, at most `limit`.
    async fn granted_before(
        &self,
        purpose: &PurposeKey,
        before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<(SubjectId, Channel)>>;
    /// The subjects whose phone is exactly `phone` (E.164, as stored), at most `limit`, oldest
    /// first (an inbound text message is from one number).
    async fn subjects_by_phone(
        &self,
        phone: &crate::domain::Phone,
        limit: u32,
    ) -> StoreResult<Vec<Subject>>;

    /// Subjects whose `field` starts with `prefix`, in that field's order, at most `limit`.
    async fn subjects_by_prefix(
        &self,
        field: SubjectField,
        prefix: &str,
        limit: u32,
    ) -> StoreResult<Vec<Subject>>;
    /// A page of events matching `filter`, each with its seq.
    async fn events(
        &self,
        filter: &EventFilter,
        cursor: EventCursor,
        limit: u32,
    ) -> StoreResult<Vec<(i64, ConsentEvent)>>;
    /// How many events match (for an export's progress).
    async fn count_events(&self, filter: &EventFilter) -> StoreResult<i64>;
    /// Events per day, purpose, channel, new state and source.
    async fn event_counts(&self, filter: &EventFilter) -> StoreResult<Vec<EventCount>>;
    /// Saves a purpose and appends the version that records the change, in one transaction.
    async fn save_purpose(&self, purpose: &Purpose, changed_by: &str) -> StoreResult<i64>;
    /// Every saved version of a purpose, newest first.
    async fn purpose_versions(&self, key: &PurposeKey) -> StoreResult<Vec<PurposeVersion>>;
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

    /// Appends the raising or lifting of a lasting objection to direct marketing.
    async fn add_objection(&self, objection: &Objection) -> StoreResult<()>;
    /// The subject's latest objection record (in force when `objecting`), if any.
    async fn objection(&self, subject: SubjectId) -> StoreResult<Option<Objection>>;
    /// Every subject whose objection is in force.
    async fn objecting_subjects(&self) -> StoreResult<Vec<SubjectId>>;

    /// Registers a collection point (`Conflict("collection_point")`: its key is taken).
    async fn add_collection_point(&self, point: &crate::domain::CollectionPoint)
    -> StoreResult<()>;
    /// Every collection point, retired ones too, by key.
    async fn collection_points(&self) -> StoreResult<Vec<crate::domain::CollectionPoint>>;
    async fn collection_point(
        &self,
        key: &str,
    ) -> StoreResult<Option<crate::domain::CollectionPoint>>;
    /// Retires a point (it stays as evidence); false when it is unknown or retired already.
    async fn retire_collection_point(
        &self,
        key: &str,
        at: OffsetDateTime,
        by: &str,
    ) -> StoreResult<bool>;

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

/// The answer given to a write request with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptAnswer {
    /// The SHA-256 (hex) of the request's body.
    pub request_sha256: String,
    pub status: u16,
    pub response: String,
    pub created_at: OffsetDateTime,
}
