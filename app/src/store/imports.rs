//! Bulk imports: jobs, their progress and their writes.

use super::*;

/// How far an import got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportState {
    /// Being written (or stopped halfway: a run of the same file and mapping resumes it).
    Running,
    Done,
    Failed,
}

impl ImportState {
    pub const fn key(self) -> &'static str {
        match self {
            ImportState::Running => "running",
            ImportState::Done => "done",
            ImportState::Failed => "failed",
        }
    }
}

impl std::str::FromStr for ImportState {
    type Err = crate::domain::Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [ImportState::Running, ImportState::Done, ImportState::Failed]
            .into_iter()
            .find(|x| x.key() == s)
            .ok_or(crate::domain::Invalid::new("state", "unknown_import_state"))
    }
}

/// One import of a file (`doui import`, `POST /api/v1/imports`): who, when, which file, with which
/// mapping, and how far it got. Its id names the import batch on every event it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJob {
    pub id: uuid::Uuid,
    /// The SHA-256 (hex) of the file's digest and the mapping: the same file imported with the
    /// same mapping is the same batch, so a second run resumes it or writes nothing.
    pub batch: String,
    /// `cli` or `api_key:<id>`.
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub file_name: String,
    pub file_sha256: String,
    /// The mapping as [`Mapping::fingerprint`](crate::domain::import::Mapping::fingerprint) gives it.
    pub mapping: String,
    pub state: ImportState,
    pub rows_read: i64,
    pub events_written: i64,
    pub rows_refused: i64,
    /// The last line of the file whose rows are committed (a rerun starts after it).
    pub last_line: i64,
    /// The refused rows as CSV lines (line, column, code, message), without the header; capped.
    pub error_report: String,
    /// The report was cut at its cap (the counts stay exact).
    pub report_truncated: bool,
    /// Why a failed import stopped.
    pub failure: Option<String>,
}

impl ImportJob {
    /// A job that starts now, running, nothing of its file read yet (`ImportStore::start_import`
    /// returns the stored one instead when the batch has a job already).
    pub fn starting(
        batch: String,
        created_by: String,
        file_name: String,
        file_sha256: String,
        mapping: String,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: uuid::Uuid::now_v7(),
            batch,
            created_by,
            created_at: now,
            updated_at: now,
            file_name,
            file_sha256,
            mapping,
            state: ImportState::Running,
            rows_read: 0,
            events_written: 0,
            rows_refused: 0,
            last_line: 0,
            error_report: String::new(),
            report_truncated: false,
            failure: None,
        }
    }
}

/// One batch of an import: subjects to create and to update, the consent changes, and the job's
/// progress once it is committed.
#[derive(Debug, Clone, Default)]
pub struct ImportWrite {
    pub new_subjects: Vec<(SubjectId, NewSubject)>,
    /// Existing subjects with their new email, phone, language and jurisdiction.
    pub updated_subjects: Vec<Subject>,
    /// Each field an update changes (as `update_subject` records it): the subject, the field,
    /// the new value (language and jurisdiction only).
    pub subject_changes: Vec<(SubjectId, &'static str, Option<String>)>,
    /// Who the subject changes are recorded as made by (`cli` or `api_key:<id>`).
    pub changed_by: String,
    pub changes: Vec<Change>,
    /// The last line the batch before this one read (the line this one starts after): the job's
    /// progress must still say so when this batch commits, so that batches commit in order, each
    /// after the one before it, and two runs of one file cannot interleave.
    pub after_line: i64,
    /// The last line this batch read.
    pub through_line: i64,
    pub rows_read: i64,
    pub rows_refused: i64,
    /// Lines to add to the error report.
    pub report: String,
    /// The report reached its cap.
    pub report_truncated: bool,
}

/// Import jobs and their batches.
#[async_trait]
pub trait ImportStore: Send + Sync + 'static {
    /// The job of `job.batch`, stored as given (running) when there is none; an existing one is
    /// returned as it is stored.
    async fn start_import(&self, job: &ImportJob) -> StoreResult<ImportJob>;
    async fn import_job(&self, id: uuid::Uuid) -> StoreResult<Option<ImportJob>>;
    /// The latest imports, newest first.
    async fn imports(&self, limit: u32) -> StoreResult<Vec<ImportJob>>;
    /// Writes one batch in one transaction: the subjects, the events and the projection (decided
    /// against the current choices as `decide` does), and, for a `job`, its progress; so a batch
    /// is committed with the line it reached, or not at all. With `commit` false everything is
    /// rolled back (a dry run). Returns how many events were (or would be) written. Shared, so
    /// that a batch refused with `ImportProgressMoved` because it overtook the batch before it
    /// can be written again once that one has committed.
    async fn write_import(
        &self,
        job: Option<uuid::Uuid>,
        write: std::sync::Arc<ImportWrite>,
        commit: bool,
    ) -> StoreResult<u64>;
    /// Sets a job's state (with why it failed).
    async fn set_import_state(
        &self,
        id: uuid::Uuid,
        state: ImportState,
        failure: Option<&str>,
    ) -> StoreResult<()>;
}
