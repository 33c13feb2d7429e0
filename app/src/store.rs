//! What the services need from storage. SQLite and PostgreSQL implement it (in the server crate);
//! the rules are written once, against this trait.

use async_trait::async_trait;

use crate::api_key::ApiKeyRecord;
use crate::auth::{Admin, AdminId, Principal, SessionRecord, SignInLink};
use time::OffsetDateTime;

use crate::domain::{
    Change, Channel, ConsentEvent, ConsentState, NewSubject, Outcome, Purpose, PurposeKey, Source,
    Subject, SubjectId,
};

mod feed;

pub use feed::FeedStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value (external id, email) is taken.
    #[error("already exists: {0}")]
    Conflict(&'static str),
    /// An idempotency key came back with a different change than the first time.
    #[error("idempotency key reused for a different change")]
    IdempotencyKeyReused,
    /// A row refers to something that does not exist (an unknown subject or purpose).
    #[error("refers to a missing {0}")]
    MissingReference(&'static str),
    /// The change at this index of a request occurred before its consent's latest change
    /// (see `Change::arrives_late`), found where the write holds the consent: a concurrent
    /// request wrote a later change after this one was checked.
    #[error("change {0} is older than its consent's latest change")]
    OlderThanLatestChange(usize),
    /// The database cannot be reached just now (its connection was lost, it is restarting or
    /// failing over, or no connection came free in time): the same request may succeed later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything the database said that is not the caller's fault.
    #[error("database error: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The current choice for one (purpose, channel) of a subject, as the projection holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    pub purpose: PurposeKey,
    pub channel: Channel,
    pub state: ConsentState,
    pub updated_at: OffsetDateTime,
    pub source: Source,
    /// The notice version on the event that made this choice (what a re-confirmation compares).
    pub notice_version: Option<String>,
}

/// One entry of a suppression list: a subject who withdrew a purpose on a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The chain position of the change (see `domain::feed`): commit-ordered, so passing the
    /// last one seen gets exactly what changed since. A change is listed once it is sealed.
    pub cursor: i64,
    pub subject: Subject,
    pub since: OffsetDateTime,
}

/// The result of one change: what it did, and whether it is the replay of an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub outcome: Outcome,
    pub replayed: bool,
}

/// A connection pool's use at one moment: connections lent out, connections idle, and the most
/// it opens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUse {
    pub in_use: u32,
    pub idle: u32,
    pub max: u32,
}

