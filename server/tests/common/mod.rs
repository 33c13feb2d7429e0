//! Test support: the same test bodies run on SQLite and on PostgreSQL (a fresh schema per test).
#![allow(dead_code)]

pub mod consents;
pub mod server;
pub mod smtp;

use std::{path::PathBuf, sync::Arc};

use ::server::store::{PgStore, SqliteStore};
use app::store::{IdentityStore, SealStore, Store};

pub const PG_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A migrated store and what it needs to be cleaned up.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    pub sqlite: Option<Arc<SqliteStore>>,
    pub pg: Option<Arc<PgStore>>,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Schema(String, String),
}

impl TestDb {
    pub fn name(&self) -> &'static str {
        self.store.backend()
    }

    /// The same database's hash chain.
    pub fn seals(&self) -> Arc<dyn SealStore> {
        match (&self.sqlite, &self.pg) {
            (Some(s), _) => s.clone(),
            (_, Some(p)) => p.clone(),
            _ => unreachable!(),
        }
    }

    /// The same database's console queries.
    pub fn console(&self) -> Arc<dyn app::store::ConsoleStore> {
        match (&self.sqlite, &self.pg) {
            (Some(s), _) => s.clone(),
            (_, Some(p)) => p.clone(),
            _ => unreachable!(),
        }
    }

    /// The same database's accounts and sessions.
    pub fn identity(&self) -> Arc<dyn IdentityStore> {
        match (&self.sqlite, &self.pg) {
            (Some(s), _) => s.clone(),
            (_, Some(p)) => p.clone(),
            _ => unreachable!(),
        }
    }

    /// Runs several raw statements in one go, on one connection.
    pub async fn raw_script(&self, sql: &str) -> Result<(), sqlx::Error> {
        match (&self.sqlite, &self.pg) {
            (Some(s), _) => sqlx::raw_sql(sql).execute(s.pool()).await.map(|_| ()),
            (_, Some(p)) => sqlx::raw_sql(sql).execute(p.pool()).await.map(|_| ()),
            _ => unreachable!(),
        }
    }

    /// Runs raw SQL, bypassing the store (to prove the database itself refuses it).
    pub async fn raw(&self, sql: &str) -> Result<u64, sqlx::Error> {
        match (&self.sqlite, &self.pg) {
            (Some(s), _) => sqlx::query(sql)
                .execute(s.pool())
                .await
                .map(|r| r.rows_affected()),
            (_, Some(p)) => sqlx::query(sql)
                .execute(p.pool())
                .await
                .map(|r| r.rows_affected()),
            _ => unreachable!(),
        }
    }

    pub async fn cleanup(self) {
        match self.cleanup {
            Cleanup::Dir(d) => {
                std::fs::remove_dir_all(d).ok();
            }
            Cleanup::Schema(url, schema) => {
                PgStore::drop_schema(&url, &schema).await.ok();
            }
        }
    }
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

pub async fn sqlite() -> TestDb {
    let dir = std::env::temp_dir().join(unique("doui_test"));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("doui.db").display());
    let store = Arc::new(SqliteStore::open(&url).await.unwrap());
    store.migrate().await.unwrap();
    TestDb {
        store: store.clone(),
        sqlite: Some(store),
        pg: None,
        url,
        cleanup: Cleanup::Dir(dir),
    }
}

pub fn pg_url() -> String {
    std::env::var("DATABASE_URL_PG").unwrap_or_else(|_| PG_DEFAULT.to_owned())
}

/// A store in a fresh PostgreSQL schema, or `None` (with a printed line) where no server answers.
/// Under `CI=true` a missing PostgreSQL fails the test instead.
pub async fn postgres() -> Option<TestDb> {
    let url = pg_url();
    let schema = unique("doui_test");
    match PgStore::open_in_schema(&url, &schema).await {
        Ok(store) => {
            let store = Arc::new(store);
            store.migrate().await.unwrap();
            let scoped = format!(
                "{url}{}options=-csearch_path%3D{schema}",
                if url.contains('?') { "&" } else { "?" }
            );
            Some(TestDb {
                store: store.clone(),
                sqlite: None,
                pg: Some(store),
                url: scoped,
                cleanup: Cleanup::Schema(url, schema),
            })
        }
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL is required under CI=true but {url} did not answer: {e}");
            }
            println!("skipping PostgreSQL: {e} (set DATABASE_URL_PG to run these)");
            None
        }
    }
}

