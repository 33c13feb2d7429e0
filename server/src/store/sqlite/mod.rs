use std::{str::FromStr, time::Duration};

use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use super::{
    audience::sql_audience,
    console::{
        collection_points::sql_collection_points, erasure::sql_erasure, event_log::sql_event_log,
        idempotency::sql_idempotency, objections::sql_objections,
        purpose_settings::sql_purpose_settings, register::sql_register, sql_console,
        subject_records::sql_subject_records,
    },
    do_not_sell::sql_do_not_sell,
    feed::sql_feed,
    forms::sql_forms,
    identity::sql_identity,
    imports::sql_imports,
    leaving::sql_leaving,
    limits::sql_limits,
    seals::sql_seals,
    sql::sql_store,
    sqlite_raw,
    webhooks::sql_webhooks,
};

mod imports;
mod reads;
mod writes;

/// The embedded default: one file, WAL, `synchronous=FULL` (an answered change survives a crash).
pub struct SqliteStore {
    pool: SqlitePool,
    /// The database file, which the group commit's writer opens on its own (see sqlite_raw.rs).
    path: std::path::PathBuf,
    /// The read-only connections bulk reads take turns with (see sqlite_raw.rs).
    readers: std::sync::Arc<sqlite_raw::Readers>,
    /// SQLite lets one connection write at a time. This process's writers (the group commit,
    /// the sealer, checkpoints, retention) queue here, so one waiting for another starts the
    /// moment it commits, instead of sleeping in SQLite's busy handler (1, 2, 5, 10… ms) and
    /// holding up every request of its group meanwhile. Other processes (the CLI) still meet the
    /// busy timeout.
    writes: tokio::sync::Mutex<()>,
    /// The group commit's own connection (opened on first use; see `apply_keyless`).
    writer: std::sync::Arc<std::sync::Mutex<Option<sqlite_raw::WriteConnection>>>,
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
        let contended = sqlite_raw::contended_build();
        if !contended.is_empty() {
            tracing::warn!(
                options = %contended.join(", "),
                "SQLite was built with options that make its connections wait on each other \
                 (reads at once run at about half speed): build Doui from its workspace, whose \
                 .cargo/config.toml sets LIBSQLITE3_FLAGS"
            );
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            readers: std::sync::Arc::new(sqlite_raw::Readers::new(path.clone())),
            path,
            writes: tokio::sync::Mutex::new(()),
            writer: std::sync::Arc::new(std::sync::Mutex::new(None)),
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
    /// A feed page is read in this process: a second range read at once only takes a core from
    /// the writing of the answer (measured: 0.88 times as fast).
    const FEED_READS_AT_ONCE: usize = 1;

    /// Waits for this process's other writers (see `writes`); held until the transaction ends.
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        Some(self.writes.lock().await)
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
    placeholder = crate::store::anonymous,
    grants_page = crate::store::audience::grants_page_sqlite
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
sql_do_not_sell!(SqliteStore);
sql_forms!(SqliteStore);
crate::store::pauses::sql_pauses!(SqliteStore);

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
    write = write_events_lists,
    // In place, on the group commit's own connection (see imports.rs).
    write_batch = write_import_in_place
);

sql_console!(SqliteStore);
sql_erasure!(SqliteStore);
sql_event_log!(
    SqliteStore,
    placeholder = crate::store::anonymous,
    text_times = true,
    day = "substr(occurred_at, 1, 10)"
);
sql_purpose_settings!(SqliteStore, placeholder = crate::store::anonymous);
sql_register!(SqliteStore);
sql_objections!(SqliteStore);
sql_collection_points!(SqliteStore);
sql_subject_records!(
    SqliteStore,
    placeholder = crate::store::anonymous,
    collate = ""
);
sql_idempotency!(SqliteStore);

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

sql_webhooks!(
    SqliteStore,
    sqlx::Sqlite,
    text_times = true,
    deliveries = crate::store::webhooks::deliveries_as_rows
);
