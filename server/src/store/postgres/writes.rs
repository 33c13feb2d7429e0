//! How PostgreSQL writes a group without idempotency keys: three round trips, events written
//! with arrays.

use super::PgStore;

impl PgStore {
    /// A group without idempotency keys in one transaction of three round trips: begin, lock the
    /// subjects and read their choices; then (decided in memory) write the events and the
    /// projection; then commit. Its statements look every row up by its key. The planner is told
    /// not to scan whole tables: with statistics from when a table was small (a new database,
    /// before autovacuum's next ANALYZE) it scans the consents for the group's subjects, ~1 ms a
    /// group at 5,000 rows and growing, where the key finds them at once.
    pub(super) async fn apply_keyless(
        &self,
        requests: &[Vec<app::domain::Change>],
    ) -> app::store::StoreResult<Vec<Vec<app::store::Applied>>> {
        use crate::store::db_error;
        let subjects = crate::store::bulk::subjects_of(requests);
        // The ids are written into the statements (a uuid's text is hex digits and hyphens):
        // simple queries, several in one message, take one round trip where a bound statement
        // takes two, and are planned for their values each time. (A plan cached while a table was
        // small, a sequential scan, would stay in use as it grows, until the next ANALYZE;
        // planning costs less than one such scan.) The subjects are locked in id order, so
        // concurrent groups never deadlock. The choices are read by a statement of their own:
        // its snapshot is taken once the locks are held, so it sees what the group before
        // committed (read in the locking statement, they would be as of before its wait).
        let ids = uuid_array(&subjects);
        let mut tx = OpenTransaction {
            conn: self.pool.acquire().await.map_err(db_error)?,
            ended: false,
        };
        let written = async {
            let rows = sqlx::Executor::fetch_all(
                &mut *tx.conn,
                format!(
                    "BEGIN; SET LOCAL enable_seqscan = off; \
                     SELECT id FROM subjects WHERE id = ANY({ids}) ORDER BY id FOR UPDATE; \
                     SELECT {CHOICE_COLUMNS} FROM consents WHERE subject_id = ANY({ids})"
                )
                .as_str(),
            )
            .await
            .map_err(db_error)?;
            // A late arrival: the group is written again request by request, which refuses it.
            let (mut results, events) =
                crate::store::bulk::decide_group(requests, current_choices(&rows)?)
                    .map_err(|late| app::store::StoreError::OlderThanLatestChange(late.change))?;
            let recorded = Self::write_events_arrays(&mut tx.conn, &events).await?;
            crate::store::bulk::set_recorded(&mut results, &recorded.into_iter().collect());
            Ok(results)
        }
        .await;
        let end = if written.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let ended = sqlx::Executor::execute(&mut *tx.conn, end).await;
        tx.ended = ended.is_ok();
        let results = written?;
        ended.map_err(db_error)?;
        Ok(results)
    }
}

