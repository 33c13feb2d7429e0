//! How SQLite writes a group without idempotency keys: on the group commit's own connection,
//! in place.

use super::SqliteStore;
use crate::store::sqlite_raw;
use time::format_description::well_known::Rfc3339;

impl SqliteStore {
    /// A group without idempotency keys, in one transaction on the group commit's own
    /// connection, in place: prepared statements kept from group to group, and no hop to another
    /// thread per statement (the writer runs on a thread of its own, `Writers::OwnThread`).
    pub(super) async fn apply_keyless(
        &self,
        requests: &[Vec<app::domain::Change>],
    ) -> app::store::StoreResult<Vec<Vec<app::store::Applied>>> {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let conn = match &mut *writer {
            Some(conn) => conn,
            empty => empty.insert(sqlite_raw::WriteConnection::open(&self.path)?),
        };
        conn.execute("BEGIN IMMEDIATE", &[])?;
        let written = write_group(conn, requests);
        let committed = written.and_then(|r| conn.execute("COMMIT", &[]).map(|_| r));
        if committed.is_err() {
            // Nothing of the group stays; the caller runs it again request by request.
            let _ = conn.execute("ROLLBACK", &[]);
        }
        committed
    }
}

/// The rules of `Store::apply` for a group without idempotency keys on the writer's connection:
/// read the current choices of the subjects involved, decide in memory, append the events and
/// bring the projection to the last event of each consent.
pub(super) fn write_group(
    conn: &mut sqlite_raw::WriteConnection,
    requests: &[Vec<app::domain::Change>],
) -> app::store::StoreResult<Vec<Vec<app::store::Applied>>> {
    use crate::store::bulk::{Current, decide_group, subjects_of};
    use sqlite_raw::Value;

    let mut current = Current::new();
    for subject in subjects_of(requests) {
        conn.query(
            "SELECT purpose, channel, state, updated_at FROM consents WHERE subject_id = ?1",
            &[Value::Blob(subject.as_bytes())],
            |row| {
                let text = |i| row.text(i)?.ok_or_else(|| crate::store::corrupt("consent"));
                let state = text(2)?
                    .parse()
                    .map_err(|_| crate::store::corrupt("state"))?;
                let at = row
                    .bytes(3)
                    .and_then(app::domain::rfc3339::parse)
                    .ok_or_else(|| crate::store::corrupt("updated_at"))?;
                current.insert(
                    (subject, text(0)?.to_owned(), text(1)?.to_owned()),
                    (state, at),
                );
                Ok(())
            },
        )?;
    }
    // A late arrival: the group is written again request by request, which refuses it.
    let (mut results, events) = decide_group(requests, current)
        .map_err(|late| app::store::StoreError::OlderThanLatestChange(late.change))?;
    // Each event's time and actor as text, kept for the statements that bind them.
    let mut texts = Vec::with_capacity(events.len());
    for e in &events {
        let at = e
            .provenance
            .occurred_at
            .format(&Rfc3339)
            .map_err(|_| crate::store::corrupt("occurred_at"))?;
        texts.push((at, e.provenance.actor.to_string()));
    }
    // The recorded time is the database's, read back with the seq.
    let mut written = std::collections::HashMap::with_capacity(events.len());
    let mut params = Vec::with_capacity(ROWS * EVENT_PARAMS);
    for (chunk, texts) in events.chunks(ROWS).zip(texts.chunks(ROWS)) {
        params.clear();
        for (e, (at, actor)) in chunk.iter().zip(texts) {
            let p = &e.provenance;
            params.extend([
                Value::Blob(e.id.as_bytes()),
                Value::Blob(e.subject.0.as_bytes()),
                Value::Text(e.purpose.as_str()),
                Value::Text(e.channel.key()),
                e.from.map(|s| s.key()).into(),
                Value::Text(e.to.key()),
                Value::Text(at),
                Value::Text(p.source.key()),
                Value::Text(actor),
                p.notice_version.as_deref().into(),
                p.origin.ip.as_deref().into(),
                p.origin.user_agent.as_deref().into(),
                p.idempotency_key.as_deref().into(),
                p.reason.as_deref().into(),
                p.campaign.as_deref().into(),
                p.collection_point.as_deref().into(),
                p.import_batch.as_deref().into(),
                p.form_url.as_deref().into(),
                p.proof_ref.as_deref().into(),
            ]);
        }
        let sql = if chunk.len() == ROWS {
            INSERT_EVENTS[1].as_str()
        } else {
            INSERT_EVENTS[0].as_str()
        };
        let mut read = |row: &sqlite_raw::Row<'_>| {
            let id = row
                .bytes(0)
                .and_then(|b| uuid::Uuid::from_slice(b).ok())
                .ok_or_else(|| crate::store::corrupt("id"))?;
            let recorded_at = row
                .bytes(2)
                .and_then(app::domain::rfc3339::parse)
                .ok_or_else(|| crate::store::corrupt("recorded_at"))?;
            written.insert(id, (row.int(1), recorded_at));
            Ok(())
        };
        if chunk.len() == ROWS {
            conn.query(sql, &params, &mut read)?;
        } else {
            // The rest one by one (one more statement kept, not one per size).
            for one in params.chunks(EVENT_PARAMS) {
                conn.query(sql, one, &mut read)?;
            }
        }
    }
    let mut last = std::collections::HashMap::new();
    let mut recorded = std::collections::HashMap::with_capacity(events.len());
    for (e, (at, _)) in events.iter().zip(&texts) {
        let (seq, recorded_at) = *written
            .get(&e.id)
            .ok_or_else(|| crate::store::corrupt("seq"))?;
        recorded.insert(e.id, recorded_at);
        last.insert((e.subject.0, e.purpose.as_str(), e.channel), (e, at, seq));
    }
    crate::store::bulk::set_recorded(&mut results, &recorded);
    let last: Vec<_> = last.into_values().collect();
    for chunk in last.chunks(ROWS) {
        params.clear();
        for (e, at, seq) in chunk {
            params.extend([
                Value::Blob(e.subject.0.as_bytes()),
                Value::Text(e.purpose.as_str()),
                Value::Text(e.channel.key()),
                Value::Text(e.to.key()),
                Value::Text(at),
                Value::Text(e.provenance.source.key()),
                Value::Int(*seq),
                e.provenance.notice_version.as_deref().into(),
            ]);
        }
        if chunk.len() == ROWS {
            conn.execute(PROJECT[1].as_str(), &params)?;
        } else {
            for one in params.chunks(CONSENT_PARAMS) {
                conn.execute(PROJECT[0].as_str(), one)?;
            }
        }
    }
    Ok(results)
}

