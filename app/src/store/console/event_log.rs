//! The event log as the console and exports read it: filtered pages and counts.

use crate::store::*;

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

/// The event log: pages of events matching a filter, and how many there are.
#[async_trait]
pub trait EventLogStore: Send + Sync + 'static {
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
}
