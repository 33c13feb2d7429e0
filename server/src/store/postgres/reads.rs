//! What the shared SQL asks of PostgreSQL to read: subjects, chain pages (by binary COPY, see
//! pg_copy.rs), event pages, and the send gate's pages.

use super::{PgStore, SMALL_PAGE, rows};
use crate::store::{bind_all, columns, pg_copy};

impl PgStore {
    /// The subjects a `SELECT {SUBJECT_COLUMNS}` with text parameters finds.
    pub(super) async fn read_subjects(
        &self,
        sql: String,
        values: Vec<String>,
    ) -> app::store::StoreResult<Vec<app::domain::Subject>> {
        let mut q = sqlx::query(&sql);
        for v in &values {
            q = q.bind(v.as_str());
        }
        let rows = q
            .fetch_all(&self.pool)
            .await
            .map_err(crate::store::db_error)?;
        rows.iter().map(rows::subject).collect()
    }

    /// One page of the chain, in position order, each event sealed again after the seal read
    /// before it. Seals and events are read as two ranges and matched here: a range of the
    /// events' primary key reads far faster than a lookup per link. Both are parsed as their rows
    /// arrive, each event sealed on the spot: PostgreSQL goes on sending meanwhile, and no page
    /// is gathered, copied whole, then read again.
    pub(super) async fn read_chain_links(
        &self,
        after_position: i64,
        limit: u32,
    ) -> app::store::StoreResult<app::domain::seal::ChainPage> {
        // The link at `after_position` is read for its seal and seq only: the first link is
        // sealed after it, and the page's events are read from just after its event.
        let seals = PageRead {
            before: None,
            links: Vec::with_capacity(limit as usize),
            resealed: Vec::new(),
            events: 0,
        };
        let page = pg_copy::read_each(
            &self.pool,
            &format!(
                "SELECT position, event_seq, seal FROM event_seals WHERE position >= {after_position} \
                 ORDER BY position LIMIT {}",
                i64::from(limit) + 1
            ),
            &[],
            seals,
            move |page, t| {
                let (position, seq) = (t.int(0)?, t.int(1)?);
                let seal = t.bytes(2).and_then(app::domain::seal::from_hex);
                if position <= after_position {
                    page.before = Some((position, seq, seal));
                } else if page.links.len() < limit as usize {
                    page.links.push((position, seq, seal));
                }
                Ok(())
            },
        )
        .await?;
        let (Some(lo), Some(hi)) = (
            page.links.iter().map(|p| p.1).min(),
            page.links.iter().map(|p| p.1).max(),
        ) else {
            return Ok(Default::default());
        };
        // Every event from just after the link before's (from the lowest seq, on the chain's
        // first page) up to the page's highest is read and counted, when the page's links all
        // lie above the link before's: pages sealed in order then count every event below the
        // chain's head between them, and the walk need not count the table again. Links sealed
        // out of order read the page's own range (or, far out of order, as a late commit makes
        // them, each link's event looked up) and count nothing.
        let counted = match page.before {
            None if after_position == 0 => Some(None),
            Some((_, seq, _)) if seq < lo => Some(Some(seq)),
            _ => None,
        };
        let near = |from: i64| hi.saturating_sub(from) < 2 * i64::from(limit);
        let (range, counted) = match counted {
            Some(None) if near(lo) => (format!("e.seq <= {hi}"), counted),
            Some(Some(after)) if near(after) => {
                (format!("e.seq > {after} AND e.seq <= {hi}"), counted)
            }
            _ if near(lo) => (format!("e.seq BETWEEN {lo} AND {hi}"), None),
            _ => (
                format!(
                    "e.seq IN (SELECT event_seq FROM event_seals WHERE position > {after_position} \
                     ORDER BY position LIMIT {limit})"
                ),
                None,
            ),
        };
        let events = format!(
            "SELECT e.seq, {} FROM consent_events e WHERE {range}",
            columns::event_columns()
        );
        let tombstones = format!(
            "SELECT e.seq, e.purged_at, e.reason, e.signature FROM event_tombstones e WHERE {range}"
        );
        // The links by seq, for a binary search per event: a hash map's hashing and probing were
        // a tenth of the walk's CPU. (Links come in seq order but for late commits: a short sort.)
        let mut by_seq: Vec<(i64, usize)> = page
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| (l.1, i))
            .collect();
        by_seq.sort_unstable();
        let mut buf = Vec::with_capacity(512);
        let page = PageRead {
            resealed: vec![None; page.links.len()],
            ..page
        };
        let (page, tombstones) = tokio::try_join!(
            pg_copy::read_each(&self.pool, &events, &[], page, move |page, t| {
                let seq = t.int(0)?;
                page.events += 1;
                if let Ok(k) = by_seq.binary_search_by_key(&seq, |&(s, _)| s) {
                    let i = by_seq[k].1;
                    let previous = match i {
                        0 => page.before.map(|(position, _, seal)| (position, seal)),
                        _ => Some((page.links[i - 1].0, page.links[i - 1].2)),
                    };
                    let after = app::domain::seal::seal_before(page.links[i].0, previous);
                    page.resealed[i] = columns::resealed(stored_at(t, 1), &mut buf, after, seq);
                }
                Ok(())
            }),
            pg_copy::read(&self.pool, &tombstones, &[]),
        )?;
        let events = counted.map(|after| app::domain::seal::EventsRead {
            after,
            upto: hi,
            count: page.events,
        });
        Ok(app::domain::seal::ChainPage {
            events,
            links: chain_page(page, &tombstones)?,
        })
    }

    /// One page of events (`tail` is the WHERE/ORDER/LIMIT, its parameters `$1`, `$2`…), in
    /// order. COPY takes no parameters: each becomes a setting of the transaction, read back
    /// with its type.
    pub(super) async fn read_events(
        &self,
        tail: &str,
        binds: Vec<crate::store::Bind>,
        limit: u32,
        from: crate::store::ReadFrom,
    ) -> app::store::StoreResult<Vec<(i64, app::domain::ConsentEvent)>> {
        use crate::store::Bind;
        let pool = match from {
            crate::store::ReadFrom::Primary => &self.pool,
            crate::store::ReadFrom::Replica => self.reads(),
        };
        if limit <= SMALL_PAGE {
            // A console page (or the sealer's next events): one round trip matters more than
            // decoding speed. Planned for its values each time, not once for any: a plan cached
            // while the table was small (a sequential scan) would stay as it grows, and one
            // subject's page wants another plan than a day of everyone's.
            let sql = format!(
                "SELECT e.seq, {} FROM consent_events e{tail}",
                columns::event_columns()
            );
            let rows = bind_all(sqlx::query(&sql), binds)
                .persistent(false)
                .fetch_all(pool)
                .await
                .map_err(crate::store::db_error)?;
            return rows
                .iter()
                .map(|r| {
                    let seq =
                        sqlx::Row::try_get(r, "seq").map_err(|_| crate::store::corrupt("seq"))?;
                    Ok((seq, rows::event(r)?))
                })
                .collect();
        }
        let mut tail = tail.to_owned();
        let mut settings = Vec::with_capacity(binds.len());
        // From the last, so `$1` never matches the start of `$10`.
        for (i, b) in binds.into_iter().enumerate().rev() {
            let name = format!("doui.p{}", i + 1);
            let (value, ty) = match b {
                Bind::Id(u) => (u.to_string(), "uuid"),
                Bind::Text(t) => (t, "text"),
                Bind::Time(t) => (
                    t.format(&time::format_description::well_known::Rfc3339)
                        .map_err(|_| crate::store::corrupt("time"))?,
                    "timestamptz",
                ),
                Bind::Int(n) => (n.to_string(), "bigint"),
            };
            tail = tail.replace(
                &format!("${}", i + 1),
                &format!("current_setting('{name}')::{ty}"),
            );
            settings.push((name, value));
        }
        // Each event is parsed as it arrives, while PostgreSQL produces the next ones.
        pg_copy::read_each(
            pool,
            &format!(
                "SELECT e.seq, {} FROM consent_events e{tail}",
                columns::event_columns()
            ),
            &settings,
            Vec::with_capacity(limit as usize),
            |events, t| {
                let event = stored_at(t, 1)?
                    .ok_or_else(|| crate::store::corrupt("event"))?
                    .event()?;
                events.push((t.int(0)?, event));
                Ok(())
            },
        )
        .await
    }
}

