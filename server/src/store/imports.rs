//! `ImportStore` for both backends, written once (expanded in sqlite.rs and postgres.rs): the
//! import jobs, and the write of one batch of rows (subjects, events, projection and the job's
//! progress) in one transaction.

/// The error report kept with a job is cut at this many bytes (the counts stay exact).
pub const REPORT_CAP: usize = 1 << 20;

macro_rules! sql_imports {
    ($store:ty, $db:ty, placeholder = $ph:path, begin = $begin:literal, lock = $lock:literal,
     write = $write:ident, write_batch = $write_batch:ident) => {
        impl $store {
            /// A job as a row of `import_jobs` holds it.
            fn import_job_at(
                row: &<$db as sqlx::Database>::Row,
            ) -> app::store::StoreResult<app::store::ImportJob> {
                use sqlx::Row;
                let bad = |_| crate::store::corrupt("import job");
                let state: String = row.try_get("state").map_err(bad)?;
                Ok(app::store::ImportJob {
                    id: row.try_get("id").map_err(bad)?,
                    batch: row.try_get("batch").map_err(bad)?,
                    created_by: row.try_get("created_by").map_err(bad)?,
                    created_at: row.try_get("created_at").map_err(bad)?,
                    updated_at: row.try_get("updated_at").map_err(bad)?,
                    file_name: row.try_get("file_name").map_err(bad)?,
                    file_sha256: row.try_get("file_sha256").map_err(bad)?,
                    mapping: row.try_get("mapping").map_err(bad)?,
                    state: state.parse().map_err(|_| crate::store::corrupt("import state"))?,
                    rows_read: row.try_get("rows_read").map_err(bad)?,
                    events_written: row.try_get("events_written").map_err(bad)?,
                    rows_refused: row.try_get("rows_refused").map_err(bad)?,
                    last_line: row.try_get("last_line").map_err(bad)?,
                    error_report: row.try_get("error_report").map_err(bad)?,
                    report_truncated: row.try_get("report_truncated").map_err(bad)?,
                    failure: row.try_get("failure").map_err(bad)?,
                })
            }
        }

        #[async_trait::async_trait]
        impl app::store::ImportStore for $store {
            async fn start_import(
                &self,
                job: &app::store::ImportJob,
            ) -> app::store::StoreResult<app::store::ImportJob> {
                use crate::store::db_error;
                sqlx::query(
                    "INSERT INTO import_jobs (id, batch, created_by, created_at, updated_at, file_name, \
                     file_sha256, mapping, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (batch) DO NOTHING",
                )
                .bind(job.id)
                .bind(&job.batch)
                .bind(&job.created_by)
                .bind(job.created_at)
                .bind(job.updated_at)
                .bind(&job.file_name)
                .bind(&job.file_sha256)
                .bind(&job.mapping)
                .bind(job.state.key())
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
                let row = sqlx::query("SELECT * FROM import_jobs WHERE batch = $1")
                    .bind(&job.batch)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_error)?;
                Self::import_job_at(&row)
            }

            async fn import_job(
                &self,
                id: uuid::Uuid,
            ) -> app::store::StoreResult<Option<app::store::ImportJob>> {
                let row = sqlx::query("SELECT * FROM import_jobs WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                row.as_ref().map(Self::import_job_at).transpose()
            }

            async fn imports(
                &self,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::store::ImportJob>> {
                let rows = sqlx::query("SELECT * FROM import_jobs ORDER BY created_at DESC, id LIMIT $1")
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                rows.iter().map(Self::import_job_at).collect()
            }

            async fn set_import_state(
                &self,
                id: uuid::Uuid,
                state: app::store::ImportState,
                failure: Option<&str>,
            ) -> app::store::StoreResult<()> {
                sqlx::query("UPDATE import_jobs SET state = $1, failure = $2, updated_at = $3 WHERE id = $4")
                    .bind(state.key())
                    .bind(failure)
                    .bind(time::OffsetDateTime::now_utc())
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn write_import(
                &self,
                job: Option<uuid::Uuid>,
                write: std::sync::Arc<app::store::ImportWrite>,
                commit: bool,
            ) -> app::store::StoreResult<u64> {
                self.$write_batch(job, write, commit).await
            }
        }

        impl $store {
            /// One batch of an import in one transaction, through sqlx: the subjects, their
            /// changed fields, the events and the projection, and the job's progress.
            #[allow(dead_code)]
            async fn write_import_statements(
                &self,
                job: Option<uuid::Uuid>,
                write: std::sync::Arc<app::store::ImportWrite>,
                commit: bool,
            ) -> app::store::StoreResult<u64> {
                use crate::store::{corrupt, db_error};
                use sqlx::Row;

                fn list(first: usize, n: usize) -> String {
                    (first..first + n).map($ph).collect::<Vec<_>>().join(", ")
                }

                let _turn = self.write_turn().await;
                let mut tx = self.pool.begin_with($begin).await.map_err(db_error)?;

                for chunk in write.new_subjects.chunks(400) {
                    let now = time::OffsetDateTime::now_utc();
                    let values: Vec<String> =
                        (0..chunk.len()).map(|i| format!("({})", list(i * 7 + 1, 7))).collect();
                    let sql = format!(
                        "INSERT INTO subjects (id, external_id, email, phone, lang, created_at, jurisdiction) VALUES {}",
                        values.join(", ")
                    );
                    let mut q = sqlx::query(&sql);
                    for (id, s) in chunk {
                        q = q
                            .bind(id.0)
                            .bind(s.external_id.as_str())
                            .bind(s.email.as_ref().map(|e| e.as_str()))
                            .bind(s.phone.as_ref().map(|p| p.as_str()))
                            .bind(s.lang.key())
                            .bind(now)
                            .bind(s.jurisdiction.key());
                    }
                    q.execute(&mut *tx).await.map_err(db_error)?;
                }
                for s in &write.updated_subjects {
                    sqlx::query(
                        "UPDATE subjects SET email = $1, phone = $2, lang = $3, jurisdiction = $4 \
                         WHERE id = $5 AND erased_at IS NULL",
                    )
                    .bind(s.email.as_ref().map(|e| e.as_str()))
                    .bind(s.phone.as_ref().map(|p| p.as_str()))
                    .bind(s.lang.key())
                    .bind(s.jurisdiction.key())
                    .bind(s.id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                }
                let changed_at = time::OffsetDateTime::now_utc();
                for (id, field, value) in &write.subject_changes {
                    sqlx::query(
                        "INSERT INTO subject_changes (subject_id, field, new_value, changed_at, changed_by) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(id.0)
                    .bind(*field)
                    .bind(value.as_deref())
                    .bind(changed_at)
                    .bind(&write.changed_by)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                }

                // The current choices of the subjects the changes touch (locked first where rows
                // are locked, in id order, as the group commit locks them).
                let requests = std::slice::from_ref(&write.changes);
                let subjects = crate::store::bulk::subjects_of(requests);
                let mut current = crate::store::bulk::Current::new();
                for chunk in subjects.chunks(500) {
                    if $lock {
                        let sql = format!(
                            "SELECT id FROM subjects WHERE id IN ({}) ORDER BY id FOR UPDATE",
                            list(1, chunk.len())
                        );
                        let mut q = sqlx::query(&sql);
                        for id in chunk {
                            q = q.bind(*id);
                        }
                        q.fetch_all(&mut *tx).await.map_err(db_error)?;
                    }
                    let sql = format!(
                        "SELECT subject_id, purpose, channel, state, updated_at FROM consents WHERE subject_id IN ({})",
                        list(1, chunk.len())
                    );
                    let mut q = sqlx::query(&sql);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    for row in q.fetch_all(&mut *tx).await.map_err(db_error)? {
                        let bad = |_| corrupt("consent");
                        let state: String = row.try_get("state").map_err(bad)?;
                        current.insert(
                            (
                                row.try_get("subject_id").map_err(bad)?,
                                row.try_get("purpose").map_err(bad)?,
                                row.try_get("channel").map_err(bad)?,
                            ),
                            (
                                state.parse().map_err(|_| corrupt("state"))?,
                                row.try_get("updated_at").map_err(bad)?,
                            ),
                        );
                    }
                }
                // A change that arrives late here (a concurrent write came after the rules
                // checked the batch) fails the batch and the import, with nothing of the batch
                // written; a run of the same file resumes at the batch's first line, where the
                // rules then refuse that row.
                let (_, events) = crate::store::bulk::decide_group(requests, current)
                    .map_err(|late| app::store::StoreError::OlderThanLatestChange(late.change))?;
                if !events.is_empty() {
                    Self::$write(&mut tx, &events).await?;
                }
                let written = events.len() as u64;

                if let Some(job) = job {
                    let moved = sqlx::query(
                        "UPDATE import_jobs SET rows_read = rows_read + $1, events_written = events_written + $2, \
                         rows_refused = rows_refused + $3, last_line = $4, error_report = error_report || $5, \
                         report_truncated = (report_truncated OR $6), updated_at = $7 \
                         WHERE id = $8 AND last_line = $9",
                    )
                    .bind(write.rows_read)
                    .bind(written as i64)
                    .bind(write.rows_refused)
                    .bind(write.through_line)
                    .bind(&write.report)
                    .bind(write.report_truncated)
                    .bind(time::OffsetDateTime::now_utc())
                    .bind(job)
                    .bind(write.after_line)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                    if moved.rows_affected() != 1 {
                        return Err(app::store::StoreError::ImportProgressMoved);
                    }
                }
                if commit {
                    tx.commit().await.map_err(db_error)?;
                    crate::ops::prometheus::events_written(written);
                } else {
                    tx.rollback().await.map_err(db_error)?;
                }
                Ok(written)
            }
        }
    };
}

pub(crate) use sql_imports;
