//! Webhook delivery benchmark: `cargo bench -p server --bench webhooks`.
//!
//! Starts the real server (SQLite, then PostgreSQL when one answers) with a receiver on
//! 127.0.0.1 (axum, answering 200 at once), records BENCH_EVENTS consent changes (default
//! 20,000) and waits until they are sealed; then adds an endpoint replaying from cursor 0 and
//! times (from the first delivery) how long the dispatcher takes to deliver every one, signed, in order, each attempt
//! logged and the cursor recorded. Prints deliveries per second and how busy the machine was.
//!
//! Then, with the endpoint at the head, one-click load: RFC 8058 POSTs as fast as 32 clients
//! send them with the endpoint disabled and enabled, in turns (four slices of each, which goes
//! first alternating: the ratio is what delivering costs the one-click), and at a steady
//! BENCH_RATE (default 1,000/s) for BENCH_SECONDS (default 5), where
//! each delivery's delay from its event's commit (`recorded_at`, the database's clock) to its
//! arrival is measured: p50, p99 and the largest.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use app::{
    domain::{
        Actor, Change, Channel, ConsentState, Lang, Origin, Provenance, PurposeKey, Source,
        webhook::WebhookFilter,
    },
    services::{ReplayFrom, WebhookInput},
    token::Scope,
};
use axum::{Router, routing::post};

mod common;

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

fn change(subject: app::domain::SubjectId, channel: Channel) -> Change {
    Change {
        subject,
        purpose: PurposeKey::parse("newsletter").unwrap(),
        channel,
        to: ConsentState::Granted,
        provenance: Provenance {
            occurred_at: time::OffsetDateTime::now_utc(),
            source: Source::PreferenceCenter,
            actor: Actor::Subject,
            notice_version: Some("1.0".into()),
            origin: Origin {
                ip: None,
                user_agent: None,
            },
            idempotency_key: None,
            reason: None,
            campaign: None,
            collection_point: None,
            import_batch: None,
            form_url: None,
            proof_ref: None,
        },
        reconfirm: false,
    }
}

