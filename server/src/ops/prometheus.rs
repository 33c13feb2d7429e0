//! The metrics, in the Prometheus text format. Code everywhere records into the `metrics` facade
//! (a no-op until [`install`] sets the recorder); `/metrics` renders what was recorded, after
//! reading the few gauges that are cheaper to ask for at a scrape than to keep up to date (the
//! sealer's lag, the checkpoint's age, the pool). Every name is listed in
//! docs/operators/metrics.md.

use std::{sync::OnceLock, time::Duration};

use app::{
    services::Services,
    store::{Applied, StoreResult},
};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Requests answered, by method, route template and status.
pub const HTTP_REQUESTS: &str = "doui_http_requests_total";
/// How long requests took to answer (until the head of the answer), by method and route.
pub const HTTP_DURATION: &str = "doui_http_request_duration_seconds";
/// Requests (changes of one person each) per group commit.
pub const GROUP_SIZE: &str = "doui_group_commit_size";
/// How long a group commit took, from its first statement to the commit.
pub const GROUP_DURATION: &str = "doui_group_commit_duration_seconds";
/// Consent events written by this process.
pub const EVENTS_WRITTEN: &str = "doui_events_written_total";
/// Events committed but not yet sealed into the hash chain.
pub const UNSEALED: &str = "doui_chain_unsealed_events";
/// The chain's length.
pub const CHAIN_LENGTH: &str = "doui_chain_length";
/// Seconds since the latest signed checkpoint (absent before the first).
pub const CHECKPOINT_AGE: &str = "doui_checkpoint_age_seconds";
/// Database connections, by pool state (`in_use`, `idle`) and the pool's `max`.
pub const POOL: &str = "doui_db_pool_connections";
/// 1 while the reads that may lag go to the read replica, 0 while they go to the primary.
pub const REPLICA_IN_USE: &str = "doui_db_replica_in_use";
/// How far the read replica was behind the primary when last measured.
pub const REPLICA_LAG: &str = "doui_db_replica_lag_seconds";
/// Refusals by a rate limit, by limit name.
pub const RATE_LIMITED: &str = "doui_rate_limit_refusals_total";
/// Mail handed to the SMTP server or written to the outbox, and mail that failed.
pub const MAIL_SENT: &str = "doui_mail_sent_total";
pub const MAIL_FAILED: &str = "doui_mail_failed_total";
/// Always 1, labelled with the version and commit of this binary.
pub const BUILD_INFO: &str = "doui_build_info";
/// Signup form submissions whose honeypot was filled (counted by `app::services`).
pub const FORM_HONEYPOT: &str = "doui_form_honeypot_total";

/// Latency buckets, in seconds: a millisecond to ten seconds.
const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Group sizes: one request up to the most a group takes (256).
const SIZES: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Sets the process's recorder (once; later calls return the same handle). Until then nothing
/// is recorded, which costs nothing.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), SECONDS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(GROUP_DURATION.into()), SECONDS))
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(GROUP_SIZE.into()), SIZES))
            .expect("bucket lists are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder was set first: /metrics will stay empty");
        }
        describe();
        gauge!(BUILD_INFO, "version" => crate::ops::VERSION, "commit" => crate::ops::COMMIT)
            .set(1.0);
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        HTTP_REQUESTS,
        "Requests answered, by method, route and status."
    );
    describe_histogram!(
        HTTP_DURATION,
        "Seconds to answer a request, by method and route."
    );
    describe_histogram!(
        GROUP_SIZE,
        "Requests committed together in one group commit."
    );
    describe_histogram!(GROUP_DURATION, "Seconds one group commit took.");
    describe_counter!(EVENTS_WRITTEN, "Consent events written by this process.");
    describe_gauge!(
        UNSEALED,
        "Events committed and not yet sealed into the chain."
    );
    describe_gauge!(CHAIN_LENGTH, "Links in the hash chain.");
    describe_gauge!(
        CHECKPOINT_AGE,
        "Seconds since the latest signed checkpoint."
    );
    describe_gauge!(
        POOL,
        "Database connections by state, and the pool's maximum."
    );
    describe_gauge!(
        REPLICA_IN_USE,
        "1 while reads that may lag go to the read replica, 0 while they go to the primary."
    );
    describe_gauge!(
        REPLICA_LAG,
        "Seconds the read replica was behind the primary when last measured."
    );
    describe_counter!(RATE_LIMITED, "Requests refused by a rate limit, by limit.");
    describe_counter!(
        MAIL_SENT,
        "Messages handed to SMTP or written to the outbox."
    );
    describe_counter!(MAIL_FAILED, "Messages that could not be sent.");
    describe_counter!(
        FORM_HONEYPOT,
        "Signup form submissions dropped because their honeypot was filled."
    );
    describe_gauge!(BUILD_INFO, "The version and commit of this binary.");
}

