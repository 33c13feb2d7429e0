//! `ConsoleStore` for both backends, written once (expanded in sqlite.rs and postgres.rs next to
//! `sql_store!`, whose row readers and column lists it uses): prefix search, filtered event pages,
//! daily counts, and the purpose settings with their append-only versions.

use app::store::{EventCursor, EventFilter};
use time::OffsetDateTime;

/// A value bound to a statement built at run time.
pub(crate) enum Bind {
    Id(uuid::Uuid),
    Text(String),
    Time(OffsetDateTime),
    Int(i64),
}

/// The WHERE clause (with its leading ` WHERE `, or empty) and ORDER/LIMIT of an event page.
/// SQLite keeps times as RFC 3339 text: bounds bind as text without an offset, which orders
/// correctly against every stored value (`…T00:00:00` < `…T00:00:00Z` < `…T00:00:00.5Z`).
pub(crate) fn event_query(
    filter: &EventFilter,
    cursor: Option<EventCursor>,
    limit: Option<u32>,
    ph: fn(usize) -> String,
    text_times: bool,
) -> (String, Vec<Bind>) {
    let mut binds = Vec::new();
    let mut conditions: Vec<String> = Vec::new();
    let mut add = |sql: &str, b: Bind| {
        binds.push(b);
        conditions.push(sql.replace('?', &ph(binds.len())));
    };
    let time = |t: OffsetDateTime| {
        if text_times {
            Bind::Text(
                t.to_offset(time::UtcOffset::UTC)
                    .format(time::macros::format_description!(
                        "[year]-[month]-[day]T[hour]:[minute]:[second]"
                    ))
                    .unwrap_or_default(),
            )
        } else {
            Bind::Time(t)
        }
    };
    if let Some(s) = filter.subject {
        add("subject_id = ?", Bind::Id(s.0));
    }
    if let Some(p) = &filter.purpose {
        add("purpose = ?", Bind::Text(p.to_string()));
    }
    if let Some(c) = filter.channel {
        add("channel = ?", Bind::Text(c.key().to_owned()));
    }
    if let Some(s) = filter.source {
        add("source = ?", Bind::Text(s.key().to_owned()));
    }
    if let Some(t) = filter.from {
        add("occurred_at >= ?", time(t));
    }
    if let Some(t) = filter.until {
        add("occurred_at < ?", time(t));
    }
    let order = match cursor {
        Some(EventCursor::NewestBelow(seq)) => {
            add("seq < ?", Bind::Int(seq));
            " ORDER BY seq DESC"
        }
        Some(EventCursor::OldestAbove(seq)) => {
            add("seq > ?", Bind::Int(seq));
            " ORDER BY seq"
        }
        None => "",
    };
    let mut sql = String::new();
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(order);
    if let Some(limit) = limit {
        binds.push(Bind::Int(i64::from(limit)));
        sql.push_str(&format!(" LIMIT {}", ph(binds.len())));
    }
    (sql, binds)
}

/// The first value above every string that starts with `prefix` (byte order).
pub(crate) fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

