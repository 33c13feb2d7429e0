//! What a webhook delivers: the event feed's items (the same JSON as `GET /api/v1/events`),
//! each wrapped as Standard Webhooks asks: `{"type", "timestamp", "data"}`.

use app::{
    domain::{FeedFilter, FeedItem, webhook::WebhookEndpoint},
    services::Services,
};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use crate::api_v1::events::EventItem;

/// One item ready to send.
pub struct Item {
    /// Its chain position (the cursor).
    pub position: i64,
    /// The event's id: `webhook-id`, the same on every retry.
    pub id: String,
    pub kind: &'static str,
    /// The body, serialized once (what is signed is what is sent).
    pub body: Vec<u8>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    /// When the event happened (RFC 3339): the same on every retry.
    timestamp: String,
    data: &'a EventItem,
}

/// The endpoint's filter as the feed's (its values were checked when the endpoint was saved;
/// one that no longer parses, a purpose deleted since, matches nothing of its list).
pub fn feed_filter(e: &WebhookEndpoint) -> FeedFilter {
    let f = &e.filter;
    FeedFilter::parse(
        f.purposes.iter().map(String::as_str),
        f.channels.iter().map(String::as_str),
        f.sources.iter().map(String::as_str),
    )
    .unwrap_or_default()
}

fn wrap(item: &FeedItem) -> anyhow::Result<Item> {
    let data = EventItem::from(item);
    let body = serde_json::to_vec(&Body {
        kind: item.kind.key(),
        timestamp: item.event.provenance.occurred_at.format(&Rfc3339)?,
        data: &data,
    })?;
    Ok(Item {
        position: item.cursor,
        id: item.event.id.to_string(),
        kind: item.kind.key(),
        body,
    })
}

/// The items after the endpoint's cursor that pass its filter, at most `limit`, and the
/// position the cursor may move to once they are all delivered (past the items the filter
/// left out too).
pub async fn after(
    services: &Services,
    e: &WebhookEndpoint,
    filter: &FeedFilter,
    limit: u32,
) -> anyhow::Result<(Vec<Item>, i64)> {
    let feed = services.console.feed();
    let head = feed.feed_head().await?;
    if head <= e.position {
        return Ok((Vec::new(), e.position));
    }
    let page = feed.feed_page(e.position, head, filter, limit).await?;
    let reached = if page.len() < limit as usize {
        head
    } else {
        page.last().map_or(head, |i| i.cursor)
    };
    let items = page
        .iter()
        .filter(|i| e.filter.kinds.is_empty() || e.filter.kinds.iter().any(|k| k == i.kind.key()))
        .map(wrap)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((items, reached))
}
