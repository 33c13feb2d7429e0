//! Bulk import (issue 31), shared by `doui import` and `POST /api/v1/imports`: a file is read as a
//! stream on a thread of its own (never whole), checked row by row, and written in batches of
//! [`IMPORT_BATCH`] rows, each in one transaction with the job's progress; so a run stopped
//! halfway and started again resumes after the last committed line, and a file imported twice
//! with the same mapping writes nothing the second time.

use std::{
    io::{BufRead, Read, Write},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::Context;
use app::{
    domain::{
        Actor, Lang,
        import::{Columns, IMPORT_BATCH, ImportRow, Mapping, RowError, check_row},
    },
    services::{ImportContext, Services},
    store::{ImportJob, ImportState},
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::store::imports::REPORT_CAP;

/// The two formats a file may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    /// JSON Lines: one object per line, its keys the columns.
    Jsonl,
}

impl Format {
    /// `csv`, `jsonl` (or `ndjson`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }

    /// By a file name's extension (`.jsonl`, `.ndjson`; anything else is CSV).
    pub fn of_path(path: &Path) -> Self {
        path.extension()
            .and_then(|e| e.to_str())
            .and_then(Format::parse)
            .unwrap_or(Format::Csv)
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A bar on a terminal (rows/s, ETA).
    Bar,
    /// A plain line on standard error every few seconds.
    Lines,
    Quiet,
}

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

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportSummary {
    /// The job (none for a dry run).
    pub job: Option<ImportJob>,
    /// Rows read by this run (a resumed run counts only what it read).
    pub rows_read: u64,
    pub rows_refused: u64,
    /// Events written (a dry run: that would be written).
    pub events_written: u64,
    /// The same file and mapping were imported before: nothing was read or written.
    pub already_done: bool,
    /// The run started after this line (a resumed import), 0 when from the start.
    pub resumed_after: i64,
    /// Stopped before the end (`stop_after_batches`, or `--strict` at a refused row).
    pub stopped: bool,
}

/// A mapping or file that cannot be imported at all (nothing is written): a code and detail.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct Unusable {
    pub code: &'static str,
    pub detail: String,
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

/// The SHA-256 (hex) of a file, read in pieces.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Copies `input` into `path` as it is read, and returns its SHA-256 (hex): standard input and
/// request bodies are kept in a file so a stopped import can be resumed.
pub fn spool(mut input: impl Read, path: &Path) -> anyhow::Result<String> {
    crate::files::private_file(path)?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)?;
    let mut out = std::io::BufWriter::new(file);
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])?;
    }
    out.flush()?;
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The batch an import of a file (by its digest) with a mapping is: the same file and mapping
/// is the same batch.
pub fn batch_of(file_sha256: &str, mapping: &Mapping) -> String {
    let mut hasher = Sha256::new();
    hasher.update(file_sha256.as_bytes());
    hasher.update(b"\n");
    hasher.update(mapping.fingerprint().as_bytes());
    hex(&hasher.finalize())
}

/// The header of an error report.
pub const REPORT_HEADER: &str = "line,column,code,message\n";

/// Refused rows as lines of the error report (the guarded CSV writer: columns and messages are
/// text from outside).
pub fn report_lines(errors: &[RowError], lang: Lang) -> String {
    let mut out = String::new();
    for e in errors {
        crate::csv::push_plain(&mut out, &e.line.to_string());
        out.push(',');
        crate::csv::push_text(&mut out, &e.column);
        out.push(',');
        crate::csv::push_plain(&mut out, e.code);
        out.push(',');
        crate::csv::push_text(&mut out, app::i18n::error_message(lang, e.code));
        out.push('\n');
    }
    out
}

/// One batch as the reading thread hands it over.
struct Batch {
    rows: Vec<Result<ImportRow, RowError>>,
    /// The last line read.
    through_line: u64,
    /// Bytes of the file read so far.
    bytes: u64,
}

/// The rows of a file, in order, each checked; lines up to `after_line` are skipped.
struct Rows {
    inner: RowsInner,
    columns: Columns,
    after_line: u64,
    now: time::OffsetDateTime,
}

enum RowsInner {
    Csv(
        csv::Reader<std::io::BufReader<std::fs::File>>,
        csv::StringRecord,
    ),
    Jsonl {
        reader: std::io::BufReader<std::fs::File>,
        line: u64,
        bytes: u64,
    },
}

