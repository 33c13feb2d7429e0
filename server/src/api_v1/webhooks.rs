//! Webhook endpoints in the senders' API (issue 32), scope `webhooks:write`: add (the secret is
//! in the answer this once), list, read, change (URL, filters, disable, enable with a replay
//! choice), rotate the secret, remove, and the delivery log.

use app::{
    api_key::ApiScope,
    domain::webhook::{WebhookDelivery, WebhookEndpoint, WebhookFilter},
    services::{DELIVERY_PAGE, Refusal, ReplayFrom, WebhookInput},
};
use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{ErrorJson, authenticate, key_and_json, refuse};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks", post(add).get(list))
        .route(
            "/api/v1/webhooks/{id}",
            get(read).patch(change).delete(remove),
        )
        .route("/api/v1/webhooks/{id}/rotate", post(rotate))
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries))
}

#[derive(OpenApi)]
#[openapi(
    paths(add, list, read, change, remove, rotate, deliveries),
    components(schemas(
        WebhookRequest,
        WebhookPatch,
        WebhookJson,
        NewWebhookJson,
        SecretJson,
        DeliveryJson
    ))
)]
pub struct WebhooksDoc;

/// A new endpoint. Lists left out or empty mean every value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// `https://…` (plain `http` only for hosts the operator allowed).
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// Event kinds (`consent.changed`).
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub purposes: Vec<String>,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub sources: Vec<String>,
    /// The third-party recipient (its id in the APPI register) the endpoint speaks to: it then
    /// receives only the changes of the sharing purposes that recipient was given people's data
    /// under (withdrawals and re-grants) and their erasures, for the people provided to it; each
    /// delivery answered 2xx is recorded with the provisions. Fixed once the endpoint is added.
    #[serde(default)]
    pub recipient: Option<String>,
}

/// Changes to an endpoint: what is left out stays. `state: "active"` enables it again,
/// replaying from where it stopped, or after `from_cursor`, or from `from_time`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub description: Option<String>,
    pub kinds: Option<Vec<String>>,
    pub purposes: Option<Vec<String>>,
    pub channels: Option<Vec<String>>,
    pub sources: Option<Vec<String>>,
    /// `active` or `disabled`.
    pub state: Option<String>,
    /// With `state: "active"`: deliver the items after this cursor.
    pub from_cursor: Option<i64>,
    /// With `state: "active"`: deliver the items recorded from this time (RFC 3339).
    pub from_time: Option<String>,
}

/// An endpoint (never its secret).
#[derive(Serialize, ToSchema)]
pub struct WebhookJson {
    pub id: String,
    pub url: String,
    pub description: String,
    pub kinds: Vec<String>,
    pub purposes: Vec<String>,
    pub channels: Vec<String>,
    pub sources: Vec<String>,
    /// The third-party recipient it speaks to (null: none).
    pub recipient: Option<String>,
    /// `active`, `failing` or `disabled`.
    pub state: String,
    /// The cursor of the last item it answered 2xx to (items after it are delivered next).
    pub cursor: i64,
    /// Failed attempts in a row.
    pub failures: i64,
    pub failing_since: Option<String>,
    pub next_attempt_at: Option<String>,
    /// `by_owner`, `failing_too_long` or `gone` (it answered 410).
    pub disabled_reason: Option<String>,
    pub last_success_at: Option<String>,
    /// Until when the previous secret signs too (after a rotation).
    pub previous_secret_until: Option<String>,
    pub created_at: String,
}

/// A new endpoint with its secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct NewWebhookJson {
    pub webhook: WebhookJson,
    /// `whsec_…`: verify signatures with it (Standard Webhooks). Not shown again.
    pub secret: String,
}

/// A new secret, shown this once; the previous one signs too until `previous_secret_until`.
#[derive(Serialize, ToSchema)]
pub struct SecretJson {
    pub secret: String,
    pub previous_secret_until: Option<String>,
}

/// One delivery attempt.
#[derive(Serialize, ToSchema)]
pub struct DeliveryJson {
    pub at: String,
    pub event_id: String,
    pub cursor: i64,
    pub attempt: i64,
    /// The answer's HTTP status; null when there was none.
    pub status: Option<i64>,
    pub error: Option<String>,
    pub latency_ms: i64,
    /// The answer's first 200 bytes.
    pub answer: String,
}

#[derive(Deserialize, IntoParams)]
pub struct DeliveriesQuery {
    /// At most this many, newest first (1–1000, default 100).
    pub limit: Option<u32>,
}

