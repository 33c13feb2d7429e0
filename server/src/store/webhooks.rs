//! `WebhookStore` for both backends, written once (expanded in sqlite.rs and postgres.rs):
//! endpoints, their cursors and leases, and the delivery log. Times are unix milliseconds, so one
//! SQL text serves both.

macro_rules! sql_webhooks {
    ($store:ty, $db:ty, text_times = $text_times:literal, deliveries = $deliveries:path) => {
        impl $store {
            fn webhook_at(
                row: &<$db as sqlx::Database>::Row,
            ) -> app::store::StoreResult<app::domain::webhook::WebhookEndpoint> {
                use app::domain::webhook::split_list;
                use sqlx::Row;
                let bad = |_| crate::store::corrupt("webhook endpoint");
                let list = |name: &str| -> app::store::StoreResult<Vec<String>> {
                    let s: String = row.try_get(name).map_err(bad)?;
                    Ok(split_list(&s))
                };
                let state: String = row.try_get("state").map_err(bad)?;
                Ok(app::domain::webhook::WebhookEndpoint {
                    id: row.try_get("id").map_err(bad)?,
                    url: row.try_get("url").map_err(bad)?,
                    description: row.try_get("description").map_err(bad)?,
                    filter: app::domain::webhook::WebhookFilter {
                        kinds: list("kinds")?,
                        purposes: list("purposes")?,
                        channels: list("channels")?,
                        sources: list("sources")?,
                    },
                    secret: row.try_get("secret").map_err(bad)?,
                    previous_secret: row.try_get("previous_secret").map_err(bad)?,
                    previous_until: row.try_get("previous_until").map_err(bad)?,
                    state: state
                        .parse()
                        .map_err(|_| crate::store::corrupt("webhook state"))?,
                    position: row.try_get("position").map_err(bad)?,
                    failures: row.try_get("failures").map_err(bad)?,
                    next_attempt_at: row.try_get("next_attempt_at").map_err(bad)?,
                    failing_since: row.try_get("failing_since").map_err(bad)?,
                    disabled_reason: row.try_get("disabled_reason").map_err(bad)?,
                    last_success_at: row.try_get("last_success_at").map_err(bad)?,
                    created_at: row.try_get("created_at").map_err(bad)?,
                    recipient: row.try_get("recipient").map_err(bad)?,
                })
            }
        }

        #[async_trait::async_trait]
        impl app::store::WebhookStore for $store {
            async fn add_webhook(
                &self,
                e: &app::domain::webhook::WebhookEndpoint,
            ) -> app::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO webhook_endpoints (id, url, description, kinds, purposes, \
                     channels, sources, secret, state, position, created_at, recipient) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(&e.id)
                .bind(&e.url)
                .bind(&e.description)
                .bind(e.filter.kinds.join(","))
                .bind(e.filter.purposes.join(","))
                .bind(e.filter.channels.join(","))
                .bind(e.filter.sources.join(","))
                .bind(&e.secret)
                .bind(e.state.key())
                .bind(e.position)
                .bind(e.created_at)
                .bind(e.recipient.as_deref())
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn webhooks(
                &self,
            ) -> app::store::StoreResult<Vec<app::domain::webhook::WebhookEndpoint>> {
                let rows = sqlx::query("SELECT * FROM webhook_endpoints ORDER BY created_at, id")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                rows.iter().map(Self::webhook_at).collect()
            }

            async fn webhook(
                &self,
                id: &str,
            ) -> app::store::StoreResult<Option<app::domain::webhook::WebhookEndpoint>> {
                let row = sqlx::query("SELECT * FROM webhook_endpoints WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                row.as_ref().map(Self::webhook_at).transpose()
            }

            async fn update_webhook(
                &self,
                id: &str,
                url: &str,
                description: &str,
                filter: &app::domain::webhook::WebhookFilter,
            ) -> app::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE webhook_endpoints SET url = $1, description = $2, kinds = $3, \
                     purposes = $4, channels = $5, sources = $6 WHERE id = $7",
                )
                .bind(url)
                .bind(description)
                .bind(filter.kinds.join(","))
                .bind(filter.purposes.join(","))
                .bind(filter.channels.join(","))
                .bind(filter.sources.join(","))
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(done.rows_affected() > 0)
            }

            async fn rotate_webhook_secret(
                &self,
                id: &str,
                secret: &str,
                previous_secret: &str,
                previous_until: i64,
            ) -> app::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE webhook_endpoints SET secret = $1, previous_secret = $2, \
                     previous_until = $3 WHERE id = $4",
                )
                .bind(secret)
                .bind(previous_secret)
                .bind(previous_until)
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(done.rows_affected() > 0)
            }

            async fn disable_webhook(&self, id: &str, reason: &str) -> app::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE webhook_endpoints SET state = 'disabled', disabled_reason = $1 \
                     WHERE id = $2",
                )
                .bind(reason)
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(done.rows_affected() > 0)
            }

            async fn enable_webhook(
                &self,
                id: &str,
                position: Option<i64>,
            ) -> app::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE webhook_endpoints SET state = 'active', disabled_reason = NULL, \
                     failures = 0, failing_since = NULL, next_attempt_at = 0, \
                     position = COALESCE($1, position) WHERE id = $2",
                )
                .bind(position)
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_webhook(&self, id: &str) -> app::store::StoreResult<bool> {
                let done = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                Ok(done.rows_affected() > 0)
            }

            async fn position_before(
                &self,
                at: time::OffsetDateTime,
            ) -> app::store::StoreResult<i64> {
                use sqlx::Row;
                let sql = "SELECT COALESCE(MIN(s.position), \
                     (SELECT COALESCE(MAX(position), 0) + 1 FROM event_seals)) - 1 AS p \
                     FROM event_seals s JOIN consent_events e ON e.seq = s.event_seq \
                     WHERE e.recorded_at >= $1";
                let q = sqlx::query(sql);
                // SQLite keeps times as RFC 3339 text (see console/event_log.rs: a bound without
                // an offset orders correctly against every stored value).
                let q = if $text_times {
                    q.bind(
                        at.to_offset(time::UtcOffset::UTC)
                            .format(time::macros::format_description!(
                                "[year]-[month]-[day]T[hour]:[minute]:[second]"
                            ))
                            .unwrap_or_default(),
                    )
                } else {
                    q.bind(at)
                };
                let row = q
                    .fetch_one(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                row.try_get::<i64, _>("p")
                    .map_err(|_| crate::store::corrupt("position"))
            }

            async fn webhook_deliveries(
                &self,
                id: &str,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::domain::webhook::WebhookDelivery>> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT * FROM webhook_deliveries WHERE endpoint_id = $1 \
                     ORDER BY id DESC LIMIT $2",
                )
                .bind(id)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("webhook delivery");
                rows.iter()
                    .map(|row| {
                        Ok(app::domain::webhook::WebhookDelivery {
                            endpoint_id: row.try_get("endpoint_id").map_err(bad)?,
                            at: row.try_get("at").map_err(bad)?,
                            event_id: row.try_get("event_id").map_err(bad)?,
                            position: row.try_get("position").map_err(bad)?,
                            attempt: row.try_get("attempt").map_err(bad)?,
                            status: row.try_get("status").map_err(bad)?,
                            error: row.try_get("error").map_err(bad)?,
                            latency_ms: row.try_get("latency_ms").map_err(bad)?,
                            answer: row.try_get("answer").map_err(bad)?,
                        })
                    })
                    .collect()
            }

            async fn lease_webhook(
                &self,
                id: &str,
                owner: &str,
                now: i64,
                lease_ms: i64,
            ) -> app::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE webhook_endpoints SET lease_owner = $1, lease_until = $2 \
                     WHERE id = $3 AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $4)",
                )
                .bind(owner)
                .bind(now + lease_ms)
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(done.rows_affected() > 0)
            }

            async fn release_webhook(&self, id: &str, owner: &str) -> app::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE webhook_endpoints SET lease_owner = NULL, lease_until = 0 \
                     WHERE id = $1 AND lease_owner = $2",
                )
                .bind(id)
                .bind(owner)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn record_webhook_round(
                &self,
                id: &str,
                owner: &str,
                round: &app::domain::webhook::WebhookRound<'_>,
                now: i64,
            ) -> app::store::StoreResult<bool> {
                use crate::store::db_error;
                let app::domain::webhook::WebhookRound {
                    position,
                    attempts,
                    failure,
                    notifications,
                } = *round;
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                // The cursor only moves forward, and only for the lease's holder; a disabled
                // endpoint stays disabled (an owner may have disabled it meanwhile).
                let done = match failure {
                    None => sqlx::query(
                        "UPDATE webhook_endpoints SET position = MAX_OF, failures = 0, \
                         failing_since = NULL, next_attempt_at = 0, last_success_at = COALESCE($1, last_success_at), \
                         state = CASE WHEN state = 'disabled' THEN state ELSE 'active' END \
                         WHERE id = $2 AND lease_owner = $3"
                            .replace("MAX_OF", "CASE WHEN position < $4 THEN $4 ELSE position END")
                            .as_str(),
                    )
                    .bind(if attempts.iter().any(|a| a.succeeded()) { Some(now) } else { None::<i64> })
                    .bind(id)
                    .bind(owner)
                    .bind(position)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?,
                    Some(f) => sqlx::query(
                        "UPDATE webhook_endpoints SET position = MAX_OF, failures = $1, \
                         failing_since = $2, next_attempt_at = $3, \
                         last_success_at = COALESCE($5, last_success_at), \
                         state = CASE WHEN state = 'disabled' THEN state ELSE $6 END, \
                         disabled_reason = CASE WHEN state = 'disabled' THEN disabled_reason \
                         ELSE $7 END WHERE id = $8 AND lease_owner = $9"
                            .replace("MAX_OF", "CASE WHEN position < $4 THEN $4 ELSE position END")
                            .as_str(),
                    )
                    .bind(f.failures)
                    .bind(f.failing_since)
                    .bind(f.next_attempt_at)
                    .bind(position)
                    .bind(if attempts.iter().any(|a| a.succeeded()) { Some(now) } else { None::<i64> })
                    .bind(f.state.key())
                    .bind(f.disabled_reason.as_deref())
                    .bind(id)
                    .bind(owner)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?,
                };
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                $deliveries(&mut tx, attempts).await?;
                for chunk in notifications.chunks(100) {
                    let values: Vec<String> = (0..chunk.len())
                        .map(|i| {
                            let b = 7 * i;
                            format!(
                                "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                                b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7
                            )
                        })
                        .collect();
                    let sql = format!(
                        "INSERT INTO recipient_notifications (recipient, subject_id, event_id, \
                         purpose, state, delivered_at, endpoint_id) VALUES {}",
                        values.join(", ")
                    );
                    let mut q = sqlx::query(&sql);
                    for n in chunk {
                        q = q
                            .bind(&n.recipient)
                            .bind(n.subject.0)
                            .bind(&n.event_id)
                            .bind(n.purpose.as_str())
                            .bind(n.state.key())
                            .bind(n.delivered_at)
                            .bind(&n.endpoint_id);
                    }
                    q.execute(&mut *tx).await.map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)?;
                Ok(true)
            }

            async fn provided_to(
                &self,
                recipient: &str,
                subjects: &[app::domain::SubjectId],
            ) -> app::store::StoreResult<Vec<(app::domain::SubjectId, app::domain::PurposeKey)>> {
                use sqlx::Row;
                let mut subjects = subjects.to_vec();
                subjects.sort_unstable();
                subjects.dedup();
                if subjects.is_empty() {
                    return Ok(Vec::new());
                }
                let list: Vec<String> = (0..subjects.len()).map(|i| format!("${}", i + 2)).collect();
                let sql = format!(
                    "SELECT DISTINCT subject_id, purpose FROM provisions \
                     WHERE recipient = $1 AND subject_id IN ({})",
                    list.join(", ")
                );
                let mut q = sqlx::query(&sql).bind(recipient);
                for s in &subjects {
                    q = q.bind(s.0);
                }
                let rows = q.fetch_all(&self.pool).await.map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("provision");
                rows.iter()
                    .map(|r| {
                        let purpose: String = r.try_get("purpose").map_err(bad)?;
                        Ok((
                            app::domain::SubjectId(r.try_get("subject_id").map_err(bad)?),
                            purpose.parse().map_err(|_| crate::store::corrupt("purpose"))?,
                        ))
                    })
                    .collect()
            }

            async fn recipient_notifications(
                &self,
                subject: app::domain::SubjectId,
            ) -> app::store::StoreResult<Vec<app::domain::webhook::RecipientNotification>> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT recipient, subject_id, event_id, purpose, state, delivered_at, \
                     endpoint_id FROM recipient_notifications WHERE subject_id = $1 ORDER BY id",
                )
                .bind(subject.0)
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("recipient notification");
                rows.iter()
                    .map(|r| {
                        let purpose: String = r.try_get("purpose").map_err(bad)?;
                        let state: String = r.try_get("state").map_err(bad)?;
                        Ok(app::domain::webhook::RecipientNotification {
                            recipient: r.try_get("recipient").map_err(bad)?,
                            subject: app::domain::SubjectId(r.try_get("subject_id").map_err(bad)?),
                            event_id: r.try_get("event_id").map_err(bad)?,
                            purpose: purpose.parse().map_err(|_| crate::store::corrupt("purpose"))?,
                            state: state.parse().map_err(|_| crate::store::corrupt("state"))?,
                            delivered_at: r.try_get("delivered_at").map_err(bad)?,
                            endpoint_id: r.try_get("endpoint_id").map_err(bad)?,
                        })
                    })
                    .collect()
            }

            async fn prune_webhook_deliveries(&self, before: i64) -> app::store::StoreResult<u64> {
                let done = sqlx::query("DELETE FROM webhook_deliveries WHERE at < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                Ok(done.rows_affected())
            }
        }
    };
}

