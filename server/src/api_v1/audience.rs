//! The send gate in the senders' API (issue 31): `POST /api/v1/permissions`,
//! `GET /api/v1/audience` (JSON pages or streamed CSV) and `GET /api/v1/suppressions` (withdrawals
//! by change cursor, and the lapsed opt-ins). Every answer comes from the one rule,
//! `app::domain::permission`.

use app::{
    api_key::ApiScope,
    domain::{Channel, Frequency, Refused, Subject, SubjectId},
    services::{Ask, LinkPlan, MAX_AUDIENCE_PAGE, Refusal, Services},
};
use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{ErrorJson, authenticate, key_and_json, lang, refuse, schema::ChannelKey};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/permissions", post(permissions))
        .route("/api/v1/audience", get(audience))
        .route("/api/v1/suppressions", get(suppressions))
}

#[derive(OpenApi)]
#[openapi(
    paths(permissions, audience, suppressions),
    components(schemas(
        Reason,
        PermissionCheck,
        PermissionsRequest,
        PermissionResult,
        PermissionsAnswer,
        AudienceMember,
        AudiencePageJson,
        SuppressionList,
        SuppressionItem,
        LapsedItem,
        NotPermittedJson
    ))
)]
pub struct AudienceDoc;

/// Why a subject may not be contacted for a purpose on a channel.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The purpose is opt-in and the person never granted it.
    NoConsent,
    /// The person withdrew it.
    Withdrawn,
    /// Granted under an earlier notice; a material change awaits their re-confirmation.
    AwaitingReconfirmation,
    /// Granted, but its validity ended.
    Expired,
    /// The person was erased.
    Erased,
    /// No subject has that external id or email.
    UnknownSubject,
    /// The person's lasting objection to all direct marketing stands (a marketing purpose).
    Objected,
}

impl From<Refused> for Reason {
    fn from(r: Refused) -> Self {
        match r {
            Refused::NoConsent => Reason::NoConsent,
            Refused::Withdrawn => Reason::Withdrawn,
            Refused::AwaitingReconfirmation => Reason::AwaitingReconfirmation,
            Refused::Expired => Reason::Expired,
            Refused::Erased => Reason::Erased,
            Refused::UnknownSubject => Reason::UnknownSubject,
            Refused::Objected => Reason::Objected,
        }
    }
}

/// One question: may this subject be contacted for this purpose on this channel now?
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionCheck {
    /// The subject's external id or email address.
    #[schema(min_length = 1, max_length = 320)]
    pub subject: String,
    /// A purpose key, e.g. `newsletter`.
    #[schema(pattern = r"^[a-z][a-z0-9_]{1,47}$")]
    pub purpose: String,
    pub channel: ChannelKey,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionsRequest {
    /// At most 10,000; answered in the same order.
    #[schema(max_items = 10000)]
    pub checks: Vec<PermissionCheck>,
}

#[derive(Serialize, ToSchema)]
pub struct PermissionResult {
    /// As asked.
    pub subject: String,
    pub purpose: String,
    pub channel: ChannelKey,
    pub allowed: bool,
    /// Why not (null when allowed).
    pub reason: Option<Reason>,
}

#[derive(Serialize, ToSchema)]
pub struct PermissionsAnswer {
    /// One per check, in the order asked.
    pub results: Vec<PermissionResult>,
}

/// The answer when the send gate refuses a recipient: `code` is `not_permitted`.
#[derive(Serialize, ToSchema)]
pub struct NotPermittedJson {
    pub code: String,
    pub message: String,
    pub reason: Reason,
}

/// Answers whether each subject may be contacted for each purpose on each channel now, and if
/// not why, in the order asked.
#[utoipa::path(post, path = "/api/v1/permissions", request_body = PermissionsRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "One answer per check, in order", body = PermissionsAnswer),
        (status = 400, description = "Malformed request (`bad_request`), unknown purpose (`unknown_purpose`)", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `audience:read` scope", body = ErrorJson),
        (status = 413, description = "More than 10,000 checks (`too_many_permissions`), or a body over 2 MB", body = ErrorJson),
        (status = 422, description = "A purpose is not used on its channel (`channel_not_applicable`)", body = ErrorJson),
    ))]
