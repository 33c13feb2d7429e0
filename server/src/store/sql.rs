//! The SQL both backends run, written once. Placeholders are `$n`, which SQLite and PostgreSQL both
//! accept; ids bind as UUIDs and times as `OffsetDateTime` (BLOB/TEXT in SQLite, UUID/TIMESTAMPTZ
//! in PostgreSQL). Each backend passes how it begins a write transaction and locks a subject.

macro_rules! sql_store {
    (
        store = $store:ty,
        db = $db:ty,
        backend = $backend:literal,
        migrator = $migrator:expr,
        begin = $begin:literal,
        lock_subject = $lock_subject:expr,
        placeholder = $ph:path,
        write = $write:ident,
        recorded_now = $recorded_now:literal $(,)?
    ) => {
        crate::store::rows::sql_rows!($db);

        const EVENT_COLUMNS: &str = "id, subject_id, purpose, channel, from_state, to_state, occurred_at, source, \
             actor, notice_version, origin_ip, user_agent, idempotency_key, reason, campaign, recorded_at, \
             collection_point, import_batch, form_url, proof_ref";
        const SUBJECT_COLUMNS: &str = "id, external_id, email, phone, lang, jurisdiction, erased_at, time_zone";
        const API_KEY_COLUMNS: &str = "id, name, scopes, secret_sha256, created_at, revoked_at";
        const PURPOSE_COLUMNS: &str =
            "key, name_ja, name_en, description_ja, description_en, mode, channels, marketing, kind, modes, legal";

        crate::store::bulk::sql_bulk!($store, $db, $ph, write = $write, recorded_now = $recorded_now);

        impl $store {
            /// The rules of `Store::apply` inside an open transaction.
            async fn apply_in(
                tx: &mut sqlx::Transaction<'static, $db>,
                changes: Vec<app::domain::Change>,
            ) -> app::store::StoreResult<Vec<app::store::Applied>> {
                use app::domain::{Decision, Outcome, decide};
                use app::store::{Applied, StoreError};
                use sqlx::Row;
                use crate::store::{corrupt, db_error};

                let mut results = Vec::with_capacity(changes.len());
                for (index, change) in changes.into_iter().enumerate() {
                    let subject = change.subject.0;
                    let lock: Option<&str> = $lock_subject;
                    if let Some(lock) = lock {
                        sqlx::query(lock)
                            .bind(subject)
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(db_error)?
                            .ok_or(StoreError::MissingReference("subject"))?;
                    }

                    if let Some(key) = &change.provenance.idempotency_key {
                        let first = sqlx::query(
                            "SELECT fingerprint, state, event_id FROM idempotency_keys WHERE subject_id = $1 AND key = $2",
                        )
                        .bind(subject)
                        .bind(key)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(db_error)?;
                        if let Some(first) = first {
                            let fingerprint: String = first.try_get("fingerprint").map_err(|_| corrupt("key"))?;
                            if fingerprint != change.fingerprint() {
                                return Err(StoreError::IdempotencyKeyReused);
                            }
                            let event_id: Option<uuid::Uuid> = first.try_get("event_id").map_err(|_| corrupt("key"))?;
                            let outcome = match event_id {
                                Some(id) => {
                                    let sql = format!("SELECT {EVENT_COLUMNS} FROM consent_events WHERE id = $1");
                                    let row = sqlx::query(&sql).bind(id).fetch_one(&mut **tx).await.map_err(db_error)?;
                                    Outcome::Recorded(rows::event(&row)?)
                                }
                                None => {
                                    let state: String = first.try_get("state").map_err(|_| corrupt("key"))?;
                                    Outcome::Unchanged(state.parse().map_err(|_| corrupt("state"))?)
                                }
                            };
                            results.push(Applied { outcome, replayed: true });
                            continue;
                        }
                    }

                    let current: Option<(String, time::OffsetDateTime)> = sqlx::query_as(
                        "SELECT state, updated_at FROM consents WHERE subject_id = $1 AND purpose = $2 AND channel = $3",
                    )
                    .bind(subject)
                    .bind(change.purpose.as_str())
                    .bind(change.channel.key())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(db_error)?;
                    if change.arrives_late(current.as_ref().map(|(_, at)| *at)) {
                        return Err(StoreError::OlderThanLatestChange(index));
                    }
                    let current = current.map(|(s, _)| s.parse()).transpose().map_err(|_| corrupt("state"))?;
                    let key = change.provenance.idempotency_key.clone();
                    let fingerprint = change.fingerprint();
                    let (outcome, event_id, state) = match decide(current, change, uuid::Uuid::now_v7()) {
                        Decision::Unchanged(state) => (Outcome::Unchanged(state), None, state),
                        Decision::Record(mut e) => {
                            Self::write_events(tx, std::slice::from_mut(&mut e)).await?;
                            let (id, to) = (e.id, e.to);
                            (Outcome::Recorded(e), Some(id), to)
                        }
                    };
                    if let Some(key) = key {
                        sqlx::query(
                            "INSERT INTO idempotency_keys (subject_id, key, fingerprint, state, event_id, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(subject)
                        .bind(key)
                        .bind(fingerprint)
                        .bind(state.key())
                        .bind(event_id)
                        .bind(time::OffsetDateTime::now_utc())
                        .execute(&mut **tx)
                        .await
                        .map_err(db_error)?;
                    }
                    results.push(Applied { outcome, replayed: false });
                }
                Ok(results)
            }
        }

        #[async_trait::async_trait]
        impl app::store::Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn migrate(&self) -> app::store::StoreResult<()> {
                $migrator.run(&self.pool).await.map_err(|e| app::store::StoreError::Backend(e.to_string()))
            }

            fn pool_use(&self) -> app::store::PoolUse {
                let size = self.pool.size();
                let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX).min(size);
                app::store::PoolUse {
                    in_use: size - idle,
                    idle,
                    max: self.pool.options().get_max_connections(),
                }
            }

            fn read_replica(&self) -> Option<app::store::ReplicaUse> {
                self.replica_use()
            }

            async fn ping(&self) -> app::store::StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await.map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn purposes(&self) -> app::store::StoreResult<std::sync::Arc<Vec<app::domain::Purpose>>> {
                let sql = format!("SELECT {PURPOSE_COLUMNS} FROM purposes ORDER BY position");
                let rows = sqlx::query(&sql).fetch_all(&self.pool).await.map_err(crate::store::db_error)?;
                Ok(std::sync::Arc::new(rows.iter().map(rows::purpose).collect::<app::store::StoreResult<_>>()?))
            }

            async fn notices(&self) -> app::store::StoreResult<std::sync::Arc<Vec<app::domain::Notice>>> {
                let rows = sqlx::query(
                    "SELECT version, effective_at, material, purposes, summary_ja, summary_en, text_ja, text_en, \
                     published_at, published_by FROM notices ORDER BY effective_at, published_at",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(std::sync::Arc::new(rows.iter().map(rows::notice).collect::<app::store::StoreResult<_>>()?))
            }

            async fn publish_notice(&self, n: &app::domain::Notice) -> app::store::StoreResult<()> {
                let purposes: Vec<&str> = n.purposes.iter().map(|p| p.as_str()).collect();
                sqlx::query(
                    "INSERT INTO notices (version, effective_at, material, purposes, summary_ja, summary_en, \
                     text_ja, text_en, published_at, published_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&n.version)
                .bind(n.effective_at)
                .bind(n.material)
                .bind(purposes.join(","))
                .bind(&n.summary_ja)
                .bind(&n.summary_en)
                .bind(&n.text_ja)
                .bind(&n.text_en)
                .bind(n.published_at)
                .bind(&n.published_by)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn create_subject(
                &self,
                id: app::domain::SubjectId,
                s: &app::domain::NewSubject,
            ) -> app::store::StoreResult<app::domain::Subject> {
                sqlx::query(
                    "INSERT INTO subjects (id, external_id, email, phone, lang, created_at, jurisdiction) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id.0)
                .bind(s.external_id.as_str())
                .bind(s.email.as_ref().map(|e| e.as_str()))
                .bind(s.phone.as_ref().map(|p| p.as_str()))
                .bind(s.lang.key())
                .bind(time::OffsetDateTime::now_utc())
                .bind(s.jurisdiction.key())
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(app::domain::Subject {
                    id,
                    external_id: s.external_id.clone(),
                    email: s.email.clone(),
                    phone: s.phone.clone(),
                    lang: s.lang,
                    jurisdiction: s.jurisdiction,
                    erased_at: None,
                    time_zone: None,
                })
            }

            async fn subject(
                &self,
                id: app::domain::SubjectId,
            ) -> app::store::StoreResult<Option<app::domain::Subject>> {
                let sql = format!("SELECT {SUBJECT_COLUMNS} FROM subjects WHERE id = $1");
                let row = sqlx::query(&sql).bind(id.0).fetch_optional(&self.pool).await.map_err(crate::store::db_error)?;
                row.as_ref().map(rows::subject).transpose()
            }

            async fn find_subject(&self, key: &str) -> app::store::StoreResult<Option<app::domain::Subject>> {
                let by_external = format!("SELECT {SUBJECT_COLUMNS} FROM subjects WHERE external_id = $1");
                let row = sqlx::query(&by_external)
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                if let Some(row) = row {
                    return rows::subject(&row).map(Some);
                }
                let Ok(email) = app::domain::Email::parse(key) else { return Ok(None) };
                let by_email = format!("SELECT {SUBJECT_COLUMNS} FROM subjects WHERE email = $1");
                let row = sqlx::query(&by_email)
                    .bind(email.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                row.as_ref().map(rows::subject).transpose()
            }

            async fn find_subjects(&self, keys: &[String]) -> app::store::StoreResult<Vec<app::domain::Subject>> {
                // A thousand keys a statement, up to `READS_AT_ONCE` statements at a time (a
                // permissions check names ten thousand).
                let read = |chunk: &[String]| {
                    let emails: Vec<String> =
                        chunk.iter().filter_map(|k| app::domain::Email::parse(k).ok()).map(|e| e.as_str().to_owned()).collect();
                    let ids = (1..=chunk.len()).map($ph).collect::<Vec<_>>().join(", ");
                    let mut sql = format!("SELECT {SUBJECT_COLUMNS} FROM subjects WHERE external_id IN ({ids})");
                    if !emails.is_empty() {
                        let mails = (chunk.len() + 1..=chunk.len() + emails.len()).map($ph).collect::<Vec<_>>().join(", ");
                        sql.push_str(&format!(" OR email IN ({mails})"));
                    }
                    let values = chunk.iter().cloned().chain(emails).collect();
                    self.read_subjects(sql, values)
                };
                crate::store::audience::at_once(keys.chunks(crate::store::audience::IDS_PER_QUERY).map(read)).await
            }

            async fn subjects(&self, limit: u32) -> app::store::StoreResult<Vec<app::domain::Subject>> {
                let sql = format!("SELECT {SUBJECT_COLUMNS} FROM subjects ORDER BY created_at, id LIMIT $1");
                let rows = sqlx::query(&sql)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                rows.iter().map(rows::subject).collect()
            }

            async fn count_subjects(&self) -> app::store::StoreResult<i64> {
                use sqlx::Row;
                let row = sqlx::query("SELECT COUNT(*) AS n FROM subjects")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                row.try_get("n").map_err(|_| crate::store::corrupt("count"))
            }

            async fn consents(
                &self,
                subject: app::domain::SubjectId,
            ) -> app::store::StoreResult<Vec<app::store::ConsentRecord>> {
                let rows = sqlx::query(
                    "SELECT c.purpose, c.channel, c.state, c.updated_at, c.source, c.notice_version \
                     FROM consents c WHERE c.subject_id = $1",
                )
                .bind(subject.0)
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                rows.iter().map(rows::consent).collect()
            }

            async fn apply(
                &self,
                changes: Vec<app::domain::Change>,
            ) -> app::store::StoreResult<Vec<app::store::Applied>> {
                use crate::store::db_error;
                let _turn = self.write_turn().await;
                let mut tx = self.pool.begin_with($begin).await.map_err(db_error)?;
                let results = Self::apply_in(&mut tx, changes).await?;
                tx.commit().await.map_err(db_error)?;
                Ok(results)
            }

            async fn apply_group(
                &self,
                requests: Vec<Vec<app::domain::Change>>,
            ) -> Vec<app::store::StoreResult<Vec<app::store::Applied>>> {
                use crate::store::db_error;
                use app::store::StoreError;
                let n = requests.len();
                // Every request of the group fails as the group did (a lost connection stays
                // `Unavailable`: each request is answered 503, to be tried again).
                let failed_all = |e: StoreError| {
                    let unavailable = matches!(e, StoreError::Unavailable(_));
                    let message = e.to_string();
                    (0..n)
                        .map(|_| {
                            Err(if unavailable {
                                StoreError::Unavailable(message.clone())
                            } else {
                                StoreError::Backend(message.clone())
                            })
                        })
                        .collect()
                };
                let _turn = self.write_turn().await;
                // Optimistic first: the whole group as one transaction. Refusals are rare; when
                // one happens, the group runs again with a savepoint per request.
                let keyless = requests.iter().flatten().all(|c| c.provenance.idempotency_key.is_none());
                if keyless {
                    match self.apply_keyless(&requests).await {
                        Ok(all) => return all.into_iter().map(Ok).collect(),
                        // No database to write to: trying request by request would only wait
                        // for a connection again.
                        Err(e @ StoreError::Unavailable(_)) => return failed_all(e),
                        Err(e) => tracing::debug!(error = %e, "a group is written again request by request"),
                    }
                } else {
                    let mut tx = match self.pool.begin_with($begin).await {
                        Ok(tx) => tx,
                        Err(e) => return failed_all(db_error(e)),
                    };
                    let mut optimistic = Vec::with_capacity(n);
                    for changes in &requests {
                        match Self::apply_in(&mut tx, changes.clone()).await {
                            Ok(applied) => optimistic.push(Ok(applied)),
                            Err(_) => break,
                        }
                    }
                    if optimistic.len() == n {
                        return match tx.commit().await.map_err(db_error) {
                            Ok(()) => optimistic,
                            Err(e) => failed_all(e),
                        };
                    }
                    if let Err(e) = tx.rollback().await {
                        return failed_all(db_error(e));
                    }
                }
                let mut tx = match self.pool.begin_with($begin).await {
                    Ok(tx) => tx,
                    Err(e) => return failed_all(db_error(e)),
                };
                let mut results = Vec::with_capacity(n);
                for changes in requests {
                    // Each request in its own savepoint: one refused request leaves the others whole.
                    if let Err(e) = sqlx::query("SAVEPOINT request").execute(&mut *tx).await {
                        return failed_all(db_error(e));
                    }
                    let result = Self::apply_in(&mut tx, changes).await;
                    if result.is_err() {
                        if let Err(e) = sqlx::query("ROLLBACK TO SAVEPOINT request").execute(&mut *tx).await {
                            return failed_all(db_error(e));
                        }
                    }
                    if let Err(e) = sqlx::query("RELEASE SAVEPOINT request").execute(&mut *tx).await {
                        return failed_all(db_error(e));
                    }
                    results.push(result);
                }
                match tx.commit().await.map_err(db_error) {
                    Ok(()) => results,
                    Err(e) => failed_all(e),
                }
            }

            async fn suppressions(
                &self,
                purpose: &app::domain::PurposeKey,
                channel: app::domain::Channel,
                cursor: i64,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::store::Suppression>> {
                use sqlx::Row;
                // By chain position (commit order), read through the seq index from just below
                // the cursor's event (see `store::feed::seq_floor`).
                let sql = format!(
                    "SELECT p.position, c.updated_at, s.id, s.external_id, s.email, s.phone, s.lang, s.jurisdiction, s.erased_at \
                     FROM consents c JOIN event_seals p ON p.event_seq = c.last_event_seq \
                     JOIN subjects s ON s.id = c.subject_id \
                     WHERE c.purpose = $1 AND c.channel = $2 AND c.state = 'withdrawn' \
                     AND c.last_event_seq > {} AND p.position > $3 \
                     ORDER BY p.position LIMIT $4",
                    crate::store::feed::seq_floor("$3")
                );
                let rows = sqlx::query(&sql)
                .bind(purpose.as_str())
                .bind(channel.key())
                .bind(cursor)
                .bind(i64::from(limit))
                .fetch_all(self.reads())
                .await
                .map_err(crate::store::db_error)?;
                rows.iter()
                    .map(|r| {
                        Ok(app::store::Suppression {
                            cursor: r.try_get("position").map_err(|_| crate::store::corrupt("cursor"))?,
                            since: r.try_get("updated_at").map_err(|_| crate::store::corrupt("time"))?,
                            subject: rows::subject(r)?,
                        })
                    })
                    .collect()
            }

            async fn create_api_key(&self, key: &app::api_key::ApiKeyRecord) -> app::store::StoreResult<()> {
                let scopes: Vec<&str> = key.scopes.iter().map(|s| s.key()).collect();
                sqlx::query(
                    "INSERT INTO api_keys (id, name, scopes, secret_sha256, created_at, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&key.id)
                .bind(&key.name)
                .bind(scopes.join(","))
                .bind(&key.secret_sha256)
                .bind(key.created_at)
                .bind(key.revoked_at)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn api_key(&self, id: &str) -> app::store::StoreResult<Option<app::api_key::ApiKeyRecord>> {
                let row = sqlx::query(&format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                row.as_ref().map(rows::api_key).transpose()
            }

            async fn api_keys(&self) -> app::store::StoreResult<Vec<app::api_key::ApiKeyRecord>> {
                let rows = sqlx::query(&format!("SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id"))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                rows.iter().map(rows::api_key).collect()
            }

            async fn revoke_api_key(&self, id: &str, at: time::OffsetDateTime) -> app::store::StoreResult<bool> {
                let done = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(at)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn latest_events_on(
                &self,
                subject: app::domain::SubjectId,
                channel: app::domain::Channel,
            ) -> app::store::StoreResult<Vec<app::domain::ConsentEvent>> {
                let sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM consent_events WHERE seq IN \
                     (SELECT last_event_seq FROM consents WHERE subject_id = $1 AND channel = $2)"
                );
                let rows = sqlx::query(&sql)
                    .bind(subject.0)
                    .bind(channel.key())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                rows.iter().map(rows::event).collect()
            }

            async fn events_for_subject(
                &self,
                subject: app::domain::SubjectId,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::domain::ConsentEvent>> {
                let sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM consent_events WHERE subject_id = $1 ORDER BY seq DESC LIMIT $2"
                );
                let rows = sqlx::query(&sql)
                    .bind(subject.0)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                rows.iter().map(rows::event).collect()
            }

            async fn all_events(&self) -> app::store::StoreResult<Vec<app::domain::ConsentEvent>> {
                let sql = format!("SELECT {EVENT_COLUMNS} FROM consent_events ORDER BY seq");
                let rows = sqlx::query(&sql).fetch_all(&self.pool).await.map_err(crate::store::db_error)?;
                rows.iter().map(rows::event).collect()
            }

            async fn all_consents(
                &self,
            ) -> app::store::StoreResult<
                Vec<(app::domain::SubjectId, app::domain::PurposeKey, app::domain::Channel, app::domain::ConsentState)>,
            > {
                use sqlx::Row;
                let rows = sqlx::query("SELECT subject_id, purpose, channel, state FROM consents")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                rows.iter()
                    .map(|r| {
                        let bad = |_| crate::store::corrupt("consent");
                        let s: String = r.try_get("state").map_err(bad)?;
                        let p: String = r.try_get("purpose").map_err(bad)?;
                        let c: String = r.try_get("channel").map_err(bad)?;
                        Ok((
                            app::domain::SubjectId(r.try_get("subject_id").map_err(bad)?),
                            p.parse().map_err(|_| crate::store::corrupt("purpose"))?,
                            c.parse().map_err(|_| crate::store::corrupt("channel"))?,
                            s.parse().map_err(|_| crate::store::corrupt("state"))?,
                        ))
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use sql_store;