pub(crate) use sql_webhooks;

/// The attempts of a round into the delivery log, as rows of one statement per hundred (SQLite).
pub(crate) async fn deliveries_as_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    attempts: &[app::domain::webhook::WebhookDelivery],
) -> app::store::StoreResult<()> {
    for chunk in attempts.chunks(100) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = 9 * i;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO webhook_deliveries (endpoint_id, at, event_id, position, \
             attempt, status, error, latency_ms, answer) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for a in chunk {
            q = q
                .bind(&a.endpoint_id)
                .bind(a.at)
                .bind(&a.event_id)
                .bind(a.position)
                .bind(a.attempt)
                .bind(a.status)
                .bind(a.error.as_deref())
                .bind(a.latency_ms)
                .bind(&a.answer);
        }
        q.execute(&mut **tx).await.map_err(crate::store::db_error)?;
    }
    Ok(())
}

/// The attempts of a round into the delivery log as one statement of arrays (PostgreSQL): the
/// same statement text whatever the round's size, prepared once per connection, where a list of
/// rows was a new statement for each size of round (parsed, planned and cached again, a round
/// trip more, and the cache of a hundred statements churned under load).
pub(crate) async fn deliveries_as_arrays(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    attempts: &[app::domain::webhook::WebhookDelivery],
) -> app::store::StoreResult<()> {
    if attempts.is_empty() {
        return Ok(());
    }
    /// One column of the attempts, as the array bound for it.
    fn column<'a, T>(
        attempts: &'a [app::domain::webhook::WebhookDelivery],
        f: impl Fn(&'a app::domain::webhook::WebhookDelivery) -> T,
    ) -> Vec<T> {
        attempts.iter().map(f).collect()
    }
    sqlx::query(
        "INSERT INTO webhook_deliveries (endpoint_id, at, event_id, position, attempt, status, \
         error, latency_ms, answer) \
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], \
         $6::bigint[], $7::text[], $8::bigint[], $9::text[])",
    )
    .bind(column(attempts, |a| a.endpoint_id.as_str()))
    .bind(column(attempts, |a| a.at))
    .bind(column(attempts, |a| a.event_id.as_str()))
    .bind(column(attempts, |a| a.position))
    .bind(column(attempts, |a| a.attempt))
    .bind(column(attempts, |a| a.status))
    .bind(column(attempts, |a| a.error.as_deref()))
    .bind(column(attempts, |a| a.latency_ms))
    .bind(column(attempts, |a| a.answer.as_str()))
    .execute(&mut **tx)
    .await
    .map_err(crate::store::db_error)?;
    Ok(())
}
