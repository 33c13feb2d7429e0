use std::{str::FromStr, time::Duration};

use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use super::{
    audience::sql_audience,
    columns,
    console::sql_console,
    feed::sql_feed,
    forms::sql_forms,
    identity::sql_identity,
    imports::sql_imports,
    leaving::sql_leaving,
    limits::sql_limits,
    seals::sql_seals,
    sql::sql_store,
    sqlite_raw::{self, Param},
    webhooks::sql_webhooks,
};
use time::format_description::well_known::Rfc3339;

/// The embedded default: one file, WAL, `synchronous=FULL` (an answered change survives a crash).
pub struct SqliteStore {
    pool: SqlitePool,
    /// The database file, which bulk reads open on their own (see sqlite_raw.rs).
    path: std::path::PathBuf,
    /// SQLite lets one connection write at a time. This process's writers (the group commit,
    /// the sealer, checkpoints, retention) queue here, so one waiting for another starts the
    /// moment it commits, instead of sleeping in SQLite's busy handler (1, 2, 5, 10… ms) and
    /// holding up every request of its group meanwhile. Other processes (the CLI) still meet the
    /// busy timeout.
    writes: tokio::sync::Mutex<()>,
    /// The group commit's own connection (opened on first use; see `apply_keyless`).
    writer: std::sync::Mutex<Option<sqlite_raw::WriteConnection>>,
}

impl SqliteStore {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let path = options.get_filename().to_owned();
        // The database holds people's addresses: only Doui's user may read it (and its -wal
        // and -shm files, which SQLite makes with the database file's mode).
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory && !path.as_os_str().is_empty() {
            if let Some(parent) = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty() && !p.exists())
            {
                crate::files::private_dir(parent)?;
            }
            crate::files::private_file(&path)?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            path,
            writes: tokio::sync::Mutex::new(()),
            writer: std::sync::Mutex::new(None),
        })
    }
}

sql_store! {
    store = SqliteStore,
    db = sqlx::Sqlite,
    backend = "sqlite",
    migrator = sqlx::migrate!("./migrations/sqlite"),
    // Takes the write lock up front, so two writers never deadlock upgrading a read lock.
    begin = "BEGIN IMMEDIATE",
    // The write lock already serialises every change; the foreign key finds a missing subject.
    lock_subject = None,
    placeholder = crate::store::anonymous,
    write = write_events_lists,
    // The database's clock, as the trigger on `consent_events` requires it (RFC 3339, to the
    // millisecond: SQLite's clock has no finer grain).
    recorded_now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
}

impl SqliteStore {
    /// Waits for this process's other writers (see `writes`); held until the transaction ends.
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        Some(self.writes.lock().await)
    }

    /// A group without idempotency keys, in one transaction on the group commit's own
    /// connection, in place: prepared statements kept from group to group, and no hop to another
    /// thread per statement (the writer runs on a thread of its own, `Writers::OwnThread`).
    async fn apply_keyless(
        &self,
        requests: &[Vec<app::domain::Change>],
    ) -> app::store::StoreResult<Vec<Vec<app::store::Applied>>> {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let conn = match &mut *writer {
            Some(conn) => conn,
            empty => empty.insert(sqlite_raw::WriteConnection::open(&self.path)?),
        };
        conn.execute("BEGIN IMMEDIATE", &[])?;
        let written = write_group(conn, requests);
        let committed = written.and_then(|r| conn.execute("COMMIT", &[]).map(|_| r));
        if committed.is_err() {
            // Nothing of the group stays; the caller runs it again request by request.
            let _ = conn.execute("ROLLBACK", &[]);
        }
        committed
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Where the reads that may lag go (see `PgStore::reads`): SQLite has one database.
    pub(crate) fn reads(&self) -> &SqlitePool {
        &self.pool
    }

    /// No replica: SQLite is one file.
    fn replica_use(&self) -> Option<app::store::ReplicaUse> {
        None
    }
}

sql_audience!(
    SqliteStore,
    sqlx::Sqlite,
    placeholder = crate::store::anonymous
);

sql_identity!(SqliteStore, sqlx::Sqlite);

// The write lock taken at BEGIN holds every row. One process owns a SQLite database: the
// services keep its limits in memory only (a sign-in never waits for a write, and pays no fsync);
// the store still answers correctly if asked.
sql_limits!(
    SqliteStore,
    sqlx::Sqlite,
    begin = "BEGIN IMMEDIATE",
    for_update = "",
    shared = false
);

sql_leaving!(SqliteStore);
sql_forms!(SqliteStore);

