//! Load benchmark: `cargo bench -p server --bench load`.
//!
//! Starts the real server on SQLite and on PostgreSQL (when one answers at DATABASE_URL_PG or
//! 127.0.0.1:5432) and measures, in the same run and with the same client: `GET /healthz` (the
//! HTTP ceiling of this machine), RFC 8058 one-click POSTs (each with a distinct token, each a
//! durable, audited change — checked afterwards), and link generation (signed unsubscribe links
//! with their headers, as the bulk API makes them). Figures are printed as ratios to the ceiling;
//! the ceiling and the one-click are measured in turns (eight slices of each), so both see the
//! machine as it was in the same stretch of the run.
//!
//! Environment: BENCH_CONCURRENCY (default 32), BENCH_REQUESTS (default 20000 for health,
//! a quarter of it for one-click), BENCH_LINKS (default 200000).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use app::{domain::Lang, services::Services, token::Scope};
use server::config::Config;

mod common;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Requests timed together: how many, how long they took in all, and each one's latency.
#[derive(Default)]
struct Figures {
    count: usize,
    seconds: f64,
    latencies: Vec<Duration>,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.count as f64 / self.seconds
    }

    fn add(&mut self, more: Figures) {
        self.count += more.count;
        self.seconds += more.seconds;
        self.latencies.extend(more.latencies);
    }

    fn percentile(&mut self, p: f64) -> Duration {
        self.latencies.sort_unstable();
        self.latencies[((self.latencies.len() as f64 - 1.0) * p).round() as usize]
    }
}

/// Sends the requests numbered `range` (built by `make(i)`) with `concurrency` in flight; every
/// answer must be 200.
async fn load<F>(
    client: &reqwest::Client,
    range: std::ops::Range<usize>,
    concurrency: usize,
    make: Arc<F>,
) -> Figures
where
    F: Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(range.start));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (make, next, _client) = (make.clone(), next.clone(), client.clone());
        let end = range.end;
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= end {
                    break;
                }
                let t = Instant::now();
                let res = make(i).send().await.expect("request");
                let status = res.status();
                let _ = res.bytes().await;
                assert_eq!(status, 200, "request {i} failed");
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::with_capacity(range.len());
    for w in workers {
        latencies.extend(w.await.unwrap());
    }
    Figures {
        count: latencies.len(),
        seconds: start.elapsed().as_secs_f64(),
        latencies,
    }
}

/// The `slice`th of `SLICES` equal parts of `0..n`.
fn slice(n: usize, slice: usize) -> std::ops::Range<usize> {
    n * slice / SLICES..n * (slice + 1) / SLICES
}

/// The ceiling and the one-click are measured in turns, this many of each: on a shared machine
/// whose speed drifts during a run, each ratio then compares requests served in the same
/// stretch of time.
const SLICES: usize = 8;

fn config(url: &str, data_dir: std::path::PathBuf) -> Config {
    Config {
        public_url: "https://prefs.example.jp".into(),
        notice_version: "bench".into(),
        ..Config::ephemeral(url, data_dir)
    }
}

async fn subjects(services: &Services, n: usize) -> Vec<app::domain::Subject> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(
            services
                .create_subject(None, Some(&format!("b{i}@example.jp")), None, Lang::Ja)
                .await
                .unwrap(),
        );
    }
    out
}

