//! Write API benchmark: `cargo bench -p server --bench write_api`.
//!
//! Starts the real server on SQLite and on PostgreSQL (when one answers at DATABASE_URL_PG or
//! 127.0.0.1:5432) and posts consents collected elsewhere to `POST /api/v1/consents` in batches
//! of 1,000 (each change an opt-in grant with its collection point, notice version and evidence,
//! every one checked by the rule and written as a sealed-to-be event), several batches in
//! flight. Prints events per second, the batches' p50/p99, and how busy the machine was.
//!
//! Environment: BENCH_CONSENTS (default 60000), BENCH_CONCURRENCY (default 4), BENCH_KEYED=1 to
//! send each batch with an `Idempotency-Key` (the slower, per-change idempotent path).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use app::domain::{CollectionPointKind, Lang, NewCollectionPoint};
use serde_json::{Value, json};

mod common;

const BATCH: usize = 1_000;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The whole machine's busy and total CPU ticks and its cores (Linux's `/proc/stat`).
fn machine() -> Option<(u64, u64, usize)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|v| v.parse().ok())
        .collect();
    let [user, nice, system, idle, iowait, irq, softirq, steal] = ticks[..] else {
        return None;
    };
    let cores = stat
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    let busy = user + nice + system + irq + softirq;
    Some((busy, busy + idle + iowait + steal, cores))
}

/// "machine: B of N cores busy" since `before`.
fn machine_line(before: Option<(u64, u64, usize)>) -> String {
    match (before, machine()) {
        (Some((b0, a0, _)), Some((b1, a1, cores))) if a1 > a0 => format!(
            "machine: {:.2} of {cores} cores busy",
            (b1 - b0) as f64 / (a1 - a0) as f64 * cores as f64
        ),
        _ => String::new(),
    }
}

async fn run(name: &str, url: &str) {
    let consents = env_num("BENCH_CONSENTS", 60_000).div_ceil(BATCH) * BATCH;
    let concurrency = env_num("BENCH_CONCURRENCY", 4);
    let keyed = std::env::var("BENCH_KEYED").is_ok_and(|v| v == "1");
    let data_dir =
        std::env::temp_dir().join(format!("doui-bench-{}", uuid::Uuid::new_v4().simple()));
    let config = server::config::Config {
        public_url: "https://prefs.example.jp".into(),
        notice_version: "bench".into(),
        ..server::config::Config::ephemeral(url, data_dir.clone())
    };
    let services = server::services(&config).await.unwrap();
    let running = server::start(&config, services).await.unwrap();
    let base = format!("http://{}", running.addr);
    let services = running.services.clone();

    // Each change grants the newsletter on one channel of one subject: no two changes of a
    // batch touch the same consent, and every one is written.
    let channels = ["email", "sms", "postal"];
    let subjects = consents.div_ceil(channels.len());
    for i in 0..subjects {
        services
            .create_subject(Some(&format!("B-{i}")), None, None, Lang::Ja)
            .await
            .unwrap();
    }
    services
        .add_collection_point(
            NewCollectionPoint {
                key: "checkout".into(),
                name_ja: "購入画面".into(),
                name_en: "Checkout".into(),
                kind: CollectionPointKind::Checkout,
                location: "https://shop.example.jp/checkout".into(),
                wording: "お知らせメールを受け取る".into(),
                notice_version: Some("2026-01".into()),
            },
            "bench",
        )
        .await
        .unwrap();
    let key = services
        .create_api_key("bench", &["consents:write".to_string()])
        .await
        .unwrap()
        .1;
    let bodies: Vec<String> = (0..consents / BATCH)
        .map(|b| {
            let changes: Vec<Value> = (b * BATCH..(b + 1) * BATCH)
                .map(|i| {
                    json!({
                        "subject": format!("B-{}", i / channels.len()),
                        "purpose": "newsletter",
                        "channel": channels[i % channels.len()],
                        "state": "granted",
                        "occurred_at": "2026-11-01T09:00:00+09:00",
                        "collection_point": "checkout",
                        "notice_version": "2026-01",
                        "evidence": {"ip": "203.0.113.7", "form_url": "https://shop.example.jp/checkout",
                                     "proof_ref": format!("order-{i}")}
                    })
                })
                .collect();
            json!({ "changes": changes }).to_string()
        })
        .collect();
    let bodies = Arc::new(bodies);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let url = reqwest::Url::parse(&format!("{base}/api/v1/consents")).unwrap();

    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (start, before) = (Instant::now(), machine());
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, url, key, bodies, next) = (
            client.clone(),
            url.clone(),
            key.clone(),
            bodies.clone(),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if b >= bodies.len() {
                    break;
                }
                let t = Instant::now();
                let mut req = client
                    .post(url.clone())
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .body(bodies[b].clone());
                if keyed {
                    req = req.header("idempotency-key", format!("bench-{b}"));
                }
                let res = req.send().await.expect("request");
                let status = res.status();
                let text = res.text().await.unwrap_or_default();
                assert_eq!(status, 200, "batch {b}: {text}");
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for w in workers {
        latencies.extend(w.await.unwrap());
    }
    let seconds = start.elapsed().as_secs_f64();
    let busy = machine_line(before);
    latencies.sort_unstable();
    let at = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    let events = services.store.all_events().await.unwrap().len();
    assert_eq!(events, consents, "every change is a stored event");
    println!(
        "\n{name} ({} backend): POST /api/v1/consents, {} batches of {BATCH}, {concurrency} in flight{}",
        services.store.backend(),
        consents / BATCH,
        if keyed { ", with Idempotency-Key" } else { "" }
    );
    println!(
        "  {:>10.0} events/s; batch p50 {:.0} ms, p99 {:.0} ms; {events} events stored; {busy}",
        consents as f64 / seconds,
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
    );
    std::fs::remove_dir_all(data_dir).ok();
}

fn main() {
    common::main(|name, url| async move { run(name, &url).await });
}