macro_rules! sql_console {
    ($store:ty, $db:ty, placeholder = $ph:path, text_times = $text_times:literal,
     collate = $collate:literal, day = $day:literal) => {
        /// Binds run-time parameters in order.
        fn bind_all<'q>(
            mut q: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
            binds: Vec<crate::store::console::Bind>,
        ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>> {
            use crate::store::console::Bind;
            for b in binds {
                q = match b {
                    Bind::Id(u) => q.bind(u),
                    Bind::Text(t) => q.bind(t),
                    Bind::Time(t) => q.bind(t),
                    Bind::Int(i) => q.bind(i),
                };
            }
            q
        }

        #[async_trait::async_trait]
        impl app::store::ConsoleStore for $store {
            fn audience(&self) -> &dyn app::store::AudienceStore {
                self
            }

            fn feed(&self) -> &dyn app::store::FeedStore {
                self
            }

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

            async fn erased_identifier(&self, digests: &[String]) -> app::store::StoreResult<bool> {
                // One statement for up to 500 digests (an import asks for a whole batch's).
                for chunk in digests.chunks(500) {
                    let list: Vec<String> = (1..=chunk.len()).map($ph).collect();
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
                    .bind(crate::store::console::prefix_end(prefix))
                    .bind(i64::from(limit))
                    .fetch_all(self.reads())
                    .await
                    .map_err(crate::store::db_error)?;
                rows.iter().map(rows::subject).collect()
            }

            async fn events(
                &self,
                filter: &app::store::EventFilter,
                cursor: app::store::EventCursor,
                limit: u32,
            ) -> app::store::StoreResult<Vec<(i64, app::domain::ConsentEvent)>> {
                let (tail, binds) = crate::store::console::event_query(
                    filter, Some(cursor), Some(limit), $ph, $text_times,
                );
                // Each backend reads pages of exports its fastest way.
                let mut events = self
                    .read_events(&tail, binds, limit, crate::store::ReadFrom::Replica)
                    .await?;
                match cursor {
                    app::store::EventCursor::NewestBelow(_) => events.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq)),
                    app::store::EventCursor::OldestAbove(_) => events.sort_by_key(|(seq, _)| *seq),
                }
                Ok(events)
            }

            async fn count_events(&self, filter: &app::store::EventFilter) -> app::store::StoreResult<i64> {
                let (tail, binds) =
                    crate::store::console::event_query(filter, None, None, $ph, $text_times);
                let sql = format!("SELECT COUNT(*) FROM consent_events{tail}");
                let q = bind_all(sqlx::query(&sql), binds);
                let row = q.fetch_one(self.reads()).await.map_err(crate::store::db_error)?;
                sqlx::Row::try_get::<i64, _>(&row, 0).map_err(|_| crate::store::corrupt("count"))
            }

            async fn event_counts(
                &self,
                filter: &app::store::EventFilter,
            ) -> app::store::StoreResult<Vec<app::store::EventCount>> {
                use sqlx::Row;
                let (tail, binds) =
                    crate::store::console::event_query(filter, None, None, $ph, $text_times);
                let sql = format!(
                    "SELECT {day} AS day, purpose, channel, to_state, source, COUNT(*) AS n \
                     FROM consent_events{tail} GROUP BY 1, 2, 3, 4, 5 ORDER BY 1",
                    day = $day
                );
                let rows = bind_all(sqlx::query(&sql), binds)
                    .fetch_all(self.reads())
                    .await
                    .map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("count");
                rows.iter()
                    .map(|row| {
                        let to: String = row.try_get("to_state").map_err(bad)?;
                        Ok(app::store::EventCount {
                            day: row.try_get("day").map_err(bad)?,
                            purpose: row.try_get("purpose").map_err(bad)?,
                            channel: row.try_get("channel").map_err(bad)?,
                            to: to.parse().map_err(|_| crate::store::corrupt("state"))?,
                            source: row.try_get("source").map_err(bad)?,
                            count: row.try_get("n").map_err(bad)?,
                        })
                    })
                    .collect()
            }

            async fn save_purpose(
                &self,
                p: &app::domain::Purpose,
                changed_by: &str,
            ) -> app::store::StoreResult<i64> {
                use crate::store::db_error;
                let channels: Vec<&str> = p.channels.iter().map(|c| c.key()).collect();
                let channels = channels.join(",");
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                sqlx::query(
                    "INSERT INTO purposes (key, position, name_ja, name_en, description_ja, description_en, mode, channels, \
                     marketing, kind, modes, legal) \
                     VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM purposes), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                     ON CONFLICT (key) DO UPDATE SET name_ja = excluded.name_ja, name_en = excluded.name_en, \
                     description_ja = excluded.description_ja, description_en = excluded.description_en, \
                     mode = excluded.mode, channels = excluded.channels, marketing = excluded.marketing, \
                     kind = excluded.kind, modes = excluded.modes, legal = excluded.legal",
                )
                .bind(p.key.as_str())
                .bind(&p.name_ja)
                .bind(&p.name_en)
                .bind(&p.description_ja)
                .bind(&p.description_en)
                .bind(p.mode.key())
                .bind(&channels)
                .bind(p.marketing)
                .bind(p.kind.key())
                .bind(p.modes.to_text())
                .bind(serde_json::to_string(&p.legal).map_err(|_| crate::store::corrupt("legal"))?)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                // The version copies the row as saved.
                let version: i64 = sqlx::query_scalar(
                    "INSERT INTO purpose_versions (purpose, version, changed_at, changed_by, name_ja, name_en, \
                     description_ja, description_en, mode, channels, marketing, kind, modes, legal) \
                     SELECT key, (SELECT COALESCE(MAX(version), 0) + 1 FROM purpose_versions WHERE purpose = $1), \
                     $2, $3, name_ja, name_en, description_ja, description_en, mode, channels, marketing, kind, modes, legal \
                     FROM purposes WHERE key = $1 RETURNING version",
                )
                .bind(p.key.as_str())
                .bind(app::services::now())
                .bind(changed_by)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
                tx.commit().await.map_err(db_error)?;
                Ok(version)
            }

            async fn save_recipient(&self, r: &app::store::Recipient) -> app::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO recipients (id, name, address, representative, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, address = excluded.address, \
                     representative = excluded.representative",
                )
                .bind(&r.id)
                .bind(&r.name)
                .bind(&r.address)
                .bind(&r.representative)
                .bind(app::services::now())
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn recipients(&self) -> app::store::StoreResult<Vec<app::store::Recipient>> {
                let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                    "SELECT id, name, address, representative FROM recipients ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(rows
                    .into_iter()
                    .map(|(id, name, address, representative)| app::store::Recipient { id, name, address, representative })
                    .collect())
            }

            async fn add_provision(&self, p: &app::store::Provision) -> app::store::StoreResult<app::store::Provision> {
                // The recipient's identity is copied from its row in the same statement: the
                // record keeps it as it was when the data was provided (R51).
                let row: Option<(i64, String, String, String)> = sqlx::query_as(
                    "INSERT INTO provisions (subject_id, recipient, purpose, provided_at, identified_by, data_items, \
                     recorded_by, recipient_name, recipient_address, recipient_representative) \
                     SELECT $1, r.id, $3, $4, $5, $6, $7, r.name, r.address, r.representative FROM recipients r \
                     WHERE r.id = $2 RETURNING seq, recipient_name, recipient_address, recipient_representative",
                )
                .bind(p.subject.0)
                .bind(&p.recipient)
                .bind(p.purpose.as_str())
                .bind(p.provided_at)
                .bind(&p.identified_by)
                .bind(&p.data_items)
                .bind(&p.recorded_by)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let (seq, name, address, representative) =
                    row.ok_or(app::store::StoreError::MissingReference("recipient"))?;
                Ok(app::store::Provision {
                    seq,
                    recipient_as_provided: Some(app::store::Recipient {
                        id: p.recipient.clone(),
                        name,
                        address,
                        representative,
                    }),
                    ..p.clone()
                })
            }

            async fn provisions(
                &self,
                subject: app::domain::SubjectId,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::store::Provision>> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT seq, subject_id, recipient, purpose, provided_at, identified_by, data_items, recorded_by, \
                     recipient_name, recipient_address, recipient_representative \
                     FROM provisions WHERE subject_id = $1 ORDER BY seq DESC LIMIT $2",
                )
                .bind(subject.0)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("provision");
                rows.iter()
                    .map(|r| {
                        let purpose: String = r.try_get("purpose").map_err(bad)?;
                        let recipient: String = r.try_get("recipient").map_err(bad)?;
                        let name: Option<String> = r.try_get("recipient_name").map_err(bad)?;
                        let address: Option<String> = r.try_get("recipient_address").map_err(bad)?;
                        let representative: Option<String> =
                            r.try_get("recipient_representative").map_err(bad)?;
                        let recipient_as_provided = match (name, address, representative) {
                            (Some(name), Some(address), Some(representative)) => Some(app::store::Recipient {
                                id: recipient.clone(),
                                name,
                                address,
                                representative,
                            }),
                            _ => None,
                        };
                        Ok(app::store::Provision {
                            seq: r.try_get("seq").map_err(bad)?,
                            subject: app::domain::SubjectId(r.try_get("subject_id").map_err(bad)?),
                            recipient,
                            purpose: purpose.parse().map_err(|_| crate::store::corrupt("purpose"))?,
                            provided_at: r.try_get("provided_at").map_err(bad)?,
                            identified_by: r.try_get("identified_by").map_err(bad)?,
                            data_items: r.try_get("data_items").map_err(bad)?,
                            recorded_by: r.try_get("recorded_by").map_err(bad)?,
                            recipient_as_provided,
                        })
                    })
                    .collect()
            }

            async fn add_acquisition(&self, a: &app::store::Acquisition) -> app::store::StoreResult<i64> {
                let seq: i64 = sqlx::query_scalar(
                    "INSERT INTO acquisitions (subject_id, provider_name, provider_address, provider_representative, \
                     acquired_by, data_items, received_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq",
                )
                .bind(a.subject.0)
                .bind(&a.provider_name)
                .bind(&a.provider_address)
                .bind(&a.provider_representative)
                .bind(&a.acquired_by)
                .bind(&a.data_items)
                .bind(a.received_at)
                .bind(&a.recorded_by)
                .fetch_one(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(seq)
            }

            async fn acquisitions(
                &self,
                subject: app::domain::SubjectId,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::store::Acquisition>> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT seq, subject_id, provider_name, provider_address, provider_representative, acquired_by, \
                     data_items, received_at, recorded_by FROM acquisitions WHERE subject_id = $1 ORDER BY seq DESC LIMIT $2",
                )
                .bind(subject.0)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("acquisition");
                rows.iter()
                    .map(|r| {
                        Ok(app::store::Acquisition {
                            seq: r.try_get("seq").map_err(bad)?,
                            subject: app::domain::SubjectId(r.try_get("subject_id").map_err(bad)?),
                            provider_name: r.try_get("provider_name").map_err(bad)?,
                            provider_address: r.try_get("provider_address").map_err(bad)?,
                            provider_representative: r.try_get("provider_representative").map_err(bad)?,
                            acquired_by: r.try_get("acquired_by").map_err(bad)?,
                            data_items: r.try_get("data_items").map_err(bad)?,
                            received_at: r.try_get("received_at").map_err(bad)?,
                            recorded_by: r.try_get("recorded_by").map_err(bad)?,
                        })
                    })
                    .collect()
            }

            async fn purpose_versions(
                &self,
                key: &app::domain::PurposeKey,
            ) -> app::store::StoreResult<Vec<app::store::PurposeVersion>> {
                use sqlx::Row;
                let sql = format!(
                    "SELECT purpose AS key, version, changed_at, changed_by, name_ja, name_en, description_ja, \
                     description_en, mode, channels, marketing, kind, modes, legal FROM purpose_versions WHERE purpose = {} \
                     ORDER BY version DESC",
                    $ph(1)
                );
                let rows = sqlx::query(&sql)
                    .bind(key.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("purpose version");
                rows.iter()
                    .map(|row| {
                        Ok(app::store::PurposeVersion {
                            purpose: rows::purpose(row)?,
                            version: row.try_get("version").map_err(bad)?,
                            changed_at: row.try_get("changed_at").map_err(bad)?,
                            changed_by: row.try_get("changed_by").map_err(bad)?,
                        })
                    })
                    .collect()
            }

            async fn add_objection(&self, o: &app::store::Objection) -> app::store::StoreResult<()> {
                let p = &o.provenance;
                sqlx::query(
                    "INSERT INTO marketing_objections (subject_id, objecting, occurred_at, source, actor, notice_version, origin_ip, user_agent, reason) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(o.subject.0)
                .bind(o.objecting)
                .bind(p.occurred_at)
                .bind(p.source.key())
                .bind(p.actor.to_string())
                .bind(p.notice_version.as_deref())
                .bind(p.origin.ip.as_deref())
                .bind(p.origin.user_agent.as_deref())
                .bind(p.reason.as_deref())
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn objection(
                &self,
                subject: app::domain::SubjectId,
            ) -> app::store::StoreResult<Option<app::store::Objection>> {
                use sqlx::Row;
                let row = sqlx::query(
                    "SELECT objecting, occurred_at, source, actor, notice_version, origin_ip, user_agent, reason \
                     FROM marketing_objections WHERE subject_id = $1 ORDER BY seq DESC LIMIT 1",
                )
                .bind(subject.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let Some(r) = row else { return Ok(None) };
                let bad = |_| crate::store::corrupt("objection");
                let source: String = r.try_get("source").map_err(bad)?;
                let actor: String = r.try_get("actor").map_err(bad)?;
                Ok(Some(app::store::Objection {
                    subject,
                    objecting: r.try_get("objecting").map_err(bad)?,
                    provenance: app::domain::Provenance {
                        occurred_at: r.try_get("occurred_at").map_err(bad)?,
                        source: source.parse().map_err(|_| crate::store::corrupt("source"))?,
                        actor: actor.parse().map_err(|_| crate::store::corrupt("actor"))?,
                        notice_version: r.try_get("notice_version").map_err(bad)?,
                        origin: app::domain::Origin {
                            ip: r.try_get("origin_ip").map_err(bad)?,
                            user_agent: r.try_get("user_agent").map_err(bad)?,
                        },
                        idempotency_key: None,
                        reason: r.try_get("reason").map_err(bad)?,
                        campaign: None,
                        collection_point: None,
                        import_batch: None,
                        form_url: None,
                        proof_ref: None,
                    },
                }))
            }

            async fn objecting_subjects(&self) -> app::store::StoreResult<Vec<app::domain::SubjectId>> {
                let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
                    "SELECT o.subject_id FROM marketing_objections o \
                     WHERE o.objecting = $1 AND o.seq = \
                       (SELECT MAX(m.seq) FROM marketing_objections m WHERE m.subject_id = o.subject_id) \
                     ORDER BY o.seq",
                )
                .bind(true)
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(ids.into_iter().map(app::domain::SubjectId).collect())
            }

            async fn add_collection_point(
                &self,
                p: &app::domain::CollectionPoint,
            ) -> app::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO collection_points (key, name_ja, name_en, kind, location, wording, wording_sha256, \
                     notice_version, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&p.key)
                .bind(&p.name_ja)
                .bind(&p.name_en)
                .bind(p.kind.key())
                .bind(&p.location)
                .bind(&p.wording)
                .bind(&p.wording_sha256)
                .bind(p.notice_version.as_deref())
                .bind(p.created_at)
                .bind(&p.created_by)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn collection_points(
                &self,
            ) -> app::store::StoreResult<Vec<app::domain::CollectionPoint>> {
                let rows = sqlx::query(
                    "SELECT key, name_ja, name_en, kind, location, wording, wording_sha256, notice_version, \
                     created_at, created_by, retired_at, retired_by FROM collection_points ORDER BY key",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                rows.iter().map(rows::collection_point).collect()
            }

            async fn collection_point(
                &self,
                key: &str,
            ) -> app::store::StoreResult<Option<app::domain::CollectionPoint>> {
                let row = sqlx::query(
                    "SELECT key, name_ja, name_en, kind, location, wording, wording_sha256, notice_version, \
                     created_at, created_by, retired_at, retired_by FROM collection_points WHERE key = $1",
                )
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                row.as_ref().map(rows::collection_point).transpose()
            }

            async fn retire_collection_point(
                &self,
                key: &str,
                at: time::OffsetDateTime,
                by: &str,
            ) -> app::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE collection_points SET retired_at = $1, retired_by = $2 \
                     WHERE key = $3 AND retired_at IS NULL",
                )
                .bind(at)
                .bind(by)
                .bind(key)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(done.rows_affected() == 1)
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
                        "SELECT c.subject_id, c.purpose, c.channel, c.state, c.updated_at, c.source, e.notice_version \
                         FROM consents c LEFT JOIN consent_events e ON e.seq = c.last_event_seq \
                         WHERE c.subject_id IN ({})",
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

            async fn idempotent_answer(
                &self,
                api_key: &str,
                key: &str,
            ) -> app::store::StoreResult<Option<app::store::KeptAnswer>> {
                use sqlx::Row;
                let row = sqlx::query(
                    "SELECT request_sha256, status, response, created_at FROM api_idempotency \
                     WHERE api_key = $1 AND key = $2",
                )
                .bind(api_key)
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("idempotent answer");
                row.map(|r| {
                    let status: i32 = r.try_get("status").map_err(bad)?;
                    Ok(app::store::KeptAnswer {
                        request_sha256: r.try_get("request_sha256").map_err(bad)?,
                        status: u16::try_from(status).map_err(|_| crate::store::corrupt("status"))?,
                        response: r.try_get("response").map_err(bad)?,
                        created_at: r.try_get("created_at").map_err(bad)?,
                    })
                })
                .transpose()
            }

            async fn keep_idempotent_answer(
                &self,
                api_key: &str,
                key: &str,
                a: &app::store::KeptAnswer,
            ) -> app::store::StoreResult<bool> {
                let done = sqlx::query(
                    "INSERT INTO api_idempotency (api_key, key, request_sha256, status, response, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (api_key, key) DO NOTHING",
                )
                .bind(api_key)
                .bind(key)
                .bind(&a.request_sha256)
                .bind(i32::from(a.status))
                .bind(&a.response)
                .bind(a.created_at)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use sql_console;

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::{Channel, PurposeKey};

    #[test]
    fn filters_become_numbered_conditions_in_order() {
        let filter = EventFilter {
            purpose: Some(PurposeKey::parse("newsletter").unwrap()),
            channel: Some(Channel::Email),
            from: Some(time::macros::datetime!(2026-11-01 0:00 UTC)),
            ..EventFilter::default()
        };
        let (sql, binds) = event_query(
            &filter,
            Some(EventCursor::NewestBelow(99)),
            Some(50),
            crate::store::numbered,
            true,
        );
        assert_eq!(
            sql,
            " WHERE purpose = $1 AND channel = $2 AND occurred_at >= $3 AND seq < $4 ORDER BY seq DESC LIMIT $5"
        );
        assert_eq!(binds.len(), 5);
        assert!(matches!(&binds[2], Bind::Text(t) if t == "2026-11-01T00:00:00"));
        let (none, _) = event_query(
            &EventFilter::default(),
            None,
            None,
            crate::store::numbered,
            false,
        );
        assert_eq!(none, "");
        assert!(prefix_end("ab").as_str() > "abzzz");
        assert!(prefix_end("ab").as_str() < "ac");
    }
}