/// Unix ms as RFC 3339.
pub fn ms_time(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

impl From<&WebhookEndpoint> for WebhookJson {
    fn from(e: &WebhookEndpoint) -> Self {
        Self {
            id: e.id.clone(),
            url: e.url.clone(),
            description: e.description.clone(),
            kinds: e.filter.kinds.clone(),
            purposes: e.filter.purposes.clone(),
            channels: e.filter.channels.clone(),
            sources: e.filter.sources.clone(),
            recipient: e.recipient.clone(),
            state: e.state.key().to_owned(),
            cursor: e.position,
            failures: e.failures,
            failing_since: e.failing_since.map(ms_time),
            next_attempt_at: (e.next_attempt_at > 0).then(|| ms_time(e.next_attempt_at)),
            disabled_reason: e.disabled_reason.clone(),
            last_success_at: e.last_success_at.map(ms_time),
            previous_secret_until: e.previous_until.map(ms_time),
            created_at: ms_time(e.created_at),
        }
    }
}

impl From<&WebhookDelivery> for DeliveryJson {
    fn from(d: &WebhookDelivery) -> Self {
        Self {
            at: ms_time(d.at),
            event_id: d.event_id.clone(),
            cursor: d.position,
            attempt: d.attempt,
            status: d.status,
            error: d.error.clone(),
            latency_ms: d.latency_ms,
            answer: d.answer.clone(),
        }
    }
}

/// Adds an endpoint. It receives what is recorded from now on; the answer holds its secret,
/// shown this once.
#[utoipa::path(post, path = "/api/v1/webhooks", request_body = WebhookRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, description = "Added", body = NewWebhookJson),
        (status = 400, description = "Malformed request, a URL that is not https or points to a forbidden address, an unknown purpose, channel, source or kind", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `webhooks:write` scope", body = ErrorJson),
        (status = 404, description = "No such recipient (`unknown_recipient`)", body = ErrorJson),
    ))]
pub(super) async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (_, r) = match key_and_json::<WebhookRequest>(
        &state,
        &headers,
        ApiScope::WebhooksWrite,
        &body,
    )
    .await
    {
        Ok(x) => x,
        Err(res) => return res,
    };
    let input = WebhookInput {
        url: r.url,
        description: r.description,
        filter: WebhookFilter {
            kinds: r.kinds,
            purposes: r.purposes,
            channels: r.channels,
            sources: r.sources,
        },
        recipient: r.recipient,
    };
    match state
        .services
        .add_webhook(input, app::services::now())
        .await
    {
        Ok((e, secret)) => (
            StatusCode::CREATED,
            Json(NewWebhookJson {
                webhook: WebhookJson::from(&e),
                secret,
            }),
        )
            .into_response(),
        Err(r) => refuse(&headers, r),
    }
}

/// Every endpoint, oldest first.
#[utoipa::path(get, path = "/api/v1/webhooks", security(("api_key" = [])),
    responses(
        (status = 200, description = "The endpoints", body = [WebhookJson]),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `webhooks:write` scope", body = ErrorJson),
    ))]
pub(super) async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = authenticate(&state, &headers, ApiScope::WebhooksWrite).await {
        return refuse(&headers, r);
    }
    match state.services.webhooks().await {
        Ok(all) => Json(all.iter().map(WebhookJson::from).collect::<Vec<_>>()).into_response(),
        Err(r) => refuse(&headers, r),
    }
}

/// One endpoint.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", security(("api_key" = [])),
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `webhooks:write` scope", body = ErrorJson),
        (status = 404, description = "No such endpoint", body = ErrorJson),
    ))]
pub(super) async fn read(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = authenticate(&state, &headers, ApiScope::WebhooksWrite).await {
        return refuse(&headers, r);
    }
    match state.services.webhook(&id).await {
        Ok(e) => Json(WebhookJson::from(&e)).into_response(),
        Err(r) => refuse(&headers, r),
    }
}

/// Changes an endpoint: its URL, description or filters, disables it, or enables it again with
/// a replay choice.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", request_body = WebhookPatch,
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "Changed", body = WebhookJson),
        (status = 400, description = "Malformed request or refused value", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `webhooks:write` scope", body = ErrorJson),
        (status = 404, description = "No such endpoint", body = ErrorJson),
    ))]
pub(super) async fn change(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let (_, p) = match key_and_json::<WebhookPatch>(
        &state,
        &headers,
        ApiScope::WebhooksWrite,
        &body,
    )
    .await
    {
        Ok(x) => x,
        Err(res) => return res,
    };
    match patch(&state, &id, p).await {
        Ok(e) => Json(WebhookJson::from(&e)).into_response(),
        Err(r) => refuse(&headers, r),
    }
}

