//! Fleet benchmark: `cargo bench -p server --bench fleet`.
//!
//! One-click throughput with 1, 2 and 3 instances of the real server on one PostgreSQL
//! (`DATABASE_URL_PG`, default 127.0.0.1:5432/test; one fresh schema, the fleets in turn, each with
//! subjects of its own: the later ones write to tables that hold the earlier ones' rows, which
//! favours the smaller fleets). SQLite is one file on one machine: skipped. Each run sends RFC
//! 8058 one-click POSTs, each with a distinct token (a durable, audited change, checked
//! afterwards), spread round-robin over the instances with the same total concurrency, as a load
//! balancer would. On one machine the instances share its cores with PostgreSQL and the client:
//! the figure shows what more instances cost or bring here, not what more machines would.
//!
//! Environment: BENCH_CONCURRENCY (default 32), BENCH_REQUESTS (one-clicks per run, default 6000),
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
                    let _ = res.bytes().await;
                    assert_eq!(status, 200, "one-click {i} failed");
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

async fn run(url: &str) {
    let concurrency = env_num("BENCH_CONCURRENCY", 32);
    let requests = env_num("BENCH_REQUESTS", 6_000);
    let most = env_num("BENCH_INSTANCES", 3);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    println!(
        "\nPostgreSQL, one-click POST /u/<token>, {concurrency} concurrent requests spread over \
         the instances, {requests} per run"
    );
    println!(
        "  {:<12} {:>10} {:>9} {:>9}",
        "instances", "req/s", "p50 ms", "p99 ms"
    );
    let mut stored = 0;
    for instances in 1..=most {
        let (running, urls, data_dir) = fleet(url, instances, requests + 1_000).await;
        let (warm, measured) = urls.split_at(1_000);
        load(&client, Arc::new(warm.to_vec()), concurrency).await;
        let before = common::ticks();
        let (rate, mut latencies) = load(&client, Arc::new(measured.to_vec()), concurrency).await;
        let machine = common::machine_since(before);
        latencies.sort_unstable();
        let events = running[0].services.store.all_events().await.unwrap().len();
        stored += requests + 1_000;
        assert_eq!(events, stored, "every answered one-click is a stored event");
        println!(
            "  {:<12} {:>10.0} {:>9.2} {:>9.2}{machine}",
            instances,
            rate,
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
        );
        // Stopped (their pools closed) before the next fleet starts.
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
