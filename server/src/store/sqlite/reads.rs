//! Bulk reads of SQLite (chain walks, exports, the send gate's pages): rows read in place (see
//! sqlite_raw.rs).

use super::SqliteStore;
use crate::store::{
    columns,
    sqlite_raw::{self, Param},
};
use time::format_description::well_known::Rfc3339;

/// Bulk reads (chain walks, exports): rows read in place (see sqlite_raw.rs).
impl SqliteStore {
    /// The subjects a `SELECT {SUBJECT_COLUMNS}` with text parameters finds, read in place (the
    /// bulk links look up a thousand recipients a query: through sqlx, copying every value of
    /// every row was a third of the machine's CPU).
    pub(super) async fn read_subjects(
        &self,
        sql: String,
        values: Vec<String>,
    ) -> app::store::StoreResult<Vec<app::domain::Subject>> {
        let params = values.into_iter().map(Param::Text).collect();
        sqlite_raw::each_row(self.readers.clone(), sql, params, Vec::new(), |out, row| {
            let mut subject = subject_at(row)?;
            subject.time_zone = row
                .text(7)?
                .map(app::domain::TimeZoneName::parse)
                .transpose()
                .map_err(|_| crate::store::corrupt("time_zone"))?;
            out.push(subject);
            Ok(())
        })
        .await
    }

    /// One page of the chain, in order, each event sealed again as it is read (on the read's
    /// own thread) after the seal read before it. The tombstones of the events found gone are
    /// read after, by a query of their own: a join would look each link's up, for the few
    /// retention purged.
    pub(super) async fn read_chain_links(
        &self,
        after_position: i64,
        limit: u32,
    ) -> app::store::StoreResult<app::domain::seal::ChainPage> {
        use app::domain::seal::{from_hex, seal_before};
        // The link at `after_position` is read first for its seal only: the first link is sealed
        // after it.
        let sql = format!(
            "SELECT s.position, s.event_seq, s.seal, {} \
             FROM event_seals s LEFT JOIN consent_events e ON e.seq = s.event_seq \
             WHERE s.position >= ?1 ORDER BY s.position LIMIT ?2",
            columns::event_columns()
        );
        let params = vec![Param::Int(after_position), Param::Int(i64::from(limit) + 1)];
        let links = Vec::with_capacity(limit as usize);
        let (mut previous, mut buf) = (None, Vec::with_capacity(512));
        let mut links = sqlite_raw::each_row(
            self.readers.clone(),
            sql,
            params,
            links,
            move |links, row| {
                let (position, seq) = (row.int(0), row.int(1));
                let seal = from_hex(row.bytes(2).unwrap_or_default());
                let after = seal_before(position, previous.replace((position, seal)));
                if position <= after_position || links.len() == limit as usize {
                    return Ok(());
                }
                let resealed = columns::resealed(stored_at(row, 3), &mut buf, after, seq);
                links.push(crate::store::seals::link(
                    (position, seq, seal),
                    [None, None, None],
                    resealed,
                ));
                Ok(())
            },
        )
        .await?;
        let gone: Vec<String> = links
            .iter()
            .filter(|l| l.resealed.is_none())
            .map(|l| l.seq.to_string())
            .collect();
        // Each link's event is looked up, not a range of seqs read: the page counts no events
        // (a walk counts them at its end, from SQLite's smallest index).
        let page = |links| app::domain::seal::ChainPage {
            links,
            events: None,
        };
        if gone.is_empty() {
            return Ok(page(links));
        }
        let sql = format!(
            "SELECT seq, purged_at, reason, signature FROM event_tombstones WHERE seq IN ({})",
            gone.join(", ")
        );
        let mut found = sqlite_raw::each_row(
            self.readers.clone(),
            sql,
            Vec::new(),
            std::collections::HashMap::new(),
            |found, row| {
                let owned = |i| row.text(i).map(|t| t.map(str::to_owned));
                found.insert(row.int(0), [owned(1)?, owned(2)?, owned(3)?]);
                Ok(())
            },
        )
        .await?;
        for l in links.iter_mut().filter(|l| l.resealed.is_none()) {
            if let Some(tombstone) = found.remove(&l.seq) {
                *l = crate::store::seals::link((l.position, l.seq, l.seal), tombstone, None);
            }
        }
        Ok(page(links))
    }

    /// One page of events (`tail` is the WHERE/ORDER/LIMIT), in order.
    pub(super) async fn read_events(
        &self,
        tail: &str,
        binds: Vec<crate::store::Bind>,
        limit: u32,
        _from: crate::store::ReadFrom,
    ) -> app::store::StoreResult<Vec<(i64, app::domain::ConsentEvent)>> {
        let sql = format!(
            "SELECT e.seq, {} FROM consent_events e{tail}",
            columns::event_columns()
        );
        let params = binds.into_iter().map(param).collect();
        let events = Vec::with_capacity(limit as usize);
        sqlite_raw::each_row(self.readers.clone(), sql, params, events, |events, row| {
            let event = stored_at(row, 1)?
                .ok_or_else(|| crate::store::corrupt("event"))?
                .event()?;
            events.push((row.int(0), event));
            Ok(())
        })
        .await
    }