async fn permissions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (_, request) =
        match key_and_json::<PermissionsRequest>(&state, &headers, ApiScope::AudienceRead, &body)
            .await
        {
            Ok(x) => x,
            Err(res) => return res,
        };
    let asks: Vec<Ask> = request
        .checks
        .iter()
        .map(|c| Ask {
            subject: c.subject.clone(),
            purpose: c.purpose.clone(),
            channel: Channel::from(c.channel).key().to_owned(),
        })
        .collect();
    match state.services.permissions(&asks).await {
        Ok(answers) => {
            let results = request
                .checks
                .into_iter()
                .zip(answers)
                .map(|(c, a)| PermissionResult {
                    subject: c.subject,
                    purpose: c.purpose,
                    channel: c.channel,
                    allowed: a.is_ok(),
                    reason: a.err().map(Reason::from),
                })
                .collect();
            Json(PermissionsAnswer { results }).into_response()
        }
        Err(r) => refuse(&headers, r),
    }
}

/// Refuses links for a subject the send gate does not let in for what `plan` covers.
pub(crate) async fn gate_links(
    services: &Services,
    headers: &HeaderMap,
    plan: &LinkPlan,
    subject: &Subject,
) -> Result<(), Response> {
    match services.permitted_for_links(plan, &[subject]).await {
        Ok(answers) => match answers.into_iter().next() {
            Some(Err(reason)) => Err(not_permitted(headers, reason)),
            _ => Ok(()),
        },
        Err(r) => Err(refuse(headers, r)),
    }
}

