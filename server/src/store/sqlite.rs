use std::{str::FromStr, time::Duration};

use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use super::{console::sql_console, identity::sql_identity, seals::sql_seals, sql::sql_store};

/// The embedded default: one file, WAL, `synchronous=FULL` (an answered change survives a crash).
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
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
    lock_suffix = "",
    placeholder = crate::store::anonymous,
    read = read_current_lists,
    write = write_events_lists,
}

impl SqliteStore {
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

sql_identity!(SqliteStore, sqlx::Sqlite);

sql_console!(
    SqliteStore,
    sqlx::Sqlite,
    placeholder = crate::store::anonymous,
    text_times = true,
    collate = "",
    day = "substr(occurred_at, 1, 10)",
    dialect = crate::store::packed::SQLITE
);

sql_seals!(
    SqliteStore,
    sqlx::Sqlite,
    begin = "BEGIN IMMEDIATE",
    lock = None,
    dialect = crate::store::packed::SQLITE
);
