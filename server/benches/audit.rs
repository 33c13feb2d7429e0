//! Audit benchmark: `cargo bench -p server --bench audit`.
//!
//! Seeds a database with BENCH_EVENTS events (default 10 million) for BENCH_SUBJECTS subjects
//! (default 1 million), on SQLite and on PostgreSQL (when one answers at DATABASE_URL_PG or
//! 127.0.0.1:5432), seals them with the real sealer, starts the real server and measures, in the
//! same run: one subject's history page in the console (p50/p99, target p99 < 10 ms; once with the
//! caches as the load left them, then with the database read into memory), subject
//! search by prefix (p99 < 20 ms), a walk of the whole chain (≥ 1 M events/s) and the streamed
//! JSON Lines export of every event (≥ 500 k events/s, with the server's memory sampled while it
//! streams). On PostgreSQL it also measures the database's own pace at sending the same rows, and
//! gives the walk and the export as shares of it. Seeding 10 M events takes 10 to 30 minutes per
//! backend, by the machine, and ~6 GB of disk each.

use std::time::{Duration, Instant};

use app::{auth::Role, services::Services};
use server::config::Config;

mod common;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// CPU time this process has used (user + system), in seconds (Linux; 0 elsewhere).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime and stime are 14th and
    // 15th of the line, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The whole machine's CPU time so far (Linux's `/proc/stat`, every process, every core), in
/// ticks: busy, stolen by the hypervisor, and all; and how many cores it counts. On a shared
/// virtual machine the figures of a phase mean little without how busy the machine was and how
/// much of it was taken away.
#[derive(Clone, Copy)]
struct Machine([u64; 3], usize);

impl Machine {
    fn now() -> Self {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        // cpu  user nice system idle iowait irq softirq steal …
        let ticks: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .take(8)
            .filter_map(|v| v.parse().ok())
            .collect();
        // One `cpuN` line per core the totals add up.
        let cores = stat
            .lines()
            .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
            .count();
        let [user, nice, system, idle, iowait, irq, softirq, steal] = ticks[..] else {
            return Self([0; 3], 0);
        };
        let busy = user + nice + system + irq + softirq;
        Self([busy, steal, busy + steal + idle + iowait], cores)
    }

    /// How many of its cores the machine kept busy since `self` (every process), and how much
    /// of its time the hypervisor took, in percent (`None` where there is no `/proc/stat`).
    fn busy_since(self) -> Option<(f64, f64)> {
        let now = Self::now();
        let [busy, stolen, all] = [0, 1, 2].map(|i| now.0[i].saturating_sub(self.0[i]) as f64);
        if all == 0.0 || now.1 == 0 {
            return None;
        }
        Some((busy / all * now.1 as f64, stolen / all * 100.0))
    }

    /// What the machine did since `self`, to end a figure's line: "; machine: B of N cores busy,
    /// S % stolen" (nothing where there is no `/proc/stat`).
    fn since(self) -> String {
        self.line(self.busy_since())
    }

    /// The end of a figure's line for what `busy_since` answered.
    fn line(self, busy: Option<(f64, f64)>) -> String {
        busy.map_or_else(String::new, |(busy, stolen)| {
            format!(
                "; machine: {busy:.2} of {} cores busy, {stolen:.0} % stolen",
                self.1
            )
        })
    }
}

