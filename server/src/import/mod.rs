//! Bulk import (issue 31), shared by `doui import` and `POST /api/v1/imports`: a file is read as a
//! stream on a thread of its own (never whole), checked row by row, and written in batches of
//! [`IMPORT_BATCH`] rows, each in one transaction with the job's progress; so a run stopped
//! halfway and started again resumes after the last committed line, and a file imported twice
//! with the same mapping writes nothing the second time.
//!
//! `file.rs` reads (formats, digests, the spooled copy, rows checked in batches); `report.rs`
//! tells (the summary, the progress shown, the error report); this file writes.

mod file;
mod report;

use std::{
    collections::HashSet,
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

use app::{
    domain::{
        Actor, Lang,
        import::{IMPORT_BATCH, Mapping},
    },
    services::{ImportContext, Services},
    store::{ImportJob, ImportState},
};
use uuid::Uuid;

pub use file::{Format, Unusable, batch_of, check_columns, file_sha256, spool};
pub use report::{ImportSummary, Progress, REPORT_HEADER, report_lines};

use crate::store::imports::REPORT_CAP;

/// What an import is asked to do.
pub struct ImportOptions {
    pub mapping: Mapping,
    pub format: Format,
    /// The file's name as the job shows it.
    pub file_name: String,
    /// `cli` or `api_key:<id>`.
    pub created_by: String,
    pub actor: Actor,
    /// Check everything, write nothing.
    pub dry_run: bool,
    /// Stop at the first refused row (a row refused by its own check stops before anything is
    /// written: the file is checked whole first).
    pub strict: bool,
    /// The language of the error report's messages.
    pub lang: Lang,
    pub progress: Progress,
    /// Rows per transaction.
    pub batch_rows: usize,
    /// Stop (as if killed) after this many batches: how tests stop an import halfway.
    pub stop_after_batches: Option<usize>,
}

impl ImportOptions {
    pub fn new(mapping: Mapping, format: Format, file_name: &str, actor: Actor) -> Self {
        let created_by = match &actor {
            Actor::ApiKey(_) => actor.to_string(),
            _ => "cli".to_owned(),
        };
        Self {
            mapping,
            format,
            file_name: file_name.to_owned(),
            created_by,
            actor,
            dry_run: false,
            strict: false,
            lang: Lang::En,
            progress: Progress::Quiet,
            batch_rows: IMPORT_BATCH,
            stop_after_batches: None,
        }
    }
}

/// The collection point a mapping names must be registered and not retired (else every row
/// would be refused): checked before anything is read or stored.
pub async fn check_collection_point(services: &Services, mapping: &Mapping) -> anyhow::Result<()> {
    let Some(key) = &mapping.collection_point else {
        return Ok(());
    };
    let points = services
        .collection_points()
        .await
        .map_err(|r| anyhow::anyhow!("{}", r.code))?;
    match points.iter().find(|p| &p.key == key) {
        None => Err(Unusable {
            code: "unknown_collection_point",
            detail: key.clone(),
        }
        .into()),
        Some(p) if p.is_retired() => Err(Unusable {
            code: "collection_point_retired",
            detail: key.clone(),
        }
        .into()),
        Some(_) => Ok(()),
    }
}

/// Imports the file at `path`. The error report (with its header) goes to `report` as rows are
/// refused; a resumed import writes the report kept so far first.
pub async fn run(
    services: &Services,
    path: &Path,
    options: ImportOptions,
    report: &mut (dyn Write + Send),
) -> anyhow::Result<ImportSummary> {
    let purposes = services
        .store
        .purposes()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    options
        .mapping
        .check_purposes(&purposes)
        .map_err(|e| Unusable {
            code: e.code,
            detail: e.detail,
        })?;
    check_collection_point(services, &options.mapping).await?;
    let file_sha256 = {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || file_sha256(&path)).await??
    };
    let batch = batch_of(&file_sha256, &options.mapping);
    // The mapping must fit the file before anything is stored.
    drop(file::Rows::open(path, options.format, &options.mapping, 0)?);

    // --strict: the whole file is checked first; a refused row stops it before anything is
    // stored.
    if options.strict {
        let (path, format, mapping) = (path.to_owned(), options.format, options.mapping.clone());
        let bad =
            tokio::task::spawn_blocking(move || file::first_bad_row(&path, format, &mapping, 0))
                .await??;
        if let Some(bad) = bad {
            report.write_all(REPORT_HEADER.as_bytes())?;
            report.write_all(report_lines(std::slice::from_ref(&bad), options.lang).as_bytes())?;
            report.flush()?;
            return Ok(ImportSummary {
                rows_refused: 1,
                stopped: true,
                ..ImportSummary::default()
            });
        }
    }

    let now = app::services::now();
    let job = if options.dry_run {
        None
    } else {
        let job = services
            .console
            .start_import(&ImportJob::starting(
                batch.clone(),
                options.created_by.clone(),
                options.file_name.clone(),
                file_sha256.clone(),
                options.mapping.fingerprint(),
                now,
            ))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Some(job)
    };
    report.write_all(REPORT_HEADER.as_bytes())?;
    if let Some(job) = &job {
        report.write_all(job.error_report.as_bytes())?;
        if job.state == ImportState::Done {
            return Ok(ImportSummary {
                job: Some(job.clone()),
                already_done: true,
                ..ImportSummary::default()
            });
        }
    }
    let after_line = job.as_ref().map_or(0, |j| j.last_line.max(0) as u64);
    let result = write_all(services, path, &options, job.as_ref(), after_line, report).await;
    match (&result, &job) {
        (Ok(summary), Some(job)) if !summary.stopped => {
            services
                .console
                .set_import_state(job.id, ImportState::Done, None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        (Ok(summary), Some(job)) if options.strict && summary.rows_refused > 0 => {
            let failure = app::i18n::error_message(Lang::En, "import_refused_row");
            services
                .console
                .set_import_state(job.id, ImportState::Failed, Some(failure))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        (Err(e), Some(job)) => {
            // Recorded as failed; a run of the same file resumes after the last committed line.
            let _ = services
                .console
                .set_import_state(job.id, ImportState::Failed, Some(&format!("{e:#}")))
                .await;
        }
        _ => {}
    }
    let mut summary = result?;
    if let Some(job) = &job {
        summary.job = services
            .console
            .import_job(job.id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    summary.resumed_after = after_line as i64;
    Ok(summary)
}

async fn write_all(
    services: &Services,
    path: &Path,
    options: &ImportOptions,
    job: Option<&ImportJob>,
    after_line: u64,
    report: &mut (dyn Write + Send),
) -> anyhow::Result<ImportSummary> {
    let mut summary = ImportSummary::default();
    let total_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let (mut batches, reader) = file::read_batches(
        path.to_owned(),
        options.format,
        options.mapping.clone(),
        options.batch_rows.max(1),
        after_line,
    );

    let ctx = ImportContext {
        mapping: options.mapping.clone(),
        actor: options.actor.clone(),
        batch: job.map_or_else(Uuid::now_v7, |j| j.id),
        purposes: services
            .store
            .purposes()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        points: std::sync::Arc::new(
            services
                .collection_points()
                .await
                .map_err(|r| anyhow::anyhow!("{}", r.code))?,
        ),
        now: app::services::now(),
    };
    let mut report_len = job.map_or(0, |j| j.error_report.len());
    let mut truncated = job.is_some_and(|j| j.report_truncated);
    let mut shown = report::Shown::new(options.progress, total_bytes);
    let mut planned_batches = 0;
    // The batch being written while the next one is read, planned and (on PostgreSQL) written
    // too; it commits first (see `ImportWrite::after_line`).
    let mut writing: Option<Writing> = None;
    let mut previous_line = after_line as i64;
    let mut failed = None;
    while let Some(next) = batches.recv().await {
        let next = next?;
        // A batch whose people the batch being written also names is planned once that one has
        // committed: planned before, it would not see the subjects and choices it makes.
        let keys = batch_keys(&next.rows);
        if writing.as_ref().is_some_and(|w| !w.keys.is_disjoint(&keys))
            && let Err(e) = finish(services, writing.take(), &mut summary, &mut shown).await
        {
            failed = Some(e);
            break;
        }
        let rows_read = next.rows.len() as u64;
        let (mut write, refused) = services
            .plan_import(&ctx, next.rows)
            .await
            .map_err(|r| anyhow::anyhow!("{}", app::i18n::error_message(Lang::En, r.code)))?;
        let lines = report_lines(&refused, options.lang);
        report.write_all(lines.as_bytes())?;
        if options.strict && !refused.is_empty() {
            summary.rows_refused += refused.len() as u64;
            summary.stopped = true;
            break;
        }
        if report_len + lines.len() <= REPORT_CAP && !truncated {
            report_len += lines.len();
            write.report = lines;
        } else {
            truncated = true;
        }
        write.report_truncated = truncated;
        write.rows_read = rows_read as i64;
        write.rows_refused = refused.len() as i64;
        write.after_line = previous_line;
        write.through_line = next.through_line as i64;
        previous_line = write.through_line;
        let (job, commit, write) = (job.map(|j| j.id), !options.dry_run, Arc::new(write));
        let started = {
            let (services, write) = (services.clone(), write.clone());
            tokio::spawn(async move { services.console.write_import(job, write, commit).await })
        };
        let before = writing.replace(Writing {
            started,
            job,
            commit,
            write,
            keys,
            rows_read,
            rows_refused: refused.len() as u64,
            bytes: next.bytes,
        });
        if let Err(e) = finish(services, before, &mut summary, &mut shown).await {
            failed = Some(e);
            break;
        }
        planned_batches += 1;
        if options.stop_after_batches == Some(planned_batches) {
            summary.stopped = true;
            break;
        }
    }
    // The last batch (after a failure: the one after it fails too, as the progress it starts
    // from was never written).
    let last = if failed.is_some() {
        Ok(())
    } else {
        finish(services, writing.take(), &mut summary, &mut shown).await
    };
    if let Some(w) = writing.take() {
        // Waited for, never written again: it commits only where the failed batch would have.
        let _ = w.started.await;
    }
    drop(batches);
    let _ = reader.join();
    if let Some(e) = failed {
        return Err(e);
    }
    last?;
    shown.finish(&summary);
    report.flush()?;
    Ok(summary)
}

/// A batch being written, and what it counts once it is.
struct Writing {
    started: tokio::task::JoinHandle<app::store::StoreResult<u64>>,
    job: Option<Uuid>,
    commit: bool,
    write: Arc<app::store::ImportWrite>,
    /// The external ids and addresses its rows name.
    keys: HashSet<String>,
    rows_read: u64,
    rows_refused: u64,
    bytes: u64,
}

/// The external ids and addresses the rows of a batch name.
fn batch_keys(
    rows: &[Result<app::domain::import::ImportRow, app::domain::import::RowError>],
) -> HashSet<String> {
    let mut keys = HashSet::with_capacity(rows.len() * 2);
    for row in rows.iter().flatten() {
        keys.insert(format!("id:{}", row.external_id.as_str()));
        if let Some(email) = &row.email {
            keys.insert(format!("email:{}", email.as_str()));
        }
    }
    keys
}

/// Waits for a batch's write and counts it. Called once the batch before it has committed: a
/// batch that reached the job's progress before the one before it had written its own (written
/// at once, it can overtake it) was rolled back, and is written again now.
async fn finish(
    services: &Services,
    writing: Option<Writing>,
    summary: &mut ImportSummary,
    shown: &mut report::Shown,
) -> anyhow::Result<()> {
    let Some(w) = writing else {
        return Ok(());
    };
    let written = w
        .started
        .await
        .map_err(|_| anyhow::anyhow!("the import's write stopped"))?;
    let written = match written {
        Err(app::store::StoreError::ImportProgressMoved) => {
            services
                .console
                .write_import(w.job, w.write.clone(), w.commit)
                .await
        }
        other => other,
    };
    let events = written.map_err(|e| anyhow::anyhow!("{e}"))?;
    summary.rows_read += w.rows_read;
    summary.rows_refused += w.rows_refused;
    summary.events_written += events;
    shown.update(summary, w.bytes);
    Ok(())
}

/// Where an import's spooled copy of standard input or a request body is kept until it is done.
pub fn spool_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("imports")
}