    /// A page of the feed (`sql` selects `feed_columns()`), read in place: the position, the
    /// event's columns, and its subject's (the id being the event's `subject_id`).
    pub(super) async fn read_feed(
        &self,
        sql: String,
        binds: Vec<crate::store::Bind>,
        _primary: bool,
    ) -> app::store::StoreResult<Vec<app::domain::FeedItem>> {
        const SUBJECT_AT: i32 = 1 + columns::EVENT_COLUMNS.len() as i32;
        let params = binds.into_iter().map(param).collect();
        sqlite_raw::each_row(
            self.readers.clone(),
            sql,
            params,
            Vec::new(),
            |items, row| {
                let event = stored_at(row, 1)?
                    .ok_or_else(|| crate::store::corrupt("event"))?
                    .event()?;
                items.push(app::domain::FeedItem {
                    cursor: row.int(0),
                    kind: app::domain::FeedKind::ConsentChanged,
                    subject: subject_with(row, 2, SUBJECT_AT)?,
                    event,
                });
                Ok(())
            },
        )
        .await
    }
}

/// A bound value as SQLite takes it (times are RFC 3339 text, as `event_query` binds them).
fn param(b: crate::store::Bind) -> Param {
    use crate::store::Bind;
    match b {
        Bind::Id(u) => Param::Blob(u.as_bytes().to_vec()),
        Bind::Text(t) => Param::Text(t),
        Bind::Int(i) => Param::Int(i),
        Bind::Time(t) => Param::Text(t.format(&Rfc3339).unwrap_or_default()),
    }
}

/// The subject in the first seven columns of `SUBJECT_COLUMNS` (id, external_id, email, phone,
/// lang, jurisdiction, erased_at), checked as `rows::subject` checks it; its time zone (the
/// eighth) is read where it was selected.
fn subject_at(row: &sqlite_raw::Row<'_>) -> app::store::StoreResult<app::domain::Subject> {
    subject_with(row, 0, 1)
}

/// The subject whose id is column `id_at` and whose external_id, email, phone, lang,
/// jurisdiction and erased_at are the six columns from `at`.
fn subject_with(
    row: &sqlite_raw::Row<'_>,
    id_at: i32,
    at: i32,
) -> app::store::StoreResult<app::domain::Subject> {
    use app::domain::{Email, ExternalId, Phone, Subject, SubjectId};
    let corrupt = crate::store::corrupt;
    let id = row
        .bytes(id_at)
        .and_then(|b| uuid::Uuid::from_slice(b).ok())
        .ok_or_else(|| corrupt("id"))?;
    let text = |i, what| row.text(i)?.ok_or_else(|| corrupt(what));
    Ok(Subject {
        id: SubjectId(id),
        external_id: ExternalId::parse(text(at, "external_id")?).map_err(|_| corrupt("subject"))?,
        email: row
            .text(at + 1)?
            .map(Email::parse)
            .transpose()
            .map_err(|_| corrupt("email"))?,
        phone: row
            .text(at + 2)?
            .map(Phone::parse)
            .transpose()
            .map_err(|_| corrupt("phone"))?,
        lang: text(at + 3, "lang")?.parse().map_err(|_| corrupt("lang"))?,
        jurisdiction: text(at + 4, "jurisdiction")?
            .parse()
            .map_err(|_| corrupt("jurisdiction"))?,
        erased_at: row
            .text(at + 5)?
            .map(|t| time::OffsetDateTime::parse(t, &Rfc3339))
            .transpose()
            .map_err(|_| corrupt("erased_at"))?,
        time_zone: None,
    })
}

/// The event whose columns start at `at` (`None` when its ids are NULL: a LEFT JOIN found none).
fn stored_at<'r>(
    row: &'r sqlite_raw::Row<'_>,
    at: i32,
) -> app::store::StoreResult<Option<columns::StoredEvent<'r>>> {
    let id = |i: i32| {
        row.bytes(at + i)
            .map(|b| uuid::Uuid::from_slice(b).map_err(|_| crate::store::corrupt("id")))
            .transpose()
    };
    columns::StoredEvent::read(
        (id(0)?, id(1)?),
        // Times are RFC 3339 text.
        (
            || {
                row.bytes(at + 2)
                    .and_then(app::domain::rfc3339::parse)
                    .ok_or_else(|| crate::store::corrupt("occurred_at"))
            },
            || {
                row.bytes(at + columns::RECORDED_AT_COLUMN as i32)
                    .map(|t| {
                        app::domain::rfc3339::parse(t)
                            .ok_or_else(|| crate::store::corrupt("recorded_at"))
                    })
                    .transpose()
            },
        ),
        |i| row.bytes(at + columns::text_column(i) as i32),
    )
}

