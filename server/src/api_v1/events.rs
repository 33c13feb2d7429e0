//! The event feed in the senders' API (issue 32): `GET /api/v1/events`, every consent change in
//! commit order (the hash chain's order) from a cursor, with filters and a long poll. The item
//! shape here is the one `doui events` prints and webhooks deliver.

use std::time::Duration;

use app::{
    api_key::ApiScope,
    domain::{FeedFilter, FeedItem},
    services::{FEED_PAGE, MAX_FEED_PAGE, MAX_FEED_WAIT, Refusal},
};
use axum::{
    Json, Router,
    extract::{RawQuery, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{ErrorJson, authenticate, refuse, schema};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/events", get(events))
}

#[derive(OpenApi)]
#[openapi(paths(events), components(schemas(EventItem, EventPage)))]
pub struct EventsDoc;

/// The feed's query. Filters take a value several times (`purpose=a&purpose=b`) or a comma list
/// (`purpose=a,b`); an event passes when it matches one value of every filter given.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct EventsQuery {
    /// Only events after this cursor (the last `next_cursor` seen; default 0: from the start).
    #[param(minimum = 0)]
    since: Option<i64>,
    /// At most this many events (1–10,000, default 100). A page longer than 1,000 is written out
    /// as it is read.
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<u32>,
    /// When nothing is there yet, wait up to this many seconds (0–30, default 0) and answer as
    /// soon as an event is.
    #[param(minimum = 0, maximum = 30)]
    wait: Option<u32>,
    /// Only these purposes.
    purpose: Option<Vec<String>>,
    /// Only these channels.
    channel: Option<Vec<schema::ChannelKey>>,
    /// Only changes from these sources.
    #[param(value_type = Option<Vec<schema::SourceKey>>)]
    source: Option<Vec<String>>,
}

/// What a request asked for, checked.
#[derive(Debug)]
pub struct FeedRequest {
    pub since: i64,
    pub limit: u32,
    pub wait: Duration,
    pub filter: FeedFilter,
}

impl FeedRequest {
    /// Reads a query string; anything malformed or out of range is `bad_request`.
    pub fn parse(query: &str) -> Result<Self, Refusal> {
        let bad = || Refusal::new("bad_request");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|_| bad())?;
        let one = |name: &str| one_value(&pairs, name);
        let all = |name: &'static str| {
            pairs
                .iter()
                .filter(move |(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let since = match one("since")? {
            Some(s) => s.parse::<i64>().ok().filter(|c| *c >= 0).ok_or_else(bad)?,
            None => 0,
        };
        let limit = match one("limit")? {
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|l| (1..=MAX_FEED_PAGE).contains(l))
                .ok_or_else(bad)?,
            None => FEED_PAGE,
        };
        let wait = match one("wait")? {
            Some(s) => s
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs)
                .filter(|w| *w <= MAX_FEED_WAIT)
                .ok_or_else(bad)?,
            None => Duration::ZERO,
        };
        let filter = FeedFilter::parse(all("purpose"), all("channel"), all("source"))?;
        Ok(Self {
            since,
            limit,
            wait,
            filter,
        })
    }
}

/// The one value of a parameter given at most once (`bad_request` when given twice).
fn one_value<'a>(pairs: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, Refusal> {
    let mut values = pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    let first = values.next();
    match values.next() {
        Some(_) => Err(Refusal::new("bad_request")),
        None => Ok(first),
    }
}

/// One event of the feed.
#[derive(Serialize, ToSchema)]
pub struct EventItem<'a> {
    /// The event's chain position: commit-ordered, dense, only growing.
    pub cursor: i64,
    /// The event's id: stable, the same in the feed, in webhooks and in exports (dedup by it).
    #[schema(value_type = String)]
    pub id: uuid::Uuid,
    /// `consent.changed`.
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "consent.changed")]
    pub kind: &'static str,
    pub external_id: &'a str,
    /// Null once the subject was erased.
    pub email: Option<&'a str>,
    /// Null once the subject was erased.
    pub phone: Option<&'a str>,
    pub purpose: &'a str,
    #[schema(value_type = schema::ChannelKey)]
    pub channel: &'static str,
    /// The state before (null: never chosen).
    #[schema(value_type = Option<schema::StateKey>)]
    pub from: Option<&'static str>,
    #[schema(value_type = schema::StateKey)]
    pub to: &'static str,
    /// When the person acted (RFC 3339).
    pub occurred_at: String,
    /// When Doui wrote it (RFC 3339; null for events stored before Doui kept it).
    pub recorded_at: Option<String>,
    #[schema(value_type = schema::SourceKey)]
    pub source: &'static str,
    pub collection_point: Option<&'a str>,
    pub campaign: Option<&'a str>,
    pub notice_version: Option<&'a str>,
}

