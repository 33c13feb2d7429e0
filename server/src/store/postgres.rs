use std::time::Duration;

use sqlx::{PgPool, postgres::PgPoolOptions};

use super::replica::{ReadReplica, Replica};
use super::{
    audience::sql_audience, columns, console::sql_console, feed::sql_feed, forms::sql_forms,
    identity::sql_identity, imports::sql_imports, leaving::sql_leaving, limits::sql_limits,
    pg_copy, seals::sql_seals, sql::sql_store, webhooks::sql_webhooks,
};

/// The scale-out backend: several Doui instances may share one database.
pub struct PgStore {
    /// The primary: every write, and every read not listed under [`PgStore::reads`].
    pool: PgPool,
    /// A streaming replica for the reads that may lag a little (`database_read_url`).
    replica: Option<Replica>,
}

impl PgStore {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        Self::open_with(url, 16).await
    }

    /// Opens a pool of at most `connections`.
    pub async fn open_with(url: &str, connections: u32) -> anyhow::Result<Self> {
        let pool = pool_options()
            .max_connections(connections)
            .connect(url)
            .await?;
        Ok(Self {
            pool,
            replica: None,
        })
    }

    /// Opens the primary at `url` and, for the reads that may lag, `replica`.
    pub async fn open_reading_from(url: &str, replica: &ReadReplica) -> anyhow::Result<Self> {
        let options: sqlx::postgres::PgConnectOptions = replica.url.parse().map_err(|e| {
            anyhow::anyhow!(
                "database_read_url {} is not a PostgreSQL URL: {e}",
                super::redact_url(&replica.url)
            )
        })?;
        let mut store = Self::open(url).await?;
        let reads = pool_options()
            .max_connections(16)
            .acquire_timeout(super::replica::REPLICA_TIMEOUT)
            .connect_lazy_with(options);
        store.replica = Some(Replica::watch(store.pool.clone(), reads, replica.max_lag));
        Ok(store)
    }

    /// Where the reads that may lag go: the console's event pages and counts, exports, the
    /// audience, the event feed and the suppression lists. The replica while it is fresh enough
    /// (see replica.rs), else the primary.
    pub(crate) fn reads(&self) -> &PgPool {
        self.replica
            .as_ref()
            .and_then(Replica::pool_if_usable)
            .unwrap_or(&self.pool)
    }

    /// Whether [`PgStore::reads`] goes to the replica now, and the replica's lag last measured
    /// (`None` when no replica is configured).
    fn replica_use(&self) -> Option<app::store::ReplicaUse> {
        self.replica.as_ref().map(|r| app::store::ReplicaUse {
            in_use: r.pool_if_usable().is_some(),
            lag: r.lag(),
        })
    }

    /// Opens a store whose tables live in `schema` (created if missing): isolated test runs.
    pub async fn open_in_schema(url: &str, schema: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(
            schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "schema names are lower-case letters, digits and _"
        );
        let admin = PgPoolOptions::new().max_connections(1).connect(url).await?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .execute(&admin)
            .await?;
        admin.close().await;
        let options: sqlx::postgres::PgConnectOptions = url.parse()?;
        let options = options.options([("search_path", schema)]);
        let pool = pool_options()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            replica: None,
        })
    }

    pub async fn drop_schema(url: &str, schema: &str) -> anyhow::Result<()> {
        let admin = PgPoolOptions::new().max_connections(1).connect(url).await?;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&admin)
            .await?;
        admin.close().await;
        Ok(())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// How long a pooled connection may sit unused before its next use is preceded by a ping.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// How long a request waits for a connection before it is answered 503 (with `Retry-After`):
/// while the primary restarts or fails over, connecting is refused and retried until then.
/// Under a normal load a connection comes free in milliseconds.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The pool: a connection is pinged before use only when it has been idle a while (a server
/// restart or a dropped link since then would otherwise fail the query that takes it). One just
/// released is used as it is: a ping is a round trip, and a console page takes a connection for
/// each of its reads. A connection that fails the ping is closed and another one taken; one that
/// failed a query is pinged as it is given back, and closed if the server is gone (the pool
/// opens new ones once the server answers again).
fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

