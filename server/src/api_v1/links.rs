//! Links and headers for a message, one at a time or for a whole send (`links.csv`).

use app::{api_key::ApiScope, services::Refusal};
use axum::{
    Json,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ErrorJson, authenticate, key_and_json, refuse};
use crate::state::AppState;

/// One message to one subject.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinksRequest {
    /// The subject's external id or email address.
    #[schema(min_length = 1, max_length = 320)]
    pub subject: String,
    /// The purpose the message is about (default: all marketing purposes).
    #[schema(pattern = "^[a-z][a-z0-9_]{1,47}$")]
    pub purpose: Option<String>,
    /// The channel (default: every channel of the purpose).
    #[schema(value_type = Option<super::schema::ChannelKey>)]
    pub channel: Option<String>,
    /// A campaign or list id, recorded with an unsubscribe (1–64 of `A-Za-z0-9._-`).
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]{1,64}$")]
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

/// Links and headers for one message to one subject.
#[utoipa::path(post, path = "/api/v1/links", request_body = LinksRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Links, headers and footer", body = LinksResponse),
        (status = 400, description = "Malformed request", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `links` scope", body = ErrorJson),
        (status = 404, description = "No such subject", body = ErrorJson),
        (status = 409, description = "`not_permitted`: the subject may not be contacted for this purpose on this channel (`reason` says why); no links are made", body = crate::api_v1::audience::NotPermittedJson),
        (status = 422, description = "The purpose is not used on that channel", body = ErrorJson),
    ))]
pub(super) async fn links(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (_, request) =
        match key_and_json::<LinksRequest>(&state, &headers, ApiScope::Links, &body).await {
            Ok(x) => x,
            Err(res) => return res,
        };
    let services = &state.services;
    let subject = match services.store.find_subject(&request.subject).await {
        Ok(Some(s)) => s,
        Ok(None) => return refuse(&headers, Refusal::new("unknown_subject_key")),
        Err(e) => return refuse(&headers, e.into()),
    };
    let plan = match services
        .link_plan(
            request.purpose.as_deref(),
            request.channel.as_deref(),
            request.campaign.as_deref(),
        )
        .await
    {
        Ok(plan) => plan,
        Err(r) => return refuse(&headers, r),
    };
    if let Err(res) = crate::api_v1::audience::gate_links(services, &headers, &plan, &subject).await
    {
        return res;
    }
    let h = services.mail_headers_with(&plan, subject.id);
    Json(LinksResponse {
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
    .into_response()
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinksCsvQuery {
    /// The purpose of the send (default: all marketing purposes).
    #[param(pattern = "^[a-z][a-z0-9_]{1,47}$")]
    pub purpose: Option<String>,
    /// The channel (default: every channel of the purpose).
    #[param(value_type = Option<super::schema::ChannelKey>)]
    pub channel: Option<String>,
    /// A campaign or list id, recorded with an unsubscribe (1–64 of `A-Za-z0-9._-`).
    #[param(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub campaign: Option<String>,
}

/// The columns of the CSV answer.
pub const LINKS_CSV_HEADER: &str = "subject,unsubscribe_url,preference_url,list_unsubscribe,list_unsubscribe_post,list_id,error,reason\n";

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
        (status = 200, description = "subject,unsubscribe_url,preference_url,list_unsubscribe,list_unsubscribe_post,list_id,error,reason: `error` is `unknown_subject_key`, `line_too_long` or `not_permitted` (then `reason` says why: `no_consent`, `withdrawn`, `awaiting_reconfirmation`, `expired`, `erased`, `objected`); such a row has no links", body = String, content_type = "text/csv"),
        (status = 400, description = "Unknown purpose or channel, malformed campaign", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `links` scope", body = ErrorJson),
        (status = 422, description = "The purpose is not used on that channel", body = ErrorJson),
    ))]
pub(super) async fn links_csv(
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
pub(super) async fn read_recipients(
    body: axum::body::Body,
    batches: tokio::sync::mpsc::Sender<Vec<String>>,
) {
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

/// The answer lines for a batch of recipients and what each gets.
pub(crate) fn csv_rows(
    plan: &app::services::LinkPlan,
    keys: &[String],
    links: Vec<app::services::LinkAnswer>,
) -> String {
    use app::services::LinkAnswer;
    use std::fmt::Write;
    let list_id = crate::csv::text(&plan.list_id);
    let mut text = String::new();
    for (i, (raw, link)) in keys.iter().zip(links).enumerate() {
        let key = crate::csv::text(raw);
        // Writing into `text` cannot fail.
        let _ = match link {
            _ if raw == TOO_LONG => writeln!(text, ",,,,,,line_too_long,"),
            LinkAnswer::Links(l) => writeln!(
                text,
                "{key},{},{},{},{},{list_id},,",
                l.unsubscribe_url,
                l.preference_url,
                crate::csv::text(&l.list_unsubscribe),
                plan.one_click.unwrap_or_default()
            ),
            LinkAnswer::UnknownSubject => writeln!(text, "{key},,,,,,unknown_subject_key,"),
            LinkAnswer::NotPermitted(reason) => {
                writeln!(text, "{key},,,,,,not_permitted,{reason}")
            }
        };
        if i == 0 {
            // Room for the rest, sized by the first line: one allocation, never a regrowth.
            text.reserve((text.len() + 32) * (keys.len() - 1));
        }
    }
    text
}