sql_feed!(
    SqliteStore,
    sqlx::Sqlite,
    placeholder = crate::store::anonymous
);

sql_imports!(
    SqliteStore,
    sqlx::Sqlite,
    placeholder = crate::store::anonymous,
    begin = "BEGIN IMMEDIATE",
    // The write lock taken at BEGIN serialises every writer already.
    lock = false,
    write = write_events_lists
);

sql_console!(
    SqliteStore,
    sqlx::Sqlite,
    placeholder = crate::store::anonymous,
    text_times = true,
    collate = "",
    day = "substr(occurred_at, 1, 10)"
);

sql_seals!(
    SqliteStore,
    sqlx::Sqlite,
    begin = "BEGIN IMMEDIATE",
    lock = None,
    look_below = 0,
    // sqlx looks each parameter's name up among all of the statement's (a cost that grows with
    // their square): at 400 parameters that was 2 % of the server's CPU under one-click load.
    links_per_insert = 16
);

/// Bulk reads (chain walks, exports): rows read in place (see sqlite_raw.rs).
impl SqliteStore {
    /// The subjects a `SELECT {SUBJECT_COLUMNS}` with text parameters finds, read in place (the
    /// bulk links look up a thousand recipients a query: through sqlx, copying every value of
    /// every row was a third of the machine's CPU).
    async fn read_subjects(
        &self,
        sql: String,
        values: Vec<String>,
    ) -> app::store::StoreResult<Vec<app::domain::Subject>> {
        let params = values.into_iter().map(Param::Text).collect();
        sqlite_raw::each_row(self.path.clone(), sql, params, Vec::new(), |out, row| {
            let mut subject = subject_at(row)?;
            subject.time_zone = row
                .text(7)?
                .map(app::domain::TimeZoneName::parse)
                .transpose()
                .map_err(|_| super::corrupt("time_zone"))?;
            out.push(subject);
            Ok(())
        })
        .await
    }

    /// One page of the chain, in order, each event sealed again as it is read (on the read's
    /// own thread) after the seal read before it. The tombstones of the events found gone are
    /// read after, by a query of their own: a join would look each link's up, for the few
    /// retention purged.
    async fn read_chain_links(
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
        let mut links =
            sqlite_raw::each_row(self.path.clone(), sql, params, links, move |links, row| {
                let (position, seq) = (row.int(0), row.int(1));
                let seal = from_hex(row.bytes(2).unwrap_or_default());
                let after = seal_before(position, previous.replace((position, seal)));
                if position <= after_position || links.len() == limit as usize {
                    return Ok(());
                }
                let resealed = columns::resealed(stored_at(row, 3), &mut buf, after, seq);
                links.push(super::seals::link(
                    (position, seq, seal),
                    [None, None, None],
                    resealed,
                ));
                Ok(())
            })
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
            self.path.clone(),
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
                *l = super::seals::link((l.position, l.seq, l.seal), tombstone, None);
            }
        }
        Ok(page(links))
    }

    /// One page of events (`tail` is the WHERE/ORDER/LIMIT), in order.
    async fn read_events(
        &self,
        tail: &str,
        binds: Vec<super::console::Bind>,
        limit: u32,
        _from: super::ReadFrom,
    ) -> app::store::StoreResult<Vec<(i64, app::domain::ConsentEvent)>> {
        use super::console::Bind;
        let sql = format!(
            "SELECT e.seq, {} FROM consent_events e{tail}",
            columns::event_columns()
        );
        let params = binds
            .into_iter()
            .map(|b| match b {
                Bind::Id(u) => Param::Blob(u.as_bytes().to_vec()),
                Bind::Text(t) => Param::Text(t),
                Bind::Int(i) => Param::Int(i),
                // SQLite's times are text: `event_query` binds them as text.
                Bind::Time(t) => Param::Text(t.format(&Rfc3339).unwrap_or_default()),
            })
            .collect();
        let events = Vec::with_capacity(limit as usize);
        sqlite_raw::each_row(self.path.clone(), sql, params, events, |events, row| {
            let event = stored_at(row, 1)?
                .ok_or_else(|| super::corrupt("event"))?
                .event()?;
            events.push((row.int(0), event));
            Ok(())
        })
        .await
    }
}