impl Rows {
    /// Opens a file and resolves the mapping against its columns.
    fn open(
        path: &Path,
        format: Format,
        mapping: &Mapping,
        after_line: u64,
    ) -> anyhow::Result<Self> {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let reader = std::io::BufReader::with_capacity(1 << 16, file);
        let now = app::services::now();
        let unusable = |e: app::domain::import::MappingError| Unusable {
            code: e.code,
            detail: e.detail,
        };
        match format {
            Format::Csv => {
                let mut csv = csv::ReaderBuilder::new()
                    .flexible(true)
                    .has_headers(true)
                    .from_reader(reader);
                let header: Vec<String> = csv
                    .headers()
                    .map_err(|e| Unusable {
                        code: "malformed_row",
                        detail: format!("header: {e}"),
                    })?
                    .iter()
                    .map(str::to_owned)
                    .collect();
                let columns = mapping.resolve(&header).map_err(unusable)?;
                Ok(Self {
                    inner: RowsInner::Csv(csv, csv::StringRecord::new()),
                    columns,
                    after_line,
                    now,
                })
            }
            Format::Jsonl => {
                // Each object's keys are its columns: the mapped names are all there are.
                let mut names = vec![mapping.external_id.clone()];
                names.extend(
                    [
                        &mapping.email,
                        &mapping.phone,
                        &mapping.lang,
                        &mapping.jurisdiction,
                        &mapping.time_column,
                    ]
                    .into_iter()
                    .flatten()
                    .cloned(),
                );
                names.extend(mapping.consents.iter().map(|c| c.column.clone()));
                let columns = mapping.resolve(&names).map_err(unusable)?;
                Ok(Self {
                    inner: RowsInner::Jsonl {
                        reader,
                        line: 0,
                        bytes: 0,
                    },
                    columns,
                    after_line,
                    now,
                })
            }
        }
    }

    /// The next row (checked), its line, and the bytes read so far; `None` at the end.
    fn next(&mut self) -> anyhow::Result<Option<ReadRow>> {
        loop {
            let (line, row, bytes) = match &mut self.inner {
                RowsInner::Csv(reader, record) => match reader.read_record(record) {
                    Ok(false) => return Ok(None),
                    Ok(true) => {
                        let (line, byte) =
                            record.position().map_or((0, 0), |p| (p.line(), p.byte()));
                        if line <= self.after_line {
                            continue;
                        }
                        let row = check_row(line, &self.columns, |i| record.get(i), self.now);
                        (line, row, byte)
                    }
                    Err(e) => match e.kind() {
                        csv::ErrorKind::Utf8 { pos, .. } => {
                            let line = pos.as_ref().map_or(0, |p| p.line());
                            let bytes = pos.as_ref().map_or(0, |p| p.byte());
                            if line <= self.after_line {
                                continue;
                            }
                            (line, Err(malformed(line)), bytes)
                        }
                        _ => return Err(anyhow::anyhow!("reading the file: {e}")),
                    },
                },
                RowsInner::Jsonl {
                    reader,
                    line,
                    bytes,
                } => {
                    let mut raw = Vec::new();
                    let n = reader
                        .read_until(b'\n', &mut raw)
                        .context("reading the file")?;
                    if n == 0 {
                        return Ok(None);
                    }
                    *line += 1;
                    *bytes += n as u64;
                    let (line, bytes) = (*line, *bytes);
                    if line <= self.after_line || raw.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let object = std::str::from_utf8(&raw).ok().and_then(|text| {
                        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
                            .ok()
                    });
                    let row = match object {
                        None => Err(malformed(line)),
                        Some(object) => {
                            let cells: Vec<Option<String>> = self
                                .columns
                                .names
                                .iter()
                                .map(|name| match object.get(name) {
                                    None | Some(serde_json::Value::Null) => None,
                                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                                    Some(other) => Some(other.to_string()),
                                })
                                .collect();
                            check_row(
                                line,
                                &self.columns,
                                |i| cells.get(i).and_then(|c| c.as_deref()),
                                self.now,
                            )
                        }
                    };
                    (line, row, bytes)
                }
            };
            return Ok(Some((line, row, bytes)));
        }
    }
}

/// A row read: its line, the row checked, and the bytes of the file read so far.
type ReadRow = (u64, Result<ImportRow, RowError>, u64);

fn malformed(line: u64) -> RowError {
    RowError {
        line,
        column: String::new(),
        code: "malformed_row",
    }
}

/// Checks that a file has every column the mapping names (nothing is read beyond its header).
pub fn check_columns(path: &Path, format: Format, mapping: &Mapping) -> Result<(), Unusable> {
    match Rows::open(path, format, mapping, 0) {
        Ok(_) => Ok(()),
        Err(e) => Err(e.downcast::<Unusable>().unwrap_or_else(|e| Unusable {
            code: "malformed_row",
            detail: format!("{e:#}"),
        })),
    }
}

