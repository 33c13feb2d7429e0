//! Send-gate benchmark: `cargo bench -p server --bench gate`.
//!
//! Seeds subjects in bulk SQL (every third one granted the newsletter by email, every third one
//! withdrew it, the rest never chose), seals the seeded events, starts the real server, and
//! measures through the API, on SQLite and on PostgreSQL (when one answers; see common.rs):
//!
//! - the audience streamed as CSV (`GET /api/v1/audience?…&format=csv`): subjects scanned per
//!   second, and this process's own memory before and at its highest while streaming (the
//!   server and the client share the process: flat memory means it does not grow with the
//!   subjects read; see `common::own_memory_mib`);
//! - the permissions check of 10,000 random (subject, newsletter, email) triples, one request
//!   after another: p50 and p99.
//!
//! Each figure ends with the machine's line (how busy its cores were, how much was stolen).
//! Environment: BENCH_SUBJECTS (default 1000000), BENCH_CHECKS (requests of 10,000, default 40).

use std::time::{Duration, Instant};

use server::config::Config;

mod common;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `n` subjects `cust-00000001`…; subject i granted the newsletter by email when i % 3 == 0,
/// withdrew it when i % 3 == 1, never chose otherwise. In bulk SQL, as the audit benchmark seeds.
async fn seed(url: &str, n: usize) {
    if url.starts_with("sqlite:") {
        let store = server::store::SqliteStore::open(url).await.unwrap();
        let pool = store.pool();
        for sql in [
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ?1) \
             INSERT INTO subjects (id, external_id, email, phone, lang, created_at) \
             SELECT randomblob(16), printf('cust-%08d', n), printf('user%08d@bench.example.jp', n), \
             NULL, 'ja', '2025-01-01T00:00:00Z' FROM c",
            "INSERT INTO consent_events (id, subject_id, purpose, channel, from_state, to_state, \
             occurred_at, source, actor, notice_version, recorded_at) \
             SELECT randomblob(16), id, 'newsletter', 'email', NULL, \
             CASE CAST(substr(external_id, 6) AS INTEGER) % 3 WHEN 0 THEN 'granted' ELSE 'withdrawn' END, \
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'api', 'subject', '1.0', \
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
             FROM subjects WHERE CAST(substr(external_id, 6) AS INTEGER) % 3 < 2",
            "INSERT INTO consents (subject_id, purpose, channel, state, updated_at, source, last_event_seq, notice_version) \
             SELECT subject_id, purpose, channel, to_state, occurred_at, source, seq, notice_version FROM consent_events",
            "ANALYZE",
            "PRAGMA wal_checkpoint(TRUNCATE)",
        ] {
            let q = sqlx::query(sql);
            let q = if sql.contains("1::bigint") || sql.contains("?1") {
                q.bind(n as i64)
            } else {
                q
            };
            q.execute(pool).await.unwrap();
        }
    } else {
        let store = server::store::PgStore::open(url).await.unwrap();
        let pool = store.pool();
        for sql in [
            "INSERT INTO subjects (id, external_id, email, phone, lang, created_at) \
             SELECT gen_random_uuid(), 'cust-' || lpad(n::text, 8, '0'), \
             'user' || lpad(n::text, 8, '0') || '@bench.example.jp', NULL, 'ja', timestamptz '2025-01-01' \
             FROM generate_series(1, $1::bigint) n",
            "INSERT INTO consent_events (id, subject_id, purpose, channel, from_state, to_state, \
             occurred_at, source, actor, notice_version) \
             SELECT gen_random_uuid(), id, 'newsletter', 'email', NULL, \
             CASE substr(external_id, 6)::bigint % 3 WHEN 0 THEN 'granted' ELSE 'withdrawn' END, \
             now(), 'api', 'subject', '1.0' \
             FROM subjects WHERE substr(external_id, 6)::bigint % 3 < 2",
            "INSERT INTO consents (subject_id, purpose, channel, state, updated_at, source, last_event_seq, notice_version) \
             SELECT subject_id, purpose, channel, to_state, occurred_at, source, seq, notice_version FROM consent_events",
            "VACUUM ANALYZE",
        ] {
            let q = sqlx::query(sql);
            let q = if sql.contains("1::bigint") || sql.contains("?1") {
                q.bind(n as i64)
            } else {
                q
            };
            q.execute(pool).await.unwrap();
        }
    }
}

