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
    let mut last = std::collections::HashMap::new();
    let mut recorded = std::collections::HashMap::with_capacity(events.len());
    for e in &events {
        let p = &e.provenance;
        let at = p
            .occurred_at
            .format(&Rfc3339)
            .map_err(|_| crate::store::corrupt("occurred_at"))?;
        let actor = p.actor.to_string();
        // The recorded time is the database's, read back with the seq.
        let (mut seq, mut recorded_at) = (0, None);
        conn.query(
            "INSERT INTO consent_events (id, subject_id, purpose, channel, from_state, to_state, \
             occurred_at, source, actor, notice_version, origin_ip, user_agent, idempotency_key, \
             reason, campaign, collection_point, import_batch, form_url, proof_ref, recorded_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
             ?18, ?19, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) RETURNING seq, recorded_at",
            &[
                Value::Blob(e.id.as_bytes()),
                Value::Blob(e.subject.0.as_bytes()),
                Value::Text(e.purpose.as_str()),
                Value::Text(e.channel.key()),
                e.from.map(|s| s.key()).into(),
                Value::Text(e.to.key()),
                Value::Text(&at),
                Value::Text(p.source.key()),
                Value::Text(&actor),
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
            ],
            |row| {
                seq = row.int(0);
                recorded_at = row.bytes(1).and_then(app::domain::rfc3339::parse);
                Ok(())
            },
        )?;
        recorded.insert(
            e.id,
            recorded_at.ok_or_else(|| crate::store::corrupt("recorded_at"))?,
        );
        last.insert((e.subject.0, e.purpose.as_str(), e.channel), (e, at, seq));
    }
    crate::store::bulk::set_recorded(&mut results, &recorded);
    for (e, at, seq) in last.values() {
        conn.execute(
            "INSERT INTO consents (subject_id, purpose, channel, state, updated_at, source, \
             last_event_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (subject_id, purpose, channel) DO UPDATE SET state = excluded.state, \
             updated_at = excluded.updated_at, source = excluded.source, \
             last_event_seq = excluded.last_event_seq",
            &[
                Value::Blob(e.subject.0.as_bytes()),
                Value::Text(e.purpose.as_str()),
                Value::Text(e.channel.key()),
                Value::Text(e.to.key()),
                Value::Text(at),
                Value::Text(e.provenance.source.key()),
                Value::Int(*seq),
            ],
        )?;
    }
    Ok(results)
}