/// PostgreSQL writes a group with arrays: one statement text whatever the group's size (prepared
/// once per connection), and one parameter per column instead of one per value.
impl PgStore {
    pub(super) async fn write_events_arrays(
        conn: &mut sqlx::PgConnection,
        events: &[app::domain::ConsentEvent],
    ) -> app::store::StoreResult<Vec<(uuid::Uuid, time::OffsetDateTime)>> {
        use crate::store::db_error;
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let col =
            |f: &dyn Fn(&app::domain::ConsentEvent) -> Option<String>| -> Vec<Option<String>> {
                events.iter().map(f).collect()
            };
        let ids: Vec<uuid::Uuid> = events.iter().map(|e| e.id).collect();
        let subjects: Vec<uuid::Uuid> = events.iter().map(|e| e.subject.0).collect();
        let times: Vec<time::OffsetDateTime> =
            events.iter().map(|e| e.provenance.occurred_at).collect();
        // The last event of each consent brings the projection up to date, in the same statement.
        let mut last: std::collections::HashMap<
            (uuid::Uuid, &str, app::domain::Channel),
            uuid::Uuid,
        > = std::collections::HashMap::new();
        for e in events {
            last.insert((e.subject.0, e.purpose.as_str(), e.channel), e.id);
        }
        let last: Vec<uuid::Uuid> = last.into_values().collect();
        let rows = sqlx::query(
            "WITH written AS (INSERT INTO consent_events (id, subject_id, purpose, channel, \
             from_state, to_state, occurred_at, source, actor, notice_version, origin_ip, \
             user_agent, idempotency_key, reason, campaign, collection_point, import_batch, \
             form_url, proof_ref) \
             SELECT c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, \
             c18, c19 \
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::timestamptz[], $8::text[], $9::text[], $10::text[], $11::text[], \
             $12::text[], $13::text[], $14::text[], $15::text[], $17::text[], $18::text[], \
             $19::text[], $20::text[]) WITH ORDINALITY \
             AS u (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, \
             c18, c19, n) \
             ORDER BY n \
             RETURNING id, seq, subject_id, purpose, channel, to_state, occurred_at, source, \
             notice_version, recorded_at), \
             projected AS (INSERT INTO consents (subject_id, purpose, channel, state, updated_at, \
             source, last_event_seq, notice_version) \
             SELECT subject_id, purpose, channel, to_state, occurred_at, source, seq, notice_version \
             FROM written WHERE id = ANY($16) \
             ON CONFLICT (subject_id, purpose, channel) DO UPDATE SET state = excluded.state, \
             updated_at = excluded.updated_at, source = excluded.source, \
             last_event_seq = excluded.last_event_seq, notice_version = excluded.notice_version) \
             SELECT id, recorded_at FROM written",
        )
        .bind(&ids)
        .bind(&subjects)
        .bind(col(&|e| Some(e.purpose.to_string())))
        .bind(col(&|e| Some(e.channel.key().to_owned())))
        .bind(col(&|e| e.from.map(|s| s.key().to_owned())))
        .bind(col(&|e| Some(e.to.key().to_owned())))
        .bind(&times)
        .bind(col(&|e| Some(e.provenance.source.key().to_owned())))
        .bind(col(&|e| Some(e.provenance.actor.to_string())))
        .bind(col(&|e| e.provenance.notice_version.clone()))
        .bind(col(&|e| e.provenance.origin.ip.clone()))
        .bind(col(&|e| e.provenance.origin.user_agent.clone()))
        .bind(col(&|e| e.provenance.idempotency_key.clone()))
        .bind(col(&|e| e.provenance.reason.clone()))
        .bind(col(&|e| e.provenance.campaign.clone()))
        .bind(&last)
        .bind(col(&|e| e.provenance.collection_point.clone()))
        .bind(col(&|e| e.provenance.import_batch.clone()))
        .bind(col(&|e| e.provenance.form_url.clone()))
        .bind(col(&|e| e.provenance.proof_ref.clone()))
        .fetch_all(conn)
        .await
        .map_err(db_error)?;
        // Each event's recorded time, as the database set it.
        rows.iter()
            .map(|r| {
                use sqlx::Row;
                let bad = |_| crate::store::corrupt("recorded_at");
                Ok((r.try_get(0).map_err(bad)?, r.try_get(1).map_err(bad)?))
            })
            .collect()
    }
}

/// A transaction begun by hand on a pooled connection (so that its first statements can go in the
/// same message as its BEGIN). Dropped before it ends (its future cancelled, say), it closes the
/// connection rather than give it back to the pool in the middle of a transaction.
struct OpenTransaction {
    conn: sqlx::pool::PoolConnection<sqlx::Postgres>,
    ended: bool,
}

impl Drop for OpenTransaction {
    fn drop(&mut self) {
        if !self.ended {
            self.conn.close_on_drop();
        }
    }
}

