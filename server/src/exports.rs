//! Downloads: streamed page by page from the database, so memory stays flat however long the
//! answer. The admin ones need a console session; the role is checked before the first byte.

use std::future::Future;

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};

use app::{
    auth::{Role, SessionKind, cookie_value},
    domain::Lang,
    services::{Refusal, Services},
};

use app::api::ClientIp;

use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/chain/checkpoints.jsonl", get(checkpoints))
        .route("/admin/events.csv", get(events_csv))
        .route("/admin/events.jsonl", get(events_jsonl))
        .route("/me/record.json", get(own_record))
        .route("/p/{token}/record.json", get(record_by_link))
}

/// Lines sent to the client, or an I/O error that ends the body.
type Chunk = Result<axum::body::Bytes, std::io::Error>;

/// A page read for a download: the cursor after it, and the work that turns it into text.
pub(crate) type Page = (i64, Box<dyn FnOnce() -> Vec<u8> + Send>);

/// A download whose body is produced page by page: `next_page(cursor)` reads the next page and
/// returns its cursor and how to write it, or `None` at the end. The next page is read while
/// this one is written (on another core). A failure midway ends the body with an error (the
/// client sees a broken download, never a silently short one).
pub(crate) fn streamed<F, Fut>(content_type: &str, filename: &str, mut next_page: F) -> Response
where
    F: FnMut(i64) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Option<Page>, Refusal>> + Send + 'static,
{
    let (out, rx) = tokio::sync::mpsc::channel::<Chunk>(4);
    tokio::spawn(async move {
        let fail = |r: Refusal| {
            tracing::error!(code = r.code, "export failed midway");
            Err(std::io::Error::other(r.code))
        };
        let mut reading = tokio::spawn(next_page(0));
        loop {
            let read = reading
                .await
                .unwrap_or_else(|_| Err(Refusal::new("internal")));
            match read {
                Ok(Some((next, write))) => {
                    reading = tokio::spawn(next_page(next));
                    let text = match tokio::task::spawn_blocking(write).await {
                        Ok(text) => text,
                        Err(_) => {
                            let _ = out.send(fail(Refusal::new("internal"))).await;
                            return;
                        }
                    };
                    if out.send(Ok(text.into())).await.is_err() {
                        reading.abort();
                        return; // the client went away
                    }
                }
                Ok(None) => return,
                Err(r) => {
                    let _ = out.send(fail(r)).await;
                    return;
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut res = axum::body::Body::from_stream(stream).into_response();
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The language of a download's error answer: `?lang=`, else Accept-Language.
pub(crate) fn request_lang(req: &Request) -> Lang {
    let explicit = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("lang=")));
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Services::page_lang(explicit, None, accept)
}

/// The signed-in admin allowed `needed`, or the refusal as a page.
pub(crate) async fn admin_or_refuse(
    services: &Services,
    headers: &HeaderMap,
    lang: Lang,
    needed: Role,
) -> Result<app::auth::Admin, Response> {
    let cookie = cookie_value(headers, SessionKind::Admin.cookie()).unwrap_or_default();
    services.admin(cookie, needed).await.map_err(|r| {
        crate::auth::page_error(lang, r, &format!("/admin/signin?lang={}", lang.key()))
    })
}

/// The signed-in person's consent record (GDPR Art. 20): current choices, history, receipt.
async fn own_record(State(state): State<AppState>, req: Request) -> Response {
    let lang = request_lang(&req);
    let cookie = cookie_value(req.headers(), SessionKind::Customer.cookie()).unwrap_or_default();
    let visitor = state.services.customer(cookie).await;
    record(&state.services, visitor, lang, "/signin").await
}

/// The consent record of the person a whole-preference-center link is for.
async fn record_by_link(
    State(state): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
    req: Request,
) -> Response {
    let lang = request_lang(&req);
    let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
    let visitor = state.services.visitor_from_token(&token, ip).await;
    record(&state.services, visitor, lang, &format!("/p/{token}")).await
}

async fn record(
    services: &Services,
    visitor: Result<app::services::Visitor, Refusal>,
    lang: Lang,
    back: &str,
) -> Response {
    let record = match visitor {
        Ok(v) => services.consent_record(&v).await,
        Err(r) => Err(r),
    };
    match record {
        Ok(json) => {
            let mut res = axum::Json(json).into_response();
            let headers = res.headers_mut();
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"consent-record.json\""),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(r) => crate::auth::page_error(lang, r, back),
    }
}

/// Events per database query while exporting.
const EXPORT_PAGE: u32 = 20_000;

/// The columns of an event export in CSV.
pub const EVENTS_CSV_HEADER: &str = "seq,event_id,occurred_at,subject_id,purpose,channel,from,to,source,actor,notice_version,origin_ip,user_agent,campaign,reason\n";

/// The filter of an export, from its query (the console's filters plus `subject`).
fn export_filter(query: &str) -> Result<app::store::EventFilter, Refusal> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|_| Refusal::new("bad_request"))?;
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, v)| n == k && !v.trim().is_empty())
            .map(|(_, v)| v.clone())
    };
    let subject = match get("subject") {
        Some(id) => Some(app::domain::SubjectId(
            uuid::Uuid::parse_str(id.trim()).map_err(|_| Refusal::new("unknown_subject_id"))?,
        )),
        None => None,
    };
    app::view::EventFilterForm {
        purpose: get("purpose"),
        channel: get("channel"),
        source: get("source"),
        from: get("from"),
        until: get("until"),
    }
    .to_filter(subject)
}

