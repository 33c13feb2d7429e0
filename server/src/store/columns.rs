//! An event's columns as the bulk readers (`sqlite_raw.rs`, `pg_copy.rs`) read them: chain walks
//! and exports of millions of events.

use app::domain::{ConsentEvent, Origin, Provenance, SubjectId};
use app::store::StoreResult;

use super::corrupt;

/// Every event column: the two ids, the time, twelve texts, when it was recorded, then the four
/// texts of a change collected elsewhere (`StoredEvent` holds the sixteen texts together; see
/// `text_column`).
pub(crate) const EVENT_COLUMNS: [&str; 20] = [
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
    "recorded_at",
    "collection_point",
    "import_batch",
    "form_url",
    "proof_ref",
];

/// Where `StoredEvent`'s `i`-th text is among `EVENT_COLUMNS` (the recorded time sits between
/// the first twelve and the last four).
pub(crate) const fn text_column(i: usize) -> usize {
    if i < 12 { 3 + i } else { 4 + i }
}

/// Where the recorded time is among `EVENT_COLUMNS`.
pub(crate) const RECORDED_AT_COLUMN: usize = 15;

/// `EVENT_COLUMNS` of table alias `e`, as a select list.
pub fn event_columns() -> String {
    EVENT_COLUMNS.map(|c| format!("e.{c}")).join(", ")
}

/// An event's columns as a bulk reader reads them, borrowed from its page: the two ids, the time
/// and the sixteen text columns (`EVENT_COLUMNS`' order, see `text_column`), as bytes: a chain walk seals
/// them as they are, and only `event` needs them to be UTF-8.
pub(crate) struct StoredEvent<'a> {
    pub id: uuid::Uuid,
    pub subject: uuid::Uuid,
    pub occurred_at: time::OffsetDateTime,
    pub texts: [Option<&'a [u8]>; 16],
    pub recorded_at: Option<time::OffsetDateTime>,
}

impl<'a> StoredEvent<'a> {
    /// An event's columns through a row reader's accessors: the two ids, readers of the two
    /// times and one of the `i`-th text column's bytes. `None` when its ids are NULL.
    pub(crate) fn read(
        (id, subject): (Option<uuid::Uuid>, Option<uuid::Uuid>),
        (occurred_at, recorded_at): (
            impl FnOnce() -> StoreResult<time::OffsetDateTime>,
            impl FnOnce() -> StoreResult<Option<time::OffsetDateTime>>,
        ),
        text: impl Fn(usize) -> Option<&'a [u8]>,
    ) -> StoreResult<Option<Self>> {
        let (Some(id), Some(subject)) = (id, subject) else {
            return Ok(None);
        };
        let occurred_at = occurred_at()?;
        let recorded_at = recorded_at()?;
        let texts = std::array::from_fn(text);
        Ok(Some(Self {
            id,
            subject,
            occurred_at,
            texts,
            recorded_at,
        }))
    }

    /// The fields its seal covers, as stored, borrowed: a chain walk builds no event. `None`
    /// when a value every event has is missing.
    pub(crate) fn fields(&self) -> Option<app::domain::seal::EventFields<'a>> {
        let f = &self.texts;
        Some(app::domain::seal::EventFields {
            id: self.id,
            subject: self.subject,
            occurred_at: self.occurred_at,
            purpose: f[0]?,
            channel: f[1]?,
            from: f[2],
            to: f[3]?,
            source: f[4]?,
            actor: f[5]?,
            notice_version: f[6],
            origin_ip: f[7],
            user_agent: f[8],
            idempotency_key: f[9],
            reason: f[10],
            campaign: f[11],
            collection_point: f[12],
            import_batch: f[13],
            form_url: f[14],
            proof_ref: f[15],
            recorded_at: self.recorded_at,
        })
    }

    /// The event, its values checked (texts that are not UTF-8 are corrupt).
    pub(crate) fn event(&self) -> StoreResult<ConsentEvent> {
        let mut f = [None; 16];
        for (t, bytes) in f.iter_mut().zip(self.texts) {
            *t = bytes
                .map(std::str::from_utf8)
                .transpose()
                .map_err(|_| corrupt("text"))?;
        }
        let parse =
            |i: usize, what: &str| -> StoreResult<&str> { f[i].ok_or_else(|| corrupt(what)) };
        let owned = |i: usize| f[i].map(str::to_owned);
        let bad = |what: &'static str| move |_| corrupt(what);
        Ok(ConsentEvent {
            id: self.id,
            subject: SubjectId(self.subject),
            purpose: parse(0, "purpose")?.parse().map_err(bad("purpose"))?,
            channel: parse(1, "channel")?.parse().map_err(bad("channel"))?,
            from: f[2].map(str::parse).transpose().map_err(bad("state"))?,
            to: parse(3, "to_state")?.parse().map_err(bad("state"))?,
            provenance: Provenance {
                occurred_at: self.occurred_at,
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
                collection_point: owned(12),
                import_batch: owned(13),
                form_url: owned(14),
                proof_ref: owned(15),
            },
            recorded_at: self.recorded_at,
        })
    }
}

/// The event a bulk reader read (`StoredEvent::read`'s answer), at `seq`, sealed again after
/// `after`; `buf` holds its canonical bytes meanwhile. `None` when it no longer reads as an event:
/// a walk counts it as gone.
pub(crate) fn resealed(
    stored: StoreResult<Option<StoredEvent<'_>>>,
    buf: &mut Vec<u8>,
    after: Option<app::domain::seal::Seal>,
    seq: i64,
) -> Option<app::domain::seal::Resealed> {
    let fields = stored.ok()??.fields()?;
    Some(app::domain::seal::reseal(buf, after, seq, &fields))
}