/// The streaming replica some reads may use (`database_read_url`), as last measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaUse {
    /// The reads that may lag go to the replica now (it lags less than its bound).
    pub in_use: bool,
    /// How far behind the primary it was, `None` when unknown (unreachable, not a standby).
    pub lag: Option<std::time::Duration>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    async fn migrate(&self) -> StoreResult<()>;
    /// Succeeds when the database answers a query.
    async fn ping(&self) -> StoreResult<()>;
    /// How the connection pool is used right now (for metrics); zeros where there is none.
    fn pool_use(&self) -> PoolUse {
        PoolUse::default()
    }
    /// The read replica, when one is configured (for metrics).
    fn read_replica(&self) -> Option<ReplicaUse> {
        None
    }

    /// Purposes were saved (through `ConsoleStore::save_purpose`): forget any cached copy.
    fn purposes_changed(&self) {}
    /// All purposes, in the order they were created.
    async fn purposes(&self) -> StoreResult<std::sync::Arc<Vec<Purpose>>>;

    async fn create_subject(&self, id: SubjectId, subject: &NewSubject) -> StoreResult<Subject>;
    async fn subject(&self, id: SubjectId) -> StoreResult<Option<Subject>>;
    /// Finds a subject by external id, or else by email.
    async fn find_subject(&self, external_id_or_email: &str) -> StoreResult<Option<Subject>>;
    /// The subjects whose external id or email is one of `keys` (emails as stored: domain
    /// lower-cased), in any order.
    async fn find_subjects(&self, keys: &[String]) -> StoreResult<Vec<Subject>>;
    /// The first subjects, oldest first.
    async fn subjects(&self, limit: u32) -> StoreResult<Vec<Subject>>;
    async fn count_subjects(&self) -> StoreResult<i64>;

    /// A notice was published: forget any cached copy.
    fn notices_changed(&self) {}
    /// Every published notice version, in the order they take effect.
    async fn notices(&self) -> StoreResult<std::sync::Arc<Vec<crate::domain::Notice>>>;
    /// Publishes a notice version (checked by the caller); `Conflict` when the version exists.
    async fn publish_notice(&self, notice: &crate::domain::Notice) -> StoreResult<()>;

    /// A subject's current choices (consents never chosen are absent).
    async fn consents(&self, subject: SubjectId) -> StoreResult<Vec<ConsentRecord>>;

    /// Applies changes in one transaction: for each, its event (if any) and the projection are
    /// written together, or nothing is. A repeated idempotency key returns its first result and
    /// writes nothing.
    async fn apply(&self, changes: Vec<Change>) -> StoreResult<Vec<Applied>>;

    /// Applies several independent requests in one transaction (group commit): each request is
    /// all-or-nothing on its own, one refused request does not affect the others, and nothing is
    /// reported before the single commit.
    async fn apply_group(&self, requests: Vec<Vec<Change>>) -> Vec<StoreResult<Vec<Applied>>>;

    /// Subjects whose consent for `purpose` on `channel` is withdrawn, in chain order (the order
    /// the changes committed), with a chain position after `cursor`, at most `limit`. Changes
    /// not yet sealed are not listed yet.
    async fn suppressions(
        &self,
        purpose: &PurposeKey,
        channel: Channel,
        cursor: i64,
        limit: u32,
    ) -> StoreResult<Vec<Suppression>>;

    async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()>;
    async fn api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>>;
    /// Every key, oldest first.
    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Marks a key revoked; false when there is no such (unrevoked) key.
    async fn revoke_api_key(&self, id: &str, at: OffsetDateTime) -> StoreResult<bool>;

    /// The event that made each of a subject's current choices on `channel` (one per purpose
    /// chosen there), in any order.
    async fn latest_events_on(
        &self,
        subject: SubjectId,
        channel: Channel,
    ) -> StoreResult<Vec<ConsentEvent>>;

    /// A subject's events, newest first.
    async fn events_for_subject(
        &self,
        subject: SubjectId,
        limit: u32,
    ) -> StoreResult<Vec<ConsentEvent>>;
    /// Every event in the order it was written.
    async fn all_events(&self) -> StoreResult<Vec<ConsentEvent>>;
    /// Every current choice: (subject, purpose, channel, state).
    async fn all_consents(
        &self,
    ) -> StoreResult<Vec<(SubjectId, PurposeKey, Channel, ConsentState)>>;
}

/// The account-protection limits every instance sharing the database counts together (sign-in
/// mails, admin passwords, refused link tokens).
#[async_trait]
pub trait LimitStore: Send + Sync + 'static {
    /// Whether other instances may share this database (PostgreSQL). A SQLite database belongs
    /// to one process, whose table in memory is then the whole count: nothing is written.
    fn limits_shared(&self) -> bool;
    /// Applies `op` at `now` (unix seconds) to the record kept under `key`, in one transaction
    /// (a concurrent instance waits for it), and answers whether the action is allowed.
    async fn apply_limit(
        &self,
        key: &str,
        op: crate::rate::LimitOp,
        now: i64,
    ) -> StoreResult<Result<(), crate::rate::RetryAfter>>;
    /// Forgets the records not changed since `before` (unix seconds); returns how many.
    async fn prune_limits(&self, before: i64) -> StoreResult<u64>;
}

