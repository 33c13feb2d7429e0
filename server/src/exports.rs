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
    domain::{Lang, rfc3339::Rfc3339Text},
    services::{Refusal, Services},
};

use app::api::ClientIp;

use crate::http::{AppState, request_lang};

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
pub const EVENTS_CSV_HEADER: &str = "seq,event_id,occurred_at,subject_id,purpose,channel,from,to,source,actor,notice_version,origin_ip,user_agent,campaign,reason,recorded_at\n";

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

/// One event as a CSV line (free text can't start a spreadsheet formula), written straight into
/// `out`: no string per field.
fn event_csv_line(out: &mut String, seq: i64, e: &app::domain::ConsentEvent) {
    use crate::csv::{push_plain, push_text};
    use std::fmt::Write;
    let p = &e.provenance;
    // Numbers, ids, times and keys never need quoting.
    let _ = write!(
        out,
        "{seq},{},{},{},{},{},{},{},{},",
        e.id,
        Rfc3339Text::new(p.occurred_at).as_str(),
        e.subject,
        e.purpose,
        e.channel.key(),
        e.from.map(|s| s.key()).unwrap_or_default(),
        e.to.key(),
        p.source.key(),
    );
    let actor = out.len();
    let _ = write!(out, "{}", p.actor);
    if out[actor..].contains([',', '"', '\n', '\r']) {
        let written = out.split_off(actor);
        push_text(out, &written);
    }
    out.push(',');
    push_text(out, p.notice_version.as_deref().unwrap_or_default());
    out.push(',');
    push_plain(out, p.origin.ip.as_deref().unwrap_or_default());
    for text in [&p.origin.user_agent, &p.campaign, &p.reason] {
        out.push(',');
        push_text(out, text.as_deref().unwrap_or_default());
    }
    out.push(',');
    if let Some(at) = e.recorded_at {
        out.push_str(Rfc3339Text::new(at).as_str());
    }
    out.push('\n');
}

