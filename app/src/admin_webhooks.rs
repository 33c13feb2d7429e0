//! The console's webhook server functions (issue 32): the endpoints with their state and latest
//! deliveries (viewer), disabling and enabling with a replay choice (owner). Adding an endpoint
//! and rotating its secret are forms outside Leptos (their answer shows the secret once).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
#[cfg(feature = "ssr")]
use crate::{
    api::{admin, refuse, require_csrf, services},
    auth::Role,
};

/// Delivery attempts shown per endpoint.
pub const LOG_ROWS: u32 = 20;

/// An endpoint as the console shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub description: String,
    /// The filters, each a comma list (empty: everything).
    pub kinds: String,
    pub purposes: String,
    pub channels: String,
    pub sources: String,
    /// The third-party recipient it speaks to (empty: none).
    pub recipient: String,
    /// `active`, `failing` or `disabled`.
    pub state: String,
    pub cursor: i64,
    pub failures: i64,
    pub failing_since: Option<String>,
    pub next_attempt_at: Option<String>,
    pub disabled_reason: Option<String>,
    pub last_success_at: Option<String>,
    pub rotation_ends_at: Option<String>,
    pub created_at: String,
    pub deliveries: Vec<DeliveryRow>,
}

/// One attempt in the delivery log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub at: String,
    pub cursor: i64,
    pub event_id: String,
    pub attempt: i64,
    /// The HTTP status, or `-` when there was no answer.
    pub status: String,
    pub latency_ms: i64,
    pub error: String,
    pub answer: String,
}

/// Unix ms as `YYYY-MM-DD HH:MM:SS` UTC.
#[cfg(feature = "ssr")]
fn when(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

#[cfg(feature = "ssr")]
async fn rows(
    services: &crate::services::Services,
    lang: crate::domain::Lang,
) -> Result<Vec<WebhookRow>, ApiError> {
    let endpoints = services.webhooks().await.map_err(|r| refuse(lang, r))?;
    let mut out = Vec::with_capacity(endpoints.len());
    for e in endpoints {
        let deliveries = services
            .webhook_deliveries(&e.id, LOG_ROWS)
            .await
            .map_err(|r| refuse(lang, r))?
            .into_iter()
            .map(|d| DeliveryRow {
                at: when(d.at),
                cursor: d.position,
                event_id: d.event_id,
                attempt: d.attempt,
                status: d.status.map_or("-".to_owned(), |s| s.to_string()),
                latency_ms: d.latency_ms,
                error: d.error.unwrap_or_default(),
                answer: d.answer,
            })
            .collect();
        out.push(WebhookRow {
            id: e.id,
            url: e.url,
            description: e.description,
            kinds: e.filter.kinds.join(","),
            purposes: e.filter.purposes.join(","),
            channels: e.filter.channels.join(","),
            sources: e.filter.sources.join(","),
            recipient: e.recipient.unwrap_or_default(),
            state: e.state.key().to_owned(),
            cursor: e.position,
            failures: e.failures,
            failing_since: e.failing_since.map(when),
            next_attempt_at: (e.next_attempt_at > 0).then(|| when(e.next_attempt_at)),
            disabled_reason: e.disabled_reason,
            last_success_at: e.last_success_at.map(when),
            rotation_ends_at: e.previous_until.map(when),
            created_at: when(e.created_at),
            deliveries,
        });
    }
    Ok(out)
}

/// The endpoints with their latest deliveries (viewer).
#[server(endpoint = "admin/webhooks")]
pub async fn admin_webhooks() -> Result<Vec<WebhookRow>, ApiError> {
    let services = services()?;
    let (_, lang) = admin(&services, Role::Viewer).await?;
    rows(&services, lang).await
}

/// Stops delivering to an endpoint (owner); its cursor stays.
#[server(endpoint = "admin/disable_webhook")]
pub async fn admin_disable_webhook(id: String, csrf: String) -> Result<(), ApiError> {
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    services
        .disable_webhook(&id)
        .await
        .map_err(|r| refuse(lang, r))?;
    tracing::info!(admin = %owner.id, endpoint = %id, "webhook disabled");
    Ok(())
}

/// Delivers to an endpoint again (owner): `from` is `stopped` (where it stopped), `cursor`
/// (after `cursor`) or `time` (from `time`, RFC 3339 or `YYYY-MM-DDTHH:MM` UTC).
#[server(endpoint = "admin/enable_webhook")]
pub async fn admin_enable_webhook(
    id: String,
    from: String,
    cursor: Option<String>,
    time: Option<String>,
    csrf: String,
) -> Result<(), ApiError> {
    use crate::services::{Refusal, ReplayFrom};
    let services = services()?;
    let (owner, lang) = admin(&services, Role::Owner).await?;
    require_csrf(&services, &csrf, lang)?;
    let replay = match from.as_str() {
        "stopped" => ReplayFrom::Stopped,
        "cursor" => ReplayFrom::Cursor(
            cursor
                .as_deref()
                .map(str::trim)
                .and_then(|c| c.parse::<i64>().ok())
                .ok_or_else(|| refuse(lang, Refusal::new("bad_cursor")))?,
        ),
        "time" => ReplayFrom::Time(
            time.as_deref()
                .map(str::trim)
                .and_then(parse_time)
                .ok_or_else(|| refuse(lang, Refusal::new("malformed_time")))?,
        ),
        _ => return Err(refuse(lang, Refusal::new("bad_request"))),
    };
    services
        .enable_webhook(&id, replay)
        .await
        .map_err(|r| refuse(lang, r))?;
    tracing::info!(admin = %owner.id, endpoint = %id, "webhook enabled");
    Ok(())
}

/// RFC 3339, or what a `datetime-local` field sends (`YYYY-MM-DDTHH:MM`, taken as UTC).
#[cfg(feature = "ssr")]
fn parse_time(s: &str) -> Option<time::OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(s, &Rfc3339).ok().or_else(|| {
        time::PrimitiveDateTime::parse(
            s,
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]"),
        )
        .ok()
        .map(|t| t.assume_utc())
    })
}
