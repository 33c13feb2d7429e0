//! `doui backup FILE`: an online, consistent copy of a SQLite database while Doui serves
//! (`VACUUM INTO` reads one snapshot; writers go on meanwhile). PostgreSQL has its own tools.

use std::path::{Path, PathBuf};

use crate::config::Config;

/// Copies the database to `file`, which must not exist, readable by this user alone.
pub(super) async fn backup(config: &Config, file: PathBuf) -> anyhow::Result<()> {
    let url = &config.database_url;
    if !url.starts_with("sqlite:") {
        anyhow::bail!(
            "doui backup copies a SQLite database; for PostgreSQL use its own tools, e.g. \
             `pg_dump --format=custom --file=doui.dump <database>` (one consistent snapshot) or \
             `pg_basebackup` with WAL archiving (point-in-time recovery): see \
             docs/operators/backups-and-upgrades.md"
        );
    }
    let store = open_existing(url).await?;
    // Made empty first (VACUUM INTO fills an empty file): refuses an existing file without a
    // race, and the copy is private from its first byte.
    create_private(&file)?;
    let copied = sqlx::query("VACUUM INTO $1")
        .bind(file.to_string_lossy().into_owned())
        .execute(store.pool())
        .await;
    if let Err(e) = copied {
        std::fs::remove_file(&file).ok();
        anyhow::bail!("copying the database to {}: {e}", file.display());
    }
    // Read the copy back (read-only: it stays as it was written): it must be whole, and say
    // what it holds.
    let copy = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&file)
                .read_only(true),
        )
        .await?;
    let check: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(&copy)
        .await?;
    anyhow::ensure!(check == "ok", "the copy does not read back whole: {check}");
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM consent_events")
        .fetch_one(&copy)
        .await?;
    let sealed: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM event_seals")
        .fetch_one(&copy)
        .await?;
    copy.close().await;
    println!(
        "backed up to {} ({events} events, chain length {sealed}); keep the keys of {} apart \
         from it (see docs/operators/backups-and-upgrades.md)",
        file.display(),
        config.data_dir.display()
    );
    Ok(())
}

async fn open_existing(url: &str) -> anyhow::Result<crate::store::SqliteStore> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    anyhow::ensure!(
        Path::new(path).is_file(),
        "no database at {path} (is DATABASE_URL or data_dir right?)"
    );
    crate::store::SqliteStore::open(url).await
}

fn create_private(file: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
            "{} exists already: doui backup never overwrites a file (name a new one)",
            file.display()
        ),
        Err(e) => anyhow::bail!("creating {}: {e}", file.display()),
    }
}