/// Rows per statement of a group's writes: each statement that may abort (a trigger, a foreign
/// key) copies every page it changes to its statement journal first, so one statement of many
/// rows copies each page once rather than once a row, and is stepped once. Fewer rows at the end
/// of a group go one by one (two statements kept per table, not one per size).
const ROWS: usize = 32;
const EVENT_PARAMS: usize = 19;
const CONSENT_PARAMS: usize = 8;

/// The events' insert, of one row and of [`ROWS`] rows, each returning its id, seq and the
/// recorded time the database set.
static INSERT_EVENTS: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
    let insert = |rows: usize| {
        let row = format!(
            "({}, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            ["?"; EVENT_PARAMS].join(", ")
        );
        format!(
            "INSERT INTO consent_events (id, subject_id, purpose, channel, from_state, to_state, \
             occurred_at, source, actor, notice_version, origin_ip, user_agent, idempotency_key, \
             reason, campaign, collection_point, import_batch, form_url, proof_ref, recorded_at) \
             VALUES {} RETURNING id, seq, recorded_at",
            vec![row; rows].join(", ")
        )
    };
    [insert(1), insert(ROWS)]
});

/// The projection's upsert (each consent to its last event), of one row and of [`ROWS`] rows.
static PROJECT: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
    let upsert = |rows: usize| {
        let row = format!("({})", ["?"; CONSENT_PARAMS].join(", "));
        format!(
            "INSERT INTO consents (subject_id, purpose, channel, state, updated_at, source, \
             last_event_seq, notice_version) VALUES {} \
             ON CONFLICT (subject_id, purpose, channel) DO UPDATE SET state = excluded.state, \
             updated_at = excluded.updated_at, source = excluded.source, \
             last_event_seq = excluded.last_event_seq, notice_version = excluded.notice_version",
            vec![row; rows].join(", ")
        )
    };
    [upsert(1), upsert(ROWS)]
});
