//! Import benchmark (issue 31): `cargo bench -p server --bench import`.
//!
//! Generates a CSV of BENCH_SUBJECTS rows (default 1 million), each granting three consents
//! (newsletter by email and SMS, ad targeting on the web), imports it with `doui import`'s code
//! path on SQLite and on PostgreSQL (when one answers at DATABASE_URL_PG or 127.0.0.1:5432),
//! seals what it wrote, and reports events/s (targets: ≥ 100,000 on SQLite, ≥ 50,000 on
//! PostgreSQL), the sealing pace, and this process's peak resident memory before and after (flat
//! memory: it must not grow with the file).

use std::{io::Write, time::Instant};

use app::domain::{Actor, import::Mapping};
use server::import::{Format, ImportOptions, Progress};

mod common;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// This process's resident memory now and at its peak, in MiB.
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The machine this ran on: cores and model, for reading the figures.
fn machine_line() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("machine: {cores} cores, {model}")
}

fn main() {
    let subjects = env_num("BENCH_SUBJECTS", 1_000_000);
    let dir = std::env::temp_dir().join(format!(
        "doui-bench-import-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("customers.csv");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        writeln!(
            out,
            "CustomerNo,Mail,Lang,NL_Mail,NL_SMS,Ads_Web,SignupDate"
        )
        .unwrap();
        for i in 0..subjects {
            writeln!(out, "C-{i:08},c{i}@example.jp,ja,yes,1,opt-in,2024-04-01").unwrap();
        }
    }
    let size = std::fs::metadata(&file).unwrap().len();
    println!("\n{}", machine_line());
    println!(
        "import benchmark: {subjects} subjects × 3 consents, {:.0} MiB of CSV",
        size as f64 / 1048576.0
    );
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mapping = Mapping::parse(
        &strings(&["external_id=CustomerNo", "email=Mail", "lang=Lang"]),
        &strings(&[
            "newsletter:email=NL_Mail",
            "newsletter:sms=NL_SMS",
            "ad_targeting:web=Ads_Web",
        ]),
        Some("SignupDate"),
        Some("checkout"),
        Some("2024-04"),
    )
    .unwrap();
    common::main(|name, url| {
        let (file, mapping, dir) = (file.clone(), mapping.clone(), dir.clone());
        async move {
            let data_dir = dir.join(format!("data-{name}"));
            let config = server::config::Config::ephemeral(&url, data_dir);
            let services = server::services(&config).await.unwrap();
            services
                .add_collection_point(
                    app::domain::NewCollectionPoint {
                        key: "checkout".into(),
                        name_ja: "購入画面".into(),
                        name_en: "Checkout".into(),
                        kind: app::domain::CollectionPointKind::Checkout,
                        location: "https://shop.example/checkout".into(),
                        wording: "お知らせを受け取る".into(),
                        notice_version: Some("2024-04".into()),
                    },
                    "cli",
                )
                .await
                .unwrap();
            let (rss_before, _) = rss_mib();
            let mut options =
                ImportOptions::new(mapping, Format::Csv, "customers.csv", Actor::System);
            options.progress = Progress::Lines;
            let started = Instant::now();
            let mut sink = std::io::sink();
            let summary = server::import::run(&services, &file, options, &mut sink)
                .await
                .unwrap();
            let took = started.elapsed().as_secs_f64();
            let (rss_after, peak) = rss_mib();
            assert_eq!(summary.rows_refused, 0);
            assert_eq!(summary.events_written, 3 * subjects as u64);
            println!(
                "{name}: imported {} rows, {} events in {took:.1} s: {:.0} events/s, {:.0} rows/s; \
                 memory {rss_before:.0} MiB before, {rss_after:.0} MiB after, peak {peak:.0} MiB",
                summary.rows_read,
                summary.events_written,
                summary.events_written as f64 / took,
                summary.rows_read as f64 / took,
            );
            let sealing = Instant::now();
            let sealed = common::seal_all(&services).await;
            let took = sealing.elapsed().as_secs_f64();
            println!(
                "{name}: sealed {sealed} events in {took:.1} s ({:.0} events/s)",
                sealed as f64 / took
            );
        }
    });
    std::fs::remove_dir_all(dir).ok();
}
