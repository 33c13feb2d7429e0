//! `POST /api/v1/imports` and `GET /api/v1/imports/{id}` (issue 31): a file streamed in the body
//! is kept under `<data_dir>/imports/` while it is read (never held in memory), then imported by a
//! background task as `doui import` imports it; the job's id is answered at once (202).
//!
//! A job left `running` by a stopped server is resumed when the server starts again, from the
//! kept file and after its last committed line; when the kept file is gone it is marked failed
//! (posting the same file again resumes it).

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::{LazyLock, Mutex},
};

use app::{
    api_key::ApiScope,
    domain::{Actor, import::Mapping},
    services::{Refusal, Services},
    store::{ImportJob, ImportState},
};
use axum::{
    Json, Router,
    body::Body,
    extract::{Path as UrlPath, RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::{OpenApi, ToSchema};

use super::{ErrorJson, authenticate, refuse as refuse_with};
use crate::import::{Format, ImportOptions, Progress};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/imports", post(create_import))
        .route("/api/v1/imports/{id}", get(import_status))
}

#[derive(OpenApi)]
#[openapi(paths(create_import, import_status), components(schemas(ImportStatus)))]
pub struct ImportsDoc;

/// An import and how far it got.
#[derive(Serialize, ToSchema)]
pub struct ImportStatus {
    /// The job's id; every event it wrote names it as its import batch.
    pub id: String,
    /// `running`, `done` or `failed`.
    #[schema(pattern = "^(running|done|failed)$")]
    pub state: String,
    pub file_name: String,
    /// The SHA-256 of the file (hex).
    pub file_sha256: String,
    /// `cli` or `api_key:<id>`.
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    pub rows_read: i64,
    pub events_written: i64,
    pub rows_refused: i64,
    /// The last line of the file whose rows are written.
    pub last_line: i64,
    /// The refused rows as CSV: `line,column,code,message` (with the header line).
    pub error_report: String,
    /// The report was cut at 1 MiB (the counts stay exact).
    pub report_truncated: bool,
    /// Why a failed import stopped.
    pub failure: Option<String>,
}

impl From<&ImportJob> for ImportStatus {
    fn from(j: &ImportJob) -> Self {
        let time = |t: time::OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        };
        Self {
            id: j.id.to_string(),
            state: j.state.key().to_owned(),
            file_name: j.file_name.clone(),
            file_sha256: j.file_sha256.clone(),
            created_by: j.created_by.clone(),
            created_at: time(j.created_at),
            updated_at: time(j.updated_at),
            rows_read: j.rows_read,
            events_written: j.events_written,
            rows_refused: j.rows_refused,
            last_line: j.last_line,
            error_report: format!("{}{}", crate::import::REPORT_HEADER, j.error_report),
            report_truncated: j.report_truncated,
            failure: j.failure.clone(),
        }
    }
}

/// Jobs this process is running (a second post of the same file while it runs starts nothing).
static RUNNING: LazyLock<Mutex<HashSet<uuid::Uuid>>> = LazyLock::new(Default::default);

/// Where a posted file is kept until its import is done: named by its batch, so a restarted
/// server finds it again.
fn kept_file(dir: &Path, batch: &str, format: Format) -> PathBuf {
    dir.join(format!("{batch}.{}", format.extension()))
}

/// Starts an import in the background, unless this process runs it already. The kept file is
/// removed once the import is done.
fn spawn(services: Services, job: uuid::Uuid, path: PathBuf, options: ImportOptions) {
    if !RUNNING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(job)
    {
        return;
    }
    tokio::spawn(async move {
        let mut sink = std::io::sink();
        match crate::import::run(&services, &path, options, &mut sink).await {
            Ok(summary) if !summary.stopped => {
                std::fs::remove_file(&path).ok();
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(%job, error = %format!("{e:#}"), "import failed"),
        }
        RUNNING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&job);
    });
}