/// Accounts and sessions: admins, customer and admin sessions, single-use sign-in links, and the
/// shared limits that protect them.
#[async_trait]
pub trait IdentityStore: LimitStore + Send + Sync + 'static {
    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()>;
    async fn session(&self, id_hash: &str) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, id_hash: &str, at: OffsetDateTime) -> StoreResult<()>;
    async fn revoke_session(&self, id_hash: &str, at: OffsetDateTime) -> StoreResult<()>;
    /// Revokes every live session of a principal; returns how many.
    async fn revoke_sessions(&self, principal: Principal, at: OffsetDateTime) -> StoreResult<u64>;

    async fn create_sign_in_link(&self, link: &SignInLink) -> StoreResult<()>;
    async fn sign_in_link(&self, token_hash: &str) -> StoreResult<Option<SignInLink>>;
    /// Marks a link used; false when it was used already (only one caller can win).
    async fn use_sign_in_link(&self, token_hash: &str, at: OffsetDateTime) -> StoreResult<bool>;

    async fn create_opt_in_request(&self, request: &crate::auth::OptInRequest) -> StoreResult<()>;
    async fn opt_in_request(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<crate::auth::OptInRequest>>;
    /// Marks a request confirmed if it is unconfirmed and unexpired at `at`; false otherwise
    /// (only one caller can win).
    async fn confirm_opt_in_request(
        &self,
        token_hash: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;

    async fn create_admin(&self, admin: &Admin) -> StoreResult<()>;
    async fn admin(&self, id: AdminId) -> StoreResult<Option<Admin>>;
    async fn admin_by_email(&self, email: &str) -> StoreResult<Option<Admin>>;
    /// Every admin, oldest first.
    async fn admins(&self) -> StoreResult<Vec<Admin>>;
    /// Saves role, password hash, TOTP secret and disabled time.
    async fn update_admin(&self, admin: &Admin) -> StoreResult<()>;
    /// Records a TOTP step as used; false when that step or a later one was used already.
    async fn use_totp_step(&self, id: AdminId, step: i64) -> StoreResult<bool>;

    /// Records that every link of `subject` issued at or before `issued_upto` (unix seconds) is
    /// revoked: who did it and why (append-only).
    async fn revoke_links(
        &self,
        subject: SubjectId,
        at: OffsetDateTime,
        issued_upto: i64,
        revoked_by: &str,
        reason: &str,
    ) -> StoreResult<()>;
    /// The latest issue time up to which the subject's links are revoked, if ever.
    async fn links_revoked_upto(&self, subject: SubjectId) -> StoreResult<Option<i64>>;
}

/// The hash chain of the events (tamper evidence).
#[async_trait]
pub trait SealStore: Send + Sync + 'static {
    /// Seals events no seal covers yet, oldest first, at most `limit`, in one transaction that
    /// only one sealer holds at a time (across instances). An event older than the chain's head
    /// and older than `late_window_secs` is left unsealed: it was inserted after the fact.
    /// Returns how many were sealed.
    async fn seal_pending(&self, limit: u32, late_window_secs: i64) -> StoreResult<u64>;
    /// Links of the chain after `after_position`, in position order, each with its event as it
    /// is stored now sealed again after the seal stored at the position before (read with it);
    /// and, when the store read every event in a range of seqs for them, how many.
    async fn chain_links(
        &self,
        after_position: i64,
        limit: u32,
    ) -> StoreResult<crate::domain::seal::ChainPage>;
    /// Events no seal covers whose seq is below `below_seq` and which occurred before `before`.
    async fn unsealed_below(
        &self,
        below_seq: i64,
        before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<i64>>;
    /// How many events (sealed or not) have a seq below `below_seq`: a walk that counted the
    /// sealed ones below it knows at once whether any is unsealed, without an anti-join of every
    /// event against the seals.
    async fn events_below(&self, below_seq: i64) -> StoreResult<i64>;
    /// The chain's length and its highest sealed seq.
    async fn chain_extent(&self) -> StoreResult<(i64, i64)>;
    /// How many events have a seq above `after_seq`: above the highest sealed seq, the events
    /// the sealer has not reached yet (the sealer's lag, for metrics).
    async fn events_above(&self, after_seq: i64) -> StoreResult<i64>;
    /// The highest seq written before Doui kept recorded times (0 when the row that says so is
    /// gone: then every event must have one). Every event above it has one.
    async fn recorded_since_seq(&self) -> StoreResult<i64>;
    /// Current choices that are not what the event log says, at most `limit` of each kind: a
    /// choice whose last event is missing, another consent's, says another state, source or
    /// time, or is followed by a later event of the same consent; and consents with events but
    /// no current choice. Each as a [`Break::Projection`](crate::domain::seal::Break).
    async fn projection_mismatches(
        &self,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::seal::Break>>;
    /// Stores a signed checkpoint, unless another instance is sealing right now or one with that
    /// length exists; returns whether it was stored.
    async fn add_checkpoint(&self, checkpoint: &crate::signing::Checkpoint) -> StoreResult<bool>;
    /// Checkpoints longer than `after_length`, shortest first.
    async fn checkpoints(
        &self,
        after_length: i64,
        limit: u32,
    ) -> StoreResult<Vec<crate::signing::Checkpoint>>;
    /// The longest checkpoint.
    async fn latest_checkpoint(&self) -> StoreResult<Option<crate::signing::Checkpoint>>;
    /// Sealed events with seq above `after_seq` that occurred before `before`, oldest first, each
    /// with when a later event of the same consent superseded it (`None`: still in force). What
    /// retention looks at.
    async fn purge_candidates(
        &self,
        after_seq: i64,
        before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<PurgeCandidate>>;
    /// Stores each tombstone, then deletes its event, in one transaction; returns how many.
    async fn purge(&self, tombstones: &[(i64, crate::domain::seal::Tombstone)])
    -> StoreResult<u64>;
}

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
pub trait ConsoleStore: ImportStore + WebhookStore + LeaveStore + Send + Sync + 'static {
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

/// One subject as the send gate reads it: their current choice for one purpose on one channel
/// (none: never chosen) and whether their lasting objection to marketing stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateRow {
    pub subject: Subject,
    pub purpose: PurposeKey,
    pub choice: Option<ConsentRecord>,
    pub objecting: bool,
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
    /// The subjects with an id above `after`, in id order, at most `limit`, each with their choice
    /// for `purpose` on `channel`; with `granted_only`, only those whose choice is granted.
    async fn audience_page(
        &self,
        purpose: &PurposeKey,
        channel: Channel,
        after: SubjectId,
        granted_only: bool,
        limit: u32,
    ) -> StoreResult<Vec<GateRow>>;
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

/// How far an import got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportState {
    /// Being written (or stopped halfway: a run of the same file and mapping resumes it).
    Running,
    Done,
    Failed,
}

impl ImportState {
    pub const fn key(self) -> &'static str {
        match self {
            ImportState::Running => "running",
            ImportState::Done => "done",
            ImportState::Failed => "failed",
        }
    }
}

impl std::str::FromStr for ImportState {
    type Err = crate::domain::Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [ImportState::Running, ImportState::Done, ImportState::Failed]
            .into_iter()
            .find(|x| x.key() == s)
            .ok_or(crate::domain::Invalid::new("state", "unknown_import_state"))
    }
}

