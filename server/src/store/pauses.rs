//! `PauseStore` for both backends, written once (expanded in sqlite.rs and postgres.rs).

/// The columns a pause is read with (`p` the pause) and whether it is in force: its withdrawal
/// is still its consent's latest event.
pub(crate) const PAUSE_COLUMNS: &str = "p.id, p.subject_id, p.purpose, p.channel, p.event_id, \
     p.days, p.until_ms, p.asked_at, p.source, p.ip, p.notice_version, p.ended_at, p.outcome, \
     EXISTS (SELECT 1 FROM consents c JOIN consent_events e ON e.seq = c.last_event_seq \
     WHERE c.subject_id = p.subject_id AND c.purpose = p.purpose AND c.channel = p.channel \
     AND e.id = p.event_id) AS in_force";

/// A pause read with [`PAUSE_COLUMNS`], and whether it is in force.
pub(crate) fn pause_row<R>(r: &R) -> app::store::StoreResult<(app::store::Pause, bool)>
where
    R: sqlx::Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> uuid::Uuid: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i32: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> time::OffsetDateTime: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<time::OffsetDateTime>: sqlx::Decode<'a, R::Database>,
{
    let bad = |_| crate::store::corrupt("pause");
    let purpose: String = r.try_get("purpose").map_err(bad)?;
    let channel: String = r.try_get("channel").map_err(bad)?;
    let source: String = r.try_get("source").map_err(bad)?;
    let days: i32 = r.try_get("days").map_err(bad)?;
    let until_ms: i64 = r.try_get("until_ms").map_err(bad)?;
    let ended_at: Option<time::OffsetDateTime> = r.try_get("ended_at").map_err(bad)?;
    let outcome: Option<String> = r.try_get("outcome").map_err(bad)?;
    let ended = match (ended_at, outcome) {
        (Some(at), Some(o)) => Some((
            at,
            app::domain::PauseOutcome::parse(&o).map_err(|_| crate::store::corrupt("pause"))?,
        )),
        _ => None,
    };
    let pause = app::store::Pause {
        id: r.try_get("id").map_err(bad)?,
        subject: app::domain::SubjectId(r.try_get("subject_id").map_err(bad)?),
        purpose: app::domain::PurposeKey::parse(&purpose)
            .map_err(|_| crate::store::corrupt("pause"))?,
        channel: channel
            .parse()
            .map_err(|_| crate::store::corrupt("pause"))?,
        event_id: r.try_get("event_id").map_err(bad)?,
        days: u16::try_from(days).map_err(|_| crate::store::corrupt("pause"))?,
        until: time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(until_ms) * 1_000_000)
            .map_err(|_| crate::store::corrupt("pause"))?,
        asked_at: r.try_get("asked_at").map_err(bad)?,
        source: source.parse().map_err(|_| crate::store::corrupt("pause"))?,
        ip: r.try_get("ip").map_err(bad)?,
        notice_version: r.try_get("notice_version").map_err(bad)?,
        ended,
    };
    Ok((pause, r.try_get("in_force").map_err(bad)?))
}

