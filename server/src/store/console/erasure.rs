//! `ErasureStore` for both backends, written once (expanded in sqlite/mod.rs and postgres/mod.rs):
//! an erasure's one transaction, its record, and the erased identifiers' digests.

macro_rules! sql_erasure {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl app::store::ErasureStore for $store {
            async fn erase_subject(&self, e: &app::store::Erasure) -> app::store::StoreResult<bool> {
                use crate::store::db_error;
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                let done = sqlx::query(
                    "UPDATE subjects SET email = NULL, phone = NULL, external_id = $1, erased_at = $2 \
                     WHERE id = $3 AND erased_at IS NULL",
                )
                .bind(&e.placeholder)
                .bind(e.erased_at)
                .bind(e.subject.0)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                sqlx::query("INSERT INTO erasures (subject_id, erased_at, erased_by, reason) VALUES ($1, $2, $3, $4)")
                    .bind(e.subject.0)
                    .bind(e.erased_at)
                    .bind(&e.erased_by)
                    .bind(&e.reason)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                for (kind, digest) in &e.digests {
                    sqlx::query(
                        "INSERT INTO erased_identifiers (digest, kind, erased_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (digest) DO NOTHING",
                    )
                    .bind(digest)
                    .bind(kind)
                    .bind(e.erased_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                }
                sqlx::query(
                    "UPDATE sessions SET revoked_at = $1 WHERE kind = 'customer' AND principal = $2 AND revoked_at IS NULL",
                )
                .bind(e.erased_at)
                .bind(e.subject.0)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                // What the person wrote when they left may name them; the reason stays.
                sqlx::query("UPDATE leave_reasons SET text = NULL WHERE subject_id = $1")
                    .bind(e.subject.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                sqlx::query("DELETE FROM sign_in_links WHERE subject_id = $1")
                    .bind(e.subject.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                if let Some(email) = &e.email {
                    sqlx::query("DELETE FROM opt_in_requests WHERE lower(email) = lower($1)")
                        .bind(email)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)?;
                Ok(true)
            }

            async fn erasure(
                &self,
                subject: app::domain::SubjectId,
            ) -> app::store::StoreResult<Option<app::store::Erasure>> {
                use sqlx::Row;
                let row = sqlx::query(
                    "SELECT e.erased_at, e.erased_by, e.reason, s.external_id FROM erasures e \
                     JOIN subjects s ON s.id = e.subject_id WHERE e.subject_id = $1",
                )
                .bind(subject.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                row.map(|r| {
                    let corrupt = |_| crate::store::corrupt("erasure");
                    Ok(app::store::Erasure {
                        subject,
                        erased_at: r.try_get("erased_at").map_err(corrupt)?,
                        erased_by: r.try_get("erased_by").map_err(corrupt)?,
                        reason: r.try_get("reason").map_err(corrupt)?,
                        placeholder: r.try_get("external_id").map_err(corrupt)?,
                        digests: Vec::new(),
                        email: None,
                    })
                })
                .transpose()
            }

            async fn erased_identifier(&self, digests: &[String]) -> app::store::StoreResult<bool> {
                // One statement for up to 500 digests (an import asks for a whole batch's).
                // `$n` placeholders: PostgreSQL's, and SQLite numbers them in the same order.
                for chunk in digests.chunks(500) {
                    let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
                    let sql = format!(
                        "SELECT kind FROM erased_identifiers WHERE digest IN ({}) LIMIT 1",
                        list.join(", ")
                    );
                    let mut q = sqlx::query_scalar::<_, String>(&sql);
                    for digest in chunk {
                        q = q.bind(digest);
                    }
                    let found = q.fetch_optional(&self.pool).await.map_err(crate::store::db_error)?;
                    if found.is_some() {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    };
}

pub(crate) use sql_erasure;