/// A page of the chain as it is read: the link read at the position before its first (position,
/// seq and seal), its links (position, seq and seal, in position order), each link's event
/// sealed again after the seal stored before it, and how many events were read, as the events
/// arrive.
struct PageRead {
    before: Option<(i64, i64, Option<app::domain::seal::Seal>)>,
    links: Vec<(i64, i64, Option<app::domain::seal::Seal>)>,
    resealed: Vec<Option<app::domain::seal::Resealed>>,
    events: i64,
}

/// A page's links once all its events have arrived, each with what retention left of its event
/// if it was purged (`tombstones`: a COPY page of those among the page's events).
fn chain_page(
    page: PageRead,
    tombstones: &[u8],
) -> app::store::StoreResult<Vec<app::domain::seal::ChainLink>> {
    let mut purged = std::collections::HashMap::new();
    pg_copy::each(tombstones, |t| {
        let owned = |i| t.text(i).map(|v| v.map(str::to_owned));
        purged.insert(t.int(0)?, [owned(1)?, owned(2)?, owned(3)?]);
        Ok(())
    })?;
    Ok(page
        .links
        .into_iter()
        .zip(page.resealed)
        .map(|(link, resealed)| {
            // Most pages purged nothing: no lookup (and no hashing) per link then.
            let tombstone = if purged.is_empty() {
                Default::default()
            } else {
                purged.remove(&link.1).unwrap_or_default()
            };
            crate::store::seals::link(link, tombstone, resealed)
        })
        .collect())
}

