//! Durability: the server is killed with SIGKILL while it accepts changes; after a restart every
//! change it answered with success is there, and the hash chain verifies.

mod common;

use std::{
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use app::store::Store;

fn doui(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_doui"));
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("DOUI_CONFIG")
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

async fn wait_until_up(base: &str) {
    for _ in 0..100 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("doui did not start");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_change_survives_sigkill_and_the_chain_verifies() {
    let dir = std::env::temp_dir().join(common::unique("doui_kill"));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");

    // Subjects and their links, made by the command line before the server starts.
    let mut links = Vec::new();
    for i in 0..60 {
        let out = doui(&dir)
            .env("DOUI_PUBLIC_URL", &base)
            .args(["subject", "add", "--email", &format!("k{i}@example.jp")])
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
        links.push(link.rsplit_once("/p/").unwrap().1.to_owned());
    }

    let mut server: Child = doui(&dir)
        .env("DOUI_LISTEN", format!("127.0.0.1:{port}"))
        .env("DOUI_PUBLIC_URL", &base)
        .arg("serve")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_up(&base).await;

    // Eight clients unsubscribe (one-click) as fast as they can; the server is killed meanwhile.
    let answered = Arc::new(Mutex::new(Vec::new()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut workers = Vec::new();
    for w in 0..8 {
        let (links, answered, client, base) = (
            links.clone(),
            answered.clone(),
            client.clone(),
            base.clone(),
        );
        workers.push(tokio::spawn(async move {
            for (i, token) in links.iter().enumerate().filter(|(i, _)| i % 8 == w) {
                let res = client
                    .post(format!("{base}/u/{token}"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("List-Unsubscribe=One-Click")
                    .send()
                    .await;
                if let Ok(r) = res
                    && r.status() == 200
                {
                    answered.lock().unwrap().push(i);
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }));
    }
    // Kill once some changes are answered, while the rest are still arriving.
    for _ in 0..500 {
        if answered.lock().unwrap().len() >= 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    for w in workers {
        w.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(
        !answered.is_empty(),
        "some changes were answered before the kill"
    );
    assert!(
        answered.len() < links.len(),
        "the kill came while changes were arriving"
    );

    // Restart: verify seals what committed and walks the chain.
    let out = doui(&dir).arg("verify").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("chain verified"), "{stdout}");

    let url = format!("sqlite:{}", dir.join("data/doui.db").display());
    let store = ::server::store::SqliteStore::open(&url).await.unwrap();
    for i in &answered {
        let subject = store
            .find_subject(&format!("k{i}@example.jp"))
            .await
            .unwrap()
            .unwrap();
        let events = store.events_for_subject(subject.id, 10).await.unwrap();
        assert!(
            !events.is_empty(),
            "the answered change for k{i} is missing after the kill"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
