//! The senders' API, `/api/v1`: links and headers for a message, and suppression lists. Keys are
//! presented as `Authorization: Bearer doui.<id>.<secret>`; errors are JSON `{code, message}` with
//! a stable code. The OpenAPI 3.1 document at `/api/v1/openapi.json` is generated from these types.

use app::{
    api_key::ApiScope,
    domain::Lang,
    error::ApiError,
    services::{Refusal, Services},
};
use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/links", post(links))
        .route("/api/v1/links.csv", post(links_csv))
        .route("/api/v1/suppressions", get(suppressions))
        .route("/api/v1/provisions", post(provisions))
        .route("/api/v1/openapi.json", get(openapi))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Doui senders' API", description = "Links, one-click unsubscribe headers and suppression lists."),
    paths(links, links_csv, suppressions, provisions),
    components(schemas(LinksRequest, LinksResponse, MailHeadersJson, Footer, SuppressionList, SuppressionItem,
        ProvisionRequest, ProvisionRecord, ErrorJson)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("doui.<id>.<secret>")
                    .build(),
            ),
        );
    }
}

/// The document, as served.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi().merge_from(crate::api_v1_imports::ImportsDoc::openapi())
}

async fn openapi() -> Response {
    Json(openapi_document()).into_response()
}

/// An error: a stable code and a message in the caller's language (`Accept-Language`).
#[derive(Serialize, ToSchema)]
pub struct ErrorJson {
    /// Stable, for programs: `unauthorized`, `forbidden_scope`, `unknown_purpose`, …
    pub code: String,
    /// For people.
    pub message: String,
}

/// One message to one subject.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinksRequest {
    /// The subject's external id or email address.
    pub subject: String,
    /// The purpose the message is about (default: all marketing purposes).
    pub purpose: Option<String>,
    /// The channel (default: every channel of the purpose).
    pub channel: Option<String>,
    /// A campaign or list id, recorded with an unsubscribe (1–64 of `A-Za-z0-9._-`).
    pub campaign: Option<String>,
}

/// Headers to add to the message; DKIM must sign `List-Unsubscribe` and `List-Unsubscribe-Post`.
#[derive(Serialize, ToSchema)]
pub struct MailHeadersJson {
    #[serde(rename = "List-Unsubscribe")]
    pub list_unsubscribe: String,
    /// Only with https links (RFC 8058): absent on a loopback demo served over http.
    #[serde(
        rename = "List-Unsubscribe-Post",
        skip_serializing_if = "Option::is_none"
    )]
    pub list_unsubscribe_post: Option<String>,
    #[serde(rename = "List-Id")]
    pub list_id: String,
}

/// The footer with the sender display items and the refusal link (特定電子メール法 第4条).
#[derive(Serialize, ToSchema)]
pub struct Footer {
    pub ja: String,
    pub en: String,
}

#[derive(Serialize, ToSchema)]
pub struct LinksResponse {
    pub preference_url: String,
    pub unsubscribe_url: String,
    pub headers: MailHeadersJson,
    pub footer: Footer,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuppressionQuery {
    /// The purpose, e.g. `newsletter`.
    pub purpose: String,
    /// The channel, e.g. `email`.
    pub channel: String,
    /// Only what changed after this cursor (the last `next_cursor` seen; default 0).
    pub since: Option<i64>,
    /// At most this many items (1–10000, default 1000).
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct SuppressionItem {
    pub cursor: i64,
    pub external_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// RFC 3339.
    pub withdrawn_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct SuppressionList {
    pub items: Vec<SuppressionItem>,
    /// Pass as `since` next time (equal to `since` when nothing changed).
    pub next_cursor: i64,
}

pub(crate) fn lang(headers: &HeaderMap) -> Lang {
    Services::page_lang(
        None,
        None,
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

pub(crate) fn refuse(headers: &HeaderMap, r: Refusal) -> Response {
    let status = StatusCode::from_u16(ApiError::status(r.code)).unwrap_or(StatusCode::BAD_REQUEST);
    let e = ApiError::new(lang(headers), r.code);
    let mut res = (
        status,
        Json(ErrorJson {
            code: e.code,
            message: e.message,
        }),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            "Bearer".parse().expect("static header"),
        );
    }
    res
}

/// The API key the request's `Authorization: Bearer` header carries, if it holds `scope`.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    scope: ApiScope,
) -> Result<app::api_key::ApiKeyRecord, Refusal> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    state
        .services
        .authenticate_api_key(authorization, scope)
        .await
}

/// One provision of a person's data to a third party (APPI 第29条), reported as it happens.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionRequest {
    /// The subject's external id or email address.
    pub subject: String,
    /// The recipient's id (`doui recipient add`).
    pub recipient: String,
    /// The sharing purpose (default: the only purpose of kind `third_party_sharing`).
    pub purpose: Option<String>,
    /// The items that identify the person to the recipient, e.g. `["email", "name"]`.
    pub identified_by: Vec<String>,
    /// The data items provided, e.g. `["purchase history"]`.
    pub data_items: Vec<String>,
}

/// The stored record, kept at least 3 years; the person sees it in their preference center.
#[derive(Serialize, ToSchema)]
pub struct ProvisionRecord {
    pub id: i64,
    /// RFC 3339.
    pub provided_at: String,
    pub recipient: String,
    /// The recipient's name, address and representative as they were when the data was
    /// provided: kept with the record, whatever later edits of the recipient change.
    pub recipient_name: String,
    pub recipient_address: String,
    pub recipient_representative: String,
    pub purpose: String,
    pub identified_by: String,
    pub data_items: String,
}

/// Records a provision of a person's data to a recipient, only while the person's sharing
/// consent is in effect: after a stop request (the person withdrew it) the answer is 409 and
/// nothing must be provided.
#[utoipa::path(post, path = "/api/v1/provisions", request_body = ProvisionRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, description = "Recorded", body = ProvisionRecord),
        (status = 400, description = "Malformed request", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `provisions` scope", body = ErrorJson),
        (status = 404, description = "No such subject or recipient", body = ErrorJson),
        (status = 409, description = "The person has not agreed or asked to stop: do not provide", body = ErrorJson),
    ))]
