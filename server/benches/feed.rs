//! Event feed benchmark: `cargo bench -p server --bench feed`.
//!
//! Seeds events in bulk SQL (subjects each with a newsletter grant by email and by SMS, then a
//! withdrawal by email, numbered into the chain as the sealer would number them, with placeholder
//! seals: the feed does not read them), starts the real server, and pulls the whole feed through
//! the API (`GET /api/v1/events?since=…&limit=10000`, `BENCH_PAGE`), page after page as a consumer does, on
//! SQLite and on PostgreSQL (when one answers; see common.rs). Prints events served per second,
//! for the whole feed and for a filtered one (`channel=sms`: a third of it), each with the
//! machine's line (how busy its cores were, how much was stolen). The client only finds
//! `next_cursor` in each answer: the figure is the server's.
//!
//! Environment: BENCH_EVENTS (default 600000, rounded down to a multiple of 3).

use std::time::Instant;

use server::config::Config;

mod common;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `n / 3` subjects, three events each (granted by email, granted by SMS, withdrawn by email),
/// and a chain position per event in seq order.
async fn seed(url: &str, subjects: usize) {
    let events = |random_id: &str, now: &str, cast: &str| {
        format!(
            "INSERT INTO consent_events (id, subject_id, purpose, channel, from_state, to_state, \
             occurred_at, source, actor, notice_version, recorded_at) \
             SELECT {random_id}, s.id, 'newsletter', v.channel, v.from_state, v.to_state, {now}, \
             v.source, 'subject', '1.0', {now} FROM subjects s CROSS JOIN \
             (SELECT 1 AS k, 'email' AS channel, NULL{cast} AS from_state, 'granted' AS to_state, 'api' AS source \
              UNION ALL SELECT 2, 'sms', NULL, 'granted', 'api' \
              UNION ALL SELECT 3, 'email', 'granted', 'withdrawn', 'one_click') v \
             ORDER BY s.external_id, v.k"
        )
    };
    let projection = "INSERT INTO consents (subject_id, purpose, channel, state, updated_at, source, last_event_seq, notice_version) \
         SELECT e.subject_id, e.purpose, e.channel, e.to_state, e.occurred_at, e.source, e.seq, e.notice_version \
         FROM consent_events e WHERE e.channel = 'sms' OR e.to_state = 'withdrawn'";
    if url.starts_with("sqlite:") {
        let store = server::store::SqliteStore::open(url).await.unwrap();
        let pool = store.pool();
        let now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
        for sql in [
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ?1) \
             INSERT INTO subjects (id, external_id, email, phone, lang, created_at) \
             SELECT randomblob(16), printf('cust-%08d', n), printf('user%08d@bench.example.jp', n), \
             NULL, 'ja', '2025-01-01T00:00:00Z' FROM c"
                .to_owned(),
            events("randomblob(16)", now, ""),
            projection.to_owned(),
            format!(
                "INSERT INTO event_seals (position, event_seq, seal, sealed_at) \
                 SELECT ROW_NUMBER() OVER (ORDER BY seq), seq, 'bench', {now} FROM consent_events"
            ),
            "ANALYZE".to_owned(),
            "PRAGMA wal_checkpoint(TRUNCATE)".to_owned(),
        ] {
            let q = sqlx::query(&sql);
            let q = if sql.contains("?1") { q.bind(subjects as i64) } else { q };
            q.execute(pool).await.unwrap();
        }
    } else {
        let store = server::store::PgStore::open(url).await.unwrap();
        let pool = store.pool();
        for sql in [
            "INSERT INTO subjects (id, external_id, email, phone, lang, created_at) \
             SELECT gen_random_uuid(), 'cust-' || lpad(n::text, 8, '0'), \
             'user' || lpad(n::text, 8, '0') || '@bench.example.jp', NULL, 'ja', timestamptz '2025-01-01' \
             FROM generate_series(1, $1::bigint) n"
                .to_owned(),
            // The clock at each row: a bulk insert takes longer than the second the
            // recorded_at trigger allows behind it.
            events("gen_random_uuid()", "clock_timestamp()", "::text"),
            projection.to_owned(),
            "INSERT INTO event_seals (position, event_seq, seal, sealed_at) \
             SELECT ROW_NUMBER() OVER (ORDER BY seq), seq, 'bench', now() FROM consent_events"
                .to_owned(),
            "ANALYZE".to_owned(),
        ] {
            let q = sqlx::query(&sql);
            let q = if sql.contains("$1") { q.bind(subjects as i64) } else { q };
            q.execute(pool).await.unwrap();
        }
    }
}

/// Pulls the feed from the start with `filter`, as a consumer would; returns the events read and
/// the seconds it took.
async fn pull(client: &reqwest::Client, base: &str, key: &str, filter: &str) -> (usize, f64) {
    let page = env_num("BENCH_PAGE", 10_000);
    let (mut cursor, mut read) = (0i64, 0usize);
    let start = Instant::now();
    loop {
        let body = client
            .get(format!(
                "{base}/api/v1/events?since={cursor}&limit={page}{filter}"
            ))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let text = std::str::from_utf8(&body).unwrap();
        let items = text.matches("\"cursor\":").count();
        let next: i64 = text
            .rsplit_once("\"next_cursor\":")
            .and_then(|(_, n)| n.trim_end_matches('}').parse().ok())
            .unwrap_or_else(|| panic!("no next_cursor: {}", &text[..text.len().min(300)]));
        read += items;
        if next == cursor {
            break;
        }
        cursor = next;
    }
    (read, start.elapsed().as_secs_f64())
}

async fn run(name: &str, url: &str) {
    let subjects = env_num("BENCH_EVENTS", 600_000) / 3;
    let events = subjects * 3;
    println!("\n{name}: seeding {events} events of {subjects} subjects…");
    let data_dir =
        std::env::temp_dir().join(format!("doui-bench-feed-{}", uuid::Uuid::new_v4().simple()));
    let config = Config {
        public_url: "https://prefs.example.jp".into(),
        notice_version: "1.0".into(),
        ..Config::ephemeral(url, data_dir.clone())
    };
    let services = server::services(&config).await.unwrap();
    seed(url, subjects).await;
    let running = server::start(&config, services).await.unwrap();
    let base = format!("http://{}", running.addr);
    let key = running
        .services
        .create_api_key("bench", &["events:read".to_string()])
        .await
        .unwrap()
        .1;
    let client = reqwest::Client::new();
    let page = env_num("BENCH_PAGE", 10_000);
    // A first pass warms the caches (and the database's pages).
    pull(&client, &base, &key, "").await;
    for (label, filter, expected) in [
        ("whole feed", "", events),
        ("channel=sms", "&channel=sms", subjects),
    ] {
        let machine = common::ticks();
        let (read, took) = pull(&client, &base, &key, filter).await;
        assert_eq!(read, expected, "{label}: every event once");
        println!(
            "  feed, {label:<12} {:>10.0} events/s served ({read} events, pages of {page}, {took:.2} s){}",
            read as f64 / took,
            common::machine_since(machine)
        );
    }
    std::fs::remove_dir_all(data_dir).ok();
}

fn main() {
    common::main(|name, url| async move { run(name, &url).await });
}