#[derive(Clone, Copy)]
enum EventFormat {
    Csv,
    JsonLines,
}

async fn events_csv(State(state): State<AppState>, req: Request) -> Response {
    export_events(state, req, EventFormat::Csv).await
}

async fn events_jsonl(State(state): State<AppState>, req: Request) -> Response {
    export_events(state, req, EventFormat::JsonLines).await
}

/// Every event the console's filters select, oldest first, streamed page by page with constant
/// memory. `X-Doui-Event-Count` tells how many (for a progress bar); events that arrive while
/// the export runs are included up to where it has got.
async fn export_events(state: AppState, req: Request, format: EventFormat) -> Response {
    let lang = request_lang(&req);
    let services = state.services.clone();
    let admin = match admin_or_refuse(&services, req.headers(), lang, Role::Viewer).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let back = format!("/admin/events?lang={}", lang.key());
    let filter = match export_filter(req.uri().query().unwrap_or("")) {
        Ok(f) => f,
        Err(r) => return crate::auth::page_error(lang, r, &back),
    };
    let total = match services.console.count_events(&filter).await {
        Ok(n) => n,
        Err(e) => return crate::auth::page_error(lang, e.into(), &back),
    };
    tracing::info!(admin = %admin.id, total, "events exported");
    let (content_type, filename) = match format {
        EventFormat::Csv => ("text/csv; charset=utf-8", "doui-events.csv"),
        EventFormat::JsonLines => ("application/jsonl; charset=utf-8", "doui-events.jsonl"),
    };
    let mut header_sent = false;
    let mut res = streamed(content_type, filename, move |after| {
        let (services, filter) = (services.clone(), filter.clone());
        let header = !std::mem::replace(&mut header_sent, true);
        async move {
            let page = services
                .console
                .events(
                    &filter,
                    app::store::EventCursor::OldestAbove(after),
                    EXPORT_PAGE,
                )
                .await?;
            let csv_header = header && matches!(format, EventFormat::Csv);
            let Some(&(last, _)) = page.last() else {
                // An empty CSV export still has its header line.
                let header: Page = (after, Box::new(|| EVENTS_CSV_HEADER.as_bytes().to_vec()));
                return Ok(csv_header.then_some(header));
            };
            let write = move || match format {
                EventFormat::Csv => {
                    let mut text = String::with_capacity(page.len() * 256);
                    if csv_header {
                        text.push_str(EVENTS_CSV_HEADER);
                    }
                    for (seq, e) in &page {
                        event_csv_line(&mut text, *seq, e);
                    }
                    text.into_bytes()
                }
                EventFormat::JsonLines => {
                    let mut lines = Vec::with_capacity(page.len() * 320);
                    for (seq, e) in &page {
                        event_json_line(&mut lines, *seq, e);
                    }
                    lines
                }
            };
            Ok(Some((
                last,
                Box::new(write) as Box<dyn FnOnce() -> Vec<u8> + Send>,
            )))
        }
    });
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        res.headers_mut().insert("x-doui-event-count", v);
    }
    res
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// One event as a CSV line (free text can't start a spreadsheet formula).
fn event_csv_line(out: &mut String, seq: i64, e: &app::domain::ConsentEvent) {
    use crate::cli::{csv_field, csv_text};
    let p = &e.provenance;
    let fields = [
        seq.to_string(),
        e.id.to_string(),
        rfc3339(p.occurred_at),
        e.subject.to_string(),
        e.purpose.to_string(),
        e.channel.key().to_owned(),
        e.from.map(|s| s.key()).unwrap_or_default().to_owned(),
        e.to.key().to_owned(),
        p.source.key().to_owned(),
        csv_field(&p.actor.to_string()),
        csv_text(p.notice_version.as_deref().unwrap_or_default()),
        p.origin.ip.clone().unwrap_or_default(),
        csv_text(p.origin.user_agent.as_deref().unwrap_or_default()),
        csv_text(p.campaign.as_deref().unwrap_or_default()),
        csv_text(p.reason.as_deref().unwrap_or_default()),
    ];
    out.push_str(&fields.join(","));
    out.push('\n');
}