async fn provisions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let key = match authenticate(&state, &headers, ApiScope::Provisions).await {
        Ok(k) => k,
        Err(r) => return refuse(&headers, r),
    };
    let Ok(request) = serde_json::from_slice::<ProvisionRequest>(&body) else {
        return refuse(&headers, Refusal::new("bad_request"));
    };
    let services = &state.services;
    let subject = match services.store.find_subject(&request.subject).await {
        Ok(Some(s)) => s,
        Ok(None) => return refuse(&headers, Refusal::new("unknown_subject_key")),
        Err(e) => return refuse(&headers, e.into()),
    };
    let input = app::services::ProvisionInput {
        recipient: &request.recipient,
        purpose: request.purpose.as_deref(),
        identified_by: &request.identified_by,
        data_items: &request.data_items,
    };
    match services
        .record_provision(&subject, input, &format!("api_key:{}", key.id))
        .await
    {
        Ok(p) => {
            let who = p.recipient_as_provided.clone().unwrap_or_default();
            (
                StatusCode::CREATED,
                Json(ProvisionRecord {
                    recipient_name: who.name,
                    recipient_address: who.address,
                    recipient_representative: who.representative,
                    id: p.seq,
                    provided_at: p
                        .provided_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                    recipient: p.recipient,
                    purpose: p.purpose.to_string(),
                    identified_by: p.identified_by,
                    data_items: p.data_items,
                }),
            )
                .into_response()
        }
        Err(r) => refuse(&headers, r),
    }
}

/// Links and headers for one message to one subject.
#[utoipa::path(post, path = "/api/v1/links", request_body = LinksRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Links, headers and footer", body = LinksResponse),
        (status = 400, description = "Malformed request", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `links` scope", body = ErrorJson),
        (status = 404, description = "No such subject", body = ErrorJson),
        (status = 422, description = "The purpose is not used on that channel", body = ErrorJson),
    ))]
async fn links(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = authenticate(&state, &headers, ApiScope::Links).await {
        return refuse(&headers, r);
    }
    let Ok(request) = serde_json::from_slice::<LinksRequest>(&body) else {
        return refuse(&headers, Refusal::new("bad_request"));
    };
    let services = &state.services;
    let subject = match services.store.find_subject(&request.subject).await {
        Ok(Some(s)) => s,
        Ok(None) => return refuse(&headers, Refusal::new("unknown_subject_key")),
        Err(e) => return refuse(&headers, e.into()),
    };
    match services
        .mail_headers(
            &subject,
            request.purpose.as_deref(),
            request.channel.as_deref(),
            request.campaign.as_deref(),
        )
        .await
    {
        Ok(h) => Json(LinksResponse {
            preference_url: h.preference_url,
            unsubscribe_url: h.unsubscribe_url,
            headers: MailHeadersJson {
                list_unsubscribe: h.list_unsubscribe,
                list_unsubscribe_post: h.list_unsubscribe_post.map(str::to_owned),
                list_id: h.list_id,
            },
            footer: Footer {
                ja: h.footer_ja,
                en: h.footer_en,
            },
        })
        .into_response(),
        Err(r) => refuse(&headers, r),
    }
}

