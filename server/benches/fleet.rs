//! Fleet benchmark: `cargo bench -p server --bench fleet`.
//!
//! One-click throughput with 1, 2 and 3 instances of the real server on one PostgreSQL
//! (`DATABASE_URL_PG`, default 127.0.0.1:5432/test; one fresh schema, every fleet up at once, each
//! with subjects of its own, measured in turns). SQLite is one file on one machine: skipped.
//! Each fleet is sent RFC 8058 one-click POSTs, each with a distinct token (a durable, audited
//! change, checked afterwards), spread round-robin over its instances with the same total
//! concurrency, as a load balancer would. On one machine the instances share its cores with PostgreSQL and the client:
//! the figure shows what more instances cost or bring here, not what more machines would.
//!
//! Environment: BENCH_CONCURRENCY (default 32), BENCH_REQUESTS (one-clicks per fleet, default 8000),
//! BENCH_INSTANCES (the largest fleet, default 3).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use app::{domain::Lang, token::Scope};

mod common;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `n` one-clicks with `concurrency` in flight, request `i` to `urls[i]`: the rate and latencies.
async fn load(
    client: &reqwest::Client,
    urls: Arc<Vec<reqwest::Url>>,
    concurrency: usize,
) -> (f64, Vec<Duration>) {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, urls, next) = (client.clone(), urls.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(url) = urls.get(i) else { break };
                    let t = Instant::now();
                    let res = client
                        .post(url.clone())
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body("List-Unsubscribe=One-Click")
                        .send()
                        .await
                        .expect("request");
                    let status = res.status();
                    let body = res.text().await.unwrap_or_default();
                    assert_eq!(status, 200, "one-click {i} failed: {body}");
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(urls.len());
    for w in workers {
        latencies.extend(w.await.unwrap());
    }
    (
        latencies.len() as f64 / start.elapsed().as_secs_f64(),
        latencies,
    )
}

/// CPU ticks (1/100 s) a process used so far, from its `/proc/<pid>/stat`, with its command name.
fn process_ticks(stat: &str) -> Option<(&str, u64)> {
    let (head, rest) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1;
    // After the command's closing parenthesis: state is field 3, utime 14, stime 15.
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    Some((name, fields.iter().sum()))
}

/// CPU ticks this process used so far: the instances and the client.
fn own_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    process_ticks(&stat).map_or(0, |(_, t)| t)
}

/// CPU ticks the running PostgreSQL processes used so far (every `postgres` process on the
/// machine: other users of the server count too, and a backend that ended is missed).
fn postgres_ticks() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("stat")).ok())
        .filter_map(|stat| {
            process_ticks(&stat).and_then(|(name, t)| (name == "postgres").then_some(t))
        })
        .sum()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
}

