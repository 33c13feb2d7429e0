//! An event's columns as the bulk readers (`sqlite_raw.rs`, `pg_copy.rs`) read them: chain walks
//! and exports of millions of events.

use app::domain::{ConsentEvent, Origin, Provenance, SubjectId};
use app::store::StoreResult;

use super::corrupt;

/// Every event column, in the order `event_with` reads them (after the two ids and the time).
pub(crate) const EVENT_COLUMNS: [&str; 15] = [
    "id",
    "subject_id",
    "occurred_at",
    "purpose",
    "channel",
    "from_state",
    "to_state",
    "source",
    "actor",
    "notice_version",
    "origin_ip",
    "user_agent",
    "idempotency_key",
    "reason",
    "campaign",
];

/// `EVENT_COLUMNS` of table alias `e`, as a select list.
pub(crate) fn event_columns() -> String {
    EVENT_COLUMNS.map(|c| format!("e.{c}")).join(", ")
}

/// The event with these ids, this time and the twelve text columns after them.
pub(crate) fn event_with(
    id: uuid::Uuid,
    subject: SubjectId,
    occurred_at: time::OffsetDateTime,
    f: [Option<&str>; 12],
) -> StoreResult<ConsentEvent> {
    let parse = |i: usize, what: &str| -> StoreResult<&str> { f[i].ok_or_else(|| corrupt(what)) };
    let owned = |i: usize| f[i].map(str::to_owned);
    let bad = |what: &'static str| move |_| corrupt(what);
    Ok(ConsentEvent {
        id,
        subject,
        purpose: parse(0, "purpose")?.parse().map_err(bad("purpose"))?,
        channel: parse(1, "channel")?.parse().map_err(bad("channel"))?,
        from: f[2].map(str::parse).transpose().map_err(bad("state"))?,
        to: parse(3, "to_state")?.parse().map_err(bad("state"))?,
        provenance: Provenance {
            occurred_at,
            source: parse(4, "source")?.parse().map_err(bad("source"))?,
            actor: parse(5, "actor")?.parse().map_err(bad("actor"))?,
            notice_version: owned(6),
            origin: Origin {
                ip: owned(7),
                user_agent: owned(8),
            },
            idempotency_key: owned(9),
            reason: owned(10),
            campaign: owned(11),
        },
    })
}