/// Resumes the API's imports a stopped server left running (see the module's note).
pub async fn resume_on_start(services: &Services, data_dir: &Path) {
    let jobs = match services.console.imports(1_000).await {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::warn!(error = %e, "imports left running could not be listed");
            return;
        }
    };
    let dir = crate::import::spool_dir(data_dir);
    for job in jobs
        .into_iter()
        .filter(|j| j.state == ImportState::Running && j.created_by.starts_with("api_key:"))
    {
        let found = [Format::Csv, Format::Jsonl]
            .into_iter()
            .map(|f| (f, kept_file(&dir, &job.batch, f)))
            .find(|(_, p)| p.exists());
        let mapping = serde_json::from_str::<Mapping>(&job.mapping).ok();
        match (found, mapping) {
            (Some((format, path)), Some(mapping)) => {
                tracing::info!(job = %job.id, after_line = job.last_line, "resuming an import");
                let actor = job.created_by.parse::<Actor>().unwrap_or(Actor::System);
                let mut options = ImportOptions::new(mapping, format, &job.file_name, actor);
                options.progress = Progress::Quiet;
                spawn(services.clone(), job.id, path, options);
            }
            _ => {
                let failure = "interrupted, and the posted file is gone: post it again to resume";
                services
                    .console
                    .set_import_state(job.id, ImportState::Failed, Some(failure))
                    .await
                    .ok();
            }
        }
    }
}

/// The mapping from the query: `map=field=Column` and `consent=purpose:channel=Column` (each
/// repeated), `time_column`, `collection_point`, `notice_version`, `file_name`.
fn mapping_of(query: &str) -> Result<(Mapping, Option<String>), Refusal> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|_| Refusal::new("bad_request"))?;
    let all = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let one = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let known = [
        "map",
        "consent",
        "time_column",
        "collection_point",
        "notice_version",
        "file_name",
    ];
    if pairs.iter().any(|(k, _)| !known.contains(&k.as_str())) {
        return Err(Refusal::new("bad_request"));
    }
    let mapping = Mapping::parse(
        &all("map"),
        &all("consent"),
        one("time_column").as_deref(),
        one("collection_point").as_deref(),
        one("notice_version").as_deref(),
    )
    .map_err(|e| Refusal::new(e.code))?;
    Ok((mapping, one("file_name")))
}

fn format_of(headers: &HeaderMap) -> Option<Format> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
    match essence.as_str() {
        "text/csv" => Some(Format::Csv),
        "application/x-ndjson" | "application/jsonl" | "application/x-jsonlines" => {
            Some(Format::Jsonl)
        }
        _ => None,
    }
}

/// Imports subjects and consents from a CSV (`text/csv`, with a header line) or JSON Lines
/// (`application/x-ndjson`) body, its columns mapped by query parameters as `doui import` maps
/// them by flags: `map=external_id=CustomerNo`, `map=email=Email`,
/// `consent=newsletter:email=NL_Optin`, `time_column`, `collection_point`, `notice_version`.
/// Answers at once with the job; the import runs in the background. The same file posted again
/// with the same mapping is the same job (a finished one writes nothing; a stopped one resumes).
#[utoipa::path(post, path = "/api/v1/imports",
    request_body(content = String, content_type = "text/csv",
        description = "The file: CSV with a header line, or JSON Lines (application/x-ndjson)"),
    params(
        ("map" = Vec<String>, Query, description = "field=Column; field is external_id (required), email, phone, lang or jurisdiction"),
        ("consent" = Option<Vec<String>>, Query, description = "purpose:channel=Column"),
        ("time_column" = Option<String>, Query, description = "The column with when the person acted (RFC 3339 or YYYY-MM-DD)"),
        ("collection_point" = Option<String>, Query, description = "Where the consents were collected (needed for opt-in grants)"),
        ("notice_version" = Option<String>, Query, description = "The notice version shown (needed for opt-in grants)"),
        ("file_name" = Option<String>, Query, description = "The file's name, as the console shows it"),
    ),
    security(("api_key" = [])),
    responses(
        (status = 202, description = "Accepted: the job runs in the background", body = ImportStatus),
        (status = 400, description = "Malformed mapping, an unknown purpose or channel, or a mapped column the file lacks", body = ErrorJson),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `consents:write` scope", body = ErrorJson),
        (status = 415, description = "Not text/csv or application/x-ndjson", body = ErrorJson),
    ))]