async fn patch(state: &AppState, id: &str, p: WebhookPatch) -> Result<WebhookEndpoint, Refusal> {
    let services = &state.services;
    let mut e = services.webhook(id).await?;
    if p.url.is_some()
        || p.description.is_some()
        || p.kinds.is_some()
        || p.purposes.is_some()
        || p.channels.is_some()
        || p.sources.is_some()
    {
        let f = e.filter.clone();
        e = services
            .update_webhook(
                id,
                WebhookInput {
                    url: p.url.unwrap_or(e.url.clone()),
                    description: p.description.unwrap_or(e.description.clone()),
                    filter: WebhookFilter {
                        kinds: p.kinds.unwrap_or(f.kinds),
                        purposes: p.purposes.unwrap_or(f.purposes),
                        channels: p.channels.unwrap_or(f.channels),
                        sources: p.sources.unwrap_or(f.sources),
                    },
                    recipient: None,
                },
            )
            .await?;
    }
    let from = match (p.from_cursor, p.from_time.as_deref()) {
        (Some(_), Some(_)) => return Err(Refusal::new("bad_request")),
        (Some(c), None) => ReplayFrom::Cursor(c),
        (None, Some(t)) => ReplayFrom::Time(
            OffsetDateTime::parse(t, &Rfc3339).map_err(|_| Refusal::new("malformed_time"))?,
        ),
        (None, None) => ReplayFrom::Stopped,
    };
    match p.state.as_deref() {
        None if from != ReplayFrom::Stopped => Err(Refusal::new("bad_request")),
        None => Ok(e),
        Some("active") => services.enable_webhook(id, from).await,
        Some("disabled") if from == ReplayFrom::Stopped => {
            services.disable_webhook(id).await?;
            services.webhook(id).await
        }
        Some(_) => Err(Refusal::new("bad_request")),
    }
}

/// Removes an endpoint and its delivery log.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", security(("api_key" = [])),
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `webhooks:write` scope", body = ErrorJson),
        (status = 404, description = "No such endpoint", body = ErrorJson),
    ))]
pub(super) async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = authenticate(&state, &headers, ApiScope::WebhooksWrite).await {
        return refuse(&headers, r);
    }
    match state.services.delete_webhook(&id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => refuse(&headers, r),
    }
}

/// A new secret, shown this once. For 24 hours both the new and the previous secret sign every
/// delivery (two `v1,` entries in `webhook-signature`), so the receiver can switch without a gap.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate", security(("api_key" = [])),
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "Rotated", body = SecretJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `webhooks:write` scope", body = ErrorJson),
        (status = 404, description = "No such endpoint", body = ErrorJson),
    ))]
pub(super) async fn rotate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = authenticate(&state, &headers, ApiScope::WebhooksWrite).await {
        return refuse(&headers, r);
    }
    let services = &state.services;
    let result = async {
        let secret = services.rotate_webhook(&id, app::services::now()).await?;
        let e = services.webhook(&id).await?;
        Ok::<_, Refusal>(SecretJson {
            secret,
            previous_secret_until: e.previous_until.map(ms_time),
        })
    }
    .await;
    match result {
        Ok(s) => Json(s).into_response(),
        Err(r) => refuse(&headers, r),
    }
}

/// The endpoint's delivery log, newest first (kept 30 days).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", security(("api_key" = [])),
    params(("id" = String, Path, description = "The endpoint's id"), DeliveriesQuery),
    responses(
        (status = 200, description = "The attempts", body = [DeliveryJson]),
        (status = 400, description = "Malformed request", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `webhooks:write` scope", body = ErrorJson),
        (status = 404, description = "No such endpoint", body = ErrorJson),
    ))]
pub(super) async fn deliveries(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<DeliveriesQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(r) = authenticate(&state, &headers, ApiScope::WebhooksWrite).await {
        return refuse(&headers, r);
    }
    let limit = match query {
        Ok(Query(q)) => q.limit.unwrap_or(DELIVERY_PAGE),
        Err(_) => return refuse(&headers, Refusal::new("bad_request")),
    };
    if !(1..=1000).contains(&limit) {
        return refuse(&headers, Refusal::new("bad_request"));
    }
    match state.services.webhook_deliveries(&id, limit).await {
        Ok(all) => Json(all.iter().map(DeliveryJson::from).collect::<Vec<_>>()).into_response(),
        Err(r) => refuse(&headers, r),
    }
}