async fn run(name: &str, url: &str) {
    let subjects = env_num("BENCH_SUBJECTS", 1_000_000);
    let checks = env_num("BENCH_CHECKS", 40);
    println!("\n{name}: seeding {subjects} subjects…");
    let data_dir =
        std::env::temp_dir().join(format!("doui-bench-gate-{}", uuid::Uuid::new_v4().simple()));
    let config = Config {
        public_url: "https://prefs.example.jp".into(),
        notice_version: "1.0".into(),
        ..Config::ephemeral(url, data_dir.clone())
    };
    // The server migrates and seeds the purposes; then the people are added in bulk.
    let services = server::services(&config).await.unwrap();
    seed(url, subjects).await;
    // Sealed before anything is measured, as a database in use is: otherwise the server's sealer
    // seals the seeded events, and its first checkpoint verifies them, while the audience and
    // the checks run.
    let sealing = Instant::now();
    let sealed = common::seal_all(&services).await;
    // What the server does first when it starts (the first checkpoint verifies every link
    // sealed above), done before too.
    services.checkpoint_if_due().await.unwrap();
    services.expire_due_at(app::services::now()).await.unwrap();
    println!(
        "  sealed {sealed} seeded events and signed a checkpoint in {:.1} s",
        sealing.elapsed().as_secs_f64()
    );
    let running = server::start(&config, services).await.unwrap();
    let base = format!("http://{}", running.addr);
    let key = running
        .services
        .create_api_key("bench", &["audience:read".to_string()])
        .await
        .unwrap()
        .1;
    let client = reqwest::Client::new();

    // The audience, streamed as a sender reads it: chunk by chunk, counting lines.
    let rss_before = common::own_memory_mib();
    let (machine, start) = (common::ticks(), Instant::now());
    let mut answer = client
        .get(format!(
            "{base}/api/v1/audience?purpose=newsletter&channel=email&format=csv"
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let (mut lines, mut rss_peak) = (0usize, rss_before);
    while let Some(chunk) = answer.chunk().await.unwrap() {
        lines += chunk.iter().filter(|&&b| b == b'\n').count();
        rss_peak = rss_peak.max(common::own_memory_mib());
    }
    let took = start.elapsed().as_secs_f64();
    let machine_line = common::machine_since(machine);
    let granted = subjects / 3;
    assert_eq!(lines, granted + 1, "the header and every granted subject");
    println!(
        "  audience (CSV stream)      {:>10.0} subjects/s scanned, {:>9.0} listed/s \
         ({subjects} subjects, {granted} listed, {took:.2} s); memory {rss_before:.0} → \
         {rss_peak:.0} MiB at most{machine_line}",
        subjects as f64 / took,
        granted as f64 / took,
    );

    // The permissions check: 10,000 random triples per request, one request after another.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % subjects as u64) as usize + 1
    };
    let mut latencies: Vec<Duration> = Vec::with_capacity(checks);
    let machine = common::ticks();
    for round in 0..checks + 3 {
        let asked: Vec<usize> = (0..10_000).map(|_| next()).collect();
        let body: Vec<serde_json::Value> = asked
            .iter()
            .map(|n| {
                serde_json::json!({
                    "subject": format!("cust-{n:08}"),
                    "purpose": "newsletter",
                    "channel": "email",
                })
            })
            .collect();
        let body = serde_json::to_vec(&serde_json::json!({ "checks": body })).unwrap();
        let start = Instant::now();
        let res = client
            .post(format!("{base}/api/v1/permissions"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let answer: serde_json::Value = res.json().await.unwrap();
        let took = start.elapsed();
        // Each answer as seeded: granted, withdrawn, or never chosen (see `seed`).
        let results = answer["results"].as_array().unwrap();
        assert_eq!(results.len(), 10_000);
        for (n, result) in asked.iter().zip(results) {
            let expected = match n % 3 {
                0 => serde_json::Value::Null,
                1 => "withdrawn".into(),
                _ => "no_consent".into(),
            };
            assert_eq!(result["reason"], expected, "cust-{n:08}: {result}");
            assert_eq!(result["allowed"], n % 3 == 0, "cust-{n:08}: {result}");
        }
        // The first rounds warm the caches.
        if round >= 3 {
            latencies.push(took);
        }
    }
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1)];
    println!(
        "  permissions (10,000 each)  p50 {:>7.1} ms, p99 {:>7.1} ms over {checks} requests{}",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        common::machine_since(machine)
    );
    std::fs::remove_dir_all(data_dir).ok();
}

fn main() {
    common::main(|name, url| async move { run(name, &url).await });
}
