//! What the console reads and changes, one trait per concern, each reached from [`ConsoleStore`]
//! by an accessor: erasures, the event log with its filters, purposes' settings and versions,
//! the APPI register (recipients, provisions, acquisitions), objections, collection points,
//! subjects' records (search, field changes, current consents) and idempotent answers.

use super::*;

mod collection_points;
mod erasure;
mod event_log;
mod idempotency;
mod objections;
mod purpose_settings;
mod register;
mod subject_records;

pub use collection_points::*;
pub use erasure::*;
pub use event_log::*;
pub use idempotency::*;
pub use objections::*;
pub use purpose_settings::*;
pub use register::*;
pub use subject_records::*;

/// Everything the console and the senders' API reach beyond [`Store`]: the stores of imports,
/// webhooks, leaving reasons, Do Not Sell requests, pauses and forms it extends, and the others
/// one accessor each (the same store behind every one).
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
    /// The same store's erasures and erased identifiers.
    fn erasures(&self) -> &dyn ErasureStore;
    /// The same store's event log: filtered pages and counts.
    fn event_log(&self) -> &dyn EventLogStore;
    /// The same store's purpose settings and their versions.
    fn purpose_settings(&self) -> &dyn PurposeSettingsStore;
    /// The same store's APPI register: recipients, provisions, acquisitions.
    fn register(&self) -> &dyn RegisterStore;
    /// The same store's objections to direct marketing.
    fn objections(&self) -> &dyn ObjectionStore;
    /// The same store's collection points.
    fn points(&self) -> &dyn CollectionPointStore;
    /// The same store's subject records: search, field changes, current consents.
    fn subject_records(&self) -> &dyn SubjectRecordStore;
    /// The same store's answers kept for idempotency keys.
    fn idempotency(&self) -> &dyn IdempotencyStore;
}
