//! Group commit in bulk: a group of requests without idempotency keys is decided in memory
//! (`decide_group`, shared by both backends) and written with a few statements, each backend its
//! fastest way (`SqliteStore::apply_keyless`, `PgStore::apply_keyless`). The writer of events
//! (expanded inside `sql_store!`) serves single changes too.

use std::collections::HashMap;

use app::domain::{Change, ConsentEvent, ConsentState, Decision, Outcome, decide};
use app::store::Applied;

macro_rules! sql_bulk {
    ($store:ty, $db:ty, $ph:path, write = $write:ident, recorded_now = $recorded_now:literal) => {
        impl $store {
            /// Appends events (in order) and brings the projection to the last of each consent;
            /// each event gets the time the database recorded it at.
            async fn write_events(
                tx: &mut sqlx::Transaction<'static, $db>,
                events: &mut [app::domain::ConsentEvent],
            ) -> app::store::StoreResult<()> {
                let recorded = Self::$write(tx, events).await?;
                for e in events.iter_mut() {
                    e.recorded_at = recorded.iter().find(|(id, _)| *id == e.id).map(|(_, at)| *at);
                }
                Ok(())
            }

            /// `write_events` with statements of one parameter per value (up to 400 rows each).
            #[allow(dead_code)]
            async fn write_events_lists(
                tx: &mut sqlx::Transaction<'static, $db>,
                events: &[app::domain::ConsentEvent],
            ) -> app::store::StoreResult<Vec<(uuid::Uuid, time::OffsetDateTime)>> {
                use std::collections::HashMap;
                use crate::store::db_error;

                fn list(first: usize, n: usize) -> String {
                    (first..first + n).map($ph).collect::<Vec<_>>().join(", ")
                }

                let mut recorded = Vec::with_capacity(events.len());
                for chunk in events.chunks(400) {
                    // Each event's recorded time is the database's clock at the insert.
                    let values: Vec<String> = (0..chunk.len())
                        .map(|i| format!("({}, {})", list(i * 19 + 1, 19), $recorded_now))
                        .collect();
                    let sql = format!(
                        "INSERT INTO consent_events (id, subject_id, purpose, channel, from_state, to_state, occurred_at, \
                         source, actor, notice_version, origin_ip, user_agent, idempotency_key, reason, campaign, \
                         collection_point, import_batch, form_url, proof_ref, recorded_at) VALUES {} RETURNING id, recorded_at",
                        values.join(", ")
                    );
                    let mut q = sqlx::query(&sql);
                    for e in chunk {
                        let p = &e.provenance;
                        q = q
                            .bind(e.id)
                            .bind(e.subject.0)
                            .bind(e.purpose.as_str())
                            .bind(e.channel.key())
                            .bind(e.from.map(|s| s.key()))
                            .bind(e.to.key())
                            .bind(p.occurred_at)
                            .bind(p.source.key())
                            .bind(p.actor.to_string())
                            .bind(p.notice_version.as_deref())
                            .bind(p.origin.ip.as_deref())
                            .bind(p.origin.user_agent.as_deref())
                            .bind(p.idempotency_key.as_deref())
                            .bind(p.reason.as_deref())
                            .bind(p.campaign.as_deref())
                            .bind(p.collection_point.as_deref())
                            .bind(p.import_batch.as_deref())
                            .bind(p.form_url.as_deref())
                            .bind(p.proof_ref.as_deref());
                    }
                    let rows = q.fetch_all(&mut **tx).await.map_err(db_error)?;
                    for row in &rows {
                        use sqlx::Row;
                        let bad = |_| crate::store::corrupt("recorded_at");
                        recorded.push((row.try_get("id").map_err(bad)?, row.try_get("recorded_at").map_err(bad)?));
                    }
                }

                // The projection: the last event of each consent (one row per consent and statement).
                let mut last: HashMap<(uuid::Uuid, &str, app::domain::Channel), &app::domain::ConsentEvent> = HashMap::new();
                for e in events {
                    last.insert((e.subject.0, e.purpose.as_str(), e.channel), e);
                }
                let last: Vec<_> = last.into_values().collect();
                for chunk in last.chunks(400) {
                    let values: Vec<String> = (0..chunk.len())
                        .map(|i| {
                            let b = i * 8;
                            format!(
                                "({}, (SELECT seq FROM consent_events WHERE id = {}), {})",
                                list(b + 1, 6),
                                $ph(b + 7),
                                $ph(b + 8)
                            )
                        })
                        .collect();
                    let sql = format!(
                        "INSERT INTO consents (subject_id, purpose, channel, state, updated_at, source, last_event_seq, \
                         notice_version) VALUES {} ON CONFLICT (subject_id, purpose, channel) DO UPDATE SET \
                         state = excluded.state, updated_at = excluded.updated_at, source = excluded.source, \
                         last_event_seq = excluded.last_event_seq, notice_version = excluded.notice_version",
                        values.join(", ")
                    );
                    let mut q = sqlx::query(&sql);
                    for e in chunk {
                        q = q
                            .bind(e.subject.0)
                            .bind(e.purpose.as_str())
                            .bind(e.channel.key())
                            .bind(e.to.key())
                            .bind(e.provenance.occurred_at)
                            .bind(e.provenance.source.key())
                            .bind(e.id)
                            .bind(e.provenance.notice_version.as_deref());
                    }
                    q.execute(&mut **tx).await.map_err(db_error)?;
                }
                Ok(recorded)
            }
        }
    };
}

