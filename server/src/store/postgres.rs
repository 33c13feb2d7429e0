use std::time::Duration;

use sqlx::{PgPool, postgres::PgPoolOptions};

use super::{identity::sql_identity, sql::sql_store};

/// The scale-out backend: several Doui instances may share one database.
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self { pool })
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
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
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

sql_store! {
    store = PgStore,
    db = sqlx::Postgres,
    backend = "postgres",
    migrator = sqlx::migrate!("./migrations/postgres"),
    begin = "BEGIN",
    // Serialises changes to one subject across connections and instances.
    lock_subject = Some("SELECT id FROM subjects WHERE id = $1 FOR UPDATE"),
    lock_suffix = " FOR UPDATE",
}

sql_identity!(PgStore, sqlx::Postgres);