/// `instances` servers over `url` (keys shared through one data directory), `requests` subjects
/// and their one-click URLs spread over the servers.
async fn fleet(
    url: &str,
    instances: usize,
    requests: usize,
) -> (Vec<server::Running>, Vec<reqwest::Url>, std::path::PathBuf) {
    let data_dir = std::env::temp_dir().join(format!(
        "doui-bench-fleet-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let mut bases = Vec::new();
    let mut all = Vec::new();
    for _ in 0..instances {
        let config = server::config::Config {
            public_url: "https://prefs.example.jp".into(),
            notice_version: "bench".into(),
            ..server::config::Config::ephemeral(url, data_dir.clone())
        };
        let services = server::services(&config).await.unwrap();
        let running = server::start(&config, services).await.unwrap();
        bases.push(format!("http://{}", running.addr));
        all.push(running);
    }
    let services = &all[0].services;
    let scope = Scope::PurposeChannel("newsletter".parse().unwrap(), app::domain::Channel::Email);
    let mut urls = Vec::with_capacity(requests);
    for i in 0..requests {
        let s = services
            .create_subject(
                None,
                Some(&format!("f{instances}-{i}@example.jp")),
                None,
                Lang::Ja,
            )
            .await
            .unwrap();
        let token = services.unsubscribe_token(s.id, scope.clone(), Some("bench"));
        // Parsed before the clock starts (the client shares the cores with the servers).
        urls.push(reqwest::Url::parse(&format!("{}/u/{token}", bases[i % instances])).unwrap());
    }
    (all, urls, data_dir)
}

/// The fleets are measured in turns, this many slices of each: on a shared machine whose speed
/// drifts during a run, each fleet then sees the machine as it was in the same stretch of time.
const SLICES: usize = 4;

async fn run(url: &str) {
    let concurrency = env_num("BENCH_CONCURRENCY", 32);
    let requests = env_num("BENCH_REQUESTS", 8_000);
    let most = env_num("BENCH_INSTANCES", 3);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    // Every fleet up at once (the idle ones cost a sealer's look every 250 ms), each with its
    // own subjects; warmed up.
    let mut fleets = Vec::new();
    for instances in 1..=most {
        let (running, urls, data_dir) = fleet(url, instances, requests + 1_000).await;
        let (warm, measured) = urls.split_at(1_000);
        load(&client, Arc::new(warm.to_vec()), concurrency).await;
        fleets.push((
            running,
            measured.to_vec(),
            data_dir,
            0.0f64,
            Vec::new(),
            [0u64; 3],
        ));
    }
    let before = common::ticks();
    for slice in 0..SLICES {
        for (_, urls, _, seconds, latencies, cpu) in &mut fleets {
            let part =
                urls[urls.len() * slice / SLICES..urls.len() * (slice + 1) / SLICES].to_vec();
            let n = part.len();
            let (own, pg, (machine, _)) = (own_ticks(), postgres_ticks(), common::ticks());
            let (rate, more) = load(&client, Arc::new(part), concurrency).await;
            cpu[0] += own_ticks() - own;
            cpu[1] += postgres_ticks().saturating_sub(pg);
            cpu[2] += common::ticks().0[0] - machine[0];
            *seconds += n as f64 / rate;
            latencies.extend(more);
        }
    }
    let machine = common::machine_since(before);
    let events = fleets[0].0[0]
        .services
        .store
        .all_events()
        .await
        .unwrap()
        .len();
    assert_eq!(
        events,
        most * (requests + 1_000),
        "every answered one-click is a stored event"
    );
    println!(
        "\nPostgreSQL, one-click POST /u/<token>, {concurrency} concurrent requests spread over \
         the instances, {requests} per fleet in {SLICES} turns{machine}"
    );
    // CPU per one-click: this process (the instances and the client), PostgreSQL, and the whole
    // machine (with whatever else ran there meanwhile).
    println!(
        "  {:<10} {:>8} {:>7} {:>7} {:>19} {:>11} {:>8}",
        "instances", "req/s", "p50 ms", "p99 ms", "CPU ms: Doui+client", "PostgreSQL", "machine"
    );
    for (n, (running, urls, data_dir, seconds, mut latencies, cpu)) in
        fleets.into_iter().enumerate()
    {
        latencies.sort_unstable();
        let per_click = |ticks: u64| ticks as f64 * 10.0 / urls.len() as f64;
        println!(
            "  {:<10} {:>8.0} {:>7.2} {:>7.2} {:>19.3} {:>11.3} {:>8.3}",
            n + 1,
            urls.len() as f64 / seconds,
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            per_click(cpu[0]),
            per_click(cpu[1]),
            per_click(cpu[2]),
        );
        for r in running {
            r.shutdown.begin(Duration::ZERO).await;
            r.finished().await.unwrap();
        }
        std::fs::remove_dir_all(data_dir).ok();
    }
}

fn main() {
    common::main(|name, url| async move {
        if name == "PostgreSQL" {
            run(&url).await;
        } else {
            println!("\n{name}: one instance per database file, nothing to measure here");
        }
    });
}
