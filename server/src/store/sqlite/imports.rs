//! How SQLite writes one batch of an import: on the group commit's own connection, in place
//! (prepared statements kept from batch to batch, one row a step), on a blocking thread. The
//! same transaction as `write_import`'s for PostgreSQL: the subjects, their changed fields, the
//! events (decided against the consents as the write finds them, as the group commit decides)
//! and the job's progress, committed together.

use time::format_description::well_known::Rfc3339;

use super::{SqliteStore, writes::write_group};
use crate::store::sqlite_raw::{Value, WriteConnection};

impl SqliteStore {
    /// `ImportStore::write_import` (see `sql_imports!`).
    pub(super) async fn write_import_in_place(
        &self,
        job: Option<uuid::Uuid>,
        write: std::sync::Arc<app::store::ImportWrite>,
        commit: bool,
    ) -> app::store::StoreResult<u64> {
        let _turn = self.write_turn().await;
        let (writer, path) = (self.writer.clone(), self.path.clone());
        let written = tokio::task::spawn_blocking(move || {
            let mut writer = writer.lock().unwrap_or_else(|e| e.into_inner());
            let conn = match &mut *writer {
                Some(conn) => conn,
                empty => empty.insert(WriteConnection::open(&path)?),
            };
            conn.execute("BEGIN IMMEDIATE", &[])?;
            let written = write_batch(conn, job, &write);
            let ended = match written {
                Ok(_) if commit => conn.execute("COMMIT", &[]),
                _ => conn.execute("ROLLBACK", &[]),
            };
            let written = written?;
            ended?;
            Ok::<_, app::store::StoreError>(written)
        })
        .await
        .map_err(|_| app::store::StoreError::Backend("the import's write stopped".into()))??;
        if commit {
            crate::ops::prometheus::events_written(written);
        }
        Ok(written)
    }
}

fn rfc3339(t: time::OffsetDateTime) -> app::store::StoreResult<String> {
    t.format(&Rfc3339)
        .map_err(|_| crate::store::corrupt("time"))
}

/// The statements of one batch, inside its transaction: the number of events written.
fn write_batch(
    conn: &mut WriteConnection,
    job: Option<uuid::Uuid>,
    write: &app::store::ImportWrite,
) -> app::store::StoreResult<u64> {
    let now = rfc3339(time::OffsetDateTime::now_utc())?;
    for (id, s) in &write.new_subjects {
        conn.execute(
            "INSERT INTO subjects (id, external_id, email, phone, lang, created_at, jurisdiction) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &[
                Value::Blob(id.0.as_bytes()),
                Value::Text(s.external_id.as_str()),
                s.email.as_ref().map(|e| e.as_str()).into(),
                s.phone.as_ref().map(|p| p.as_str()).into(),
                Value::Text(s.lang.key()),
                Value::Text(&now),
                Value::Text(s.jurisdiction.key()),
            ],
        )?;
    }
    for s in &write.updated_subjects {
        conn.execute(
            "UPDATE subjects SET email = ?1, phone = ?2, lang = ?3, jurisdiction = ?4 \
             WHERE id = ?5 AND erased_at IS NULL",
            &[
                s.email.as_ref().map(|e| e.as_str()).into(),
                s.phone.as_ref().map(|p| p.as_str()).into(),
                Value::Text(s.lang.key()),
                Value::Text(s.jurisdiction.key()),
                Value::Blob(s.id.0.as_bytes()),
            ],
        )?;
    }
    for (id, field, value) in &write.subject_changes {
        conn.execute(
            "INSERT INTO subject_changes (subject_id, field, new_value, changed_at, changed_by) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            &[
                Value::Blob(id.0.as_bytes()),
                Value::Text(field),
                value.as_deref().into(),
                Value::Text(&now),
                Value::Text(&write.changed_by),
            ],
        )?;
    }
    // Decided and written as the group commit writes a group: a change that arrives late here
    // fails the batch, with nothing of it written (see `sql_imports!`).
    let requests = std::slice::from_ref(&write.changes);
    let applied = write_group(conn, requests)?;
    let written = applied
        .iter()
        .flatten()
        .filter(|a| matches!(a.outcome, app::domain::Outcome::Recorded(_)))
        .count() as u64;
    if let Some(job) = job {
        conn.execute(
            "UPDATE import_jobs SET rows_read = rows_read + ?1, events_written = events_written + ?2, \
             rows_refused = rows_refused + ?3, last_line = ?4, error_report = error_report || ?5, \
             report_truncated = (report_truncated OR ?6), updated_at = ?7 \
             WHERE id = ?8 AND last_line = ?9",
            &[
                Value::Int(write.rows_read),
                Value::Int(written as i64),
                Value::Int(write.rows_refused),
                Value::Int(write.through_line),
                Value::Text(&write.report),
                Value::Int(i64::from(write.report_truncated)),
                Value::Text(&rfc3339(time::OffsetDateTime::now_utc())?),
                Value::Blob(job.as_bytes()),
                Value::Int(write.after_line),
            ],
        )?;
        if conn.changes() != 1 {
            return Err(app::store::StoreError::ImportProgressMoved);
        }
    }
    Ok(written)
}