/// Checks a whole file without the database (`--strict` does this first): the first refused
/// row, if any.
fn first_bad_row(
    path: &Path,
    options: &ImportOptions,
    after_line: u64,
) -> anyhow::Result<Option<RowError>> {
    let mut rows = Rows::open(path, options.format, &options.mapping, after_line)?;
    while let Some((_, row, _)) = rows.next()? {
        if let Err(e) = row {
            return Ok(Some(e));
        }
    }
    Ok(None)
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
    drop(Rows::open(path, options.format, &options.mapping, 0)?);

    // --strict: the whole file is checked first; a refused row stops it before anything is
    // stored.
    if options.strict {
        let (path, format, mapping) = (path.to_owned(), options.format, options.mapping.clone());
        let bad = tokio::task::spawn_blocking(move || {
            let probe = ImportOptions::new(mapping, format, "", Actor::System);
            first_bad_row(&path, &probe, 0)
        })
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
            .start_import(&ImportJob {
                id: Uuid::now_v7(),
                batch: batch.clone(),
                created_by: options.created_by.clone(),
                created_at: now,
                updated_at: now,
                file_name: options.file_name.clone(),
                file_sha256: file_sha256.clone(),
                mapping: options.mapping.fingerprint(),
                state: ImportState::Running,
                rows_read: 0,
                events_written: 0,
                rows_refused: 0,
                last_line: 0,
                error_report: String::new(),
                report_truncated: false,
                failure: None,
            })
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

/// Reads the file on a thread of its own and writes its batches, in order.
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
    let (sender, mut batches) = tokio::sync::mpsc::channel::<anyhow::Result<Batch>>(2);
    let reader = {
        let (path, format, mapping, size) = (
            path.to_owned(),
            options.format,
            options.mapping.clone(),
            options.batch_rows.max(1),
        );
        std::thread::spawn(move || {
            let mut rows = match Rows::open(&path, format, &mapping, after_line) {
                Ok(rows) => rows,
                Err(e) => {
                    let _ = sender.blocking_send(Err(e));
                    return;
                }
            };
            let mut batch = Batch {
                rows: Vec::with_capacity(size),
                through_line: after_line,
                bytes: 0,
            };
            loop {
                match rows.next() {
                    Ok(Some((line, row, bytes))) => {
                        batch.rows.push(row);
                        (batch.through_line, batch.bytes) = (line, bytes);
                        if batch.rows.len() == size {
                            let next = Batch {
                                rows: Vec::with_capacity(size),
                                through_line: line,
                                bytes,
                            };
                            if sender
                                .blocking_send(Ok(std::mem::replace(&mut batch, next)))
                                .is_err()
                            {
                                return;
                            }
                        }
                    }
                    Ok(None) => {
                        if !batch.rows.is_empty() {
                            let _ = sender.blocking_send(Ok(batch));
                        }
                        return;
                    }
                    Err(e) => {
                        let _ = sender.blocking_send(Err(e));
                        return;
                    }
                }
            }
        })
    };

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
    let mut shown = Shown::new(options.progress, total_bytes);
    let mut written_batches = 0;
    while let Some(next) = batches.recv().await {
        let next = next?;
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
        write.through_line = next.through_line as i64;
        let events = services
            .console
            .write_import(job.map(|j| j.id), write, !options.dry_run)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        summary.rows_read += rows_read;
        summary.rows_refused += refused.len() as u64;
        summary.events_written += events;
        shown.update(&summary, next.bytes);
        written_batches += 1;
        if options.stop_after_batches == Some(written_batches) {
            summary.stopped = true;
            break;
        }
    }
    drop(batches);
    let _ = reader.join();
    shown.finish(&summary);
    report.flush()?;
    Ok(summary)
}

/// The progress shown while an import runs.
struct Shown {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    started: Instant,
    last: Instant,
    total_bytes: u64,
}

impl Shown {
    fn new(progress: Progress, total_bytes: u64) -> Self {
        let bar = (progress == Progress::Bar).then(|| {
            let bar = indicatif::ProgressBar::new(total_bytes);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {percent:>3}% {msg} · ETA {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Self {
            bar,
            lines: progress == Progress::Lines,
            started: Instant::now(),
            last: Instant::now(),
            total_bytes,
        }
    }

    fn rate(&self, summary: &ImportSummary) -> u64 {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        (summary.rows_read as f64 / secs) as u64
    }

    fn update(&mut self, summary: &ImportSummary, bytes: u64) {
        let rate = self.rate(summary);
        if let Some(bar) = &self.bar {
            bar.set_position(bytes);
            bar.set_message(format!(
                "{} rows ({rate} rows/s), {} refused, {} events",
                summary.rows_read, summary.rows_refused, summary.events_written
            ));
        } else if self.lines && self.last.elapsed() >= Duration::from_secs(5) {
            self.last = Instant::now();
            let percent = (bytes * 100).checked_div(self.total_bytes).unwrap_or(100);
            eprintln!(
                "import: {} rows read ({percent}% of the file), {} refused, {} events written, {rate} rows/s",
                summary.rows_read, summary.rows_refused, summary.events_written
            );
        }
    }

    fn finish(&self, summary: &ImportSummary) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.lines || self.bar.is_some() {
            eprintln!(
                "import: {} rows read, {} refused, {} events written in {:.1} s ({} rows/s)",
                summary.rows_read,
                summary.rows_refused,
                summary.events_written,
                self.started.elapsed().as_secs_f64(),
                self.rate(summary)
            );
        }
    }
}

/// Where an import's spooled copy of standard input or a request body is kept until it is done.
pub fn spool_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("imports")
}
