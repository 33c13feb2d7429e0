//! Graceful shutdown of the real `doui` process, on SQLite and PostgreSQL: on SIGTERM `/readyz`
//! answers 503 while changes are still accepted, then the process stops taking connections,
//! finishes what it answered, seals it and exits 0 within the bound. Every change it answered
//! with success is stored and the chain verifies.

mod common;

use std::{
    path::Path,
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// The drain: how long `/readyz` answers 503 before connections stop.
const DRAIN_MS: u64 = 1500;
/// The bound the process must exit within.
const TIMEOUT_SECS: u64 = 10;

fn doui(dir: &Path, database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_doui"));
    cmd.current_dir(dir)
        .env_remove("DOUI_CONFIG")
        .env("DATABASE_URL", database_url)
        .env("DOUI_DATA_DIR", dir.join("data"))
        .env("DOUI_DEMO", "false")
        .env("DOUI_LOG", "warn");
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_then_stops_with_every_answered_change_stored() {
    for db in common::backends().await {
        run(&db).await;
        db.cleanup().await;
    }
}

#[cfg(unix)]
async fn run(db: &common::TestDb) {
    let name = db.name();
    let dir = std::env::temp_dir().join(common::unique("doui_term"));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");

    let mut tokens = Vec::new();
    for i in 0..40 {
        let out = doui(&dir, &db.url)
            .env("DOUI_PUBLIC_URL", &base)
            .args(["subject", "add", "--email", &format!("t{i}@example.jp")])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let link = stdout
            .lines()
            .find(|l| l.contains("/p/"))
            .unwrap()
            .to_owned();
        tokens.push(link.rsplit_once("/p/").unwrap().1.to_owned());
    }

    let mut server = doui(&dir, &db.url)
        .env("DOUI_LISTEN", format!("127.0.0.1:{port}"))
        .env("DOUI_PUBLIC_URL", &base)
        .env("DOUI_SHUTDOWN_DRAIN_MS", DRAIN_MS.to_string())
        .env("DOUI_SHUTDOWN_TIMEOUT_SECS", TIMEOUT_SECS.to_string())
        .arg("serve")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut up = false;
    for _ in 0..100 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "{name}: doui did not start");

    // Four clients unsubscribe one person after another, a little apart, through the whole
    // shutdown; one more asks /readyz. Each notes when it was answered, and how.
    let started = Instant::now();
    let answered: Arc<Mutex<Vec<(usize, Duration)>>> = Arc::default();
    let readiness: Arc<Mutex<Vec<(u16, Duration)>>> = Arc::default();
    let mut workers = Vec::new();
    for w in 0..4 {
        let (tokens, answered, client, base) = (
            tokens.clone(),
            answered.clone(),
            client.clone(),
            base.clone(),
        );
        workers.push(tokio::spawn(async move {
            for (i, token) in tokens.iter().enumerate().filter(|(i, _)| i % 4 == w) {
                let res = client
                    .post(format!("{base}/u/{token}"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("List-Unsubscribe=One-Click")
                    .send()
                    .await;
                if res.is_ok_and(|r| r.status() == 200) {
                    answered.lock().unwrap().push((i, started.elapsed()));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }));
    }
    let probe = {
        let (readiness, client, base) = (readiness.clone(), client.clone(), base.clone());
        tokio::spawn(async move {
            loop {
                match client.get(format!("{base}/readyz")).send().await {
                    Ok(r) => readiness
                        .lock()
                        .unwrap()
                        .push((r.status().as_u16(), started.elapsed())),
                    Err(_) => return, // connections stopped
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };

    // SIGTERM once some changes are answered, while the rest keep coming.
    while answered.lock().unwrap().len() < 6 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let signalled = started.elapsed();
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit_started = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            exit_started.elapsed() < Duration::from_secs(TIMEOUT_SECS + 5),
            "{name}: doui did not exit within the bound"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let took = exit_started.elapsed();
    for w in workers {
        w.await.unwrap();
    }
    probe.await.unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "{name}: a graceful shutdown exits 0"
    );
    assert!(
        took >= Duration::from_millis(DRAIN_MS) && took < Duration::from_secs(TIMEOUT_SECS),
        "{name}: drained, then exited within the bound ({took:?})"
    );

    // /readyz: 200 before the signal, 503 during the drain.
    let readiness = readiness.lock().unwrap().clone();
    assert!(
        readiness.iter().any(|(s, at)| *s == 200 && *at < signalled),
        "{name}"
    );
    let draining: Vec<Duration> = readiness
        .iter()
        .filter(|(s, at)| *s == 503 && *at > signalled)
        .map(|(_, at)| *at)
        .collect();
    assert!(
        !draining.is_empty(),
        "{name}: /readyz never answered 503: {readiness:?}"
    );
    // Changes were still accepted while /readyz said 503: the balancer had time to notice.
    let answered = answered.lock().unwrap().clone();
    assert!(
        answered.iter().any(|(_, at)| *at > draining[0]),
        "{name}: no change was answered during the drain"
    );
    assert!(
        answered.len() < tokens.len(),
        "{name}: some came after the stop"
    );

    // Every answered change is stored, and sealed before the exit: the chain verifies.
    let seals = db.seals();
    let (_, sealed_upto) = seals.chain_extent().await.unwrap();
    assert_eq!(
        seals.events_above(sealed_upto).await.unwrap(),
        0,
        "{name}: events left unsealed at the exit"
    );
    let out = doui(&dir, &db.url).arg("verify").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{name}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (i, _) in &answered {
        let subject = db
            .store
            .find_subject(&format!("t{i}@example.jp"))
            .await
            .unwrap()
            .unwrap();
        let events = db.store.events_for_subject(subject.id, 10).await.unwrap();
        assert!(
            !events.is_empty(),
            "{name}: the answered change for t{i} is missing"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