/// The subject in the first seven columns of `SUBJECT_COLUMNS` (id, external_id, email, phone,
/// lang, jurisdiction, erased_at), checked as `rows::subject` checks it; its time zone (the
/// eighth) is read where it was selected.
fn subject_at(row: &sqlite_raw::Row<'_>) -> app::store::StoreResult<app::domain::Subject> {
    use app::domain::{Email, ExternalId, Phone, Subject, SubjectId};
    let corrupt = super::corrupt;
    let id = row
        .bytes(0)
        .and_then(|b| uuid::Uuid::from_slice(b).ok())
        .ok_or_else(|| corrupt("id"))?;
    let text = |i, what| row.text(i)?.ok_or_else(|| corrupt(what));
    Ok(Subject {
        id: SubjectId(id),
        external_id: ExternalId::parse(text(1, "external_id")?).map_err(|_| corrupt("subject"))?,
        email: row
            .text(2)?
            .map(Email::parse)
            .transpose()
            .map_err(|_| corrupt("email"))?,
        phone: row
            .text(3)?
            .map(Phone::parse)
            .transpose()
            .map_err(|_| corrupt("phone"))?,
        lang: text(4, "lang")?.parse().map_err(|_| corrupt("lang"))?,
        jurisdiction: text(5, "jurisdiction")?
            .parse()
            .map_err(|_| corrupt("jurisdiction"))?,
        erased_at: row
            .text(6)?
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
            .map(|b| uuid::Uuid::from_slice(b).map_err(|_| super::corrupt("id")))
            .transpose()
    };
    columns::StoredEvent::read(
        (id(0)?, id(1)?),
        // Times are RFC 3339 text.
        (
            || {
                row.bytes(at + 2)
                    .and_then(app::domain::rfc3339::parse)
                    .ok_or_else(|| super::corrupt("occurred_at"))
            },
            || {
                row.bytes(at + columns::RECORDED_AT_COLUMN as i32)
                    .map(|t| {
                        app::domain::rfc3339::parse(t).ok_or_else(|| super::corrupt("recorded_at"))
                    })
                    .transpose()
            },
        ),
        |i| row.bytes(at + columns::text_column(i) as i32),
    )
}

/// The rules of `Store::apply` for a group without idempotency keys on the writer's connection:
/// read the current choices of the subjects involved, decide in memory, append the events and
/// bring the projection to the last event of each consent.
fn write_group(
    conn: &mut sqlite_raw::WriteConnection,
    requests: &[Vec<app::domain::Change>],
) -> app::store::StoreResult<Vec<Vec<app::store::Applied>>> {
    use super::bulk::{Current, decide_group, subjects_of};
    use sqlite_raw::Value;

    let mut current = Current::new();
    for subject in subjects_of(requests) {
        conn.query(
            "SELECT purpose, channel, state, updated_at FROM consents WHERE subject_id = ?1",
            &[Value::Blob(subject.as_bytes())],
            |row| {
                let text = |i| row.text(i)?.ok_or_else(|| super::corrupt("consent"));
                let state = text(2)?.parse().map_err(|_| super::corrupt("state"))?;
                let at = row
                    .bytes(3)
                    .and_then(app::domain::rfc3339::parse)
                    .ok_or_else(|| super::corrupt("updated_at"))?;
                current.insert(
                    (subject, text(0)?.to_owned(), text(1)?.to_owned()),
                    (state, at),
                );
                Ok(())
            },
        )?;
    }
    // A late arrival: the group is written again request by request, which refuses it.
    let (mut results, events) = decide_group(requests, current)
        .map_err(|late| app::store::StoreError::OlderThanLatestChange(late.change))?;
    let mut last = std::collections::HashMap::new();
    let mut recorded = std::collections::HashMap::with_capacity(events.len());
    for e in &events {
        let p = &e.provenance;
        let at = p
            .occurred_at
            .format(&Rfc3339)
            .map_err(|_| super::corrupt("occurred_at"))?;
        let actor = p.actor.to_string();
        // The recorded time is the database's, read back with the seq.
        let (mut seq, mut recorded_at) = (0, None);
        conn.query(
            "INSERT INTO consent_events (id, subject_id, purpose, channel, from_state, to_state, \
             occurred_at, source, actor, notice_version, origin_ip, user_agent, idempotency_key, \
             reason, campaign, collection_point, import_batch, form_url, proof_ref, recorded_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
             ?18, ?19, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) RETURNING seq, recorded_at",
            &[
                Value::Blob(e.id.as_bytes()),
                Value::Blob(e.subject.0.as_bytes()),
                Value::Text(e.purpose.as_str()),
                Value::Text(e.channel.key()),
                e.from.map(|s| s.key()).into(),
                Value::Text(e.to.key()),
                Value::Text(&at),
                Value::Text(p.source.key()),
                Value::Text(&actor),
                p.notice_version.as_deref().into(),
                p.origin.ip.as_deref().into(),
                p.origin.user_agent.as_deref().into(),
                p.idempotency_key.as_deref().into(),
                p.reason.as_deref().into(),
                p.campaign.as_deref().into(),
                p.collection_point.as_deref().into(),
                p.import_batch.as_deref().into(),
                p.form_url.as_deref().into(),
                p.proof_ref.as_deref().into(),
            ],
            |row| {
                seq = row.int(0);
                recorded_at = row.bytes(1).and_then(app::domain::rfc3339::parse);
                Ok(())
            },
        )?;
        recorded.insert(
            e.id,
            recorded_at.ok_or_else(|| super::corrupt("recorded_at"))?,
        );
        last.insert((e.subject.0, e.purpose.as_str(), e.channel), (e, at, seq));
    }
    super::bulk::set_recorded(&mut results, &recorded);
    for (e, at, seq) in last.values() {
        conn.execute(
            "INSERT INTO consents (subject_id, purpose, channel, state, updated_at, source, \
             last_event_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (subject_id, purpose, channel) DO UPDATE SET state = excluded.state, \
             updated_at = excluded.updated_at, source = excluded.source, \
             last_event_seq = excluded.last_event_seq",
            &[
                Value::Blob(e.subject.0.as_bytes()),
                Value::Text(e.purpose.as_str()),
                Value::Text(e.channel.key()),
                Value::Text(e.to.key()),
                Value::Text(at),
                Value::Text(e.provenance.source.key()),
                Value::Int(*seq),
            ],
        )?;
    }
    Ok(results)
}