/// Unix milliseconds of a time.
pub(crate) fn millis(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

macro_rules! sql_pauses {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl app::store::PauseStore for $store {
            async fn start_pauses(
                &self,
                pauses: &[app::store::Pause],
            ) -> app::store::StoreResult<()> {
                use crate::store::db_error;
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                for p in pauses {
                    sqlx::query(
                        "UPDATE pauses SET ended_at = $1, outcome = 'replaced' \
                         WHERE subject_id = $2 AND purpose = $3 AND channel = $4 \
                         AND ended_at IS NULL",
                    )
                    .bind(p.asked_at)
                    .bind(p.subject.0)
                    .bind(p.purpose.as_str())
                    .bind(p.channel.key())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                    sqlx::query(
                        "INSERT INTO pauses (id, subject_id, purpose, channel, event_id, days, \
                         until_ms, asked_at, source, ip, notice_version) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(p.id)
                    .bind(p.subject.0)
                    .bind(p.purpose.as_str())
                    .bind(p.channel.key())
                    .bind(p.event_id)
                    .bind(i32::from(p.days))
                    .bind(crate::store::pauses::millis(p.until))
                    .bind(p.asked_at)
                    .bind(p.source.key())
                    .bind(p.ip.as_deref())
                    .bind(p.notice_version.as_deref())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)
            }

            async fn pauses_in_force(
                &self,
                subject: app::domain::SubjectId,
            ) -> app::store::StoreResult<Vec<app::store::Pause>> {
                let sql = format!(
                    "SELECT {} FROM pauses p WHERE p.subject_id = $1 AND p.ended_at IS NULL \
                     ORDER BY p.until_ms",
                    crate::store::pauses::PAUSE_COLUMNS
                );
                let rows = sqlx::query(&sql)
                    .bind(subject.0)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                let mut out = Vec::new();
                for r in &rows {
                    let (pause, in_force) = crate::store::pauses::pause_row(r)?;
                    if in_force {
                        out.push(pause);
                    }
                }
                Ok(out)
            }

            async fn pauses_of(
                &self,
                subject: app::domain::SubjectId,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::store::Pause>> {
                let sql = format!(
                    "SELECT {} FROM pauses p WHERE p.subject_id = $1 \
                     ORDER BY p.asked_at DESC LIMIT $2",
                    crate::store::pauses::PAUSE_COLUMNS
                );
                let rows = sqlx::query(&sql)
                    .bind(subject.0)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                rows.iter()
                    .map(|r| crate::store::pauses::pause_row(r).map(|(p, _)| p))
                    .collect()
            }

            async fn claim_due_pauses(
                &self,
                at: time::OffsetDateTime,
                owner: &str,
                lease_ms: i64,
                limit: u32,
            ) -> app::store::StoreResult<Vec<(app::store::Pause, bool)>> {
                use crate::store::db_error;
                let now_ms = crate::store::pauses::millis(app::services::now());
                let sql = format!(
                    "SELECT {} FROM pauses p WHERE p.ended_at IS NULL AND p.until_ms <= $1 \
                     AND (p.lease_owner IS NULL OR p.lease_owner = $2 OR p.lease_until < $3) \
                     ORDER BY p.until_ms LIMIT $4",
                    crate::store::pauses::PAUSE_COLUMNS
                );
                let rows = sqlx::query(&sql)
                    .bind(crate::store::pauses::millis(at))
                    .bind(owner)
                    .bind(now_ms)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_error)?;
                let mut claimed = Vec::new();
                for r in &rows {
                    let (pause, in_force) = crate::store::pauses::pause_row(r)?;
                    // Another instance may have taken it since it was read: only a row still
                    // free (or already ours) is taken.
                    let took = sqlx::query(
                        "UPDATE pauses SET lease_owner = $1, lease_until = $2 \
                         WHERE id = $3 AND ended_at IS NULL \
                         AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $4)",
                    )
                    .bind(owner)
                    .bind(now_ms + lease_ms)
                    .bind(pause.id)
                    .bind(now_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?
                    .rows_affected();
                    if took == 1 {
                        claimed.push((pause, in_force));
                    }
                }
                Ok(claimed)
            }

            async fn end_pause(
                &self,
                id: uuid::Uuid,
                at: time::OffsetDateTime,
                outcome: app::domain::PauseOutcome,
            ) -> app::store::StoreResult<bool> {
                Ok(sqlx::query(
                    "UPDATE pauses SET ended_at = $1, outcome = $2, lease_owner = NULL \
                     WHERE id = $3 AND ended_at IS NULL",
                )
                .bind(at)
                .bind(outcome.key())
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?
                .rows_affected()
                    == 1)
            }

            async fn choose_frequency(
                &self,
                choice: &app::store::FrequencyChoice,
            ) -> app::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO frequency_choices (subject_id, purpose, frequency, chosen_at, \
                     source, actor) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(choice.subject.0)
                .bind(choice.purpose.as_str())
                .bind(choice.frequency.key())
                .bind(choice.chosen_at)
                .bind(choice.source.key())
                .bind(choice.actor.as_str())
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn frequencies_of(
                &self,
                subjects: &[app::domain::SubjectId],
            ) -> app::store::StoreResult<Vec<app::store::FrequencyChoice>> {
                let mut out = Vec::new();
                for chunk in subjects.chunks(500) {
                    let marks: Vec<String> =
                        (1..=chunk.len()).map(|i| format!("${i}")).collect();
                    let sql = format!(
                        "SELECT f.subject_id, f.purpose, f.frequency, f.chosen_at, f.source, \
                         f.actor FROM frequency_choices f WHERE f.subject_id IN ({}) \
                         AND f.seq = (SELECT MAX(g.seq) FROM frequency_choices g \
                         WHERE g.subject_id = f.subject_id AND g.purpose = f.purpose)",
                        marks.join(", ")
                    );
                    let mut q = sqlx::query(&sql);
                    for s in chunk {
                        q = q.bind(s.0);
                    }
                    let rows = q
                        .fetch_all(&self.pool)
                        .await
                        .map_err(crate::store::db_error)?;
                    for r in &rows {
                        out.push(crate::store::pauses::frequency_row(r)?);
                    }
                }
                Ok(out)
            }

            async fn frequency_history(
                &self,
                subject: app::domain::SubjectId,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::store::FrequencyChoice>> {
                let rows = sqlx::query(
                    "SELECT subject_id, purpose, frequency, chosen_at, source, actor \
                     FROM frequency_choices WHERE subject_id = $1 ORDER BY seq DESC LIMIT $2",
                )
                .bind(subject.0)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                rows.iter()
                    .map(|r| crate::store::pauses::frequency_row(r))
                    .collect()
            }
        }
    };
}

pub(crate) use sql_pauses;

/// A frequency choice as stored.
pub(crate) fn frequency_row<R>(r: &R) -> app::store::StoreResult<app::store::FrequencyChoice>
where
    R: sqlx::Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> uuid::Uuid: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> time::OffsetDateTime: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let bad = |_| crate::store::corrupt("frequency choice");
    let purpose: String = r.try_get("purpose").map_err(bad)?;
    let frequency: String = r.try_get("frequency").map_err(bad)?;
    let source: String = r.try_get("source").map_err(bad)?;
    Ok(app::store::FrequencyChoice {
        subject: app::domain::SubjectId(r.try_get("subject_id").map_err(bad)?),
        purpose: app::domain::PurposeKey::parse(&purpose)
            .map_err(|_| crate::store::corrupt("frequency choice"))?,
        frequency: app::domain::Frequency::parse(&frequency)
            .map_err(|_| crate::store::corrupt("frequency choice"))?,
        chosen_at: r.try_get("chosen_at").map_err(bad)?,
        source: source
            .parse()
            .map_err(|_| crate::store::corrupt("frequency choice"))?,
        actor: r.try_get("actor").map_err(bad)?,
    })
}