/// One import of a file (`doui import`, `POST /api/v1/imports`): who, when, which file, with which
/// mapping, and how far it got. Its id names the import batch on every event it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJob {
    pub id: uuid::Uuid,
    /// The SHA-256 (hex) of the file's digest and the mapping: the same file imported with the
    /// same mapping is the same batch, so a second run resumes it or writes nothing.
    pub batch: String,
    /// `cli` or `api_key:<id>`.
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub file_name: String,
    pub file_sha256: String,
    /// The mapping as [`Mapping::fingerprint`](crate::domain::import::Mapping::fingerprint) gives it.
    pub mapping: String,
    pub state: ImportState,
    pub rows_read: i64,
    pub events_written: i64,
    pub rows_refused: i64,
    /// The last line of the file whose rows are committed (a rerun starts after it).
    pub last_line: i64,
    /// The refused rows as CSV lines (line, column, code, message), without the header; capped.
    pub error_report: String,
    /// The report was cut at its cap (the counts stay exact).
    pub report_truncated: bool,
    /// Why a failed import stopped.
    pub failure: Option<String>,
}

/// One batch of an import: subjects to create and to update, the consent changes, and the job's
/// progress once it is committed.
#[derive(Debug, Clone, Default)]
pub struct ImportWrite {
    pub new_subjects: Vec<(SubjectId, NewSubject)>,
    /// Existing subjects with their new email, phone, language and jurisdiction.
    pub updated_subjects: Vec<Subject>,
    /// Each field an update changes (as `update_subject` records it): the subject, the field,
    /// the new value (language and jurisdiction only).
    pub subject_changes: Vec<(SubjectId, &'static str, Option<String>)>,
    /// Who the subject changes are recorded as made by (`cli` or `api_key:<id>`).
    pub changed_by: String,
    pub changes: Vec<Change>,
    /// The last line this batch read.
    pub through_line: i64,
    pub rows_read: i64,
    pub rows_refused: i64,
    /// Lines to add to the error report.
    pub report: String,
    /// The report reached its cap.
    pub report_truncated: bool,
}

/// Import jobs and their batches.
#[async_trait]
pub trait ImportStore: Send + Sync + 'static {
    /// The job of `job.batch`, stored as given (running) when there is none; an existing one is
    /// returned as it is stored.
    async fn start_import(&self, job: &ImportJob) -> StoreResult<ImportJob>;
    async fn import_job(&self, id: uuid::Uuid) -> StoreResult<Option<ImportJob>>;
    /// The latest imports, newest first.
    async fn imports(&self, limit: u32) -> StoreResult<Vec<ImportJob>>;
    /// Writes one batch in one transaction: the subjects, the events and the projection (decided
    /// against the current choices as `decide` does), and, for a `job`, its progress; so a batch
    /// is committed with the line it reached, or not at all. With `commit` false everything is
    /// rolled back (a dry run). Returns how many events were (or would be) written.
    async fn write_import(
        &self,
        job: Option<uuid::Uuid>,
        write: ImportWrite,
        commit: bool,
    ) -> StoreResult<u64>;
    /// Sets a job's state (with why it failed).
    async fn set_import_state(
        &self,
        id: uuid::Uuid,
        state: ImportState,
        failure: Option<&str>,
    ) -> StoreResult<()>;
}

