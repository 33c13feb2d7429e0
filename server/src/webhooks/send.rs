//! One delivery: the Standard Webhooks 1.0 request (headers `webhook-id`, `webhook-timestamp`,
//! `webhook-signature`), sent by a client that resolves a host itself, refuses it when any of
//! its addresses is forbidden and then connects only to the addresses it checked (so a DNS
//! answer cannot change between the check and the connection). 10 s timeout, no redirects, the
//! answer read up to 1 KiB.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use app::domain::webhook::{ANSWER_KEPT, WebhookDelivery, forbidden_ip};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How long an attempt may take, answer included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an answer is read.
pub const ANSWER_READ: usize = 1024;

/// Resolves a host, refusing it when one of its addresses may not be reached (unless the
/// operator allowed the host).
struct CheckedResolver {
    allow_hosts: Arc<Vec<String>>,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow_hosts.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed = allow.iter().any(|h| h.eq_ignore_ascii_case(&host));
            if !allowed && addrs.iter().any(|a| forbidden_ip(a.ip())) {
                return Err(Box::new(std::io::Error::other(
                    "webhook_address_forbidden: the host resolves to a forbidden address",
                ))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The client every delivery of an instance shares (its connection pool keeps connections to
/// each receiver open).
pub fn client(allow_hosts: &[String]) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .user_agent(concat!("Doui-Webhooks/", env!("CARGO_PKG_VERSION")))
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(8)
        .dns_resolver(Arc::new(CheckedResolver {
            allow_hosts: Arc::new(allow_hosts.to_vec()),
        }))
        .build()?)
}

/// The `webhook-signature` header: one `v1,<base64 HMAC-SHA256>` per secret, space-separated.
pub fn signature(
    secrets: &[String],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> anyhow::Result<String> {
    let mut out = Vec::with_capacity(secrets.len());
    for s in secrets {
        let wh = standardwebhooks::Webhook::new(s)
            .map_err(|e| anyhow::anyhow!("webhook secret: {e}"))?;
        out.push(
            wh.sign(id, timestamp, body)
                .map_err(|e| anyhow::anyhow!("signing: {e}"))?,
        );
    }
    Ok(out.join(" "))
}

/// What is sent for one item.
pub struct Outgoing<'a> {
    pub endpoint_id: &'a str,
    pub url: &'a str,
    pub event_id: &'a str,
    pub position: i64,
    pub attempt: i64,
    pub body: &'a [u8],
}

/// Sends one item, signed with `secrets`, and returns the attempt as logged.
pub async fn send(
    client: &reqwest::Client,
    secrets: &[String],
    out: Outgoing<'_>,
    now_ms: i64,
) -> WebhookDelivery {
    let started = Instant::now();
    let timestamp = now_ms.div_euclid(1000);
    let mut d = WebhookDelivery {
        endpoint_id: out.endpoint_id.to_owned(),
        at: now_ms,
        event_id: out.event_id.to_owned(),
        position: out.position,
        attempt: out.attempt,
        status: None,
        error: None,
        latency_ms: 0,
        answer: String::new(),
    };
    let sig = match signature(secrets, out.event_id, timestamp, out.body) {
        Ok(s) => s,
        Err(e) => {
            d.error = Some(e.to_string());
            return d;
        }
    };
    let res = client
        .post(out.url)
        .header("content-type", "application/json")
        .header("webhook-id", out.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", sig)
        .body(out.body.to_vec())
        .send()
        .await;
    match res {
        Ok(mut res) => {
            d.status = Some(i64::from(res.status().as_u16()));
            let mut answer = Vec::new();
            while answer.len() < ANSWER_READ {
                match res.chunk().await {
                    Ok(Some(c)) => answer.extend_from_slice(&c),
                    Ok(None) => break,
                    Err(_) => break,
                }
            }
            d.answer = app::domain::webhook::answer_prefix(&answer, ANSWER_KEPT);
            if !res.status().is_success() {
                d.error = Some(format!("HTTP {}", res.status().as_u16()));
            }
        }
        Err(e) => d.error = Some(describe(&e)),
    }
    d.latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    d
}

/// A transport error in a line, with its cause (reqwest's own text hides it).
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.chars().take(ANSWER_KEPT).collect()
}