pub(crate) async fn create_import(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let key = match authenticate(&state, &headers, ApiScope::ConsentsWrite).await {
        Ok(k) => k,
        Err(r) => return refuse_with(&headers, r),
    };
    let (mapping, file_name) = match mapping_of(query.as_deref().unwrap_or("")) {
        Ok(m) => m,
        Err(r) => return refuse_with(&headers, r),
    };
    let Some(format) = format_of(&headers) else {
        return refuse_with(&headers, Refusal::new("unknown_import_format"));
    };
    let services = &state.services;
    match services.store.purposes().await {
        Ok(purposes) => {
            if let Err(e) = mapping.check_purposes(&purposes) {
                return refuse_with(&headers, Refusal::new(e.code));
            }
        }
        Err(e) => return refuse_with(&headers, e.into()),
    }

    if let Err(e) = crate::import::check_collection_point(services, &mapping).await {
        let code = e
            .downcast_ref::<crate::import::Unusable>()
            .map_or("unavailable", |u| u.code);
        return refuse_with(&headers, Refusal::new(code));
    }

    // The body goes to a file as it arrives, hashed on the way.
    let dir = crate::import::spool_dir(&state.data_dir);
    let part = dir.join(format!("{}.part", uuid::Uuid::now_v7()));
    let stored = async {
        crate::files::private_dir(&dir)?;
        crate::files::private_file(&part)?;
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&part)
            .await?;
        let mut hasher = Sha256::new();
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            hasher.update(&chunk);
            tokio::io::AsyncWriteExt::write_all(&mut file, &chunk).await?;
        }
        tokio::io::AsyncWriteExt::flush(&mut file).await?;
        file.sync_all().await?;
        anyhow::Ok(
            hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
        )
    }
    .await;
    let file_sha256 = match stored {
        Ok(sha) => sha,
        Err(e) => {
            std::fs::remove_file(&part).ok();
            tracing::warn!(error = %format!("{e:#}"), "an import's body could not be kept");
            return refuse_with(&headers, Refusal::new("bad_request"));
        }
    };
    let batch = crate::import::batch_of(&file_sha256, &mapping);
    let path = kept_file(&dir, &batch, format);
    if let Err(e) = std::fs::rename(&part, &path) {
        std::fs::remove_file(&part).ok();
        tracing::warn!(error = %e, "an import's body could not be kept");
        return refuse_with(&headers, Refusal::new("unavailable"));
    }
    // The mapping must fit the file's columns before a job exists.
    if let Err(e) = crate::import::check_columns(&path, format, &mapping) {
        std::fs::remove_file(&path).ok();
        return refuse_with(&headers, Refusal::new(e.code));
    }

    let now = app::services::now();
    let actor = Actor::ApiKey(key.id.clone());
    let file_name = file_name
        .filter(|n| !n.is_empty() && n.chars().count() <= 200 && !n.chars().any(char::is_control))
        .unwrap_or_else(|| format!("upload.{}", format.extension()));
    let job = services
        .console
        .start_import(&ImportJob::starting(
            batch,
            actor.to_string(),
            file_name.clone(),
            file_sha256,
            mapping.fingerprint(),
            now,
        ))
        .await;
    let job = match job {
        Ok(j) => j,
        Err(e) => return refuse_with(&headers, e.into()),
    };
    if job.state == ImportState::Done {
        std::fs::remove_file(&path).ok();
    } else {
        let mut options = ImportOptions::new(mapping, format, &file_name, actor);
        options.lang = super::lang(&headers);
        spawn(services.clone(), job.id, path, options);
    }
    (StatusCode::ACCEPTED, Json(ImportStatus::from(&job))).into_response()
}

/// How far an import got, with its error report.
#[utoipa::path(get, path = "/api/v1/imports/{id}",
    params(("id" = String, Path, description = "The job's id")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The job", body = ImportStatus),
        (status = 401, description = "No valid API key", body = ErrorJson),
        (status = 403, description = "The key lacks the `consents:write` scope", body = ErrorJson),
        (status = 404, description = "No such import", body = ErrorJson),
    ))]
pub(crate) async fn import_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if let Err(r) = authenticate(&state, &headers, ApiScope::ConsentsWrite).await {
        return refuse_with(&headers, r);
    }
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return refuse_with(&headers, Refusal::new("unknown_import"));
    };
    match state.services.console.import_job(id).await {
        Ok(Some(job)) => Json(ImportStatus::from(&job)).into_response(),
        Ok(None) => refuse_with(&headers, Refusal::new("unknown_import")),
        Err(e) => refuse_with(&headers, e.into()),
    }
}