/// Records one group commit: its size, its time and the events it wrote.
pub fn group_committed(size: usize, took: Duration, results: &[StoreResult<Vec<Applied>>]) {
    histogram!(GROUP_SIZE).record(size as f64);
    histogram!(GROUP_DURATION).record(took.as_secs_f64());
    let written = results
        .iter()
        .flatten()
        .flatten()
        .filter(|a| !a.replayed && matches!(a.outcome, app::domain::Outcome::Recorded(_)))
        .count();
    counter!(EVENTS_WRITTEN).increment(written as u64);
}

/// Records events written outside the group commit (imports).
pub fn events_written(n: u64) {
    counter!(EVENTS_WRITTEN).increment(n);
}

/// Records one message sent (`true`) or failed.
pub fn mail(sent: bool) {
    if sent {
        counter!(MAIL_SENT).increment(1);
    } else {
        counter!(MAIL_FAILED).increment(1);
    }
}

/// Records one answered request.
pub fn request(method: &str, route: &str, status: u16, took: Duration) {
    let (method, route) = (method.to_owned(), route.to_owned());
    counter!(HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(),
        "status" => status.to_string())
    .increment(1);
    histogram!(HTTP_DURATION, "method" => method, "route" => route).record(took.as_secs_f64());
}

/// The text a scrape gets: the gauges read now, then everything recorded.
pub async fn render(services: &Services) -> String {
    let handle = install();
    let pool = services.store.pool_use();
    gauge!(POOL, "state" => "in_use").set(f64::from(pool.in_use));
    gauge!(POOL, "state" => "idle").set(f64::from(pool.idle));
    gauge!(POOL, "state" => "max").set(f64::from(pool.max));
    if let Some(replica) = services.store.read_replica() {
        gauge!(REPLICA_IN_USE).set(if replica.in_use { 1.0 } else { 0.0 });
        // Unknown (unreachable, promoted): the last value stays; `in_use` says it is not used.
        if let Some(lag) = replica.lag {
            gauge!(REPLICA_LAG).set(lag.as_secs_f64());
        }
    }
    // A slow database must not hold the scrape: what could not be read in time is left out
    // (the last value stays) and the log says why.
    let chain = tokio::time::timeout(Duration::from_secs(5), chain_gauges(services)).await;
    match chain {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "metrics: reading the chain failed"),
        Err(_) => tracing::warn!("metrics: reading the chain took over 5 s"),
    }
    handle.run_upkeep();
    handle.render()
}

async fn chain_gauges(services: &Services) -> StoreResult<()> {
    let (length, sealed_upto) = services.seals.chain_extent().await?;
    gauge!(CHAIN_LENGTH).set(length as f64);
    let unsealed = services.seals.events_above(sealed_upto).await?;
    gauge!(UNSEALED).set(unsealed as f64);
    if let Some(c) = services.seals.latest_checkpoint().await? {
        let age = (app::services::now() - c.at).as_seconds_f64().max(0.0);
        gauge!(CHECKPOINT_AGE).set(age);
    }
    Ok(())
}