impl<'a> From<&'a FeedItem> for EventItem<'a> {
    fn from(item: &'a FeedItem) -> Self {
        let e = &item.event;
        let time = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        Self {
            cursor: item.cursor,
            id: e.id,
            kind: item.kind.key(),
            external_id: item.subject.external_id.as_str(),
            email: item.email(),
            phone: item.phone(),
            purpose: e.purpose.as_str(),
            channel: e.channel.key(),
            from: e.from.map(|s| s.key()),
            to: e.to.key(),
            occurred_at: time(e.provenance.occurred_at),
            recorded_at: e.recorded_at.map(time),
            source: e.provenance.source.key(),
            collection_point: e.provenance.collection_point.as_deref(),
            campaign: e.provenance.campaign.as_deref(),
            notice_version: e.provenance.notice_version.as_deref(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EventPage<'a> {
    /// Events after `since`, in commit order.
    pub items: Vec<EventItem<'a>>,
    /// Pass as `since` next time (the last item's cursor, or further on when the filters passed
    /// over events; equal to `since` when nothing is there).
    pub next_cursor: i64,
}

/// The consent log as a feed: every change in commit order (the hash chain's), from `since`.
/// An event is in the feed once it is sealed, a fraction of a second after it commits.
#[utoipa::path(get, path = "/api/v1/events", params(EventsQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Events after `since`, in commit order", body = EventPage),
        (status = 400, description = "A malformed or out-of-range `since`, `limit`, `wait` or filter value (`bad_request`), a purpose that does not exist (`unknown_purpose`)", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `events:read` scope", body = ErrorJson),
    ))]
async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(r) = authenticate(&state, &headers, ApiScope::EventsRead).await {
        return refuse(&headers, r);
    }
    let request = match FeedRequest::parse(query.as_deref().unwrap_or("")) {
        Ok(r) => r,
        Err(r) => return refuse(&headers, r),
    };
    let stream = state
        .services
        .feed_stream(request.since, &request.filter, request.limit, request.wait)
        .await;
    match stream {
        Ok(stream) if stream.rest.is_none() => {
            let page = &stream.first;
            Json(EventPage {
                items: page.items.iter().map(EventItem::from).collect(),
                next_cursor: page.next_cursor,
            })
            .into_response()
        }
        Ok(stream) => streamed(stream),
        Err(r) => refuse(&headers, r),
    }
}

/// A long page written out piece by piece as the pieces are read: the same JSON as
/// [`EventPage`], `next_cursor` last. A piece that cannot be read ends the answer before its
/// closing bracket (the status is sent already): the client sees a truncated body and asks
/// again from its cursor.
fn streamed(mut stream: app::services::FeedStream) -> Response {
    fn write_items(out: &mut Vec<u8>, items: &[FeedItem], count: &mut usize) {
        for item in items {
            if *count > 0 {
                out.push(b',');
            }
            // An `EventItem` always serializes (strings and numbers only).
            let _ = serde_json::to_writer(&mut *out, &EventItem::from(item));
            *count += 1;
        }
    }
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    tokio::spawn(async move {
        let mut count = 0;
        let mut through = stream.first.next_cursor;
        let mut out = Vec::with_capacity(stream.first.items.len() * 400 + 16);
        out.extend_from_slice(b"{\"items\":[");
        write_items(&mut out, &stream.first.items, &mut count);
        if sender.send(Ok(out)).await.is_err() {
            return;
        }
        let Some(mut rest) = stream.rest.take() else {
            return;
        };
        while let Some(read) = rest.recv().await {
            let piece = match read {
                Ok(piece) => piece,
                Err(r) => {
                    tracing::error!(code = r.code, "event feed failed in the middle of a page");
                    let _ = sender.send(Err(std::io::Error::other(r.code))).await;
                    return;
                }
            };
            through = piece.through;
            let mut out = Vec::with_capacity(piece.items.len() * 400);
            write_items(&mut out, &piece.items, &mut count);
            if sender.send(Ok(out)).await.is_err() {
                return;
            }
        }
        let end = format!("],\"next_cursor\":{through}}}");
        let _ = sender.send(Ok(end.into_bytes())).await;
    });
    let body = futures_util::stream::unfold(receiver, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut res = axum::body::Body::from_stream(body).into_response();
    res.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    res
}