async fn run(name: &str, url: &str) {
    let concurrency = env_num("BENCH_CONCURRENCY", 32);
    let health_requests = env_num("BENCH_REQUESTS", 20_000);
    let click_requests = health_requests / 4;
    let links = env_num("BENCH_LINKS", 200_000);
    let data_dir =
        std::env::temp_dir().join(format!("doui-bench-{}", uuid::Uuid::new_v4().simple()));
    let config = config(url, data_dir.clone());
    let services = server::services(&config).await.unwrap();
    let running = server::start(&config, services).await.unwrap();
    let base = format!("http://{}", running.addr);
    let services = running.services.clone();
    let people = subjects(&services, click_requests).await;
    let tokens: Vec<String> = people
        .iter()
        .map(|s| {
            services.unsubscribe_token(
                s.id,
                Scope::PurposeChannel("newsletter".parse().unwrap(), app::domain::Channel::Email),
                Some("bench"),
            )
        })
        .collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();

    // Every URL is parsed before the clock starts: the client shares the machine's two cores
    // with the server, and parsing a long unsubscribe URL costs it several times what parsing
    // `/healthz` does (5 % of all CPU in a one-click run), which would count against the server.
    let health_url = reqwest::Url::parse(&format!("{base}/healthz")).unwrap();
    let click_urls: Arc<Vec<reqwest::Url>> = Arc::new(
        tokens
            .iter()
            .map(|t| reqwest::Url::parse(&format!("{base}/u/{t}")).unwrap())
            .collect(),
    );

    // Warm up connections and caches.
    let (u, c) = (health_url.clone(), client.clone());
    let health_request = Arc::new(move |_: usize| c.get(u.clone()));
    load(&client, 0..2_000, concurrency, health_request.clone()).await;

    let (c, urls) = (client.clone(), click_urls.clone());
    let click_request = Arc::new(move |i: usize| {
        c.post(urls[i].clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
    });
    let (mut health, mut click) = (Figures::default(), Figures::default());
    for s in 0..SLICES {
        let range = slice(health_requests, s);
        health.add(load(&client, range, concurrency, health_request.clone()).await);
        let range = slice(click_requests, s);
        click.add(load(&client, range, concurrency, click_request.clone()).await);
    }
    let events = services.store.all_events().await.unwrap().len();
    assert_eq!(
        events, click_requests,
        "every answered one-click is a stored event"
    );

    // The send gate gives links only for people who may be contacted: everyone unsubscribed
    // above grants the newsletter again before the send.
    for chunk in people.chunks(1000) {
        let changes = chunk
            .iter()
            .map(|s| app::domain::Change {
                subject: s.id,
                purpose: "newsletter".parse().unwrap(),
                channel: app::domain::Channel::Email,
                to: app::domain::ConsentState::Granted,
                provenance: app::domain::Provenance {
                    occurred_at: app::services::now(),
                    source: app::domain::Source::PreferenceCenter,
                    actor: app::domain::Actor::Subject,
                    notice_version: Some("bench".into()),
                    origin: Default::default(),
                    idempotency_key: None,
                    reason: None,
                    campaign: None,
                    collection_point: None,
                    import_batch: None,
                    form_url: None,
                    proof_ref: None,
                },
                reconfirm: false,
            })
            .collect();
        services.store.apply(changes).await.unwrap();
    }

    // Bulk links through the API: one CSV of recipients in, one CSV of links and headers out.
    let key = services
        .create_api_key("bench", &["links".to_string()])
        .await
        .unwrap()
        .1;
    let mut csv = String::with_capacity(links * 24);
    csv.push_str("subject\n");
    for i in 0..links {
        csv.push_str(people[i % people.len()].email.as_ref().unwrap().as_str());
        csv.push('\n');
    }
    // The answer is read as a sender would: line by line as it streams in (to its mail queue),
    // never held whole. Every line but the header must be a link (an empty error column).
    let start = Instant::now();
    let mut answer = client
        .post(format!(
            "{base}/api/v1/links.csv?purpose=newsletter&channel=email&campaign=bulk"
        ))
        .bearer_auth(&key)
        .body(csv)
        .send()
        .await
        .unwrap();
    let (mut lines, mut partial) = (0usize, Vec::new());
    while let Some(chunk) = answer.chunk().await.unwrap() {
        let mut rest = &chunk[..];
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let line_end = if partial.is_empty() {
                rest[..end].last().copied()
            } else {
                partial.extend_from_slice(&rest[..end]);
                partial.pop()
            };
            assert!(
                lines == 0 || line_end == Some(b','),
                "line {lines} is not a link"
            );
            partial.clear();
            lines += 1;
            rest = &rest[end + 1..];
        }
        partial.extend_from_slice(rest);
    }
    let link_rate = links as f64 / start.elapsed().as_secs_f64();
    assert!(partial.is_empty(), "the answer ends with a whole line");
    assert_eq!(lines, links + 1, "one line per recipient");

    println!(
        "\n{name} ({} backend), {concurrency} concurrent requests",
        services.store.backend()
    );
    println!(
        "  {:<28} {:>10} {:>9} {:>9} {:>14}",
        "", "req/s", "p50 ms", "p99 ms", "of ceiling"
    );
    let ceiling = health.rate();
    for (what, f) in [
        ("GET /healthz (ceiling)", &mut health),
        ("POST /u/<token> one-click", &mut click),
    ] {
        println!(
            "  {:<28} {:>10.0} {:>9.2} {:>9.2} {:>13.1}%",
            what,
            f.rate(),
            f.percentile(0.5).as_secs_f64() * 1e3,
            f.percentile(0.99).as_secs_f64() * 1e3,
            100.0 * f.rate() / ceiling
        );
    }
    println!(
        "  {:<28} {:>10.0} links/s (POST /api/v1/links.csv, {links} recipients)",
        "bulk links", link_rate
    );
    println!("  {click_requests} one-click changes answered, {events} events stored");
    std::fs::remove_dir_all(data_dir).ok();
}

fn main() {
    common::main(|name, url| async move { run(name, &url).await });
}