/// The event whose columns start at `at` (`None` when its ids are NULL).
fn stored_at<'a>(
    t: &pg_copy::Tuple<'a>,
    at: usize,
) -> app::store::StoreResult<Option<columns::StoredEvent<'a>>> {
    columns::StoredEvent::read(
        (t.uuid(at)?, t.uuid(at + 1)?),
        (
            || t.time(at + 2),
            || {
                let recorded = at + columns::RECORDED_AT_COLUMN;
                t.bytes(recorded).map(|_| t.time(recorded)).transpose()
            },
        ),
        |i| t.bytes(at + columns::text_column(i)),
    )
}

/// The send gate's pages (see audience.rs), read through sqlx.
impl PgStore {
    /// The rows of `sql` with `binds`, read where reads go (the replica, if there is one).
    async fn fetch_reads(
        &self,
        sql: &str,
        binds: Vec<crate::store::Bind>,
    ) -> app::store::StoreResult<Vec<sqlx::postgres::PgRow>> {
        bind_all(sqlx::query(sql), binds)
            .fetch_all(self.reads())
            .await
            .map_err(crate::store::db_error)
    }

    pub(super) async fn read_gate(
        &self,
        sql: String,
        binds: Vec<crate::store::Bind>,
        purpose: Option<app::domain::PurposeKey>,
    ) -> app::store::StoreResult<Vec<app::store::GateRow>> {
        let rows = self.fetch_reads(&sql, binds).await?;
        rows.iter()
            .map(|r| Self::gate_row(r, purpose.as_ref()))
            .collect()
    }

    /// Subject ids (the first column).
    pub(super) async fn read_subject_ids(
        &self,
        sql: String,
        binds: Vec<crate::store::Bind>,
    ) -> app::store::StoreResult<Vec<app::domain::SubjectId>> {
        use sqlx::Row;
        let rows = self.fetch_reads(&sql, binds).await?;
        rows.iter()
            .map(|r| {
                r.try_get(0)
                    .map(app::domain::SubjectId)
                    .map_err(|_| crate::store::corrupt("id"))
            })
            .collect()
    }

    /// Choices with their subject (`subject_id` then the `ConsentRecord` columns).
    pub(super) async fn read_choices(
        &self,
        sql: String,
        binds: Vec<crate::store::Bind>,
    ) -> app::store::StoreResult<Vec<(app::domain::SubjectId, app::store::ConsentRecord)>> {
        use sqlx::Row;
        let rows = self.fetch_reads(&sql, binds).await?;
        rows.iter()
            .map(|r| {
                let id: uuid::Uuid = r
                    .try_get("subject_id")
                    .map_err(|_| crate::store::corrupt("consent"))?;
                Ok((app::domain::SubjectId(id), rows::consent(r)?))
            })
            .collect()
    }
}

impl PgStore {
    /// A page of the feed (`sql` selects `feed_columns()`), from the replica unless `primary`.
    pub(super) async fn read_feed(
        &self,
        sql: String,
        binds: Vec<crate::store::Bind>,
        primary: bool,
    ) -> app::store::StoreResult<Vec<app::domain::FeedItem>> {
        use sqlx::Row;
        let pool = if primary { &self.pool } else { self.reads() };
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(pool)
            .await
            .map_err(crate::store::db_error)?;
        rows.iter()
            .map(|r| {
                Ok(app::domain::FeedItem {
                    cursor: r
                        .try_get("position")
                        .map_err(|_| crate::store::corrupt("position"))?,
                    kind: app::domain::FeedKind::ConsentChanged,
                    event: rows::event(r)?,
                    subject: rows::subject_as(r, "subject_id")?,
                })
            })
            .collect()
    }
}
