//! Doui as a fleet on PostgreSQL (issue 33): a streaming replica for the reads that may lag, the
//! primary stopped and started under load, a replica promoted. Each test starts its own
//! PostgreSQL clusters with the server's tools (`pg_config --bindir`: initdb, pg_ctl,
//! pg_basebackup) on spare loopback ports in a temporary directory, and stops them after, also
//! when it fails. initdb and postgres refuse to run as root: as root, the directory belongs to
//! `postgres` and the tools run as that user (`runuser`). Skipped, with the reason printed, only
//! where the PostgreSQL server tools are not installed.

mod common;

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use ::server::store::ReadReplica;
use app::{
    domain::{Channel, ConsentState, Lang, SubjectId},
    services::Services,
    token::Scope,
};
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;

// ---------------------------------------------------------------------------------------------
// Clusters

/// The PostgreSQL server tools, or why there are none.
fn bindir() -> Result<PathBuf, String> {
    let out = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        .map_err(|e| {
            format!("pg_config not found ({e}): the PostgreSQL server tools are not installed")
        })?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !out.status.success() || !dir.join("initdb").exists() {
        return Err(format!(
            "no initdb in {} (pg_config --bindir)",
            dir.display()
        ));
    }
    Ok(dir)
}

fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A free TCP port on 127.0.0.1 (the listener is closed at once; nobody else takes it meanwhile
/// on a test machine).
fn spare_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The PostgreSQL tools, and whether they run as `postgres` (when we are root).
#[derive(Clone)]
struct Tools {
    bin: PathBuf,
    as_postgres: bool,
}

impl Tools {
    /// A tool with its arguments to come.
    fn command(&self, name: &str) -> std::process::Command {
        let program = self.bin.join(name);
        if self.as_postgres {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            std::process::Command::new(program)
        }
    }

    /// Runs a tool in `dir` off the async threads (the tests' servers run on them meanwhile).
    async fn run(&self, name: &str, dir: &Path, args: Vec<String>) -> std::process::Output {
        let mut cmd = self.command(name);
        cmd.current_dir(dir).args(args);
        tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .unwrap()
    }
}

/// A temporary directory holding one test's clusters; removed when dropped.
struct Workspace {
    root: PathBuf,
    tools: Tools,
}

impl Workspace {
    fn new(bin: PathBuf) -> Self {
        let root = std::env::temp_dir().join(common::unique("doui_fleet"));
        std::fs::create_dir_all(&root).unwrap();
        let as_postgres = running_as_root();
        if as_postgres {
            let chown = std::process::Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&root)
                .status()
                .unwrap();
            assert!(chown.success(), "chown postgres {}", root.display());
        }
        Self {
            root,
            tools: Tools { bin, as_postgres },
        }
    }

    async fn run(&self, name: &str, args: &[&str]) {
        let owned = args.iter().map(|a| a.to_string()).collect();
        let out = self.tools.run(name, &self.root, owned).await;
        assert!(
            out.status.success(),
            "{name} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A new primary, started.
    async fn primary(&self, name: &str) -> Cluster {
        let cluster = Cluster::new(self, name);
        let dir = cluster.dir_str();
        self.run(
            "initdb",
            &[
                "-D",
                &dir,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        )
        .await;
        cluster.configure(&[
            "listen_addresses = '127.0.0.1'",
            &format!("unix_socket_directories = '{}'", self.root.display()),
            "fsync = off",
            "shared_buffers = 32MB",
            "wal_keep_size = 256MB",
            "max_connections = 100",
        ]);
        cluster.start().await;
        cluster
    }

    /// A streaming replica of `primary` (`pg_basebackup -R`), started and streaming.
    async fn replica(&self, primary: &Cluster, name: &str) -> Cluster {
        let cluster = Cluster::new(self, name);
        self.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &primary.port.to_string(),
                "-U",
                "postgres",
                "-D",
                &cluster.dir_str(),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ],
        )
        .await;
        // Its own port (the copied configuration names the primary's).
        cluster.configure(&[]);
        cluster.start().await;
        let primary_pool = primary.pool().await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let streaming: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_replication WHERE state = 'streaming'",
            )
            .fetch_one(&primary_pool)
            .await
            .unwrap();
            if streaming > 0 {
                break;
            }
            assert!(Instant::now() < deadline, "the replica never streamed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        primary_pool.close().await;
        cluster
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.root).ok();
    }
}

