//! The two storage backends. Both implement `app::store::Store` with the same SQL (written once in
//! `sql_store!`); they differ in connection setup, migrations and how a subject is locked.

pub(crate) mod audience;
mod binds;
mod bulk;
mod columns;
pub(crate) mod console;
mod do_not_sell;
pub(crate) mod feed;
mod forms;
mod group;
mod identity;
pub(crate) mod imports;
mod leaving;
mod limits;
pub(crate) mod pauses;
mod pg_copy;
mod postgres;
mod replica;
mod rows;
mod seals;
mod sql;
mod sqlite;
mod sqlite_raw;
mod webhooks;

use std::sync::Arc;

use app::store::{ConsoleStore, IdentityStore, SealStore, Store, StoreError};

pub(crate) use binds::{Bind, bind_all};
pub use columns::event_columns;
pub use group::{GroupCommit, Writers};
pub use postgres::{ACQUIRE_TIMEOUT, PgStore};
pub use replica::{DEFAULT_MAX_LAG, ReadReplica};
pub use sqlite::SqliteStore;

/// What a database URL opens: the consent store (behind group commit) and the identity store.
pub struct Stores {
    pub store: Arc<dyn Store>,
    pub identity: Arc<dyn IdentityStore>,
    pub seals: Arc<dyn SealStore>,
    pub console: Arc<dyn ConsoleStore>,
}

/// Group-commit writers per instance on PostgreSQL. One group commits while the next gathers;
/// measured on 2 cores with 32 clients, one writer (bigger groups, fewer transactions) answered
/// 8.0–8.8k one-clicks/s where two answered 5.3–8.0k and four 5.4–5.6k.
const PG_WRITERS: usize = 1;

/// Opens the store a database URL names: `sqlite:` (the embedded default) or `postgres://`,
/// with group commit for changes.
pub async fn open(url: &str) -> anyhow::Result<Stores> {
    open_reading_from(url, None).await
}

/// Like [`open`], with a streaming replica for the reads that may lag (PostgreSQL only).
pub async fn open_reading_from(url: &str, replica: Option<&ReadReplica>) -> anyhow::Result<Stores> {
    type Opened = (
        Arc<dyn Store>,
        Arc<dyn IdentityStore>,
        Arc<dyn SealStore>,
        Arc<dyn ConsoleStore>,
        Writers,
    );
    let (backend, identity, seals, console, writers): Opened = if url.starts_with("sqlite:") {
        anyhow::ensure!(
            replica.is_none(),
            "database_read_url needs PostgreSQL: SQLite is one file with no replica to read from"
        );
        let s = Arc::new(SqliteStore::open(url).await?);
        (s.clone(), s.clone(), s.clone(), s, Writers::OwnThread)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let s = Arc::new(match replica {
            Some(replica) => PgStore::open_reading_from(url, replica).await?,
            None => PgStore::open(url).await?,
        });
        let (writers, url) = (PG_WRITERS, url.to_owned());
        let open: group::Opener = Box::new(move || {
            Box::pin(async move {
                let own = PgStore::open_with(&url, writers as u32).await?;
                Ok(Arc::new(own) as Arc<dyn Store>)
            })
        });
        (
            s.clone(),
            s.clone(),
            s.clone(),
            s,
            Writers::OwnThreadOpening {
                count: writers,
                open,
            },
        )
    } else {
        anyhow::bail!(
            "DATABASE_URL must start with sqlite: or postgres:// (got {:?})",
            redact_url(url)
        )
    };
    Ok(Stores {
        store: Arc::new(GroupCommit::new(backend, writers)),
        identity,
        seals,
        console,
    })
}

/// Which database a read goes to when a replica is configured (see `PgStore::reads`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadFrom {
    /// The primary: what a write depends on (the sealer's next events, say).
    Primary,
    /// The replica while it is fresh enough, else the primary.
    Replica,
}

/// The `i`-th parameter of a statement as PostgreSQL numbers it: `$i`.
pub(crate) fn numbered(i: usize) -> String {
    format!("${i}")
}

/// A parameter for SQLite in statements built at run time: an anonymous `?` (the parameters are
/// bound in the order they appear). sqlx looks named parameters up one at a time, and SQLite
/// scans its list of names for each: quadratic in a statement with thousands of them.
pub(crate) fn anonymous(_: usize) -> String {
    "?".to_owned()
}

/// A database URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &base[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &base[..scheme + 3], &base[at..])
        }
        _ => base.to_owned(),
    };
    if let Some(query) = query {
        // `?password=…` (and `sslpassword`, a token or key) is a secret as much as userinfo.
        let secret = |name: &str| {
            let name = name.to_ascii_lowercase();
            ["pass", "pwd", "secret", "token", "key"]
                .iter()
                .any(|s| name.contains(s))
        };
        let params: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if secret(name) => format!("{name}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// Maps what the database said to what the rules understand.
pub(crate) fn db_error(e: sqlx::Error) -> StoreError {
    if is_unavailable(&e) {
        return StoreError::Unavailable(e.to_string());
    }
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            let msg = db.message().to_ascii_lowercase();
            let detail = db.constraint().unwrap_or_default().to_ascii_lowercase();
            let what = if msg.contains("email") || detail.contains("email") {
                "email"
            } else if msg.contains("collection_points") || detail.contains("collection_points") {
                "collection_point"
            } else {
                "external_id"
            };
            return StoreError::Conflict(what);
        }
        if db.is_foreign_key_violation() {
            return StoreError::MissingReference("subject or purpose");
        }
    }
    StoreError::Backend(e.to_string())
}

/// Whether an error says the database cannot be reached just now rather than that the statement
/// was wrong: the connection was lost or refused, no connection came free within the pool's
/// acquire timeout, or the server is shutting down, starting up, recovering or read-only (a
/// standby, in the middle of a failover).
pub(crate) fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception; 57P01–57P03: admin or crash shutdown, cannot connect
            // now; 53300: too many connections; 25006: read-only transaction (a standby).
            code.starts_with("08")
                || matches!(
                    code.as_ref(),
                    "57P01" | "57P02" | "57P03" | "53300" | "25006"
                )
        }),
        _ => false,
    }
}

pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("a stored {what} could not be read"))
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite:data/doui.db"), "sqlite:data/doui.db");
    }

    #[test]
    fn hardening_13_a_password_in_the_query_is_redacted_too() {
        assert_eq!(
            redact_url("postgres://u@h/db?sslmode=require&password=hunter2&sslpassword=x"),
            "postgres://u:***@h/db?sslmode=require&password=***&sslpassword=***"
        );
        assert_eq!(
            redact_url("postgres://u:pw@h/db?application_name=doui"),
            "postgres://u:***@h/db?application_name=doui"
        );
    }
}
