//! Backups and restores as docs/operators/backups-and-upgrades.md tells them. SQLite: `doui
//! backup` copies the database while the server writes, the copy restored into a new data
//! directory verifies and holds what it said. PostgreSQL: `doui backup` names pg_dump; a
//! pg_dump of a schema restored into a new database verifies.

mod common;

use app::domain::Channel;

use std::{
    path::Path,
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

fn doui(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_doui"));
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("DOUI_CONFIG")
        .env("DOUI_DATA_DIR", dir.join("data"))
        .env("DOUI_DEMO", "false")
        .env("DOUI_LOG", "warn");
    cmd
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The number after `label` in `text`: `(12 events` gives 12 for `events`.
fn number_before(text: &str, label: &str) -> i64 {
    let at = text
        .find(&format!(" {label}"))
        .unwrap_or_else(|| panic!("{text}"));
    text[..at]
        .rsplit(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn count_events(url: &str) -> i64 {
    let store = ::server::store::SqliteStore::open(url).await.unwrap();
    sqlx::query_scalar("SELECT count(*) FROM consent_events")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_backup_taken_while_serving_restores_and_verifies() {
    let dir = std::env::temp_dir().join(common::unique("doui_backup"));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut tokens = Vec::new();
    for i in 0..60 {
        let out = run(doui(&dir).env("DOUI_PUBLIC_URL", &base).args([
            "subject",
            "add",
            "--email",
            &format!("b{i}@example.jp"),
        ]));
        let link = out.lines().find(|l| l.contains("/p/")).unwrap().to_owned();
        tokens.push(link.rsplit_once("/p/").unwrap().1.to_owned());
    }
    let mut server = doui(&dir)
        .env("DOUI_LISTEN", format!("127.0.0.1:{port}"))
        .env("DOUI_PUBLIC_URL", &base)
        .env("DOUI_SHUTDOWN_DRAIN_MS", "0")
        .arg("serve")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Writers keep unsubscribing people while the backup runs.
    let answered = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (tokens, answered, stop, client, base) = (
            tokens.clone(),
            answered.clone(),
            stop.clone(),
            client.clone(),
            base.clone(),
        );
        tokio::spawn(async move {
            for token in &tokens {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let r = client
                    .post(format!("{base}/u/{token}"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("List-Unsubscribe=One-Click")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                answered.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    while answered.load(Ordering::SeqCst) < 10 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let copy = dir.join("doui-backup.db");
    let before = answered.load(Ordering::SeqCst);
    let out = run(doui(&dir).arg("backup").arg(&copy));
    let during = answered.load(Ordering::SeqCst);
    let backed_up = number_before(&out, "events");
    assert!(out.contains("backed up to"), "{out}");
    // Never over an existing file.
    let again = doui(&dir).arg("backup").arg(&copy).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(server.wait().unwrap().success());
    let live = count_events(&format!("sqlite:{}", dir.join("data/doui.db").display())).await;
    assert!(
        backed_up >= before as i64 && backed_up <= live,
        "the copy holds what was answered before it ({before} ≤ {backed_up} ≤ {live}; {during} answered by its end)"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the copy is private");
    }

    // Restore as the docs say: a new data directory gets the copy and the keys, then verify.
    let restored = std::env::temp_dir().join(common::unique("doui_restored"));
    std::fs::create_dir_all(restored.join("data")).unwrap();
    std::fs::copy(&copy, restored.join("data/doui.db")).unwrap();
    for key in ["token-keys.toml", "signing-key", "session-key", "data-key"] {
        let from = dir.join("data").join(key);
        if from.exists() {
            std::fs::copy(&from, restored.join("data").join(key)).unwrap();
        }
    }
    let out = run(doui(&restored).arg("verify"));
    assert!(out.contains("chain verified"), "{out}");
    let url = format!("sqlite:{}", restored.join("data/doui.db").display());
    assert_eq!(count_events(&url).await, backed_up, "the counts match");
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&restored).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_doui_backup_names_pg_dump() {
    let dir = std::env::temp_dir().join(common::unique("doui_backup_pg"));
    std::fs::create_dir_all(&dir).unwrap();
    let out = doui(&dir)
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
        .args(["backup", "x.db"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pg_dump") && err.contains("pg_basebackup"),
        "{err}"
    );
    assert!(!dir.join("x.db").exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// The PostgreSQL tools of the installed server (`pg_config --bindir`).
fn pg_tool(name: &str) -> std::path::PathBuf {
    let out = Command::new("pg_config").arg("--bindir").output().unwrap();
    Path::new(String::from_utf8(out.stdout).unwrap().trim()).join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pg_dump_restored_into_a_new_database_verifies() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let dir = std::env::temp_dir().join(common::unique("doui_pgdump"));
    std::fs::create_dir_all(&dir).unwrap();
    // Events, sealed and checkpointed by the command line, as a server would.
    for i in 0..5 {
        run(doui(&dir).env("DATABASE_URL", &db.url).args([
            "subject",
            "add",
            "--email",
            &format!("p{i}@example.jp"),
        ]));
    }
    let services = common::services(&db);
    for i in 0..5 {
        let email = format!("p{i}@example.jp");
        common::consents::grant(&services, &email, "newsletter", Channel::Email).await;
    }
    let out = run(doui(&dir).env("DATABASE_URL", &db.url).arg("verify"));
    assert!(out.contains("chain verified"), "{out}");
    let (schema, base) = schema_and_base(&db.url);

    // As the docs show: pg_dump --format=custom, then pg_restore into a new database.
    let dump = dir.join("doui.dump");
    let status = Command::new(pg_tool("pg_dump"))
        .args(["--format=custom", "--schema", &schema, "--file"])
        .arg(&dump)
        .arg(&base)
        .status()
        .unwrap();
    assert!(status.success());
    let new_db = common::unique("doui_restore");
    let admin = ::server::store::PgStore::open(&base).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {new_db}"))
        .execute(admin.pool())
        .await
        .unwrap();
    let target = base.replace("/test", &format!("/{new_db}"));
    let status = Command::new(pg_tool("pg_restore"))
        .args(["--exit-on-error", "--no-owner", "--dbname", &target])
        .arg(&dump)
        .status()
        .unwrap();
    assert!(status.success());

    let restored = format!("{target}?options=-csearch_path%3D{schema}");
    let out = run(doui(&dir).env("DATABASE_URL", &restored).arg("verify"));
    assert!(out.contains("chain verified"), "{out}");
    let count = |url: String| async move {
        let s = ::server::store::PgStore::open(&url).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM consent_events")
            .fetch_one(s.pool())
            .await
            .unwrap();
        s.pool().close().await;
        n
    };
    assert_eq!(count(restored.clone()).await, count(db.url.clone()).await);
    sqlx::query(&format!("DROP DATABASE {new_db} WITH (FORCE)"))
        .execute(admin.pool())
        .await
        .unwrap();
    db.cleanup().await;
    std::fs::remove_dir_all(&dir).ok();
}

/// The schema a test database URL names, and the URL without it.
fn schema_and_base(url: &str) -> (String, String) {
    let (base, query) = url.split_once('?').unwrap();
    let schema = query
        .split('&')
        .find_map(|p| p.strip_prefix("options=-csearch_path%3D"))
        .unwrap()
        .to_owned();
    (schema, base.to_owned())
}