pub(crate) use sql_bulk;

/// The current choice of each consent a group touches: (subject, purpose, channel) → its state
/// and when its latest change occurred.
pub(crate) type Current =
    HashMap<(uuid::Uuid, String, String), (ConsentState, time::OffsetDateTime)>;

/// A change of a group that arrives late (`Change::arrives_late`): (request, change) indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Late {
    pub request: usize,
    pub change: usize,
}

/// The subjects a group touches, each once, in order (the order rows are locked in).
pub(crate) fn subjects_of(requests: &[Vec<Change>]) -> Vec<uuid::Uuid> {
    let mut subjects: Vec<uuid::Uuid> = requests.iter().flatten().map(|c| c.subject.0).collect();
    subjects.sort();
    subjects.dedup();
    subjects
}

/// Gives each event the results of a group hold the time the database recorded it at.
pub(crate) fn set_recorded(
    results: &mut [Vec<Applied>],
    recorded: &HashMap<uuid::Uuid, time::OffsetDateTime>,
) {
    for applied in results.iter_mut().flatten() {
        if let Outcome::Recorded(e) = &mut applied.outcome {
            e.recorded_at = recorded.get(&e.id).copied();
        }
    }
}

/// Decides each change of a group in order, in memory, from the current choices: what each
/// request gets back, and the events to write (in order).
///
/// A change that arrives late is refused here, where the write holds the consents (the rules
/// checked it before, but a concurrent request may have written a later change since): the
/// group is then written request by request, and that request refused.
pub(crate) fn decide_group(
    requests: &[Vec<Change>],
    mut current: Current,
) -> Result<(Vec<Vec<Applied>>, Vec<ConsentEvent>), Late> {
    let mut events = Vec::new();
    let mut results = Vec::with_capacity(requests.len());
    for (r, changes) in requests.iter().enumerate() {
        let mut applied = Vec::with_capacity(changes.len());
        for (c, change) in changes.iter().enumerate() {
            let key = (
                change.subject.0,
                change.purpose.to_string(),
                change.channel.key().to_owned(),
            );
            let now = current.get(&key).copied();
            if change.arrives_late(now.map(|(_, at)| at)) {
                return Err(Late {
                    request: r,
                    change: c,
                });
            }
            let outcome = match decide(
                now.map(|(state, _)| state),
                change.clone(),
                uuid::Uuid::now_v7(),
            ) {
                Decision::Unchanged(state) => Outcome::Unchanged(state),
                Decision::Record(e) => {
                    current.insert(key, (e.to, e.provenance.occurred_at));
                    events.push(e.clone());
                    Outcome::Recorded(e)
                }
            };
            applied.push(Applied {
                outcome,
                replayed: false,
            });
        }
        results.push(applied);
    }
    Ok((results, events))
}
