use std::time::Duration;

use sqlx::{PgPool, postgres::PgPoolOptions};

use super::replica::{ReadReplica, Replica};
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
    webhooks::sql_webhooks,
};

mod reads;
mod writes;

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
    placeholder = crate::store::numbered,
    grants_page = crate::store::audience::grants_page_pg
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
sql_do_not_sell!(PgStore);
sql_forms!(PgStore);
crate::store::pauses::sql_pauses!(PgStore);

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
    write = write_events_arrays,
    write_batch = write_import_statements
);

sql_console!(PgStore);
sql_erasure!(PgStore);
sql_event_log!(
    PgStore,
    placeholder = crate::store::numbered,
    text_times = false,
    day = "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
);
sql_purpose_settings!(PgStore, placeholder = crate::store::numbered);
sql_register!(PgStore);
sql_objections!(PgStore);
sql_collection_points!(PgStore);
sql_subject_records!(
    PgStore,
    placeholder = crate::store::numbered,
    collate = " COLLATE \"C\""
);
sql_idempotency!(PgStore);

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

/// What the shared SQL (`sql_store!`, `sql_seals!`, `sql_event_log!`…) asks of PostgreSQL: its write
/// turn, the group commit, and the reads of subjects, chain pages (by binary COPY, see pg_copy.rs)
/// and event pages.
impl PgStore {
    /// Two ranges of a long feed page are read at once, on two connections: the page's query
    /// (three index lookups an event in one backend process) is what holds the feed, and two
    /// backends use both cores (measured: 1.17 times as fast on two).
    const FEED_READS_AT_ONCE: usize = 2;

    /// PostgreSQL writers run side by side (rows are locked where they meet): no turn to wait.
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        None
    }
}

sql_webhooks!(
    PgStore,
    sqlx::Postgres,
    text_times = false,
    deliveries = crate::store::webhooks::deliveries_as_arrays
);