sql_store! {
    store = PgStore,
    db = sqlx::Postgres,
    backend = "postgres",
    migrator = sqlx::migrate!("./migrations/postgres"),
    begin = "BEGIN",
    // Serialises changes to one subject across connections and instances.
    lock_subject = Some("SELECT id FROM subjects WHERE id = $1 FOR UPDATE"),
    placeholder = crate::store::numbered,
    write = write_events_arrays,
    // The column's default is the database's clock (and its trigger refuses any other value).
    recorded_now = "clock_timestamp()",
}

sql_audience!(
    PgStore,
    sqlx::Postgres,
    placeholder = crate::store::numbered
);

sql_identity!(PgStore, sqlx::Postgres);

sql_limits!(
    PgStore,
    sqlx::Postgres,
    begin = "BEGIN",
    for_update = " FOR UPDATE",
    shared = true
);

sql_leaving!(PgStore);
sql_forms!(PgStore);

sql_feed!(
    PgStore,
    sqlx::Postgres,
    placeholder = crate::store::numbered
);

sql_imports!(
    PgStore,
    sqlx::Postgres,
    placeholder = crate::store::numbered,
    begin = "BEGIN",
    // The subjects a batch changes are locked, as the group commit locks them.
    lock = true,
    write = write_events_arrays
);

sql_console!(
    PgStore,
    sqlx::Postgres,
    placeholder = crate::store::numbered,
    text_times = false,
    collate = " COLLATE \"C\"",
    day = "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
);

sql_seals!(
    PgStore,
    sqlx::Postgres,
    begin = "BEGIN",
    lock = Some("SELECT pg_try_advisory_xact_lock(73511, hashtext(current_schema()))"),
    look_below = crate::store::seals::LOOK_BELOW,
    links_per_insert = 100
);

/// Pages of events up to this long are read as ordinary rows (the console's pages); longer ones
/// (exports) by COPY.
const SMALL_PAGE: u32 = 1_000;

