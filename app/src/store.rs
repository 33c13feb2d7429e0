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

mod audience;
mod console;
mod do_not_sell;
mod forms;
mod identity;
mod imports;
mod leaving;
mod pauses;
mod seals;
mod webhooks;

pub use audience::*;
pub use console::*;
pub use do_not_sell::*;
pub use forms::*;
pub use identity::*;
pub use imports::*;
pub use leaving::*;
pub use pauses::*;
pub use seals::*;
pub use webhooks::*;

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
    /// An import's batch found the job's progress elsewhere than where the batch starts: the
    /// batch before it was not written, or another run of the same file wrote first.
    #[error(
        "the import's progress moved: the batch before this one was not written, or another run wrote first"
    )]
    ImportProgressMoved,
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

    /// Purposes were saved (through `PurposeSettingsStore::save_purpose`): forget any cached copy.
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
