//! What a webhook delivers: the event feed's items (the same JSON as `GET /api/v1/events`),
//! each wrapped as Standard Webhooks asks: `{"type", "timestamp", "data"}`. A recipient's
//! endpoint receives only what that recipient must hear (`for_recipient`, checked against its
//! provision records with one query per round), its items saying whom they are for and whether
//! they are an erasure.

use app::{
    domain::{
        ConsentState, FeedFilter, FeedItem, PurposeKey, SubjectId,
        webhook::{WebhookEndpoint, for_recipient},
    },
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
    /// Whom and what it is about (recorded when a recipient's endpoint answers 2xx).
    pub subject: SubjectId,
    pub purpose: PurposeKey,
    pub state: ConsentState,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    /// When the event happened (RFC 3339): the same on every retry.
    timestamp: String,
    data: &'a EventItem<'a>,
    /// Only on a recipient's endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient: Option<ForRecipient<'a>>,
}

/// What a recipient's endpoint is told beside the event.
#[derive(Serialize)]
struct ForRecipient<'a> {
    /// The recipient's id in the APPI register.
    id: &'a str,
    /// The person was erased: delete what was provided of their data. (Their email and phone
    /// are gone from the event; it still names their subject id.)
    erasure: bool,
    /// Doui's id of the person.
    subject_id: String,
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

fn wrap(item: &FeedItem, recipient: Option<&str>) -> anyhow::Result<Item> {
    let data = EventItem::from(item);
    let body = serde_json::to_vec(&Body {
        kind: item.kind.key(),
        timestamp: item.event.provenance.occurred_at.format(&Rfc3339)?,
        data: &data,
        recipient: recipient.map(|id| ForRecipient {
            id,
            erasure: item.event.is_erasure(item.subject.erased_at.is_some()),
            subject_id: item.subject.id.to_string(),
        }),
    })?;
    Ok(Item {
        position: item.cursor,
        id: item.event.id.to_string(),
        kind: item.kind.key(),
        body,
        subject: item.event.subject,
        purpose: item.event.purpose.clone(),
        state: item.event.to,
    })
}

/// The items after the endpoint's cursor that pass its filter (and, for a recipient's
/// endpoint, `for_recipient`), at most `limit`, and the position the cursor may move to once
/// they are all delivered (past the items left out too).
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
    // A recipient's provision records about the people in this page: one query for the round.
    let provided = match &e.recipient {
        Some(r) => {
            let subjects: Vec<SubjectId> = page.iter().map(|i| i.event.subject).collect();
            services.console.provided_to(r, &subjects).await?
        }
        None => Vec::new(),
    };
    let keep = match &e.recipient {
        Some(_) => for_recipient(&page, &provided),
        None => vec![true; page.len()],
    };
    let items = page
        .iter()
        .zip(keep)
        .filter(|(i, keep)| {
            *keep && (e.filter.kinds.is_empty() || e.filter.kinds.iter().any(|k| k == i.kind.key()))
        })
        .map(|(i, _)| wrap(i, e.recipient.as_deref()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((items, reached))
}