/// One cluster: its data directory and port. Stopped (immediately) when dropped, so that a
/// failing test leaves no server behind.
struct Cluster {
    dir: PathBuf,
    log: PathBuf,
    port: u16,
    tools: Tools,
}

impl Cluster {
    fn new(ws: &Workspace, name: &str) -> Self {
        Self {
            dir: ws.root.join(name),
            log: ws.root.join(format!("{name}.log")),
            port: spare_port(),
            tools: ws.tools.clone(),
        }
    }

    fn dir_str(&self) -> String {
        self.dir.display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Appends settings (and this cluster's port) to its postgresql.conf: later lines win.
    fn configure(&self, lines: &[&str]) {
        use std::io::Write;
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.join("postgresql.conf"))
            .unwrap();
        for line in lines {
            writeln!(conf, "{line}").unwrap();
        }
        writeln!(conf, "port = {}", self.port).unwrap();
    }

    async fn ctl(&self, args: &[&str]) {
        let mut all = vec!["-D".to_owned(), self.dir_str()];
        all.extend(args.iter().map(|a| a.to_string()));
        let out = self
            .tools
            .run("pg_ctl", self.dir.parent().unwrap(), all)
            .await;
        assert!(
            out.status.success(),
            "pg_ctl {args:?} failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    async fn start(&self) {
        let log = self.log.display().to_string();
        self.ctl(&["-l", &log, "-w", "-t", "60", "start"]).await;
    }

    /// A clean stop: the server ends its sessions and writes a checkpoint.
    async fn stop(&self) {
        self.ctl(&["-m", "fast", "-w", "stop"]).await;
    }

    /// A crash: the server is gone at once, without a checkpoint.
    async fn kill(&self) {
        self.ctl(&["-m", "immediate", "-w", "stop"]).await;
    }

    async fn promote(&self) {
        self.ctl(&["-w", "promote"]).await;
    }

    async fn pool(&self) -> sqlx::PgPool {
        PgPoolOptions::new()
            .max_connections(2)
            .connect(&self.url())
            .await
            .unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Already stopped is fine: this only makes sure.
        let _ = self
            .tools
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.dir)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

// ---------------------------------------------------------------------------------------------
// Doui instances and what the tests ask of them

/// A Doui instance over `db_url` (and `replica`), its keys in `data_dir` (shared: a link made by
/// one instance opens on every other).
async fn doui(db_url: &str, replica: Option<ReadReplica>, data_dir: &Path) -> (String, Services) {
    let mut config = common::server::config(db_url, data_dir.to_path_buf());
    config.read_replica = replica;
    // The tests' webhook receiver listens on loopback.
    config.webhook_allow_hosts = vec!["127.0.0.1".into()];
    let services = ::server::services(&config).await.unwrap();
    let running = ::server::start(&config, services).await.unwrap();
    (format!("http://{}", running.addr), running.services)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(32)
        .build()
        .unwrap()
}

/// `n` new subjects who granted the newsletter by email: (id, external id).
async fn granted_subjects(services: &Services, prefix: &str, n: usize) -> Vec<(SubjectId, String)> {
    let mut subjects = Vec::with_capacity(n);
    for i in 0..n {
        let external = format!("{prefix}-{i}");
        let s = services
            .create_subject(
                Some(&external),
                Some(&format!("{external}@example.jp")),
                None,
                Lang::Ja,
            )
            .await
            .unwrap();
        subjects.push((s.id, external));
    }
    for chunk in subjects.chunks(200) {
        let grants = chunk
            .iter()
            .map(|(id, _)| {
                common::consents::change(
                    *id,
                    "newsletter",
                    Channel::Email,
                    ConsentState::Granted,
                    None,
                )
            })
            .collect();
        services.store.apply(grants).await.unwrap();
    }
    subjects
}

fn one_click_token(services: &Services, subject: SubjectId) -> String {
    services.unsubscribe_token(
        subject,
        Scope::PurposeChannel("newsletter".parse().unwrap(), Channel::Email),
        None,
    )
}

/// An RFC 8058 one-click unsubscribe, as a mail provider sends it (in Japanese).
async fn one_click(client: &reqwest::Client, base: &str, token: &str) -> reqwest::Response {
    client
        .post(format!("{base}/u/{token}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept-language", "ja")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap()
}

/// The external ids whose withdrawals the event feed (`/api/v1/events`) lists from the start.
async fn feed_ids(client: &reqwest::Client, base: &str, key: &str) -> BTreeSet<String> {
    let page: Value = client
        .get(format!("{base}/api/v1/events?since=0&limit=1000"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a feed page: {page}"))
        .iter()
        .filter(|i| i["to"] == "withdrawn")
        .map(|i| i["external_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The external ids the newsletter's email suppression list holds from the start.
async fn suppressed_ids(client: &reqwest::Client, base: &str, key: &str) -> BTreeSet<String> {
    let page: Value = client
        .get(format!(
            "{base}/api/v1/suppressions?purpose=newsletter&channel=email&since=0&limit=1000"
        ))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a suppression page: {page}"))
        .iter()
        .map(|i| i["external_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The person's own choice for the newsletter by email, from their record (`/p/<token>/record.json`).
async fn own_choice(
    client: &reqwest::Client,
    base: &str,
    services: &Services,
    subject: SubjectId,
) -> String {
    let link = services.preference_link(subject);
    let token = link.rsplit_once("/p/").unwrap().1;
    let record: Value = client
        .get(format!("{base}/p/{token}/record.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    fn find(v: &Value) -> Option<String> {
        match v {
            Value::Object(m) => {
                if m.get("purpose").and_then(Value::as_str) == Some("newsletter")
                    && m.get("channel").and_then(Value::as_str) == Some("email")
                    && m.contains_key("choice")
                {
                    return m["choice"].as_str().map(str::to_owned);
                }
                m.values().find_map(find)
            }
            Value::Array(a) => a.iter().find_map(find),
            _ => None,
        }
    }
    find(&record).unwrap_or_else(|| panic!("the newsletter by email in the record: {record}"))
}

/// Polls `check` every 100 ms until it holds, for at most `within`.
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Events and sealed links in a database.
async fn events_and_sealed(pool: &sqlx::PgPool) -> (i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM consent_events), (SELECT COUNT(*) FROM event_seals)",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The external ids whose newsletter by email is withdrawn in a database.
async fn withdrawn_in(pool: &sqlx::PgPool) -> BTreeSet<String> {
    sqlx::query_scalar::<_, String>(
        "SELECT s.external_id FROM consents c JOIN subjects s ON s.id = c.subject_id \
         WHERE c.purpose = 'newsletter' AND c.channel = 'email' AND c.state = 'withdrawn'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// Waits until every event is sealed (the sealer caught up), then walks the chain.
async fn sealed_and_verified(pool: &sqlx::PgPool, services: &Services) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (events, sealed) = events_and_sealed(pool).await;
        if events == sealed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sealer did not catch up: {sealed} of {events} sealed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let report = services.verify_chain().await.unwrap();
    assert!(
        report.broken.is_none(),
        "the chain is broken: {:?}",
        report.broken
    );
    let (events, _) = events_and_sealed(pool).await;
    assert_eq!(report.length, events, "every event is in the chain");
}

macro_rules! tools_or_skip {
    () => {
        match bindir() {
            Ok(bin) => bin,
            Err(why) => {
                println!("skipped: {why}");
                return;
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// (a) The read replica

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_that_may_lag_come_from_the_replica_until_it_lags_too_far() {
    let bin = tools_or_skip!();
    let ws = Workspace::new(bin);
    let primary = ws.primary("primary").await;
    let replica = ws.replica(&primary, "replica").await;
    let data_dir = ws.root.join("doui");
    // Two instances reading from the replica: a strict one (it falls back at 500 ms) and a
    // patient one (an hour).
    let bounded = |ms| {
        Some(ReadReplica {
            url: replica.url(),
            max_lag: Duration::from_millis(ms),
        })
    };
    let (strict, services) = doui(&primary.url(), bounded(500), &data_dir).await;
    let (patient, patient_services) = doui(&primary.url(), bounded(3_600_000), &data_dir).await;
    let key = services
        .create_api_key(
            "reader",
            &["suppressions".to_owned(), "events:read".to_owned()],
        )
        .await
        .unwrap()
        .1;
    let subjects = granted_subjects(&services, "a", 2).await;
    let client = client();
    let primary_pool = primary.pool().await;
    let replica_pool = replica.pool().await;

    // A first withdrawal reaches both through the replica.
    let res = one_click(&client, &strict, &one_click_token(&services, subjects[0].0)).await;
    assert_eq!(res.status(), 200);
    for base in [&strict, &patient] {
        eventually(
            Duration::from_secs(15),
            "the first withdrawal in the feed",
            || async { feed_ids(&client, base, &key).await.contains("a-0") },
        )
        .await;
    }

    // Both read the replica before it stops: an instance whose replica had not yet reached a
    // position the instance noted reads the primary (its lag unknown), and on a loaded machine
    // the replica can trail that far for the first seconds; paused there, it would never be used.
    eventually(
        Duration::from_secs(15),
        "both instances reading the replica",
        || async {
            services.store.read_replica().is_some_and(|r| r.in_use)
                && patient_services
                    .store
                    .read_replica()
                    .is_some_and(|r| r.in_use)
        },
    )
    .await;

    // The replica stops replaying; a second withdrawal is committed and sealed on the primary.
    sqlx::query("SELECT pg_wal_replay_pause()")
        .execute(&replica_pool)
        .await
        .unwrap();
    eventually(Duration::from_secs(10), "replay paused", || async {
        let state: String = sqlx::query_scalar("SELECT pg_get_wal_replay_pause_state()")
            .fetch_one(&replica_pool)
            .await
            .unwrap();
        state == "paused"
    })
    .await;
    let console_before = patient_services
        .console
        .event_log()
        .count_events(&Default::default())
        .await
        .unwrap();
    let res = one_click(&client, &strict, &one_click_token(&services, subjects[1].0)).await;
    assert_eq!(res.status(), 200);
    // The person sees their change at once, on either instance: their page reads the primary.
    for base in [&strict, &patient] {
        assert_eq!(
            own_choice(&client, base, &services, subjects[1].0).await,
            "withdrawn"
        );
    }
    eventually(
        Duration::from_secs(10),
        "the second withdrawal sealed",
        || async {
            let (events, sealed) = events_and_sealed(&primary_pool).await;
            events == sealed
        },
    )
    .await;

    // The strict instance finds the replica too far behind and reads the primary.
    eventually(
        Duration::from_secs(10),
        "the strict instance's feed falls back to the primary",
        || async { feed_ids(&client, &strict, &key).await.contains("a-1") },
    )
    .await;
    let replica_use = services.store.read_replica().unwrap();
    assert!(!replica_use.in_use, "{replica_use:?}");
    let listed = suppressed_ids(&client, &strict, &key).await;
    assert!(listed.contains("a-1"), "{listed:?}");
    assert_eq!(
        services
            .console
            .event_log()
            .count_events(&Default::default())
            .await
            .unwrap(),
        console_before + 1
    );

    // The patient one still reads the replica, which has not replayed it: the feed, the
    // suppression list and the console do not show it yet (looked at for a while).
    for _ in 0..5 {
        assert!(!feed_ids(&client, &patient, &key).await.contains("a-1"));
        assert!(
            !suppressed_ids(&client, &patient, &key)
                .await
                .contains("a-1")
        );
        assert!(
            suppressed_ids(&client, &patient, &key)
                .await
                .contains("a-0")
        );
        assert_eq!(
            patient_services
                .console
                .event_log()
                .count_events(&Default::default())
                .await
                .unwrap(),
            console_before
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let replica_use = patient_services.store.read_replica().unwrap();
    assert!(replica_use.in_use, "{replica_use:?}");
    assert!(
        replica_use.lag.unwrap() > Duration::from_millis(500),
        "{replica_use:?}"
    );
    // Replay resumes: the patient instance catches up through the replica.
    sqlx::query("SELECT pg_wal_replay_resume()")
        .execute(&replica_pool)
        .await
        .unwrap();
    eventually(
        Duration::from_secs(15),
        "the replica catches up",
        || async { feed_ids(&client, &patient, &key).await.contains("a-1") },
    )
    .await;
    assert!(
        suppressed_ids(&client, &patient, &key)
            .await
            .contains("a-1")
    );
    primary_pool.close().await;
    replica_pool.close().await;
}

// ---------------------------------------------------------------------------------------------
// (b) The primary stopped and started under load

/// A webhook receiver on loopback: the chain positions (`data.cursor`) of what it was sent,
/// answering 200 to each.
#[derive(Clone, Default)]
struct Receiver {
    positions: Arc<Mutex<Vec<i64>>>,
}

impl Receiver {
    /// Serves on a free port; returns the URL to post to.
    async fn start(&self) -> String {
        async fn receive(
            axum::extract::State(r): axum::extract::State<Receiver>,
            body: axum::body::Bytes,
        ) -> axum::http::StatusCode {
            let item: Value = serde_json::from_slice(&body).unwrap_or_default();
            if let Some(position) = item["data"]["cursor"].as_i64() {
                r.positions.lock().unwrap().push(position);
            }
            axum::http::StatusCode::OK
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/hook")
    }

    fn received(&self) -> BTreeSet<i64> {
        self.positions.lock().unwrap().iter().copied().collect()
    }
}

/// What one answer was: its status, whether it said when to retry, and how long it took.
struct Answered {
    external: String,
    status: u16,
    retry_after: bool,
    body: String,
    took: Duration,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_primary_restarting_under_load_answers_503_with_retry_after_and_loses_nothing() {
    let bin = tools_or_skip!();
    let ws = Workspace::new(bin);
    let primary = ws.primary("primary").await;
    let data_dir = ws.root.join("doui");
    let (base, services) = doui(&primary.url(), None, &data_dir).await;
    const SUBJECTS: usize = 900;
    const SENDERS: usize = 8;
    let subjects = granted_subjects(&services, "b", SUBJECTS).await;
    // A webhook endpoint receives every change from now on, across the outage.
    let receiver = Receiver::default();
    let (endpoint, _) = services
        .add_webhook(
            app::services::WebhookInput {
                url: receiver.start().await,
                description: "across the outage".into(),
                filter: Default::default(),
                recipient: None,
            },
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let tokens: Arc<Vec<(String, String)>> = Arc::new(
        subjects
            .iter()
            .map(|(id, external)| (external.clone(), one_click_token(&services, *id)))
            .collect(),
    );
    let client = client();
    let next = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(Mutex::new(Vec::<Answered>::new()));
    let started = Instant::now();
    // Each sender takes the next subject and unsubscribes it, a few hundred a second in all,
    // until every subject had its turn (once each: a change refused is not tried again).
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            let (client, base, tokens, next, answered) = (
                client.clone(),
                base.clone(),
                tokens.clone(),
                next.clone(),
                answered.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some((external, token)) = tokens.get(i) else {
                        return;
                    };
                    let asked = Instant::now();
                    let res = one_click(&client, &base, token).await;
                    let took = asked.elapsed();
                    let status = res.status().as_u16();
                    let retry_after = res.headers().contains_key("retry-after");
                    let body = res.text().await.unwrap_or_default();
                    answered.lock().unwrap().push(Answered {
                        external: external.clone(),
                        status,
                        retry_after,
                        body,
                        took,
                    });
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    // The primary stops cleanly (as for a restart) once the load runs, stays down a while, and
    // comes back.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let before_stop = answered.lock().unwrap().len();
    primary.stop().await;
    let stopped = started.elapsed();
    // Meanwhile a person opens their page: a 503 in their language that says when to retry,
    // within the bound.
    let asked = Instant::now();
    let page = client
        .get(
            services
                .preference_link(subjects[0].0)
                .replace("https://doui.test", &base),
        )
        .header("accept-language", "ja")
        .send()
        .await
        .unwrap();
    let page_took = asked.elapsed();
    assert_eq!(page.status(), 503);
    assert!(page.headers().contains_key("retry-after"));
    assert!(page_took < Duration::from_secs(10), "{page_took:?}");
    let text = page.text().await.unwrap();
    assert!(text.contains("ただいま処理できません"), "{text}");
    // Down longer than a request waits for a connection: those waiting are answered 503 too.
    tokio::time::sleep(Duration::from_secs(4)).await;
    primary.start().await;
    let restarted = started.elapsed();
    for s in senders {
        s.await.unwrap();
    }
    let answered = std::mem::take(&mut *answered.lock().unwrap());
    let ok: BTreeSet<String> = answered
        .iter()
        .filter(|a| a.status == 200)
        .map(|a| a.external.clone())
        .collect();
    let unavailable: Vec<&Answered> = answered.iter().filter(|a| a.status == 503).collect();
    let slowest = answered.iter().map(|a| a.took).max().unwrap();
    println!(
        "{} one-clicks ({before_stop} before the stop at {stopped:?}, restarted at \
         {restarted:?}): {} answered 200, {} answered 503; slowest answer {slowest:?}",
        answered.len(),
        ok.len(),
        unavailable.len()
    );
    assert_eq!(answered.len(), SUBJECTS);
    for a in &answered {
        assert!(
            a.status == 200 || a.status == 503,
            "{}: answered {} (only 200 or 503 while the primary restarts): {}",
            a.external,
            a.status,
            a.body
        );
        assert!(
            a.took < Duration::from_secs(10),
            "{}: answered after {:?}",
            a.external,
            a.took
        );
    }
    assert!(!unavailable.is_empty(), "the outage was seen");
    for a in &unavailable {
        assert!(a.retry_after, "{}: a 503 says when to retry", a.external);
        assert!(
            a.body.contains("\"unavailable\"") && !a.body.contains("database"),
            "{}: a 503 explains itself without internals: {}",
            a.external,
            a.body
        );
    }
    // Requests after the restart succeed again (the pool reconnected by itself).
    let last_ok = answered
        .iter()
        .rev()
        .take(20)
        .filter(|a| a.status == 200)
        .count();
    assert!(last_ok > 0, "answers after the restart succeed");
    let res = one_click(&client, &base, &tokens[0].1).await;
    assert_eq!(res.status(), 200);

    // Every change answered 200 is in the database; the sealer resumed and sealed everything.
    let pool = primary.pool().await;
    let withdrawn = withdrawn_in(&pool).await;
    let lost: Vec<&String> = ok.difference(&withdrawn).collect();
    assert!(lost.is_empty(), "answered but lost: {lost:?}");
    sealed_and_verified(&pool, &services).await;
    // The webhook dispatcher resumed: every change after the endpoint was added reached it
    // (at least once: a round whose record the outage cut off is sent again).
    let (length, _) = events_and_sealed(&pool).await;
    let wanted: BTreeSet<i64> = (endpoint.position + 1..=length).collect();
    eventually(
        Duration::from_secs(30),
        "every change delivered",
        || async { receiver.received().is_superset(&wanted) },
    )
    .await;
    pool.close().await;
}

// ---------------------------------------------------------------------------------------------
// (c) Failing over to the replica

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promoted_replica_takes_the_writes_and_nothing_answered_is_lost() {
    let bin = tools_or_skip!();
    let ws = Workspace::new(bin);
    let primary = ws.primary("primary").await;
    let replica = ws.replica(&primary, "replica").await;
    // Synchronous replication: a commit returns once the standby has it on disk, so a change
    // answered before a failover survives it.
    let primary_pool = primary.pool().await;
    for sql in [
        "ALTER SYSTEM SET synchronous_standby_names = '*'",
        "SELECT pg_reload_conf()",
    ] {
        sqlx::query(sql).execute(&primary_pool).await.unwrap();
    }
    primary_pool.close().await;
    let data_dir = ws.root.join("doui");
    let (base, services) = doui(&primary.url(), None, &data_dir).await;
    let subjects = granted_subjects(&services, "c", 120).await;
    let client = client();
    let clicks: Vec<_> = subjects[..60]
        .iter()
        .map(|(id, _)| {
            let (client, base, token) = (
                client.clone(),
                base.clone(),
                one_click_token(&services, *id),
            );
            tokio::spawn(async move { one_click(&client, &base, &token).await.status() })
        })
        .collect();
    for c in clicks {
        assert_eq!(c.await.unwrap(), 200);
    }
    let answered: BTreeSet<String> = subjects[..60].iter().map(|(_, e)| e.clone()).collect();

    // The primary crashes: the old instance answers 503 with Retry-After, promptly.
    primary.kill().await;
    let asked = Instant::now();
    let res = one_click(&client, &base, &one_click_token(&services, subjects[60].0)).await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    assert!(asked.elapsed() < Duration::from_secs(10));

    // The replica is promoted and a new instance points at it.
    replica.promote().await;
    let promoted = replica.pool().await;
    eventually(Duration::from_secs(30), "the replica promoted", || async {
        let standby: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
            .fetch_one(&promoted)
            .await
            .unwrap();
        !standby
    })
    .await;
    let (base, services) = doui(&replica.url(), None, &data_dir).await;
    let withdrawn = withdrawn_in(&promoted).await;
    let lost: Vec<&String> = answered.difference(&withdrawn).collect();
    assert!(
        lost.is_empty(),
        "answered before the failover but lost: {lost:?}"
    );
    // Writes work on the new primary.
    for (id, _) in &subjects[60..] {
        let res = one_click(&client, &base, &one_click_token(&services, *id)).await;
        assert_eq!(res.status(), 200);
    }
    assert_eq!(withdrawn_in(&promoted).await.len(), subjects.len());
    sealed_and_verified(&promoted, &services).await;
    promoted.close().await;
}
