//! The webhook dispatcher (issue 32): pushes the consent log to every endpoint, in chain order,
//! from each endpoint's own cursor, advancing it only after a 2xx answer (at-least-once).
//!
//! Each instance looks for endpoints every second and takes the lease of those no other
//! instance holds (a row lease with an expiry: one dispatcher per endpoint across instances on
//! one PostgreSQL; SQLite has one process). A worker per leased endpoint then loops: renew the
//! lease, read the items after the cursor, send them one after another without pause, and
//! record the round (the attempts and the new cursor) in one transaction. A failure stops the
//! round; the next attempt waits for the retry schedule (`RetryPolicy`). A crash loses nothing:
//! the cursor only ever names items that were answered 2xx, so what was in flight is sent again.
//! A recipient's endpoint (APPI register) also records, in that transaction, each item it
//! answered 2xx to: the provision records show that the recipient was told.

mod items;
pub mod send;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::{
    domain::webhook::{
        DELIVERY_LOG_DAYS, RecipientNotification, WebhookEndpoint, WebhookRound, WebhookState,
        check_url,
    },
    services::Services,
};

pub use items::Item;

/// How long a lease lasts without renewal (a crashed instance's endpoints are taken over after
/// it). Longer than one attempt's timeout.
pub const LEASE_MS: i64 = 15_000;
/// A round ends after this long: its deliveries are recorded (the cursor moves) at least this
/// often, so a crash repeats at most this much, and the lease is renewed in time.
const ROUND_MS: i64 = 200;
/// Items read per round.
pub const ROUND_ITEMS: u32 = 200;
/// How often a worker with nothing to send looks again (sooner when this instance seals).
const IDLE: Duration = Duration::from_millis(200);
/// How often an instance looks for endpoints to take.
const LOOK: Duration = Duration::from_secs(1);

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Runs the dispatcher of this instance until a shutdown stops it: it then takes no more
/// endpoints, and each worker ends after the round it is in and gives its lease back (another
/// instance takes the endpoint at once, from the cursor that round recorded).
pub async fn dispatcher(services: Services, shutdown: crate::ops::Shutdown) {
    let client = match send::client(&services.settings.webhook_allow_hosts) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks: no HTTP client; nothing will be delivered");
            return;
        }
    };
    let owner = format!("{}", uuid::Uuid::new_v4().simple());
    let running: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut next_prune = tokio::time::Instant::now();
    loop {
        match services.console.webhooks().await {
            Ok(endpoints) => {
                for e in endpoints {
                    if e.state == WebhookState::Disabled
                        || running.lock().expect("not poisoned").contains(&e.id)
                    {
                        continue;
                    }
                    match services
                        .console
                        .lease_webhook(&e.id, &owner, now_ms(), LEASE_MS)
                        .await
                    {
                        Ok(true) => {
                            running.lock().expect("not poisoned").insert(e.id.clone());
                            let (services, client, owner, running, shutdown) = (
                                services.clone(),
                                client.clone(),
                                owner.clone(),
                                running.clone(),
                                shutdown.clone(),
                            );
                            tokio::spawn(async move {
                                let id = e.id.clone();
                                work(&services, &client, &owner, &shutdown, e).await;
                                let _ = services.console.release_webhook(&id, &owner).await;
                                running.lock().expect("not poisoned").remove(&id);
                            });
                        }
                        Ok(false) => {}
                        Err(err) => tracing::warn!(error = %err, "webhooks: lease failed"),
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "webhooks: reading endpoints failed"),
        }
        if tokio::time::Instant::now() >= next_prune {
            next_prune = tokio::time::Instant::now() + Duration::from_secs(3600);
            let before = now_ms() - DELIVERY_LOG_DAYS * 24 * 3600 * 1000;
            if let Err(err) = services.console.prune_webhook_deliveries(before).await {
                tracing::warn!(error = %err, "webhooks: pruning the delivery log failed");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(LOOK) => {}
            _ = shutdown.stopped() => break,
        }
    }
    // The workers see the stop at their next turn.
    while !running.lock().expect("not poisoned").is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Delivers to one endpoint while this instance holds its lease and it is not disabled.
async fn work(
    services: &Services,
    client: &reqwest::Client,
    owner: &str,
    shutdown: &crate::ops::Shutdown,
    mut e: WebhookEndpoint,
) {
    // The supervisor took the lease just now.
    let mut leased_at = now_ms();
    let mut sealed = services.sealed.subscribe();
    loop {
        if shutdown.stopping() {
            return;
        }
        let now = now_ms();
        if e.next_attempt_at > now {
            let wait = (e.next_attempt_at - now).min(1_000);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
                _ = shutdown.stopped() => return,
            }
        }
        // Renewed when a third of it is gone (not every round: an idle endpoint would write
        // ten times a second). A write of a round holds only while the lease is still ours.
        let renew_at = leased_at + LEASE_MS / 3;
        match if now_ms() < renew_at {
            Ok(true)
        } else {
            let at = now_ms();
            let renewed = services
                .console
                .lease_webhook(&e.id, owner, at, LEASE_MS)
                .await;
            if matches!(renewed, Ok(true)) {
                leased_at = at;
            }
            renewed
        } {
            Ok(true) => {}
            Ok(false) => return,
            Err(err) => {
                tracing::warn!(error = %err, "webhooks: renewing a lease failed");
                tokio::time::sleep(IDLE).await;
                continue;
            }
        }
        e = match services.console.webhook(&e.id).await {
            Ok(Some(e)) if e.state != WebhookState::Disabled => e,
            Ok(_) => return,
            Err(err) => {
                tracing::warn!(error = %err, "webhooks: reading an endpoint failed");
                tokio::time::sleep(IDLE).await;
                continue;
            }
        };
        if e.next_attempt_at > now_ms() {
            continue;
        }
        match round(services, client, owner, &e).await {
            // Woken as soon as this instance seals more; another instance's seals are seen by
            // polling.
            Ok(Round::Idle) => {
                tokio::select! {
                    _ = sealed.changed() => {}
                    _ = tokio::time::sleep(IDLE) => {}
                    _ = shutdown.stopped() => {}
                }
            }
            Ok(Round::Sent) => {}
            Ok(Round::LeaseLost) => return,
            Err(err) => {
                tracing::warn!(error = %err, endpoint = %e.id, "webhooks: a round failed");
                tokio::time::sleep(IDLE).await;
            }
        }
    }
}

enum Round {
    /// Nothing new to send.
    Idle,
    Sent,
    LeaseLost,
}

/// Sends what follows the endpoint's cursor, in order, until a failure, the round's time or
/// its items run out; then records it all in one transaction.
async fn round(
    services: &Services,
    client: &reqwest::Client,
    owner: &str,
    e: &WebhookEndpoint,
) -> anyhow::Result<Round> {
    let filter = items::feed_filter(e);
    let (items, reached) = items::after(services, e, &filter, ROUND_ITEMS).await?;
    if items.is_empty() && reached <= e.position {
        return Ok(Round::Idle);
    }
    let started = now_ms();
    let secrets = services
        .webhook_secrets(e, started)
        .map_err(|r| anyhow::anyhow!("{}", r.code))?;
    // Checked again before each round: the operator's allow-list may have changed (the host's
    // addresses are checked by the client's resolver as it connects).
    let url_refused = check_url(&e.url, &services.settings.webhook_allow_hosts).err();
    let mut position = e.position;
    let mut attempts = Vec::new();
    let mut notifications = Vec::new();
    let mut failure = None;
    let mut all_sent = true;
    for (n, item) in items.iter().enumerate() {
        let attempt = if n == 0 { e.failures + 1 } else { 1 };
        let at = now_ms();
        let d = match &url_refused {
            Some(problem) => app::domain::webhook::WebhookDelivery {
                endpoint_id: e.id.clone(),
                at,
                event_id: item.id.clone(),
                position: item.position,
                attempt,
                status: None,
                error: Some(problem.problem.to_owned()),
                latency_ms: 0,
                answer: String::new(),
            },
            None => {
                send::send(
                    client,
                    &secrets,
                    send::Outgoing {
                        endpoint_id: &e.id,
                        url: &e.url,
                        event_id: &item.id,
                        position: item.position,
                        attempt,
                        body: &item.body,
                    },
                    at,
                )
                .await
            }
        };
        let ok = d.succeeded();
        let status = d.status;
        attempts.push(d);
        if !ok {
            all_sent = false;
            let jitter = f64::from(app::auth::random_bytes::<1>()[0]) / 256.0;
            failure = Some(services.settings.webhook_retry.after_failure(
                e.failures,
                e.failing_since,
                now_ms(),
                jitter,
                status,
            ));
            break;
        }
        position = item.position;
        if let Some(recipient) = &e.recipient {
            notifications.push(RecipientNotification {
                recipient: recipient.clone(),
                subject: item.subject,
                event_id: item.id.clone(),
                purpose: item.purpose.clone(),
                state: item.state,
                delivered_at: now_ms(),
                endpoint_id: e.id.clone(),
            });
        }
        if now_ms() - started > ROUND_MS && n + 1 < items.len() {
            all_sent = false;
            break;
        }
    }
    if all_sent {
        position = reached;
    }
    let recorded = services
        .console
        .record_webhook_round(
            &e.id,
            owner,
            &WebhookRound {
                position,
                attempts: &attempts,
                failure: failure.as_ref(),
                notifications: &notifications,
            },
            now_ms(),
        )
        .await?;
    if let Some(f) = &failure
        && f.state == WebhookState::Disabled
    {
        tracing::warn!(endpoint = %e.id, reason = ?f.disabled_reason, "webhooks: endpoint disabled");
    }
    Ok(if recorded {
        Round::Sent
    } else {
        Round::LeaseLost
    })
}
