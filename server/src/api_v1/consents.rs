//! Consents collected elsewhere (`POST /api/v1/consents`): one change or a batch of up to 1,000,
//! all or nothing, with an optional `Idempotency-Key`.

use app::{
    api_key::ApiScope,
    domain::{check_idempotency_key, sha256_hex},
    services::{BatchRefusal, CollectedChange, Refusal},
    store::KeptAnswer,
};
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use super::{ErrorJson, authenticate, lang, refuse, schema};
use crate::state::AppState;

/// The evidence of how the person gave or withdrew the consent.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct EvidenceJson {
    /// The person's IP address (kept truncated: IPv4 /24, IPv6 /48).
    pub ip: Option<String>,
    /// The person's browser (at most 2,000 characters; 512 are kept).
    #[schema(max_length = 2000)]
    pub user_agent: Option<String>,
    /// The URL of the form the person used.
    #[schema(max_length = 2048, pattern = "^https?://[^\\s]+$")]
    pub form_url: Option<String>,
    /// A reference to the sender's own proof (a record in its systems).
    #[schema(min_length = 1, max_length = 500)]
    pub proof_ref: Option<String>,
}

/// One consent collected elsewhere.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentChangeJson {
    /// The subject's external id.
    #[schema(min_length = 1, max_length = 200)]
    pub subject: String,
    #[schema(min_length = 2, max_length = 48, pattern = "^[a-z][a-z0-9_]+$")]
    pub purpose: String,
    #[schema(value_type = schema::ChannelKey)]
    pub channel: String,
    #[schema(value_type = schema::StateKey)]
    pub state: String,
    /// RFC 3339: when the person acted (may be in the past; not in the future beyond 5 minutes,
    /// and not before the consent's latest recorded change).
    #[schema(format = DateTime)]
    pub occurred_at: String,
    /// The collection point's key (required for a grant of an opt-in purpose).
    #[schema(min_length = 2, max_length = 48, pattern = "^[a-z][a-z0-9_-]+$")]
    pub collection_point: Option<String>,
    /// The notice version the person was shown (required for a grant of an opt-in purpose).
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub notice_version: Option<String>,
    #[serde(default)]
    pub evidence: Option<EvidenceJson>,
}

/// A batch of changes, recorded all or nothing.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentBatchJson {
    #[schema(min_items = 1, max_items = 1000)]
    pub changes: Vec<ConsentChangeJson>,
}

/// One change, or a batch.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ConsentsRequest {
    Batch(ConsentBatchJson),
    One(Box<ConsentChangeJson>),
}

/// What one change did.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ConsentResultJson {
    /// The change's place in the request (0 for a single change).
    pub index: usize,
    /// `recorded`, or `unchanged` when the consent already had this value (nothing written).
    #[schema(value_type = schema::OutcomeKey)]
    pub outcome: String,
    /// The event written (`null` when unchanged).
    pub event_id: Option<String>,
    #[schema(value_type = schema::StateKey)]
    pub state: String,
    /// RFC 3339: when the person acted, as reported.
    pub occurred_at: String,
    /// RFC 3339: when Doui recorded it (the database's clock), sealed with the event.
    pub recorded_at: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ConsentsResponse {
    pub results: Vec<ConsentResultJson>,
}

/// Why one change of a refused batch was refused.
#[derive(Serialize, ToSchema)]
pub struct ItemErrorJson {
    pub index: usize,
    /// `evidence_required`, `occurred_in_future`, `older_than_latest_change`,
    /// `unknown_collection_point`, `collection_point_retired`, `unknown_subject_key`,
    /// `unknown_purpose`, `unknown_channel`, `channel_not_applicable`, `unknown_state`,
    /// `malformed_occurred_at`, …
    pub code: String,
    pub message: String,
}

/// A batch refused as a whole: nothing was written.
#[derive(Serialize, ToSchema)]
pub struct BatchErrorJson {
    /// `batch_refused`.
    pub code: String,
    pub message: String,
    pub errors: Vec<ItemErrorJson>,
}