/// One event as a JSON line, written straight into `out`: the keys as they are, each text through
/// `push_json_str` (an export writes millions of lines; serde's field-by-field serialiser and
/// its byte-by-byte escaping were a fifth of an export's CPU). Its golden test pins the line.
fn event_json_line(out: &mut Vec<u8>, seq: i64, e: &app::domain::ConsentEvent) {
    use app::domain::Actor;
    use std::io::Write;
    let p = &e.provenance;
    let (mut id, mut subject) = (uuid::Uuid::encode_buffer(), uuid::Uuid::encode_buffer());
    let occurred_at = Rfc3339Text::new(p.occurred_at);
    let actor = match &p.actor {
        Actor::Subject => std::borrow::Cow::Borrowed("subject"),
        Actor::System => std::borrow::Cow::Borrowed("system"),
        other => std::borrow::Cow::Owned(other.to_string()),
    };
    let recorded_at = e.recorded_at.map(Rfc3339Text::new);
    let fields: [(&str, Option<&str>); 15] = [
        ("event_id", Some(e.id.hyphenated().encode_lower(&mut id))),
        ("occurred_at", Some(occurred_at.as_str())),
        (
            "subject_id",
            Some(e.subject.0.hyphenated().encode_lower(&mut subject)),
        ),
        ("purpose", Some(e.purpose.as_str())),
        ("channel", Some(e.channel.key())),
        ("from", e.from.map(|s| s.key())),
        ("to", Some(e.to.key())),
        ("source", Some(p.source.key())),
        ("actor", Some(&actor)),
        ("notice_version", p.notice_version.as_deref()),
        ("origin_ip", p.origin.ip.as_deref()),
        ("user_agent", p.origin.user_agent.as_deref()),
        ("campaign", p.campaign.as_deref()),
        ("reason", p.reason.as_deref()),
        ("recorded_at", recorded_at.as_ref().map(|t| t.as_str())),
    ];
    let _ = write!(out, "{{\"seq\":{seq}");
    for (key, value) in fields {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        match value {
            Some(v) => push_json_str(out, v),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.extend_from_slice(b"}\n");
}

/// `s` as a JSON string, escaped as serde_json escapes it (`"` as `\"`, `\` as `\\`, control
/// characters as `\n`, `\t`… or `\u00XX`, everything else as it is), at the end of `out`. Most
/// texts need no escape, and one branch-free pass over their bytes says so.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.push(b'"');
    let plain = bytes.iter().fold(true, |plain, &b| {
        plain & (b >= 0x20) & (b != b'"') & (b != b'\\')
    });
    if plain {
        out.extend_from_slice(bytes);
    } else {
        let (mut start, mut unicode) = (0, *b"\\u0000");
        for (i, &b) in bytes.iter().enumerate() {
            let escape: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                0x00..=0x1f => {
                    unicode[4] = b"0123456789abcdef"[usize::from(b >> 4)];
                    unicode[5] = b"0123456789abcdef"[usize::from(b & 0xf)];
                    &unicode
                }
                _ => continue,
            };
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(escape);
            start = i + 1;
        }
        out.extend_from_slice(&bytes[start..]);
    }
    out.push(b'"');
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

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::{
        Actor, Channel, ConsentEvent, ConsentState, Origin, Provenance, Source, SubjectId,
    };

    /// An event whose texts need every kind of care a line gives them.
    fn awkward() -> ConsentEvent {
        ConsentEvent {
            id: uuid::Uuid::from_u128(1),
            subject: SubjectId(uuid::Uuid::from_u128(2)),
            purpose: "newsletter".parse().unwrap(),
            channel: Channel::Email,
            from: None,
            to: ConsentState::Granted,
            provenance: Provenance {
                occurred_at: time::macros::datetime!(2025-01-01 0:00:00.25 UTC),
                source: Source::OneClick,
                actor: Actor::ApiKey("k,1".into()),
                notice_version: Some("=1.0".into()),
                origin: Origin {
                    ip: Some("192.0.2.1".into()),
                    user_agent: Some("Mozilla \"x\", y".into()),
                },
                idempotency_key: None,
                reason: Some("line\nbreak".into()),
                campaign: None,
                collection_point: None,
                import_batch: None,
                form_url: None,
                proof_ref: None,
            },
            recorded_at: Some(time::macros::datetime!(2025-01-01 0:00:01.5 UTC)),
        }
    }

    #[test]
    fn a_csv_line_quotes_what_needs_it_and_never_starts_a_formula() {
        let mut out = String::from("before\n");
        event_csv_line(&mut out, 7, &awkward());
        assert_eq!(
            out,
            "before\n7,00000000-0000-0000-0000-000000000001,2025-01-01T00:00:00.25Z,\
             00000000-0000-0000-0000-000000000002,newsletter,email,,granted,one_click,\
             \"api_key:k,1\",'=1.0,192.0.2.1,\"Mozilla \"\"x\"\", y\",,\"line\nbreak\",\
             2025-01-01T00:00:01.5Z\n"
        );
        // One field per header column.
        let mut plain = awkward();
        plain.provenance.actor = Actor::Subject;
        plain.provenance.reason = None;
        plain.provenance.origin.user_agent = Some("-".into());
        let mut line = String::new();
        event_csv_line(&mut line, 8, &plain);
        assert_eq!(
            line.trim_end().split(',').count(),
            EVENTS_CSV_HEADER.trim_end().split(',').count()
        );
        assert!(
            line.contains(",subject,'=1.0,192.0.2.1,'-,,,2025-01-01T00:00:01.5Z\n"),
            "{line}"
        );
    }

    #[test]
    fn a_json_line_is_the_event_as_written() {
        let mut out = Vec::new();
        event_json_line(&mut out, 7, &awkward());
        assert_eq!(out.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "seq": 7,
                "event_id": "00000000-0000-0000-0000-000000000001",
                "occurred_at": "2025-01-01T00:00:00.25Z",
                "subject_id": "00000000-0000-0000-0000-000000000002",
                "purpose": "newsletter",
                "channel": "email",
                "from": null,
                "to": "granted",
                "source": "one_click",
                "actor": "api_key:k,1",
                "notice_version": "=1.0",
                "origin_ip": "192.0.2.1",
                "user_agent": "Mozilla \"x\", y",
                "campaign": null,
                "reason": "line\nbreak",
                "recorded_at": "2025-01-01T00:00:01.5Z",
            })
        );
        // Byte for byte, the keys in the order the export has always written them.
        assert_eq!(
            String::from_utf8(out).unwrap(),
            concat!(
                r#"{"seq":7,"event_id":"00000000-0000-0000-0000-000000000001","#,
                r#""occurred_at":"2025-01-01T00:00:00.25Z","#,
                r#""subject_id":"00000000-0000-0000-0000-000000000002","purpose":"newsletter","#,
                r#""channel":"email","from":null,"to":"granted","source":"one_click","#,
                r#""actor":"api_key:k,1","notice_version":"=1.0","origin_ip":"192.0.2.1","#,
                r#""user_agent":"Mozilla \"x\", y","campaign":null,"reason":"line\nbreak","#,
                r#""recorded_at":"2025-01-01T00:00:01.5Z"}"#,
                "\n"
            )
        );
        // Times as `time` writes RFC 3339: whole seconds without a fraction, an offset kept.
        let t = time::macros::datetime!(2025-06-30 23:59:59 +09:00);
        assert_eq!(Rfc3339Text::new(t).as_str(), "2025-06-30T23:59:59+09:00");
    }

    /// `push_json_str(s)`, as a string.
    fn json_str(s: &str) -> String {
        let mut out = Vec::new();
        push_json_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn texts_are_escaped_as_serde_json_escapes_them() {
        for b in 0u8..0x80 {
            let s = format!("a{}b", b as char);
            assert_eq!(
                json_str(&s),
                serde_json::to_string(&s).unwrap(),
                "byte {b:#x}"
            );
        }
        for s in [
            "",
            "plain",
            "\"\\\"",
            "日本語 \u{1F600}",
            "\u{7f}\u{80}\u{2028}",
            "\n\n",
        ] {
            assert_eq!(json_str(s), serde_json::to_string(s).unwrap());
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_escaped_as_serde_json_escapes_it(s in "\\PC*|[\\x00-\\x7f]*") {
            proptest::prop_assert_eq!(json_str(&s), serde_json::to_string(&s).unwrap());
        }
    }
}