/// A tiny xorshift: random subjects without another dependency.
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Subjects, then events interleaved across them (round after round), in bulk SQL.
async fn seed(url: &str, subjects: usize, events: usize) {
    let rounds = events.div_ceil(subjects);
    if url.starts_with("sqlite:") {
        let store = server::store::SqliteStore::open(url).await.unwrap();
        let pool = store.pool();
        sqlx::query(
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ?1) \
             INSERT INTO subjects (id, external_id, email, phone, lang, created_at) \
             SELECT randomblob(16), printf('cust-%08d', n), printf('user%08d@bench.example.jp', n), \
             printf('+8190%08d', n), CASE n % 2 WHEN 0 THEN 'ja' ELSE 'en' END, '2025-01-01T00:00:00Z' FROM c",
        )
        .bind(subjects as i64)
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(
            "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < ?1 - 1) \
             INSERT INTO consent_events (id, subject_id, purpose, channel, from_state, to_state, \
             occurred_at, source, actor, notice_version, origin_ip, user_agent, recorded_at) \
             SELECT randomblob(16), s.id, \
             CASE (s.rowid + k.i) % 3 WHEN 0 THEN 'newsletter' WHEN 1 THEN 'ad_targeting' ELSE 'third_party_sharing' END, \
             CASE (s.rowid + k.i) % 3 WHEN 0 THEN 'email' WHEN 1 THEN 'web' ELSE 'postal' END, \
             CASE WHEN k.i < 3 THEN NULL WHEN k.i % 2 = 0 THEN 'withdrawn' ELSE 'granted' END, \
             CASE k.i % 2 WHEN 0 THEN 'granted' ELSE 'withdrawn' END, \
             strftime('%Y-%m-%dT%H:%M:%SZ', 1735689600 + (k.i * ?2 + s.rowid) * 3, 'unixepoch'), \
             CASE k.i % 4 WHEN 0 THEN 'preference_center' WHEN 1 THEN 'one_click' WHEN 2 THEN 'api' ELSE 'link' END, \
             'subject', '1.0', '192.0.2.0', 'Mozilla/5.0 (bench)', \
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
             FROM k CROSS JOIN subjects s WHERE k.i * ?2 + s.rowid <= ?3",
        )
        .bind(rounds as i64)
        .bind(subjects as i64)
        .bind(events as i64)
        .execute(pool)
        .await
        .unwrap();
        // The projection, as the writers keep it: each consent's last event.
        sqlx::query(
            "INSERT INTO consents (subject_id, purpose, channel, state, updated_at, source, last_event_seq, notice_version) \
             SELECT subject_id, purpose, channel, to_state, occurred_at, source, seq, notice_version FROM \
             (SELECT e.*, row_number() OVER (PARTITION BY subject_id, purpose, channel ORDER BY seq DESC) AS rn \
              FROM consent_events e) WHERE rn = 1",
        )
        .execute(pool)
        .await
        .unwrap();
        sqlx::query("ANALYZE").execute(pool).await.unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await
            .unwrap();
    } else {
        let store = server::store::PgStore::open(url).await.unwrap();
        let pool = store.pool();
        sqlx::query(
            "INSERT INTO subjects (id, external_id, email, phone, lang, created_at) \
             SELECT gen_random_uuid(), 'cust-' || lpad(n::text, 8, '0'), \
             'user' || lpad(n::text, 8, '0') || '@bench.example.jp', '+8190' || lpad(n::text, 8, '0'), \
             CASE WHEN n % 2 = 0 THEN 'ja' ELSE 'en' END, timestamptz '2025-01-01' \
             FROM generate_series(1, $1::bigint) n",
        )
        .bind(subjects as i64)
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(
            "WITH s AS MATERIALIZED (SELECT id, row_number() OVER (ORDER BY external_id) AS r FROM subjects) \
             INSERT INTO consent_events (id, subject_id, purpose, channel, from_state, to_state, \
             occurred_at, source, actor, notice_version, origin_ip, user_agent) \
             SELECT gen_random_uuid(), s.id, \
             CASE (s.r + k) % 3 WHEN 0 THEN 'newsletter' WHEN 1 THEN 'ad_targeting' ELSE 'third_party_sharing' END, \
             CASE (s.r + k) % 3 WHEN 0 THEN 'email' WHEN 1 THEN 'web' ELSE 'postal' END, \
             CASE WHEN k < 3 THEN NULL WHEN k % 2 = 0 THEN 'withdrawn' ELSE 'granted' END, \
             CASE k % 2 WHEN 0 THEN 'granted' ELSE 'withdrawn' END, \
             to_timestamp(1735689600 + (k * $2 + s.r) * 3), \
             CASE k % 4 WHEN 0 THEN 'preference_center' WHEN 1 THEN 'one_click' WHEN 2 THEN 'api' ELSE 'link' END, \
             'subject', '1.0', '192.0.2.0', 'Mozilla/5.0 (bench)' \
             FROM generate_series(0, $1::bigint - 1) k CROSS JOIN s WHERE k * $2 + s.r <= $3 \
             ORDER BY k, s.r",
        )
        .bind(rounds as i64)
        .bind(subjects as i64)
        .bind(events as i64)
        .execute(pool)
        .await
        .unwrap();
        // The projection, as the writers keep it: each consent's last event.
        sqlx::query(
            "INSERT INTO consents (subject_id, purpose, channel, state, updated_at, source, last_event_seq, notice_version) \
             SELECT DISTINCT ON (subject_id, purpose, channel) \
             subject_id, purpose, channel, to_state, occurred_at, source, seq, notice_version \
             FROM consent_events ORDER BY subject_id, purpose, channel, seq DESC",
        )
        .execute(pool)
        .await
        .unwrap();
        sqlx::query("ANALYZE").execute(pool).await.unwrap();
    }
}