fn time(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Records consents collected elsewhere: the source is `api`, the actor the API key, the
/// collection point and evidence are sealed with each event. A batch is all or nothing: one
/// refused change refuses it (422, each refused change named by its index) and nothing is
/// written. With an `Idempotency-Key` header, a retried request writes nothing twice and gets
/// the first answer again; the same key with another body is refused (409).
#[utoipa::path(post, path = "/api/v1/consents", request_body = ConsentsRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "1–128 visible ASCII characters: a retry with the same key and body writes nothing twice", min_length = 1, max_length = 128, pattern = "^[!-~]+$")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Every change recorded (or unchanged)", body = ConsentsResponse),
        (status = 400, description = "Malformed request, or an empty batch", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `consents:write` scope", body = ErrorJson),
        (status = 409, description = "The idempotency key was used with another request", body = ErrorJson),
        (status = 413, description = "More than 1,000 changes", body = ErrorJson),
        (status = 422, description = "Some changes were refused: nothing was written", body = BatchErrorJson),
    ))]
pub(super) async fn record_consents(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let key = match authenticate(&state, &headers, ApiScope::ConsentsWrite).await {
        Ok(k) => k,
        Err(r) => return refuse(&headers, r),
    };
    let idempotency_key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) if check_idempotency_key(k).is_ok() => Some(k.to_owned()),
        Some(_) => return refuse(&headers, Refusal::new("malformed_idempotency_key")),
    };
    let request = match serde_json::from_slice::<ConsentsRequest>(&body) {
        Ok(r) => r,
        Err(_) => return refuse(&headers, Refusal::new("bad_request")),
    };
    let services = &state.services;
    let request_sha256 = sha256_hex(&String::from_utf8_lossy(&body));
    if let Some(k) = &idempotency_key {
        match services.kept_answer(&key.id, k, &request_sha256).await {
            Ok(Some(kept)) => return kept_response(&kept),
            Ok(None) => {}
            Err(r) => return refuse(&headers, r),
        }
    }
    let changes: Vec<ConsentChangeJson> = match request {
        ConsentsRequest::Batch(b) => b.changes,
        ConsentsRequest::One(c) => vec![*c],
    };
    let changes: Vec<CollectedChange> = changes
        .into_iter()
        .map(|c| {
            let evidence = c.evidence.unwrap_or_default();
            CollectedChange {
                subject: c.subject,
                purpose: c.purpose,
                channel: c.channel,
                state: c.state,
                occurred_at: c.occurred_at,
                collection_point: c.collection_point,
                notice_version: c.notice_version,
                ip: evidence.ip,
                user_agent: evidence.user_agent,
                form_url: evidence.form_url,
                proof_ref: evidence.proof_ref,
            }
        })
        .collect();
    match services
        .record_collected(&key.id, &changes, idempotency_key.as_deref())
        .await
    {
        Ok(results) => {
            let answer = ConsentsResponse {
                results: results
                    .into_iter()
                    .enumerate()
                    .map(|(index, r)| ConsentResultJson {
                        index,
                        outcome: if r.event_id.is_some() {
                            "recorded"
                        } else {
                            "unchanged"
                        }
                        .to_owned(),
                        event_id: r.event_id.map(|id| id.to_string()),
                        state: r.state.key().to_owned(),
                        occurred_at: time(r.occurred_at),
                        recorded_at: r.recorded_at.map(time),
                    })
                    .collect(),
            };
            let Some(k) = idempotency_key else {
                return Json(answer).into_response();
            };
            let kept = KeptAnswer {
                request_sha256,
                status: 200,
                response: serde_json::to_string(&answer).unwrap_or_default(),
                created_at: app::services::now(),
            };
            match services.keep_answer(&key.id, &k, kept).await {
                Ok(kept) => kept_response(&kept),
                Err(r) => refuse(&headers, r),
            }
        }
        Err(BatchRefusal::Request(r)) => refuse(&headers, r),
        Err(BatchRefusal::Items(items)) => {
            let l = lang(&headers);
            let e = app::error::ApiError::new(l, "batch_refused");
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(BatchErrorJson {
                    code: e.code,
                    message: e.message,
                    errors: items
                        .into_iter()
                        .map(|i| ItemErrorJson {
                            index: i.index,
                            code: i.code.to_owned(),
                            message: app::error::ApiError::new(l, i.code).message,
                        })
                        .collect(),
                }),
            )
                .into_response()
        }
    }
}

/// The answer kept for an idempotency key, as it was given.
fn kept_response(kept: &KeptAnswer) -> Response {
    let status = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        kept.response.clone(),
    )
        .into_response()
}