/// The current choices among the rows a group's first message returns (the consents' rows are
/// the ones with four columns; the locked subjects' have one).
/// The choices a group reads, its `updated_at` as the simple query protocol should send it: text of one fixed form
/// in UTC. As a plain `timestamptz` the text follows the session's time zone (`+09` on a server
/// set to Asia/Tokyo) and leaves out a zero fraction, and sqlx's text reader takes the first for
/// UTC and refuses the second: every group whose subjects had a choice made on a whole second
/// failed its optimistic write and was written again change by change (seconds a group).
const CHOICE_COLUMNS: &str = "subject_id, purpose, channel, state, \
     to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS updated_at";

fn current_choices(
    rows: &[sqlx::postgres::PgRow],
) -> app::store::StoreResult<crate::store::bulk::Current> {
    use crate::store::corrupt;
    use sqlx::Row;
    let mut current = crate::store::bulk::Current::with_capacity(rows.len());
    for row in rows.iter().filter(|r| r.len() == 5) {
        let bad = |_| corrupt("consent");
        let state: String = row.try_get("state").map_err(bad)?;
        let updated_at: String = row.try_get("updated_at").map_err(bad)?;
        current.insert(
            (
                row.try_get("subject_id").map_err(bad)?,
                row.try_get("purpose").map_err(bad)?,
                row.try_get("channel").map_err(bad)?,
            ),
            (
                state.parse().map_err(|_| corrupt("state"))?,
                app::domain::rfc3339::parse(updated_at.as_bytes())
                    .ok_or_else(|| corrupt("updated_at"))?,
            ),
        );
    }
    Ok(current)
}

/// A `uuid[]` literal of `ids`, to write into a statement.
fn uuid_array(ids: &[uuid::Uuid]) -> String {
    let mut text = String::with_capacity(ids.len() * 37 + 12);
    text.push_str("'{");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&id.hyphenated().to_string());
    }
    text.push_str("}'::uuid[]");
    text
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    /// The choices' times are read right whatever the session's time zone, whole seconds too
    /// (read as a plain `timestamptz`, `2026-01-01 09:00:00+09` failed to parse, and with a
    /// fraction was taken for 09:00 UTC). Needs PostgreSQL (`DATABASE_URL_PG`); under `CI` it
    /// must be there.
    #[tokio::test]
    async fn a_choice_made_on_a_whole_second_is_read_in_utc_in_any_time_zone() {
        let url = std::env::var("DATABASE_URL_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let mut conn = match sqlx::PgConnection::connect(&url).await {
            Ok(c) => c,
            Err(e) if std::env::var_os("CI").is_none() => {
                println!("skipping PostgreSQL: {e}");
                return;
            }
            Err(e) => panic!("PostgreSQL is needed under CI: {e}"),
        };
        let id = uuid::Uuid::new_v4();
        let rows = sqlx::Executor::fetch_all(
            &mut conn,
            format!(
                "SET TIME ZONE 'Asia/Tokyo'; \
                 SELECT {} FROM (VALUES ('{id}'::uuid, 'newsletter', 'email', 'granted', \
                 timestamptz '2026-01-01T00:00:00Z'), ('{id}'::uuid, 'newsletter', 'sms', \
                 'withdrawn', timestamptz '2026-01-01T00:00:00.25Z')) \
                 AS consents (subject_id, purpose, channel, state, updated_at)",
                super::CHOICE_COLUMNS
            )
            .as_str(),
        )
        .await
        .unwrap();
        let current = super::current_choices(&rows).unwrap();
        let at = |channel: &str| current[&(id, "newsletter".to_owned(), channel.to_owned())].1;
        assert_eq!(
            at("email"),
            time::macros::datetime!(2026-01-01 00:00:00 UTC)
        );
        assert_eq!(
            at("sms"),
            time::macros::datetime!(2026-01-01 00:00:00.25 UTC)
        );
    }
}