/// The send gate's pages (see audience.rs), read in place like the other bulk reads: an audience
/// streams every subject of a purpose.
impl SqliteStore {
    pub(super) async fn read_gate(
        &self,
        sql: String,
        binds: Vec<crate::store::Bind>,
        purpose: Option<app::domain::PurposeKey>,
    ) -> app::store::StoreResult<Vec<app::store::GateRow>> {
        let sql = crate::store::audience::numbered_for_sqlite(&sql);
        let params = binds.into_iter().map(param).collect();
        sqlite_raw::each_row(
            self.readers.clone(),
            sql,
            params,
            Vec::new(),
            move |out, row| {
                out.push(gate_at(row, purpose.as_ref())?);
                Ok(())
            },
        )
        .await
    }
}

impl SqliteStore {
    /// Subject ids (the first column), read in place.
    pub(super) async fn read_subject_ids(
        &self,
        sql: String,
        binds: Vec<crate::store::Bind>,
    ) -> app::store::StoreResult<Vec<app::domain::SubjectId>> {
        let params = binds.into_iter().map(param).collect();
        sqlite_raw::each_row(self.readers.clone(), sql, params, Vec::new(), |out, row| {
            out.push(subject_id_at(row, 0)?);
            Ok(())
        })
        .await
    }

    /// Choices with their subject (`subject_id` then the `ConsentRecord` columns), read in place:
    /// a permissions check reads those of ten thousand subjects at once.
    pub(super) async fn read_choices(
        &self,
        sql: String,
        binds: Vec<crate::store::Bind>,
    ) -> app::store::StoreResult<Vec<(app::domain::SubjectId, app::store::ConsentRecord)>> {
        let params = binds.into_iter().map(param).collect();
        sqlite_raw::each_row(self.readers.clone(), sql, params, Vec::new(), |out, row| {
            out.push((subject_id_at(row, 0)?, record_at(row, 1)?));
            Ok(())
        })
        .await
    }
}

/// The subject id in column `at`.
fn subject_id_at(
    row: &sqlite_raw::Row<'_>,
    at: i32,
) -> app::store::StoreResult<app::domain::SubjectId> {
    row.bytes(at)
        .and_then(|b| uuid::Uuid::from_slice(b).ok())
        .map(app::domain::SubjectId)
        .ok_or_else(|| crate::store::corrupt("id"))
}

/// The `ConsentRecord` whose columns (purpose, channel, state, updated_at, source,
/// notice_version) start at `at`.
fn record_at(
    row: &sqlite_raw::Row<'_>,
    at: i32,
) -> app::store::StoreResult<app::store::ConsentRecord> {
    let corrupt = crate::store::corrupt;
    let text = |i: i32, what| row.text(at + i)?.ok_or_else(|| corrupt(what));
    Ok(app::store::ConsentRecord {
        purpose: text(0, "purpose")?
            .parse()
            .map_err(|_| corrupt("purpose"))?,
        channel: text(1, "channel")?
            .parse()
            .map_err(|_| corrupt("channel"))?,
        state: text(2, "state")?.parse().map_err(|_| corrupt("state"))?,
        updated_at: row
            .bytes(at + 3)
            .and_then(app::domain::rfc3339::parse)
            .ok_or_else(|| corrupt("updated_at"))?,
        source: text(4, "source")?.parse().map_err(|_| corrupt("source"))?,
        notice_version: row.text(at + 5)?.map(str::to_owned),
    })
}

/// A row of `gate_columns`: the subject (columns 0–6), its choice (7–12, absent when the joined
/// consent is NULL), whether its objection stands (13) and the frequency chosen (14).
fn gate_at(
    row: &sqlite_raw::Row<'_>,
    purpose: Option<&app::domain::PurposeKey>,
) -> app::store::StoreResult<app::store::GateRow> {
    let corrupt = crate::store::corrupt;
    let subject = subject_at(row)?;
    let choice = match row.text(9)? {
        None => None,
        Some(_) => Some(record_at(row, 7)?),
    };
    let purpose = match (&choice, purpose) {
        (Some(c), _) => c.purpose.clone(),
        (None, Some(p)) => p.clone(),
        (None, None) => return Err(corrupt("gate row")),
    };
    Ok(app::store::GateRow {
        subject,
        purpose,
        choice,
        objecting: row.int(13) != 0,
        frequency: row
            .text(14)?
            .map(app::domain::Frequency::parse)
            .transpose()
            .map_err(|_| corrupt("frequency"))?,
    })
}