/// What the shared SQL (`sql_store!`, `sql_seals!`, `sql_console!`) asks of PostgreSQL: its write
/// turn, the group commit, and the reads of subjects, chain pages (by binary COPY, see pg_copy.rs)
/// and event pages.
impl PgStore {
    /// PostgreSQL writers run side by side (rows are locked where they meet): no turn to wait.
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        None
    }

    /// A group without idempotency keys in one transaction of three round trips: begin, lock the
    /// subjects and read their choices; then (decided in memory) write the events and the
    /// projection; then commit. Its statements look every row up by its key. The planner is told
    /// not to scan whole tables: with statistics from when a table was small (a new database,
    /// before autovacuum's next ANALYZE) it scans the consents for the group's subjects, ~1 ms a
    /// group at 5,000 rows and growing, where the key finds them at once.
    async fn apply_keyless(
        &self,
        requests: &[Vec<app::domain::Change>],
    ) -> app::store::StoreResult<Vec<Vec<app::store::Applied>>> {
        use crate::store::db_error;
        let subjects = super::bulk::subjects_of(requests);
        // The ids are written into the statements (a uuid's text is hex digits and hyphens):
        // simple queries, several in one message, take one round trip where a bound statement
        // takes two, and are planned for their values each time. (A plan cached while a table was
        // small, a sequential scan, would stay in use as it grows, until the next ANALYZE;
        // planning costs less than one such scan.) The subjects are locked in id order, so
        // concurrent groups never deadlock. The choices are read by a statement of their own:
        // its snapshot is taken once the locks are held, so it sees what the group before
        // committed (read in the locking statement, they would be as of before its wait).
        let ids = uuid_array(&subjects);
        let mut tx = OpenTransaction {
            conn: self.pool.acquire().await.map_err(db_error)?,
            ended: false,
        };
        let written = async {
            let rows = sqlx::Executor::fetch_all(
                &mut *tx.conn,
                format!(
                    "BEGIN; SET LOCAL enable_seqscan = off; \
                     SELECT id FROM subjects WHERE id = ANY({ids}) ORDER BY id FOR UPDATE; \
                     SELECT subject_id, purpose, channel, state, updated_at FROM consents \
                     WHERE subject_id = ANY({ids})"
                )
                .as_str(),
            )
            .await
            .map_err(db_error)?;
            // A late arrival: the group is written again request by request, which refuses it.
            let (mut results, events) =
                super::bulk::decide_group(requests, current_choices(&rows)?)
                    .map_err(|late| app::store::StoreError::OlderThanLatestChange(late.change))?;
            let recorded = Self::write_events_arrays(&mut tx.conn, &events).await?;
            super::bulk::set_recorded(&mut results, &recorded.into_iter().collect());
            Ok(results)
        }
        .await;
        let end = if written.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let ended = sqlx::Executor::execute(&mut *tx.conn, end).await;
        tx.ended = ended.is_ok();
        let results = written?;
        ended.map_err(db_error)?;
        Ok(results)
    }

    /// The subjects a `SELECT {SUBJECT_COLUMNS}` with text parameters finds.
    async fn read_subjects(
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
    async fn read_chain_links(
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
    async fn read_events(
        &self,
        tail: &str,
        binds: Vec<crate::store::console::Bind>,
        limit: u32,
        from: crate::store::ReadFrom,
    ) -> app::store::StoreResult<Vec<(i64, app::domain::ConsentEvent)>> {
        use crate::store::console::Bind;
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
                .map_err(super::db_error)?;
            return rows
                .iter()
                .map(|r| {
                    let seq = sqlx::Row::try_get(r, "seq").map_err(|_| super::corrupt("seq"))?;
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
                        .map_err(|_| super::corrupt("time"))?,
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
                    .ok_or_else(|| super::corrupt("event"))?
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
            super::seals::link(link, tombstone, resealed)
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

/// PostgreSQL writes a group with arrays: one statement text whatever the group's size (prepared
/// once per connection), and one parameter per column instead of one per value.
impl PgStore {
    async fn write_events_arrays(
        conn: &mut sqlx::PgConnection,
        events: &[app::domain::ConsentEvent],
    ) -> app::store::StoreResult<Vec<(uuid::Uuid, time::OffsetDateTime)>> {
        use crate::store::db_error;
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let col =
            |f: &dyn Fn(&app::domain::ConsentEvent) -> Option<String>| -> Vec<Option<String>> {
                events.iter().map(f).collect()
            };
        let ids: Vec<uuid::Uuid> = events.iter().map(|e| e.id).collect();
        let subjects: Vec<uuid::Uuid> = events.iter().map(|e| e.subject.0).collect();
        let times: Vec<time::OffsetDateTime> =
            events.iter().map(|e| e.provenance.occurred_at).collect();
        // The last event of each consent brings the projection up to date, in the same statement.
        let mut last: std::collections::HashMap<
            (uuid::Uuid, &str, app::domain::Channel),
            uuid::Uuid,
        > = std::collections::HashMap::new();
        for e in events {
            last.insert((e.subject.0, e.purpose.as_str(), e.channel), e.id);
        }
        let last: Vec<uuid::Uuid> = last.into_values().collect();
        let rows = sqlx::query(
            "WITH written AS (INSERT INTO consent_events (id, subject_id, purpose, channel, \
             from_state, to_state, occurred_at, source, actor, notice_version, origin_ip, \
             user_agent, idempotency_key, reason, campaign, collection_point, import_batch, \
             form_url, proof_ref) \
             SELECT c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, \
             c18, c19 \
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::timestamptz[], $8::text[], $9::text[], $10::text[], $11::text[], \
             $12::text[], $13::text[], $14::text[], $15::text[], $17::text[], $18::text[], \
             $19::text[], $20::text[]) WITH ORDINALITY \
             AS u (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, \
             c18, c19, n) \
             ORDER BY n \
             RETURNING id, seq, subject_id, purpose, channel, to_state, occurred_at, source, \
             recorded_at), \
             projected AS (INSERT INTO consents (subject_id, purpose, channel, state, updated_at, \
             source, last_event_seq) \
             SELECT subject_id, purpose, channel, to_state, occurred_at, source, seq \
             FROM written WHERE id = ANY($16) \
             ON CONFLICT (subject_id, purpose, channel) DO UPDATE SET state = excluded.state, \
             updated_at = excluded.updated_at, source = excluded.source, \
             last_event_seq = excluded.last_event_seq) \
             SELECT id, recorded_at FROM written",
        )
        .bind(&ids)
        .bind(&subjects)
        .bind(col(&|e| Some(e.purpose.to_string())))
        .bind(col(&|e| Some(e.channel.key().to_owned())))
        .bind(col(&|e| e.from.map(|s| s.key().to_owned())))
        .bind(col(&|e| Some(e.to.key().to_owned())))
        .bind(&times)
        .bind(col(&|e| Some(e.provenance.source.key().to_owned())))
        .bind(col(&|e| Some(e.provenance.actor.to_string())))
        .bind(col(&|e| e.provenance.notice_version.clone()))
        .bind(col(&|e| e.provenance.origin.ip.clone()))
        .bind(col(&|e| e.provenance.origin.user_agent.clone()))
        .bind(col(&|e| e.provenance.idempotency_key.clone()))
        .bind(col(&|e| e.provenance.reason.clone()))
        .bind(col(&|e| e.provenance.campaign.clone()))
        .bind(&last)
        .bind(col(&|e| e.provenance.collection_point.clone()))
        .bind(col(&|e| e.provenance.import_batch.clone()))
        .bind(col(&|e| e.provenance.form_url.clone()))
        .bind(col(&|e| e.provenance.proof_ref.clone()))
        .fetch_all(conn)
        .await
        .map_err(db_error)?;
        // Each event's recorded time, as the database set it.
        rows.iter()
            .map(|r| {
                use sqlx::Row;
                let bad = |_| crate::store::corrupt("recorded_at");
                Ok((r.try_get(0).map_err(bad)?, r.try_get(1).map_err(bad)?))
            })
            .collect()
    }
}

/// A transaction begun by hand on a pooled connection (so that its first statements can go in the
/// same message as its BEGIN). Dropped before it ends (its future cancelled, say), it closes the
/// connection rather than give it back to the pool in the middle of a transaction.
struct OpenTransaction {
    conn: sqlx::pool::PoolConnection<sqlx::Postgres>,
    ended: bool,
}

impl Drop for OpenTransaction {
    fn drop(&mut self) {
        if !self.ended {
            self.conn.close_on_drop();
        }
    }
}

/// The current choices among the rows a group's first message returns (the consents' rows are
/// the ones with four columns; the locked subjects' have one).
fn current_choices(
    rows: &[sqlx::postgres::PgRow],
) -> app::store::StoreResult<super::bulk::Current> {
    use crate::store::corrupt;
    use sqlx::Row;
    let mut current = super::bulk::Current::with_capacity(rows.len());
    for row in rows.iter().filter(|r| r.len() == 5) {
        let bad = |_| corrupt("consent");
        let state: String = row.try_get("state").map_err(bad)?;
        current.insert(
            (
                row.try_get("subject_id").map_err(bad)?,
                row.try_get("purpose").map_err(bad)?,
                row.try_get("channel").map_err(bad)?,
            ),
            (
                state.parse().map_err(|_| corrupt("state"))?,
                row.try_get("updated_at").map_err(bad)?,
            ),
        );
    }
    Ok(current)
}

/// A `uuid[]` literal of `ids`, to write into a statement.
fn uuid_array(ids: &[uuid::Uuid]) -> String {
    let mut text = String::with_capacity(ids.len() * 37 + 12);
    text.push_str("'{");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&id.hyphenated().to_string());
    }
    text.push_str("}'::uuid[]");
    text
}

/// The send gate's pages (see audience.rs), read through sqlx.
impl PgStore {
    async fn read_gate(
        &self,
        sql: String,
        binds: Vec<super::console::Bind>,
        purpose: Option<app::domain::PurposeKey>,
    ) -> app::store::StoreResult<Vec<app::store::GateRow>> {
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(self.reads())
            .await
            .map_err(super::db_error)?;
        rows.iter()
            .map(|r| Self::gate_row(r, purpose.as_ref()))
            .collect()
    }

    /// Choices with their subject (`subject_id` then the `ConsentRecord` columns).
    async fn read_choices(
        &self,
        sql: String,
        binds: Vec<super::console::Bind>,
    ) -> app::store::StoreResult<Vec<(app::domain::SubjectId, app::store::ConsentRecord)>> {
        use sqlx::Row;
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(self.reads())
            .await
            .map_err(super::db_error)?;
        rows.iter()
            .map(|r| {
                let id: uuid::Uuid = r
                    .try_get("subject_id")
                    .map_err(|_| super::corrupt("consent"))?;
                Ok((app::domain::SubjectId(id), rows::consent(r)?))
            })
            .collect()
    }
}

sql_webhooks!(PgStore, sqlx::Postgres, text_times = false);