/// Webhook endpoints, their cursors and leases, and the delivery log (issue 32). Times are unix
/// milliseconds. The dispatcher's writes hold the endpoint's lease: they change nothing when
/// another instance has taken it.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    async fn add_webhook(
        &self,
        endpoint: &crate::domain::webhook::WebhookEndpoint,
    ) -> StoreResult<()>;
    /// Every endpoint, oldest first.
    async fn webhooks(&self) -> StoreResult<Vec<crate::domain::webhook::WebhookEndpoint>>;
    async fn webhook(
        &self,
        id: &str,
    ) -> StoreResult<Option<crate::domain::webhook::WebhookEndpoint>>;
    /// Replaces an endpoint's URL, description and filter; false when there is none.
    async fn update_webhook(
        &self,
        id: &str,
        url: &str,
        description: &str,
        filter: &crate::domain::webhook::WebhookFilter,
    ) -> StoreResult<bool>;
    /// Stores a new secret, the old one signing too until `previous_until`.
    async fn rotate_webhook_secret(
        &self,
        id: &str,
        secret: &str,
        previous_secret: &str,
        previous_until: i64,
    ) -> StoreResult<bool>;
    /// Disables an endpoint with a reason.
    async fn disable_webhook(&self, id: &str, reason: &str) -> StoreResult<bool>;
    /// Makes an endpoint active again, its failures forgotten, from `position` when given.
    async fn enable_webhook(&self, id: &str, position: Option<i64>) -> StoreResult<bool>;
    async fn delete_webhook(&self, id: &str) -> StoreResult<bool>;
    /// The last chain position before the first event recorded at or after `at` (a cursor that
    /// replays from that time).
    async fn position_before(&self, at: OffsetDateTime) -> StoreResult<i64>;
    /// The endpoint's latest delivery attempts, newest first.
    async fn webhook_deliveries(
        &self,
        id: &str,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::webhook::WebhookDelivery>>;
    /// Takes (or renews) the endpoint's lease for `owner` until `now + lease_ms`, when it is free,
    /// lapsed or already `owner`'s. False: another instance delivers to it.
    async fn lease_webhook(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        lease_ms: i64,
    ) -> StoreResult<bool>;
    async fn release_webhook(&self, id: &str, owner: &str) -> StoreResult<()>;
    /// In one transaction: logs the round's attempts, moves the cursor to its `position` (the
    /// last item answered 2xx) and, with a failure, records it (else the endpoint is healthy
    /// again); for a recipient's endpoint, appends the notifications of the items answered 2xx.
    /// False when `owner` no longer holds the lease (nothing is written).
    async fn record_webhook_round(
        &self,
        id: &str,
        owner: &str,
        round: &crate::domain::webhook::WebhookRound<'_>,
        now: i64,
    ) -> StoreResult<bool>;
    /// The (subject, purpose) pairs of `recipient`'s provision records about any of `subjects`
    /// (one query, whatever their number: the dispatcher asks once per round).
    async fn provided_to(
        &self,
        recipient: &str,
        subjects: &[SubjectId],
    ) -> StoreResult<Vec<(SubjectId, PurposeKey)>>;
    /// What recipients' endpoints were told about `subject`, oldest first.
    async fn recipient_notifications(
        &self,
        subject: SubjectId,
    ) -> StoreResult<Vec<crate::domain::webhook::RecipientNotification>>;
    /// Deletes log rows older than `before`; how many.
    async fn prune_webhook_deliveries(&self, before: i64) -> StoreResult<u64>;
}

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