/// The send gate's pages (see audience.rs), read in place like the other bulk reads: an audience
/// streams every subject of a purpose.
impl SqliteStore {
    async fn read_gate(
        &self,
        sql: String,
        binds: Vec<super::console::Bind>,
        purpose: Option<app::domain::PurposeKey>,
    ) -> app::store::StoreResult<Vec<app::store::GateRow>> {
        use super::console::Bind;
        let sql = super::audience::numbered_for_sqlite(&sql);
        let params = binds
            .into_iter()
            .map(|b| match b {
                Bind::Id(u) => Param::Blob(u.as_bytes().to_vec()),
                Bind::Text(t) => Param::Text(t),
                Bind::Int(i) => Param::Int(i),
                Bind::Time(t) => Param::Text(t.format(&Rfc3339).unwrap_or_default()),
            })
            .collect();
        sqlite_raw::each_row(
            self.path.clone(),
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
    /// Choices with their subject (`subject_id` then the `ConsentRecord` columns), read in place:
    /// a permissions check reads those of ten thousand subjects at once.
    async fn read_choices(
        &self,
        sql: String,
        binds: Vec<super::console::Bind>,
    ) -> app::store::StoreResult<Vec<(app::domain::SubjectId, app::store::ConsentRecord)>> {
        use super::console::Bind;
        let params = binds
            .into_iter()
            .map(|b| match b {
                Bind::Id(u) => Param::Blob(u.as_bytes().to_vec()),
                Bind::Text(t) => Param::Text(t),
                Bind::Int(i) => Param::Int(i),
                Bind::Time(t) => Param::Text(t.format(&Rfc3339).unwrap_or_default()),
            })
            .collect();
        sqlite_raw::each_row(self.path.clone(), sql, params, Vec::new(), |out, row| {
            let id = row
                .bytes(0)
                .and_then(|b| uuid::Uuid::from_slice(b).ok())
                .ok_or_else(|| super::corrupt("id"))?;
            out.push((app::domain::SubjectId(id), record_at(row, 1)?));
            Ok(())
        })
        .await
    }
}

/// The `ConsentRecord` whose columns (purpose, channel, state, updated_at, source,
/// notice_version) start at `at`.
fn record_at(
    row: &sqlite_raw::Row<'_>,
    at: i32,
) -> app::store::StoreResult<app::store::ConsentRecord> {
    let corrupt = super::corrupt;
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

/// A row of `GATE_COLUMNS`: the subject (columns 0–6), its choice (7–12, absent when the joined
/// consent is NULL) and whether its objection stands (13).
fn gate_at(
    row: &sqlite_raw::Row<'_>,
    purpose: Option<&app::domain::PurposeKey>,
) -> app::store::StoreResult<app::store::GateRow> {
    let corrupt = super::corrupt;
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
    })
}

sql_webhooks!(SqliteStore, sqlx::Sqlite, text_times = true);
