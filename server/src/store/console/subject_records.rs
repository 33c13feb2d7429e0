//! `SubjectRecordStore` for both backends, written once (expanded in sqlite/mod.rs and
//! postgres/mod.rs next to `sql_store!`, whose row readers and column lists it uses): prefix and
//! phone search, field changes with their record, and current consents read in bulk.

/// The first value above every string that starts with `prefix` (byte order).
pub(crate) fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

macro_rules! sql_subject_records {
    ($store:ty, placeholder = $ph:path, collate = $collate:literal) => {
        #[async_trait::async_trait]
        impl app::store::SubjectRecordStore for $store {
            async fn subjects_by_prefix(
                &self,
                field: app::store::SubjectField,
                prefix: &str,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::domain::Subject>> {
                use app::store::SubjectField;
                let column = match field {
                    SubjectField::ExternalId => "external_id",
                    SubjectField::Email => "email",
                    SubjectField::Phone => "phone",
                };
                let sql = format!(
                    "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE {column}{c} >= {} AND {column}{c} < {} \
                     ORDER BY {column}{c} LIMIT {}",
                    $ph(1), $ph(2), $ph(3), c = $collate
                );
                let rows = sqlx::query(&sql)
                    .bind(prefix)
                    .bind(crate::store::console::subject_records::prefix_end(prefix))
                    .bind(i64::from(limit))
                    .fetch_all(self.reads())
                    .await
                    .map_err(crate::store::db_error)?;
                rows.iter().map(rows::subject).collect()
            }

            async fn subjects_by_phone(
                &self,
                phone: &app::domain::Phone,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::domain::Subject>> {
                // Compared as the prefix index stores it, so the lookup uses that index.
                let sql = format!(
                    "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE phone{c} = {} ORDER BY created_at, id LIMIT {}",
                    $ph(1), $ph(2), c = $collate
                );
                let rows = sqlx::query(&sql)
                    .bind(phone.as_str())
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                rows.iter().map(rows::subject).collect()
            }

            async fn update_subject(
                &self,
                id: app::domain::SubjectId,
                u: &app::store::SubjectUpdate,
                changed_by: &str,
                at: time::OffsetDateTime,
            ) -> app::store::StoreResult<Option<app::domain::Subject>> {
                use crate::store::db_error;
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                let sql = format!("SELECT {SUBJECT_COLUMNS} FROM subjects WHERE id = $1 AND erased_at IS NULL");
                let Some(row) = sqlx::query(&sql).bind(id.0).fetch_optional(&mut *tx).await.map_err(db_error)? else {
                    return Ok(None);
                };
                let mut subject = rows::subject(&row)?;
                // Only the fields whose value changes are written and recorded.
                let mut changed: Vec<(&str, Option<String>)> = Vec::new();
                if let Some(email) = &u.email && *email != subject.email {
                    subject.email = email.clone();
                    changed.push(("email", None));
                }
                if let Some(phone) = &u.phone && *phone != subject.phone {
                    subject.phone = phone.clone();
                    changed.push(("phone", None));
                }
                if let Some(lang) = u.lang && lang != subject.lang {
                    subject.lang = lang;
                    changed.push(("lang", Some(lang.key().to_owned())));
                }
                if let Some(j) = u.jurisdiction && j != subject.jurisdiction {
                    subject.jurisdiction = j;
                    changed.push(("jurisdiction", Some(j.key().to_owned())));
                }
                if let Some(z) = &u.time_zone && *z != subject.time_zone {
                    subject.time_zone = z.clone();
                    changed.push(("time_zone", z.as_ref().map(|z| z.as_str().to_owned())));
                }
                if changed.is_empty() {
                    return Ok(Some(subject));
                }
                sqlx::query(
                    "UPDATE subjects SET email = $1, phone = $2, lang = $3, jurisdiction = $4, \
                     time_zone = $5 WHERE id = $6 AND erased_at IS NULL",
                )
                .bind(subject.email.as_ref().map(|e| e.as_str().to_owned()))
                .bind(subject.phone.as_ref().map(|p| p.as_str().to_owned()))
                .bind(subject.lang.key())
                .bind(subject.jurisdiction.key())
                .bind(subject.time_zone.as_ref().map(|z| z.as_str().to_owned()))
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                for (field, value) in changed {
                    sqlx::query(
                        "INSERT INTO subject_changes (subject_id, field, new_value, changed_at, changed_by) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(id.0)
                    .bind(field)
                    .bind(value)
                    .bind(at)
                    .bind(changed_by)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)?;
                Ok(Some(subject))
            }

            async fn subject_changes(
                &self,
                id: app::domain::SubjectId,
            ) -> app::store::StoreResult<Vec<app::store::SubjectChange>> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT seq, field, new_value, changed_at, changed_by FROM subject_changes \
                     WHERE subject_id = $1 ORDER BY seq",
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("subject change");
                rows.iter()
                    .map(|r| {
                        Ok(app::store::SubjectChange {
                            seq: r.try_get("seq").map_err(bad)?,
                            field: r.try_get("field").map_err(bad)?,
                            new_value: r.try_get("new_value").map_err(bad)?,
                            changed_at: r.try_get("changed_at").map_err(bad)?,
                            changed_by: r.try_get("changed_by").map_err(bad)?,
                        })
                    })
                    .collect()
            }

            async fn current_consents(
                &self,
                subjects: &[app::domain::SubjectId],
            ) -> app::store::StoreResult<Vec<(app::domain::SubjectId, app::store::ConsentRecord)>> {
                use sqlx::Row;
                let mut out = Vec::new();
                for chunk in subjects.chunks(500) {
                    let list: Vec<String> = (1..=chunk.len()).map($ph).collect();
                    let sql = format!(
                        "SELECT c.subject_id, c.purpose, c.channel, c.state, c.updated_at, c.source, c.notice_version \
                         FROM consents c WHERE c.subject_id IN ({})",
                        list.join(", ")
                    );
                    let mut q = sqlx::query(&sql);
                    for s in chunk {
                        q = q.bind(s.0);
                    }
                    let rows = q.fetch_all(&self.pool).await.map_err(crate::store::db_error)?;
                    for row in &rows {
                        let subject = row.try_get("subject_id").map_err(|_| crate::store::corrupt("consent"))?;
                        out.push((app::domain::SubjectId(subject), rows::consent(row)?));
                    }
                }
                Ok(out)
            }

            async fn granted_before(
                &self,
                purpose: &app::domain::PurposeKey,
                before: time::OffsetDateTime,
                limit: u32,
            ) -> app::store::StoreResult<Vec<(app::domain::SubjectId, app::domain::Channel)>> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT subject_id, channel FROM consents \
                     WHERE purpose = $1 AND state = 'granted' AND updated_at < $2 \
                     ORDER BY updated_at LIMIT $3",
                )
                .bind(purpose.as_str())
                .bind(before)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                rows.iter()
                    .map(|r| {
                        let id: uuid::Uuid =
                            r.try_get("subject_id").map_err(|_| crate::store::corrupt("subject"))?;
                        let channel: String =
                            r.try_get("channel").map_err(|_| crate::store::corrupt("channel"))?;
                        Ok((
                            app::domain::SubjectId(id),
                            channel.parse().map_err(|_| crate::store::corrupt("channel"))?,
                        ))
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use sql_subject_records;

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn a_prefix_ends_above_every_string_it_starts() {
        assert!(prefix_end("ab").as_str() > "abzzz");
        assert!(prefix_end("ab").as_str() < "ac");
    }
}