fn not_permitted(headers: &HeaderMap, reason: Refused) -> Response {
    let e = app::error::ApiError::new(lang(headers), "not_permitted");
    (
        StatusCode::CONFLICT,
        Json(NotPermittedJson {
            code: e.code,
            message: e.message,
            reason: reason.into(),
        }),
    )
        .into_response()
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AudienceQuery {
    /// The purpose, e.g. `newsletter`.
    #[param(pattern = r"^[a-z][a-z0-9_]{1,47}$")]
    pub purpose: String,
    /// The channel.
    pub channel: ChannelKey,
    /// At most this many subjects in a JSON page (1–10000, default 1000).
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<u32>,
    /// Where the page starts: the `next_cursor` of the page before (absent: the first page).
    #[param(pattern = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    pub cursor: Option<String>,
    /// `csv` streams the whole audience (from `cursor`) as CSV, as `Accept: text/csv` does.
    #[param(inline)]
    pub format: Option<AudienceFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AudienceFormat {
    Json,
    Csv,
}

/// Someone who may be contacted.
#[derive(Serialize, ToSchema)]
pub struct AudienceMember {
    pub external_id: String,
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    /// `ja` or `en`.
    pub lang: String,
    /// `jp`, `eu`, `us_ca` or `default`.
    pub jurisdiction: String,
    /// How often the person wants this purpose's messages: every message (also when they
    /// never chose), a weekly digest or a monthly one. Respecting it is the sender's part.
    #[schema(value_type = super::schema::FrequencyKey)]
    pub frequency: String,
}

impl AudienceMember {
    /// A member of the audience of a purpose, with the frequency they chose for it.
    pub fn of(s: &Subject, frequency: Option<Frequency>) -> Self {
        Self {
            external_id: s.external_id.as_str().to_owned(),
            email: s.email.as_ref().map(|e| e.as_str().to_owned()),
            phone: s.phone.as_ref().map(|p| p.as_str().to_owned()),
            lang: s.lang.key().to_owned(),
            jurisdiction: s.jurisdiction.key().to_owned(),
            frequency: frequency.unwrap_or(Frequency::Every).key().to_owned(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AudiencePageJson {
    pub items: Vec<AudienceMember>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The columns of the CSV audience.
pub const AUDIENCE_CSV_HEADER: &str = "external_id,email,phone,lang,jurisdiction,frequency\n";

/// One CSV line of the audience (text from outside guarded against formulas).
pub(crate) fn audience_csv_line(out: &mut String, s: &Subject, frequency: Option<Frequency>) {
    crate::csv::push_text(out, s.external_id.as_str());
    out.push(',');
    crate::csv::push_text(out, s.email.as_ref().map_or("", |e| e.as_str()));
    out.push(',');
    crate::csv::push_text(out, s.phone.as_ref().map_or("", |p| p.as_str()));
    out.push(',');
    out.push_str(s.lang.key());
    out.push(',');
    out.push_str(s.jurisdiction.key());
    out.push(',');
    out.push_str(frequency.unwrap_or(Frequency::Every).key());
    out.push('\n');
}

/// Everyone who may be contacted for a purpose on a channel now: opt-in, a grant in effect (not
/// awaiting re-confirmation, not expired); opt-out, no withdrawal; never an objecting (marketing)
/// or erased person. A listing of the current state in subject-id order, not a change feed.
#[utoipa::path(get, path = "/api/v1/audience", params(AudienceQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "A page of the audience (JSON), or all of it from `cursor` on (CSV: external_id,email,phone,lang,jurisdiction,frequency)",
            content(
                (AudiencePageJson = "application/json"),
                (String = "text/csv"),
            )),
        (status = 400, description = "Unknown purpose or channel, a limit out of range (`bad_request`), a malformed cursor (`malformed_cursor`)", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `audience:read` scope", body = ErrorJson),
        (status = 422, description = "The purpose is not used on that channel", body = ErrorJson),
    ))]
async fn audience(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<AudienceQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(r) = authenticate(&state, &headers, ApiScope::AudienceRead).await {
        return refuse(&headers, r);
    }
    let Ok(Query(q)) = query else {
        return refuse(&headers, Refusal::new("bad_request"));
    };
    let limit = q.limit.unwrap_or(app::services::AUDIENCE_PAGE);
    if !(1..=MAX_AUDIENCE_PAGE).contains(&limit) {
        return refuse(&headers, Refusal::new("bad_request"));
    }
    let after = match q.cursor.as_deref().map(uuid::Uuid::parse_str).transpose() {
        Ok(c) => c.map(SubjectId),
        Err(_) => return refuse(&headers, Refusal::new("malformed_cursor")),
    };
    let channel = Channel::from(q.channel);
    let services = state.services.clone();
    let purpose = match services.purpose_on(&q.purpose, channel.key()).await {
        Ok((p, _)) => p,
        Err(r) => return refuse(&headers, r),
    };
    let wants_csv = match q.format {
        Some(f) => f == AudienceFormat::Csv,
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv")),
    };
    if !wants_csv {
        return match services
            .audience_page(&purpose, channel, after, limit)
            .await
        {
            Ok(page) => Json(AudiencePageJson {
                items: page
                    .subjects
                    .iter()
                    .map(|s| AudienceMember::of(s, page.frequencies.get(&s.id).copied()))
                    .collect(),
                next_cursor: page.next.map(|id| id.0.to_string()),
            })
            .into_response(),
            Err(r) => refuse(&headers, r),
        };
    }
    let (out, rx) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        if out.send(Ok(AUDIENCE_CSV_HEADER.into())).await.is_err() {
            return;
        }
        use futures_util::StreamExt;
        let fail = |r: Refusal| -> Result<axum::body::Bytes, std::io::Error> {
            tracing::error!(code = r.code, "audience failed");
            Ok(format!("# error: {}\n", r.code).into())
        };
        let mut pages = match services
            .audience_pages(&purpose, channel, after, app::services::AUDIENCE_RANGE)
            .await
        {
            Ok(pages) => pages,
            Err(r) => {
                let _ = out.send(fail(r)).await;
                return;
            }
        };
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(r) => {
                    let _ = out.send(fail(r)).await;
                    return;
                }
            };
            let mut text = String::with_capacity(page.subjects.len() * 48);
            for s in &page.subjects {
                audience_csv_line(&mut text, s, page.frequencies.get(&s.id).copied());
            }
            if !text.is_empty() && out.send(Ok(text.into())).await.is_err() {
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuppressionQuery {
    /// The purpose, e.g. `newsletter`, or `*`: every purpose used on the channel.
    #[param(pattern = r"^(\*|[a-z][a-z0-9_]{1,47})$")]
    pub purpose: String,
    /// The channel.
    pub channel: ChannelKey,
    /// Only withdrawals after this cursor (the last `next_cursor` seen; default 0). A cursor is a
    /// position in the hash chain: commit-ordered, so nothing committed later slips in behind it.
    #[param(minimum = 0)]
    pub since: Option<i64>,
    /// Where the page of lapsed opt-ins starts: the `next_lapsed_cursor` of the answer before
    /// (absent: from the start).
    #[param(
        pattern = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[a-z0-9_]*$"
    )]
    pub lapsed_after: Option<String>,
    /// At most this many withdrawals, and at most this many lapsed opt-ins (1–10000, default 1000).
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<u32>,
}

/// A withdrawal: this subject must not be contacted for this purpose on the channel.
#[derive(Serialize, ToSchema)]
pub struct SuppressionItem {
    /// The withdrawal's position in the hash chain (commit-ordered).
    pub cursor: i64,
    pub purpose: String,
    pub external_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// RFC 3339.
    pub withdrawn_at: String,
    /// Always `withdrawn` here.
    pub reason: Reason,
}

/// A granted opt-in that no longer applies: this subject must not be contacted for this purpose
/// on the channel until they re-confirm or renew it.
#[derive(Serialize, ToSchema)]
pub struct LapsedItem {
    pub purpose: String,
    pub external_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// When the consent was last given (RFC 3339).
    pub granted_at: String,
    /// `expired` or `awaiting_reconfirmation`.
    pub reason: Reason,
}

#[derive(Serialize, ToSchema)]
pub struct SuppressionList {
    /// Withdrawals after `since`, in commit order (listed once sealed, a fraction of a second
    /// after the change).
    pub items: Vec<SuppressionItem>,
    /// Pass as `since` next time (equal to `since` when nothing changed).
    pub next_cursor: i64,
    /// Lapsed opt-ins as they stand now, in (subject, purpose) order from `lapsed_after`.
    pub lapsed: Vec<LapsedItem>,
    /// Pass as `lapsed_after` for the rest of the lapsed opt-ins; null when this was the last.
    pub next_lapsed_cursor: Option<String>,
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Who must not be contacted for a purpose (or every purpose) on a channel: withdrawals in commit
/// order (paged by `since`, a chain position), and the granted opt-ins that lapsed (expired,
/// awaiting re-confirmation), as they stand now (paged by `lapsed_after`).
#[utoipa::path(get, path = "/api/v1/suppressions", params(SuppressionQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "A page of the suppression list", body = SuppressionList),
        (status = 400, description = "Unknown purpose or channel, a limit out of range (`bad_request`), a malformed `lapsed_after` (`malformed_cursor`)", body = ErrorJson),
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
    let limit = q.limit.unwrap_or(1000);
    let since = q.since.unwrap_or(0);
    if !(1..=10_000).contains(&limit) || since < 0 {
        return refuse(&headers, Refusal::new("bad_request"));
    }
    let lapsed_after = match q
        .lapsed_after
        .as_deref()
        .map(parse_lapsed_cursor)
        .transpose()
    {
        Ok(c) => c,
        Err(r) => return refuse(&headers, r),
    };
    let channel = Channel::from(q.channel);
    let services = &state.services;
    let (withdrawn, purpose) = if q.purpose == "*" {
        match services.suppressions_on(channel.key(), since, limit).await {
            Ok(rows) => (rows, None),
            Err(r) => return refuse(&headers, r),
        }
    } else {
        let purpose = match services.purpose_on(&q.purpose, channel.key()).await {
            Ok((p, _)) => p,
            Err(r) => return refuse(&headers, r),
        };
        match services
            .suppressions(&q.purpose, channel.key(), since, limit)
            .await
        {
            Ok(rows) => (
                rows.into_iter().map(|r| (purpose.key.clone(), r)).collect(),
                Some(purpose),
            ),
            Err(r) => return refuse(&headers, r),
        }
    };
    let lapsed = match services
        .lapsed_page(purpose.as_ref(), channel, lapsed_after, limit)
        .await
    {
        Ok(l) => l,
        Err(r) => return refuse(&headers, r),
    };
    let next_cursor = withdrawn.last().map_or(since, |(_, r)| r.cursor);
    let items = withdrawn
        .into_iter()
        .map(|(purpose, r)| SuppressionItem {
            cursor: r.cursor,
            purpose: purpose.to_string(),
            external_id: r.subject.external_id.as_str().to_owned(),
            email: r.subject.email.map(|e| e.as_str().to_owned()),
            phone: r.subject.phone.map(|p| p.as_str().to_owned()),
            withdrawn_at: rfc3339(r.since),
            reason: Reason::Withdrawn,
        })
        .collect();
    Json(SuppressionList {
        items,
        next_cursor,
        lapsed: lapsed
            .items
            .into_iter()
            .map(|l| LapsedItem {
                purpose: l.purpose.to_string(),
                external_id: l.subject.external_id.as_str().to_owned(),
                email: l.subject.email.map(|e| e.as_str().to_owned()),
                phone: l.subject.phone.map(|p| p.as_str().to_owned()),
                granted_at: rfc3339(l.granted_at),
                reason: l.reason.into(),
            })
            .collect(),
        next_lapsed_cursor: lapsed.next.map(|(id, p)| format!("{}.{p}", id.0)),
    })
    .into_response()
}

/// `<subject id>.<purpose>`, as `next_lapsed_cursor` gives it.
fn parse_lapsed_cursor(s: &str) -> Result<(SubjectId, String), Refusal> {
    let bad = || Refusal::new("malformed_cursor");
    let (id, purpose) = s.split_once('.').ok_or_else(bad)?;
    let id = uuid::Uuid::parse_str(id).map_err(|_| bad())?;
    if !purpose
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(bad());
    }
    Ok((SubjectId(id), purpose.to_owned()))
}