/// Both backends (PostgreSQL only where it answers).
pub async fn backends() -> Vec<TestDb> {
    let mut all = vec![sqlite().await];
    all.extend(postgres().await);
    all
}

/// The services over a test database (links signed with a fixed key, mail to an outbox).
pub fn services(db: &TestDb) -> app::services::Services {
    let outbox = std::env::temp_dir().join(unique("doui_outbox"));
    app::services::Services {
        store: db.store.clone(),
        identity: db.identity(),
        seals: db.seals(),
        console: db.console(),
        keyring: Arc::new(
            app::token::Keyring::new(vec![
                app::token::SigningKey::new("t1", vec![7; 32]).unwrap(),
            ])
            .unwrap(),
        ),
        signer: Arc::new(app::signing::Signer::from_seed([5; 32])),
        // Pages of two links: the chain walks in these tests cross pages, read ahead.
        settings: Arc::new(app::services::Settings {
            walk_page: 2,
            ..app::services::Settings::for_url("https://doui.test")
        }),
        mailer: Arc::new(
            ::server::mail::FileMailer::new(outbox, "Doui <no-reply@doui.test>").unwrap(),
        ),
        limiter: Arc::new(app::rate::RateLimiter::default()),
        csrf: Arc::new(app::auth::CsrfKey::new(vec![9; 32])),
        data_key: Arc::new(app::auth::DataKey::new(&[3; 32])),
        sealed: Arc::new(tokio::sync::watch::Sender::new(0)),
    }
}

/// Both backends (PostgreSQL only where it answers) with only the migrations numbered below
/// `version` applied: a database as an earlier Doui left it. `store.migrate()` brings it up to
/// date, as an upgrade does.
pub async fn backends_before(version: u32) -> Vec<TestDb> {
    async fn migrator(backend: &str, version: u32) -> (sqlx::migrate::Migrator, PathBuf) {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let dir = std::env::temp_dir().join(unique("doui_migrations"));
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&src).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let number: u32 = name.split('_').next().unwrap().parse().unwrap();
            if number < version {
                std::fs::copy(&path, dir.join(&name)).unwrap();
            }
        }
        let m = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
        (m, dir)
    }
    let mut all = Vec::new();
    let dir = std::env::temp_dir().join(unique("doui_test"));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("doui.db").display());
    let store = Arc::new(SqliteStore::open(&url).await.unwrap());
    let (m, files) = migrator("sqlite", version).await;
    m.run(store.pool()).await.unwrap();
    std::fs::remove_dir_all(files).ok();
    all.push(TestDb {
        store: store.clone(),
        sqlite: Some(store),
        pg: None,
        url,
        cleanup: Cleanup::Dir(dir),
    });
    let url = pg_url();
    let schema = unique("doui_test");
    match PgStore::open_in_schema(&url, &schema).await {
        Ok(store) => {
            let store = Arc::new(store);
            let (m, files) = migrator("postgres", version).await;
            m.run(store.pool()).await.unwrap();
            std::fs::remove_dir_all(files).ok();
            let scoped = format!(
                "{url}{}options=-csearch_path%3D{schema}",
                if url.contains('?') { "&" } else { "?" }
            );
            all.push(TestDb {
                store: store.clone(),
                sqlite: None,
                pg: Some(store),
                url: scoped,
                cleanup: Cleanup::Schema(url, schema),
            });
        }
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL is required under CI=true but {url} did not answer: {e}");
            }
            println!("skipping PostgreSQL: {e}");
        }
    }
    all
}

/// Waits until every event committed so far is sealed (by these services or by a server's own
/// sealer, whichever gets there): cursor readers (suppression lists, the event feed) see an
/// event once it is sealed.
pub async fn seal_all(s: &app::services::Services) {
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    for _ in 0..500 {
        s.seal_pending().await.unwrap();
        if s.seals
            .unsealed_below(i64::MAX, later, 1)
            .await
            .unwrap()
            .is_empty()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("events stayed unsealed for 10 s");
}
