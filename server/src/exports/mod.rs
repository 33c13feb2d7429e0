//! The console's downloads: event exports (CSV, JSON Lines) and the signed checkpoints, streamed
//! page by page from the database, so memory stays flat however long the answer. Each needs a
//! console session; the role is checked before the first byte. How an event is written as a line
//! is in `lines`; the person's own record is in `crate::record`.

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

use crate::{answers::request_lang, state::AppState};

mod lines;

pub use lines::EVENTS_CSV_HEADER;
use lines::{event_csv_line, event_json_line};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/chain/checkpoints.jsonl", get(checkpoints))
        .route("/admin/events.csv", get(events_csv))
        .route("/admin/events.jsonl", get(events_jsonl))
        .route("/admin/imports/{id}/errors.csv", get(import_errors_csv))
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

/// The signed-in admin allowed `needed`, or the refusal as a page.
pub(crate) async fn admin_or_refuse(
    services: &Services,
    headers: &HeaderMap,
    lang: Lang,
    needed: Role,
) -> Result<app::auth::Admin, Response> {
    let cookie = cookie_value(headers, SessionKind::Admin.cookie()).unwrap_or_default();
    services.admin(cookie, needed).await.map_err(|r| {
        crate::answers::page_error(lang, r, &format!("/admin/signin?lang={}", lang.key()))
    })
}

/// Events per database query while exporting.
const EXPORT_PAGE: u32 = 20_000;

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
        Err(r) => return crate::answers::page_error(lang, r, &back),
    };
    let total = match services.console.event_log().count_events(&filter).await {
        Ok(n) => n,
        Err(e) => return crate::answers::page_error(lang, e.into(), &back),
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
                .event_log()
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
                    let mut lines = Vec::with_capacity(page.len() * 400);
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

/// An import's error report as a CSV download, for the console's Imports page (viewer).
async fn import_errors_csv(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    req: Request,
) -> Response {
    let lang = crate::answers::request_lang(&req);
    if let Err(res) = admin_or_refuse(
        &state.services,
        req.headers(),
        lang,
        app::auth::Role::Viewer,
    )
    .await
    {
        return res;
    }
    let job = match uuid::Uuid::parse_str(&id) {
        Ok(id) => state.services.console.import_job(id).await,
        Err(_) => Ok(None),
    };
    match job {
        Ok(Some(job)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"doui-import-{}-errors.csv\"", job.id),
                ),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            format!("{}{}", crate::import::REPORT_HEADER, job.error_report),
        )
            .into_response(),
        Ok(None) => crate::answers::page_error(lang, Refusal::new("not_found"), "/admin/imports"),
        Err(e) => crate::answers::page_error(lang, e.into(), "/admin/imports"),
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
