//! Webhook delivery benchmark: `cargo bench -p server --bench webhooks`.
//!
//! Starts the real server (SQLite, then PostgreSQL when one answers) with a receiver on
//! 127.0.0.1 (axum, answering 200 at once), records BENCH_EVENTS consent changes (default
//! 20,000) and waits until they are sealed; then adds an endpoint replaying from cursor 0 and
//! times (from the first delivery) how long the dispatcher takes to deliver every one, signed, in order, each attempt
//! logged and the cursor recorded. Prints deliveries per second and how busy the machine was.

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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    let counter = received.clone();
    let app = Router::new().route(
        "/hook",
        post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
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
    std::fs::remove_dir_all(&data_dir).ok();
}

fn main() {
    common::main(|name, url| async move { run(name, &url).await });
}