/// Seeds `events` events for `subjects` subjects, seals them all and brings the database to the
/// steady state a running server would be in.
async fn prepare(name: &str, url: &str, services: &Services, subjects: usize, events: usize) {
    println!("\n{name}: seeding {subjects} subjects and {events} events…");
    let t = Instant::now();
    seed(url, subjects, events).await;
    let seeded = t.elapsed();
    let t = Instant::now();
    let mut sealed = 0u64;
    loop {
        let n = services.seals.seal_pending(50_000, 60).await.unwrap();
        if n == 0 {
            break;
        }
        sealed += n;
    }
    let sealing = t.elapsed();
    assert_eq!(sealed as usize, events, "every event sealed");
    // Measure the steady state, not the aftermath of a bulk load. A running server checkpoints
    // the chain every minute, a few links at a time; sign the first checkpoint over the bulk now,
    // or the server's sealer would verify the whole chain to sign it in the middle of the
    // measurements. And on PostgreSQL, vacuum what was just written (as autovacuum soon would).
    services
        .checkpoint_if_due()
        .await
        .unwrap()
        .expect("a first checkpoint");
    if !url.starts_with("sqlite:") {
        let store = server::store::PgStore::open(url).await.unwrap();
        sqlx::query("VACUUM (ANALYZE)")
            .execute(store.pool())
            .await
            .unwrap();
        // And write out now what the load left in shared buffers, as the next checkpoint would:
        // otherwise its writes (gigabytes after ten million events) overlap the measurements.
        // (Needs the right to checkpoint; without it the measurements run as they are.)
        if let Err(e) = sqlx::query("CHECKPOINT").execute(store.pool()).await {
            println!("  (no CHECKPOINT before measuring: {e})");
        }
    }
    println!(
        "  seeded in {:.0} s; sealed in {:.0} s ({:.0} events/s)",
        seeded.as_secs_f64(),
        sealing.as_secs_f64(),
        events as f64 / sealing.as_secs_f64()
    );
}