/// Who must not be contacted for a purpose on a channel, in the order they withdrew.
#[utoipa::path(get, path = "/api/v1/suppressions", params(SuppressionQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "A page of the suppression list", body = SuppressionList),
        (status = 400, description = "Unknown purpose or channel", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `suppressions` scope", body = ErrorJson),
        (status = 422, description = "The purpose is not used on that channel", body = ErrorJson),
    ))]
async fn suppressions(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<SuppressionQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(r) = authenticate(&state, &headers, ApiScope::Suppressions).await {
        return refuse(&headers, r);
    }
    let Ok(Query(q)) = query else {
        return refuse(&headers, Refusal::new("bad_request"));
    };
    let since = q.since.unwrap_or(0);
    match state
        .services
        .suppressions(&q.purpose, &q.channel, since, q.limit.unwrap_or(1000))
        .await
    {
        Ok(rows) => {
            let next_cursor = rows.last().map_or(since, |r| r.cursor);
            let items = rows
                .into_iter()
                .map(|r| SuppressionItem {
                    cursor: r.cursor,
                    external_id: r.subject.external_id.as_str().to_owned(),
                    email: r.subject.email.map(|e| e.as_str().to_owned()),
                    phone: r.subject.phone.map(|p| p.as_str().to_owned()),
                    withdrawn_at: r
                        .since
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                })
                .collect();
            Json(SuppressionList { items, next_cursor }).into_response()
        }
        Err(r) => refuse(&headers, r),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinksCsvQuery {
    /// The purpose of the send (default: all marketing purposes).
    pub purpose: Option<String>,
    /// The channel (default: every channel of the purpose).
    pub channel: Option<String>,
    /// A campaign or list id, recorded with an unsubscribe.
    pub campaign: Option<String>,
}

/// The columns of the CSV answer.
pub const LINKS_CSV_HEADER: &str =
    "subject,unsubscribe_url,preference_url,list_unsubscribe,list_unsubscribe_post,list_id,error\n";

/// Recipients read per database query.
const BATCH: usize = 1000;

/// Batches of recipients looked up and signed at once.
const IN_FLIGHT: usize = 3;

/// Links and headers for a whole send: a CSV of recipients in (one external id or email per
/// line, an optional `subject` header line), a CSV of links and headers out, in the same order,
/// streamed both ways (memory stays flat for a million recipients).
#[utoipa::path(post, path = "/api/v1/links.csv", params(LinksCsvQuery),
    security(("api_key" = [])),
    request_body(content = String, content_type = "text/csv", description = "One external id or email per line"),
    responses(
        (status = 200, description = "subject,unsubscribe_url,preference_url,list_unsubscribe,list_unsubscribe_post,list_id,error", body = String, content_type = "text/csv"),
        (status = 400, description = "Unknown purpose or channel, malformed campaign", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `links` scope", body = ErrorJson),
        (status = 422, description = "The purpose is not used on that channel", body = ErrorJson),
    ))]
async fn links_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<LinksCsvQuery>, axum::extract::rejection::QueryRejection>,
    body: axum::body::Body,
) -> Response {
    if let Err(r) = authenticate(&state, &headers, ApiScope::Links).await {
        return refuse(&headers, r);
    }
    let Ok(Query(q)) = query else {
        return refuse(&headers, Refusal::new("bad_request"));
    };
    let plan = match state
        .services
        .link_plan(
            q.purpose.as_deref(),
            q.channel.as_deref(),
            q.campaign.as_deref(),
        )
        .await
    {
        Ok(p) => p,
        Err(r) => return refuse(&headers, r),
    };
    let (out, rx) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(4);
    let (batches_in, batches) = tokio::sync::mpsc::channel::<Vec<String>>(IN_FLIGHT);
    tokio::spawn(read_recipients(body, batches_in));
    let services = state.services.clone();
    tokio::spawn(async move {
        use futures_util::StreamExt;
        if out.send(Ok(LINKS_CSV_HEADER.into())).await.is_err() {
            return;
        }
        // Batches are looked up and signed several at once (on every core), and answered in
        // the order they came.
        let answers = futures_util::stream::unfold(batches, |mut rx| async move {
            rx.recv().await.map(|batch| (batch, rx))
        })
        .map(|batch| {
            let (services, plan) = (services.clone(), plan.clone());
            tokio::spawn(async move {
                let links = services.bulk_links(&plan, &batch).await?;
                Ok::<_, Refusal>(csv_rows(&plan, &batch, links))
            })
        })
        .buffered(IN_FLIGHT);
        let mut answers = std::pin::pin!(answers);
        while let Some(answer) = answers.next().await {
            let text = match answer {
                Ok(Ok(text)) => text,
                Ok(Err(r)) => {
                    tracing::error!(code = r.code, "bulk links failed");
                    let _ = out.send(Ok(format!("# error: {}\n", r.code).into())).await;
                    return;
                }
                Err(_) => {
                    let _ = out.send(Ok("# error: internal\n".into())).await;
                    return;
                }
            };
            if out.send(Ok(text.into())).await.is_err() {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .body(axum::body::Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The first field of a CSV line, unquoted and trimmed.
pub(crate) fn recipient(line: &str) -> String {
    let line = line.trim_end_matches(['\r', '\n']).trim();
    let field = match line.strip_prefix('"') {
        Some(rest) => rest.split('"').next().unwrap_or(""),
        None => line.split(',').next().unwrap_or(""),
    };
    field.trim().chars().take(320).collect()
}

/// The longest line of a `links.csv` body read (a recipient is at most 320 characters; the
/// rest of a line is room for other columns). A longer one is answered `line_too_long`.
pub const MAX_LINE: usize = 4096;

/// The key standing for a line too long to read (no recipient is empty: empty lines are
/// skipped).
const TOO_LONG: &str = "";

/// Reads the recipients of a CSV body, line by line as its chunks arrive, and passes them on in
/// batches; stops when the answer side has gone (the client left or the store failed). Each
/// byte is looked at once, and at most [`MAX_LINE`] bytes of a line are kept: the rest of a
/// longer line is skipped as it arrives and the line answered `line_too_long`.
async fn read_recipients(body: axum::body::Body, batches: tokio::sync::mpsc::Sender<Vec<String>>) {
    use futures_util::StreamExt;
    let mut input = body.into_data_stream();
    // The start of the line the next chunk continues.
    let mut partial: Vec<u8> = Vec::new();
    // Inside a line already answered as too long.
    let mut skipping = false;
    let mut batch: Vec<String> = Vec::with_capacity(BATCH);
    let mut first_line = true;
    let mut done = false;
    while !done {
        let chunk = match input.next().await {
            Some(Ok(c)) => c,
            Some(Err(_)) => return,
            None => {
                done = true;
                axum::body::Bytes::from_static(b"\n")
            }
        };
        let mut rest: &[u8] = &chunk;
        while !rest.is_empty() {
            let key = match rest.iter().position(|&b| b == b'\n') {
                // The line goes on in the next chunk.
                None if skipping => break,
                None if partial.len() + rest.len() > MAX_LINE => {
                    partial.clear();
                    skipping = true;
                    rest = &[];
                    TOO_LONG.to_owned()
                }
                None => {
                    partial.extend_from_slice(rest);
                    break;
                }
                Some(pos) => {
                    let line = &rest[..pos];
                    rest = &rest[pos + 1..];
                    if std::mem::take(&mut skipping) {
                        continue;
                    }
                    let too_long = partial.len() + line.len() > MAX_LINE;
                    let key = if too_long {
                        TOO_LONG.to_owned()
                    } else if partial.is_empty() {
                        recipient(&String::from_utf8_lossy(line))
                    } else {
                        partial.extend_from_slice(line);
                        recipient(&String::from_utf8_lossy(&partial))
                    };
                    partial.clear();
                    if key.is_empty() && !too_long {
                        // An empty line (or one with an empty first field).
                        first_line = false;
                        continue;
                    }
                    key
                }
            };
            if std::mem::take(&mut first_line) && key == "subject" {
                continue;
            }
            batch.push(key);
            if batch.len() >= BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if batches.send(full).await.is_err() {
                    return;
                }
            }
        }
    }
    if !batch.is_empty() {
        let _ = batches.send(batch).await;
    }
}

/// The answer lines for a batch of recipients and their links (`None`: no such subject).
pub(crate) fn csv_rows(
    plan: &app::services::LinkPlan,
    keys: &[String],
    links: Vec<Option<app::services::Links>>,
) -> String {
    use std::fmt::Write;
    let list_id = crate::csv::text(&plan.list_id);
    let mut text = String::new();
    for (i, (raw, link)) in keys.iter().zip(links).enumerate() {
        let key = crate::csv::text(raw);
        // Writing into `text` cannot fail.
        let _ = match link {
            _ if raw == TOO_LONG => writeln!(text, ",,,,,,line_too_long"),
            Some(l) => writeln!(
                text,
                "{key},{},{},{},{},{list_id},",
                l.unsubscribe_url,
                l.preference_url,
                crate::csv::text(&l.list_unsubscribe),
                plan.one_click.unwrap_or_default()
            ),
            None => writeln!(text, "{key},,,,,,unknown_subject_key"),
        };
        if i == 0 {
            // Room for the rest, sized by the first line: one allocation, never a regrowth.
            text.reserve((text.len() + 32) * (keys.len() - 1));
        }
    }
    text
}