async fn run(name: &str, url: &str) {
    let events = env_num("BENCH_EVENTS", 20_000);
    let data_dir =
        std::env::temp_dir().join(format!("doui-bench-{}", uuid::Uuid::new_v4().simple()));
    let config = server::config::Config {
        webhook_allow_hosts: vec!["127.0.0.1".into()],
        ..server::config::Config::ephemeral(url, data_dir.clone())
    };
    let services = server::services(&config).await.unwrap();
    let running = server::start(&config, services).await.unwrap();
    let services = running.services.clone();

    let received = Arc::new(AtomicUsize::new(0));
    // Commit-to-arrival delays (ms) while `timing` is on.
    let timing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let delays: Arc<std::sync::Mutex<Vec<f64>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    let (counter, on, kept) = (received.clone(), timing.clone(), delays.clone());
    let app = Router::new().route(
        "/hook",
        post(move |body: axum::body::Bytes| {
            let (counter, on, kept) = (counter.clone(), on.clone(), kept.clone());
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                if on.load(Ordering::Relaxed) {
                    let now = time::OffsetDateTime::now_utc();
                    let item: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    if let Some(at) = item["data"]["recorded_at"].as_str() {
                        let at = time::OffsetDateTime::parse(
                            at,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .unwrap();
                        let ms = (now - at).as_seconds_f64() * 1000.0;
                        kept.lock().unwrap().push(ms);
                    }
                }
                "ok"
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    // Three channels per subject: every change is written.
    let channels = [Channel::Email, Channel::Sms, Channel::Postal];
    let mut written = 0;
    while written < events {
        let s = services
            .create_subject(None, None, None, Lang::Ja)
            .await
            .unwrap();
        let batch: Vec<Change> = channels
            .iter()
            .take(events - written)
            .map(|c| change(s.id, *c))
            .collect();
        written += batch.len();
        services.store.apply(batch).await.unwrap();
    }
    // Every event sealed (the cursor is the chain position).
    loop {
        let (length, _) = services.seals.chain_extent().await.unwrap();
        if length as usize >= events {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (e, _) = services
        .add_webhook(
            WebhookInput {
                url: hook,
                description: "bench".into(),
                filter: WebhookFilter::default(),
                recipient: None,
            },
            app::services::now(),
        )
        .await
        .unwrap();
    services
        .enable_webhook(&e.id, ReplayFrom::Cursor(0))
        .await
        .unwrap();
    // Timed from the first delivery (the dispatcher looks for new endpoints every second).
    let waiting = Instant::now();
    while received.load(Ordering::Relaxed) == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "nothing delivered"
        );
    }
    let (before, start, first) = (machine(), Instant::now(), received.load(Ordering::Relaxed));
    while received.load(Ordering::Relaxed) < events {
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(start.elapsed() < Duration::from_secs(600), "too slow");
    }
    let secs = start.elapsed().as_secs_f64();
    let busy = match (before, machine()) {
        (Some((b0, a0, _)), Some((b1, a1, cores))) if a1 > a0 => format!(
            ", machine: {:.2} of {cores} cores busy",
            (b1 - b0) as f64 / (a1 - a0) as f64 * cores as f64
        ),
        _ => String::new(),
    };
    println!(
        "{name}: {} webhook deliveries in {secs:.2} s = {:.0} deliveries/s (each signed, logged, cursor recorded){busy}",
        events - first,
        (events - first) as f64 / secs
    );

    // One-click load with the endpoint at the head.
    let rate = env_num("BENCH_RATE", 1_000);
    let seconds = env_num("BENCH_SECONDS", 5);
    let burst = env_num("BENCH_CLICKS", 8_000);
    let base = format!("http://{}", running.addr);
    let mut urls = Vec::new();
    for _ in 0..(burst + rate * seconds) {
        let s = services
            .create_subject(None, None, None, Lang::Ja)
            .await
            .unwrap();
        let token = services.unsubscribe_token(
            s.id,
            Scope::PurposeChannel("newsletter".parse().unwrap(), Channel::Email),
            Some("bench"),
        );
        urls.push(reqwest::Url::parse(&format!("{base}/u/{token}")).unwrap());
    }
    // Grants first, so that each one-click below is a change (a withdrawal) that is delivered.
    let subjects: Vec<_> = services.store.subjects(u32::MAX).await.unwrap();
    for chunk in subjects.chunks(1_000) {
        let grants: Vec<Change> = chunk.iter().map(|s| change(s.id, Channel::Email)).collect();
        services.store.apply(grants).await.unwrap();
    }
    let urls = Arc::new(urls);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let click = |i: usize| {
        client
            .post(urls[i].clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
    };
    let flat_out = |range: std::ops::Range<usize>| {
        let next = Arc::new(AtomicUsize::new(range.start));
        let end = range.end;
        async move {
            let start = Instant::now();
            let workers: Vec<_> = (0..32)
                .map(|_| {
                    let next = next.clone();
                    async move {
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= end {
                                break;
                            }
                            let res = click(i).send().await.unwrap();
                            assert_eq!(res.status(), 200);
                        }
                    }
                })
                .collect();
            futures_util::future::join_all(workers).await;
            (end - range.start) as f64 / start.elapsed().as_secs_f64()
        }
    };
    // Caught up (nothing arrived for a second) before each part, so the dispatcher's backlog
    // does not count against it.
    let settled = || {
        let received = received.clone();
        async move {
            loop {
                let before = received.load(Ordering::Relaxed);
                tokio::time::sleep(Duration::from_secs(1)).await;
                if received.load(Ordering::Relaxed) == before {
                    return;
                }
            }
        }
    };
    // In turns, four slices of each (the endpoint disabled, or enabled from the head), so both
    // rates come from the same stretch of a machine whose speed drifts; which goes first
    // alternates, so that neither always runs just after the pause that lets deliveries catch up
    // (with the disabled half always first, "with" measured up to 1.3× "without").
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for slice in 0..SLICES {
        let range = slice * burst / SLICES..(slice + 1) * burst / SLICES;
        let half = range.start + (range.end - range.start) / 2;
        for enabled in [slice % 2 == 1, slice % 2 == 0] {
            let part = if enabled {
                half..range.end
            } else {
                range.start..half
            };
            settled().await;
            if enabled {
                let (head, _) = services.seals.chain_extent().await.unwrap();
                services
                    .enable_webhook(&e.id, ReplayFrom::Cursor(head))
                    .await
                    .unwrap();
                with.push(flat_out(part).await);
            } else {
                services.disable_webhook(&e.id).await.unwrap();
                without.push(flat_out(part).await);
            }
        }
    }
    settled().await;
    // Enabled again for the steady load below.
    let (head, _) = services.seals.chain_extent().await.unwrap();
    services
        .enable_webhook(&e.id, ReplayFrom::Cursor(head))
        .await
        .unwrap();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (without, with) = (mean(&without), mean(&with));

    timing.store(true, Ordering::Relaxed);
    let at_rate = received.load(Ordering::Relaxed);
    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate as u32);
    let mut sent = Vec::new();
    for i in burst..burst + rate * seconds {
        tick.tick().await;
        let request = click(i);
        sent.push(tokio::spawn(async move {
            request.send().await.unwrap().status()
        }));
    }
    for s in sent {
        assert_eq!(s.await.unwrap(), 200);
    }
    let t = Instant::now();
    while received.load(Ordering::Relaxed) < at_rate + rate * seconds
        && t.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut d = std::mem::take(&mut *delays.lock().unwrap());
    d.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| d[((d.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{name}: one-click with a webhook endpoint: {:.0}/s against {:.0}/s disabled = {:.2}; \
         at {rate}/s for {seconds} s, {} deliveries, commit to arrival p50 {:.0} ms, p99 {:.0} ms, \
         largest {:.0} ms",
        with,
        without,
        with / without,
        d.len(),
        pct(0.5),
        pct(0.99),
        d.last().copied().unwrap_or_default()
    );
    std::fs::remove_dir_all(&data_dir).ok();
}

/// The one-click rates with and without the endpoint are measured in turns, this many of each.
const SLICES: usize = 4;

fn main() {
    common::main(|name, url| async move { run(name, &url).await });
}