/// Reads the whole database once, so that the operating system holds it in memory, as it would
/// on a server that has been answering for a while: the SQLite file (and its WAL), or on
/// PostgreSQL every table and index of the schema, with `pg_prewarm` in its `read` mode.
async fn warm(url: &str) -> Result<(), String> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.split('?').next().unwrap_or(path);
        for file in [path.to_owned(), format!("{path}-wal")] {
            if let Ok(mut f) = std::fs::File::open(&file) {
                std::io::copy(&mut f, &mut std::io::sink()).map_err(|e| e.to_string())?;
            }
        }
        return Ok(());
    }
    let store = server::store::PgStore::open(url)
        .await
        .map_err(|e| e.to_string())?;
    let pool = store.pool();
    let text = |e: sqlx::Error| e.to_string();
    // The extension's schema: the first run creates it in public, a later one finds it.
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_prewarm SCHEMA public")
        .execute(pool)
        .await
        .map_err(text)?;
    let schema: String = sqlx::query_scalar(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_prewarm'",
    )
    .fetch_one(pool)
    .await
    .map_err(text)?;
    sqlx::query(&format!(
        "SELECT {schema}.pg_prewarm(c.oid, 'read') FROM pg_class c \
         WHERE c.relnamespace = to_regnamespace(current_schema()) AND c.relkind IN ('r', 'i')"
    ))
    .execute(pool)
    .await
    .map_err(text)?;
    Ok(())
}

/// PostgreSQL's own pace at sending what the export and the walk read, in events per second
/// with the machine's line for each: every event's columns by one binary COPY, then the same at
/// once with every link's seal by another, each table in the order it is stored, received here
/// and thrown away: a plain read, with nothing sealed, matched or written out, and a scan in
/// storage order, which costs the database less than the ranges of the key a walk or an export
/// reads. Their figures as shares of these tell Doui's part from the machine's.
async fn database_pace(url: &str, events: usize) -> Result<[(f64, String); 2], String> {
    use futures_util::TryStreamExt;
    let store = server::store::PgStore::open(url)
        .await
        .map_err(|e| e.to_string())?;
    let pool = store.pool();
    let drain = |query: String| async move {
        let mut conn = pool.acquire().await?;
        let mut rows = conn
            .copy_out_raw(&format!("COPY ({query}) TO STDOUT (FORMAT binary)"))
            .await?;
        while rows.try_next().await?.is_some() {}
        Ok::<_, sqlx::Error>(())
    };
    let all_events = format!(
        "SELECT e.seq, {} FROM consent_events e",
        server::store::event_columns()
    );
    let text = |e: sqlx::Error| e.to_string();
    let pace = |t: Instant| events as f64 / t.elapsed().as_secs_f64();
    let (t, machine) = (Instant::now(), Machine::now());
    drain(all_events.clone()).await.map_err(text)?;
    // The machine's line in parentheses (nothing where there is no `/proc/stat`).
    let line = |m: Machine| {
        m.since()
            .strip_prefix("; ")
            .map_or_else(String::new, |l| format!(" ({l})"))
    };
    let alone = (pace(t), line(machine));
    let (t, machine) = (Instant::now(), Machine::now());
    tokio::try_join!(
        drain(all_events),
        drain("SELECT position, event_seq, seal FROM event_seals".into()),
    )
    .map_err(text)?;
    Ok([alone, (pace(t), line(machine))])
}

/// A client signed in to the console as an owner.
async fn console_client(base: &str, services: &Services) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let password = "bench-password-long-enough";
    // One admin per run: a kept database is measured again with the admins of earlier runs.
    let email = format!("bench-{}@example.jp", uuid::Uuid::new_v4().simple());
    services
        .create_admin(&email, Role::Owner, password)
        .await
        .unwrap();
    let res = client.get(format!("{base}/")).send().await.unwrap();
    let csrf = res
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("doui_csrf="))
        .map(|c| c.split(';').next().unwrap_or("").to_owned())
        .unwrap();
    let res = client
        .post(format!("{base}/admin/signin"))
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("email", email.as_str()),
            ("password", password),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "signed in");
    client
}

/// Latencies of `n` sequential GETs of `path(i)`, each answered 200.
async fn timed<F: Fn(usize) -> String>(
    client: &reqwest::Client,
    n: usize,
    path: F,
) -> Vec<Duration> {
    let mut all = Vec::with_capacity(n);
    for i in 0..n {
        let url = path(i);
        let t = Instant::now();
        let res = client.get(&url).send().await.unwrap();
        let status = res.status();
        let body = res.bytes().await.unwrap();
        assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
        all.push(t.elapsed());
    }
    all.sort();
    all
}

