//! What the benchmarks share: the backends they run on.

use std::future::Future;

/// Runs the benchmark `run` on each backend, on a multi-threaded runtime.
pub fn main<F, Fut>(run: F)
where
    F: Fn(&'static str, String) -> Fut,
    Fut: Future<Output = ()>,
{
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(on_each_backend(run));
}

/// Runs `run(name, url)` on a fresh SQLite file, then on a fresh schema of the PostgreSQL at
/// `DATABASE_URL_PG` (default `127.0.0.1:5432/test`) when one answers. `BENCH_BACKEND=sqlite` or
/// `postgres` runs only one. `BENCH_KEEP=1` keeps the databases (to profile against them later);
/// `BENCH_REUSE=1` with the `DATABASE_URL` a kept run printed runs on that database alone.
pub async fn on_each_backend<F, Fut>(run: F)
where
    F: Fn(&'static str, String) -> Fut,
    Fut: Future<Output = ()>,
{
    if let Some(url) = reused() {
        let name = if url.starts_with("sqlite:") {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        return run(name, url).await;
    }
    let only = std::env::var("BENCH_BACKEND").unwrap_or_default();
    if only.is_empty() || only == "sqlite" {
        let dir =
            std::env::temp_dir().join(format!("doui-bench-db-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        run(
            "SQLite",
            format!("sqlite:{}", dir.join("bench.db").display()),
        )
        .await;
        if keep() {
            println!(
                "kept: DATABASE_URL=sqlite:{}",
                dir.join("bench.db").display()
            );
        } else {
            std::fs::remove_dir_all(dir).ok();
        }
    }
    if only.is_empty() || only == "postgres" {
        let pg = std::env::var("DATABASE_URL_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("doui_bench_{}", uuid::Uuid::new_v4().simple());
        match server::store::PgStore::open_in_schema(&pg, &schema).await {
            Ok(_) => {
                let scoped = format!(
                    "{pg}{}options=-csearch_path%3D{schema}",
                    if pg.contains('?') { "&" } else { "?" }
                );
                run("PostgreSQL", scoped.clone()).await;
                if keep() {
                    println!("kept: DATABASE_URL={scoped}");
                } else {
                    server::store::PgStore::drop_schema(&pg, &schema).await.ok();
                }
            }
            Err(e) => println!("\nPostgreSQL skipped: {e}"),
        }
    }
}

/// Whether `BENCH_KEEP` asks to keep what the benchmark made.
pub fn keep() -> bool {
    std::env::var("BENCH_KEEP").is_ok_and(|v| v == "1")
}

/// The kept database to run on again (`BENCH_REUSE=1` and its `DATABASE_URL`), if asked.
pub fn reused() -> Option<String> {
    if std::env::var("BENCH_REUSE").is_ok_and(|v| v == "1") {
        let url = std::env::var("DATABASE_URL")
            .expect("BENCH_REUSE=1 needs the DATABASE_URL a BENCH_KEEP=1 run printed");
        Some(url)
    } else {
        None
    }
}

/// This process's own memory in MiB (`RssAnon`: Linux; 0 elsewhere): its heap and stacks, not
/// the files it maps. SQLite's read connections map the database file (`sqlite_raw`), whose
/// pages, the operating system's file cache, would otherwise count as resident the moment a read
/// touches them.
#[allow(dead_code)]
pub fn own_memory_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The machine's CPU ticks so far: (busy, stolen, all) and its cores (`/proc/stat`).
#[allow(dead_code)]
pub fn ticks() -> ([u64; 3], usize) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|x| x.parse().ok())
        .collect();
    let cores = stat
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    let [user, nice, system, idle, iowait, irq, softirq, steal] = v[..] else {
        return ([0; 3], 0);
    };
    let busy = user + nice + system + irq + softirq;
    ([busy, steal, busy + steal + idle + iowait], cores)
}

/// "; machine: B of N cores busy, S % stolen" since `before` (from [`ticks`]).
#[allow(dead_code)]
pub fn machine_since(before: ([u64; 3], usize)) -> String {
    let (now, cores) = ticks();
    let d: Vec<f64> = (0..3)
        .map(|i| now[i].saturating_sub(before.0[i]) as f64)
        .collect();
    if d[2] == 0.0 || cores == 0 {
        return String::new();
    }
    format!(
        "; machine: {:.2} of {cores} cores busy, {:.0} % stolen",
        d[0] / d[2] * cores as f64,
        d[1] / d[2] * 100.0
    )
}

/// Seals every event not yet sealed (the import's, or a seed's written in bulk SQL), round after
/// round: how many.
#[allow(dead_code)]
pub async fn seal_all(services: &app::services::Services) -> u64 {
    let mut sealed = 0;
    loop {
        let n = services.seal_pending().await.unwrap();
        if n == 0 {
            return sealed;
        }
        sealed += n;
    }
}