/// One exported event in JSON (borrowed: no copies while streaming).
#[derive(serde::Serialize)]
struct EventLine<'a> {
    seq: i64,
    event_id: uuid::Uuid,
    occurred_at: String,
    subject_id: uuid::Uuid,
    purpose: &'a str,
    channel: &'a str,
    from: Option<&'a str>,
    to: &'a str,
    source: &'a str,
    actor: String,
    notice_version: Option<&'a str>,
    origin_ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    campaign: Option<&'a str>,
    reason: Option<&'a str>,
}

/// One event as a JSON line, serialised straight into `out` (no string of its own).
fn event_json_line(out: &mut Vec<u8>, seq: i64, e: &app::domain::ConsentEvent) {
    let p = &e.provenance;
    let line = EventLine {
        seq,
        event_id: e.id,
        occurred_at: rfc3339(p.occurred_at),
        subject_id: e.subject.0,
        purpose: e.purpose.as_str(),
        channel: e.channel.key(),
        from: e.from.map(|s| s.key()),
        to: e.to.key(),
        source: p.source.key(),
        actor: p.actor.to_string(),
        notice_version: p.notice_version.as_deref(),
        origin_ip: p.origin.ip.as_deref(),
        user_agent: p.origin.user_agent.as_deref(),
        campaign: p.campaign.as_deref(),
        reason: p.reason.as_deref(),
    };
    let before = out.len();
    match serde_json::to_writer(&mut *out, &line) {
        Ok(()) => out.push(b'\n'),
        // Strings, numbers and ids always serialise; were one not to, no half line is left.
        Err(_) => out.truncate(before),
    }
}

/// Every stored checkpoint as JSON Lines, shortest first: what an auditor keeps and later hands
/// to `doui verify --checkpoints`.
async fn checkpoints(State(state): State<AppState>, req: Request) -> Response {
    let lang = request_lang(&req);
    if let Err(res) = admin_or_refuse(&state.services, req.headers(), lang, Role::Viewer).await {
        return res;
    }
    let services = state.services.clone();
    streamed(
        "application/jsonl; charset=utf-8",
        "doui-checkpoints.jsonl",
        move |after| {
            let services = services.clone();
            async move {
                let page = services.checkpoints(after, 1_000).await?;
                let Some(last) = page.last().map(|c| c.length) else {
                    return Ok(None);
                };
                let write = move || checkpoint_lines(&page).into_bytes();
                Ok(Some((
                    last,
                    Box::new(write) as Box<dyn FnOnce() -> Vec<u8> + Send>,
                )))
            }
        },
    )
}

/// Checkpoints as JSON Lines.
pub fn checkpoint_lines(checkpoints: &[app::signing::Checkpoint]) -> String {
    let mut text = String::new();
    for c in checkpoints {
        if let Ok(line) = serde_json::to_string(c) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    text
}

/// Reads checkpoints kept as JSON Lines (blank lines skipped); the error names the bad line.
pub fn parse_checkpoint_lines(text: &str) -> Result<Vec<app::signing::Checkpoint>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| format!("line {}: not a checkpoint ({e})", i + 1))
        })
        .collect()
}