async fn run(name: &str, url: &str) {
    let subjects = env_num("BENCH_SUBJECTS", 1_000_000);
    let events = env_num("BENCH_EVENTS", 10_000_000);
    let samples = env_num("BENCH_SAMPLES", 500);
    let reused = common::reused().is_some();
    let data_dir = if reused {
        std::path::PathBuf::from(
            std::env::var("DOUI_DATA_DIR")
                .expect("BENCH_REUSE=1 needs the DOUI_DATA_DIR a BENCH_KEEP=1 run printed"),
        )
    } else {
        std::env::temp_dir().join(format!(
            "doui-bench-audit-{}",
            uuid::Uuid::new_v4().simple()
        ))
    };
    let config = Config {
        public_url: "https://prefs.example.jp".into(),
        ..Config::ephemeral(url, data_dir.clone())
    };
    let services = server::services(&config).await.unwrap();
    if reused {
        // A kept database, measured again as it is (to compare builds without seeding anew).
        println!("\n{name}: measuring the kept database at {url} again…");
    } else {
        prepare(name, url, &services, subjects, events).await;
    }

    let running = server::start(&config, services.clone()).await.unwrap();
    let base = format!("http://{}", running.addr);
    let client = console_client(&base, &services).await;
    let mut random = Random(0x9E37_79B9_7F4A_7C15);

    // One subject's history page (the console, rendered on the server), for random subjects:
    // first with the caches as the bulk load left them, then warm. A database server that has
    // been answering for a while holds its database in memory when it fits (here it does), but
    // after a load on a machine that was also building, much of it is back on disk, and each
    // cold page then waits for a dozen random reads.
    let (mut pages, mut history_machine) = (Vec::new(), String::new());
    for _ in 0..2 {
        let mut ids = Vec::with_capacity(samples);
        for _ in 0..samples {
            let n = random.below(subjects) + 1;
            let s = services
                .store
                .find_subject(&format!("cust-{n:08}"))
                .await
                .unwrap()
                .unwrap();
            ids.push(s.id);
        }
        let machine = Machine::now();
        pages.push(
            timed(&client, samples, |i| {
                format!("{base}/admin/subjects/{}?lang=en", ids[i])
            })
            .await,
        );
        history_machine = machine.since();
        if pages.len() == 1
            && let Err(e) = warm(url).await
        {
            println!("  (the database was not read into memory: {e})");
        }
    }
    let (cold, history) = (&pages[0], &pages[1]);
    // Search by prefix: 'user' and five of the eight digits match a thousand subjects.
    let prefixes: Vec<String> = (0..samples)
        .map(|_| format!("user{:05}", random.below(subjects.div_ceil(1000).max(1))))
        .collect();
    let machine = Machine::now();
    let search = timed(&client, samples, |i| {
        format!("{base}/admin?q={}&lang=en", prefixes[i])
    })
    .await;
    let search_machine = machine.since();

    // The whole chain.
    let (t, cpu, machine) = (Instant::now(), cpu_secs(), Machine::now());
    let report = services.verify_chain().await.unwrap();
    let verify = t.elapsed();
    // One reading of the machine for both the line's end and the split below.
    let verify_busy = machine.busy_since();
    let verify_machine = machine.line(verify_busy);
    let verify_cores = (cpu_secs() - cpu) / verify.as_secs_f64();
    // The CPU each event cost, here and in the rest of the machine (PostgreSQL's own work, where
    // it runs alongside): what a walk would do with the database on cores of its own.
    let per_event = |cores: f64| cores * verify.as_secs_f64() / events as f64 * 1e6;
    let verify_split = verify_busy.map_or_else(String::new, |(busy, _)| {
        format!(
            "; CPU per event: {:.2} µs in this process, {:.2} µs in the rest of the machine",
            per_event(verify_cores),
            per_event((busy - verify_cores).max(0.0))
        )
    });
    assert_eq!(report.broken, None);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(report.length as usize, events);

    // The database's own pace at the same rows, right after the walk (PostgreSQL only: SQLite's
    // walk reads in-process, with nothing to hand over).
    let pace = if url.starts_with("sqlite:") {
        None
    } else {
        match database_pace(url, events).await {
            Ok(pace) => Some(pace),
            Err(e) => {
                println!("  (the database's own pace was not measured: {e})");
                None
            }
        }
    };

    // The streamed export of every event, with the process's memory sampled meanwhile.
    let before = common::own_memory_mib();
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut peak: f64 = 0.0;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(common::own_memory_mib());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            peak
        })
    };
    let (t, cpu, machine) = (Instant::now(), cpu_secs(), Machine::now());
    let mut res = client
        .get(format!("{base}/admin/events.jsonl"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The process's memory once a tenth has streamed, too: memory that stays flat has reached
    // its most by then, where memory that grows with the export goes on climbing to the end.
    let (mut lines, mut bytes, mut early) = (0usize, 0usize, None);
    while let Some(chunk) = res.chunk().await.unwrap() {
        bytes += chunk.len();
        lines += chunk.iter().filter(|&&b| b == b'\n').count();
        if early.is_none() && lines >= events / 10 {
            early = Some(common::own_memory_mib());
        }
    }
    let export = t.elapsed();
    let export_machine = machine.since();
    let export_cores = (cpu_secs() - cpu) / export.as_secs_f64();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.await.unwrap();
    assert_eq!(lines, events, "every event exported");

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("  {:<34} {:>9} {:>9}   target", "", "p50 ms", "p99 ms");
    println!(
        "  {:<34} {:>9.2} {:>9.2}",
        "history page, caches as left",
        ms(percentile(cold, 0.5)),
        ms(percentile(cold, 0.99))
    );
    println!(
        "  {:<34} {:>9.2} {:>9.2}   p99 < 10 ms{history_machine}",
        "history page (GET /admin/subjects)",
        ms(percentile(history, 0.5)),
        ms(percentile(history, 0.99))
    );
    println!(
        "  {:<34} {:>9.2} {:>9.2}   p99 < 20 ms{search_machine}",
        "subject search by prefix (GET /admin)",
        ms(percentile(&search, 0.5)),
        ms(percentile(&search, 0.99))
    );
    println!(
        "  full-chain verify: {events} events in {:.1} s = {:.0} events/s (target ≥ 1,000,000); \
         {verify_cores:.2} cores of this process busy{verify_machine}{verify_split}",
        verify.as_secs_f64(),
        events as f64 / verify.as_secs_f64()
    );
    println!(
        "  streamed export (JSON Lines): {events} events, {:.0} MB in {:.1} s = {:.0} events/s \
         (target ≥ 500,000); {export_cores:.2} cores of this process busy (with the client); \
         process memory {before:.0} MiB before, {:.0} MiB a tenth of the way, {peak:.0} MiB at \
         most while streaming{export_machine}",
        bytes as f64 / 1e6,
        export.as_secs_f64(),
        events as f64 / export.as_secs_f64(),
        early.unwrap_or(0.0)
    );
    if let Some([(events_pace, events_machine), (walk_pace, walk_machine)]) = pace {
        println!(
            "  PostgreSQL alone, sending the rows read (each table by one COPY, thrown away): \
             the events at {events_pace:.0}/s{events_machine}, the events and their seals \
             at once at {walk_pace:.0} events/s{walk_machine}; the walk ran at {:.2} of the \
             latter, the export at {:.2} of the former",
            events as f64 / verify.as_secs_f64() / walk_pace,
            events as f64 / export.as_secs_f64() / events_pace
        );
    }
    running.task.abort();
    if common::keep() {
        println!("kept: DOUI_DATA_DIR={}", data_dir.display());
    } else if !reused {
        std::fs::remove_dir_all(data_dir).ok();
    }
}

fn main() {
    common::main(|name, url| async move { run(name, &url).await });
}
