//! `SealStore` for both backends, written once (expanded in sqlite.rs and postgres.rs, next to
//! `sql_store!`, whose event reader it uses). Sealing runs in one transaction that a single sealer
//! holds at a time: SQLite's write lock, or a PostgreSQL advisory lock shared by every instance.

/// How far below the highest sealed seq the sealer looks for late commits on PostgreSQL, whose
/// writers commit side by side (a seq taken first may commit last). SQLite's writers take turns,
/// so its events commit in seq order and it looks at nothing below the head.
pub(crate) const LOOK_BELOW: i64 = 5_000;

macro_rules! sql_seals {
    ($store:ty, $db:ty, begin = $begin:literal, lock = $lock:expr, look_below = $look_below:expr,
     links_per_insert = $per_insert:expr) => {
        impl $store {
            /// A transaction as the only sealer: this process's write turn, then (PostgreSQL)
            /// the advisory lock every instance shares. `None`: another instance holds it.
            async fn sealer_tx(
                &self,
            ) -> app::store::StoreResult<
                Option<(Option<tokio::sync::MutexGuard<'_, ()>>, sqlx::Transaction<'static, $db>)>,
            > {
                use crate::store::db_error;
                let turn = self.write_turn().await;
                let mut tx = self.pool.begin_with($begin).await.map_err(db_error)?;
                let lock: Option<&str> = $lock;
                if let Some(lock) = lock {
                    let got: bool = sqlx::query_scalar(lock).fetch_one(&mut *tx).await.map_err(db_error)?;
                    if !got {
                        return Ok(None);
                    }
                }
                Ok(Some((turn, tx)))
            }
        }

        #[async_trait::async_trait]
        impl app::store::SealStore for $store {
            async fn seal_pending(&self, limit: u32, late_window_secs: i64) -> app::store::StoreResult<u64> {
                use app::domain::seal::{GENESIS, from_hex, seal_with, to_hex};
                use crate::store::{corrupt, db_error};

                // What to seal is read and sealed outside any transaction, so the writers go on
                // meanwhile; the links are then stored only if the head has not moved.
                let head_sql = "SELECT position, seal FROM event_seals ORDER BY position DESC LIMIT 1";
                let head: Option<(i64, String)> = sqlx::query_as(head_sql)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_error)?;
                let (mut position, mut prev) = match &head {
                    Some((p, s)) => (*p, from_hex(s).ok_or_else(|| corrupt("seal"))?),
                    None => (0, GENESIS),
                };
                let max_sealed: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(event_seq), 0) FROM event_seals")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_error)?;
                // Events commit slightly out of order with several writers (a few groups at most):
                // look a little below the highest sealed one.
                // The numbers are written into the statement: the planner then sees the short
                // range (PostgreSQL reads a long page by COPY, whose parameters it would see only
                // as settings, and plan for a third of the table).
                let lo = max_sealed.saturating_sub($look_below);
                let pending = self
                    .read_events(
                        &format!(
                            " WHERE e.seq > {lo} AND NOT EXISTS (SELECT 1 FROM event_seals s \
                             WHERE s.event_seq = e.seq AND s.event_seq > {lo}) ORDER BY e.seq LIMIT {limit}"
                        ),
                        Vec::new(),
                        limit,
                        // The sealer seals what the primary committed.
                        crate::store::ReadFrom::Primary,
                    )
                    .await?;
                let now = time::OffsetDateTime::now_utc();
                let late = time::Duration::seconds(late_window_secs);
                let mut links: Vec<(i64, i64, String)> = Vec::with_capacity(pending.len());
                let mut buf = Vec::with_capacity(512);
                for (seq, event) in &pending {
                    if *seq < max_sealed && event.provenance.occurred_at < now - late {
                        tracing::error!(seq, "an old event appeared below the chain's head: left unsealed (inserted?)");
                        continue;
                    }
                    position += 1;
                    prev = seal_with(&mut buf, &prev, *seq, event);
                    links.push((position, *seq, to_hex(&prev)));
                }
                if links.is_empty() {
                    return Ok(0);
                }

                // Another instance is sealing: leave this round to it (no connection waits).
                let Some((_turn, mut tx)) = self.sealer_tx().await? else {
                    return Ok(0);
                };
                let still: Option<(i64, String)> = sqlx::query_as(head_sql)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_error)?;
                if still != head {
                    // Another sealer stored links meanwhile: the next round starts from those.
                    return Ok(0);
                }
                // Several links per statement, as many as the backend binds cheaply.
                for chunk in links.chunks($per_insert) {
                    let values: Vec<String> = (0..chunk.len())
                        .map(|i| format!("(${}, ${}, ${}, ${})", 4 * i + 1, 4 * i + 2, 4 * i + 3, 4 * i + 4))
                        .collect();
                    let sql = format!(
                        "INSERT INTO event_seals (position, event_seq, seal, sealed_at) VALUES {}",
                        values.join(", ")
                    );
                    let mut q = sqlx::query(&sql);
                    for (position, seq, seal) in chunk {
                        q = q.bind(*position).bind(*seq).bind(seal.as_str()).bind(now);
                    }
                    q.execute(&mut *tx).await.map_err(db_error)?;
                }
                let sealed = links.len() as u64;
                tx.commit().await.map_err(db_error)?;
                Ok(sealed)
            }

            async fn chain_links(
                &self,
                after_position: i64,
                limit: u32,
            ) -> app::store::StoreResult<app::domain::seal::ChainPage> {
                // Each backend reads pages of millions-long walks its fastest way, in position
                // order, and seals each event again as it reads it.
                self.read_chain_links(after_position, limit).await
            }

            async fn unsealed_below(
                &self,
                below_seq: i64,
                before: time::OffsetDateTime,
                limit: u32,
            ) -> app::store::StoreResult<Vec<i64>> {
                use crate::store::db_error;
                let seqs: Vec<(i64, time::OffsetDateTime)> = sqlx::query_as(
                    "SELECT e.seq, e.occurred_at FROM consent_events e WHERE e.seq < $1 \
                     AND NOT EXISTS (SELECT 1 FROM event_seals s WHERE s.event_seq = e.seq) \
                     ORDER BY e.seq LIMIT $2",
                )
                .bind(below_seq)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
                Ok(seqs.into_iter().filter(|(_, at)| *at < before).map(|(s, _)| s).collect())
            }

            async fn add_checkpoint(
                &self,
                checkpoint: &app::signing::Checkpoint,
            ) -> app::store::StoreResult<bool> {
                use crate::store::db_error;
                let Some((_turn, mut tx)) = self.sealer_tx().await? else {
                    return Ok(false);
                };
                let stored = sqlx::query(
                    "INSERT INTO chain_checkpoints (length, head, origin, signed_at, key_id, signature) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (length) DO NOTHING",
                )
                .bind(checkpoint.length)
                .bind(&checkpoint.head)
                .bind(&checkpoint.origin)
                .bind(checkpoint.at)
                .bind(&checkpoint.key_id)
                .bind(&checkpoint.signature)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected();
                tx.commit().await.map_err(db_error)?;
                Ok(stored == 1)
            }

            async fn checkpoints(
                &self,
                after_length: i64,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::signing::Checkpoint>> {
                use crate::store::db_error;
                let rows: Vec<crate::store::seals::CheckpointRow> = sqlx::query_as(
                    "SELECT length, head, origin, signed_at, key_id, signature FROM chain_checkpoints \
                     WHERE length > $1 ORDER BY length LIMIT $2",
                )
                .bind(after_length)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
                Ok(rows.into_iter().map(crate::store::seals::checkpoint).collect())
            }

            async fn latest_checkpoint(&self) -> app::store::StoreResult<Option<app::signing::Checkpoint>> {
                use crate::store::db_error;
                let row: Option<crate::store::seals::CheckpointRow> = sqlx::query_as(
                    "SELECT length, head, origin, signed_at, key_id, signature FROM chain_checkpoints \
                     ORDER BY length DESC LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
                Ok(row.map(crate::store::seals::checkpoint))
            }

            async fn purge_candidates(
                &self,
                after_seq: i64,
                before: time::OffsetDateTime,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::store::PurgeCandidate>> {
                use crate::store::{corrupt, db_error};
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT e.seq, s.position, s.seal, sub.jurisdiction, e.purpose, e.channel, \
                     (SELECT n.occurred_at FROM consent_events n WHERE n.subject_id = e.subject_id \
                      AND n.purpose = e.purpose AND n.channel = e.channel AND n.seq > e.seq \
                      ORDER BY n.seq LIMIT 1) AS superseded_at \
                     FROM consent_events e JOIN event_seals s ON s.event_seq = e.seq \
                     JOIN subjects sub ON sub.id = e.subject_id \
                     WHERE e.seq > $1 AND e.occurred_at < $2 ORDER BY e.seq LIMIT $3",
                )
                .bind(after_seq)
                .bind(before)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
                let bad = |what: &'static str| move |_| corrupt(what);
                let bad_value = |what: &'static str| move |_| corrupt(what);
                rows.iter()
                    .map(|r| {
                        let text = |c: &str| r.try_get::<String, _>(c).map_err(|_| corrupt("purge candidate"));
                        Ok(app::store::PurgeCandidate {
                            seq: r.try_get("seq").map_err(bad("seq"))?,
                            position: r.try_get("position").map_err(bad("position"))?,
                            seal: text("seal")?,
                            jurisdiction: text("jurisdiction")?.parse().map_err(bad_value("jurisdiction"))?,
                            purpose: text("purpose")?.parse().map_err(bad_value("purpose"))?,
                            channel: text("channel")?.parse().map_err(bad_value("channel"))?,
                            superseded_at: r.try_get("superseded_at").map_err(bad("superseded_at"))?,
                        })
                    })
                    .collect()
            }

            async fn purge(
                &self,
                tombstones: &[(i64, app::domain::seal::Tombstone)],
            ) -> app::store::StoreResult<u64> {
                use crate::store::db_error;
                let _turn = self.write_turn().await;
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                let mut purged = 0;
                for (seq, t) in tombstones {
                    sqlx::query(
                        "INSERT INTO event_tombstones (seq, purged_at, reason, signature) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(seq)
                    .bind(&t.purged_at)
                    .bind(&t.reason)
                    .bind(&t.signature)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                    purged += sqlx::query("DELETE FROM consent_events WHERE seq = $1")
                        .bind(seq)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?
                        .rows_affected();
                }
                tx.commit().await.map_err(db_error)?;
                Ok(purged)
            }

            async fn events_below(&self, below_seq: i64) -> app::store::StoreResult<i64> {
                use crate::store::db_error;
                // All events minus the few at or above: a count of the whole table reads its
                // smallest index (SQLite) or the visibility map (PostgreSQL), where a range
                // count would read every row.
                let n: i64 = sqlx::query_scalar(
                    "SELECT (SELECT count(*) FROM consent_events) \
                     - (SELECT count(*) FROM consent_events WHERE seq >= $1)",
                )
                .bind(below_seq)
                .fetch_one(&self.pool)
                .await
                .map_err(db_error)?;
                Ok(n)
            }

            async fn events_above(&self, after_seq: i64) -> app::store::StoreResult<i64> {
                use crate::store::db_error;
                // A range of the primary key above the chain's head: the few not yet sealed.
                let n: i64 = sqlx::query_scalar("SELECT count(*) FROM consent_events WHERE seq > $1")
                    .bind(after_seq)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(n)
            }

            async fn recorded_since_seq(&self) -> app::store::StoreResult<i64> {
                use crate::store::db_error;
                let since: Option<i64> = sqlx::query_scalar("SELECT after_seq FROM event_recorded_since")
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(since.unwrap_or(0))
            }

            async fn projection_mismatches(
                &self,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::domain::seal::Break>> {
                use crate::store::db_error;
                // Each current choice against the event it names and any later event of its
                // consent (found by the subject's index), then each consent with events but no
                // current choice. Two statements, whatever the number of events.
                let wrong: Vec<(uuid::Uuid, String, String, i64)> = sqlx::query_as(
                    "SELECT c.subject_id, c.purpose, c.channel, c.last_event_seq FROM consents c \
                     LEFT JOIN consent_events e ON e.seq = c.last_event_seq \
                     WHERE e.seq IS NULL OR e.subject_id <> c.subject_id OR e.purpose <> c.purpose \
                     OR e.channel <> c.channel OR e.to_state <> c.state OR e.source <> c.source \
                     OR e.occurred_at <> c.updated_at OR e.notice_version IS DISTINCT FROM c.notice_version \
                     OR EXISTS (SELECT 1 FROM consent_events n WHERE n.subject_id = c.subject_id \
                     AND n.seq > c.last_event_seq AND n.purpose = c.purpose AND n.channel = c.channel) \
                     ORDER BY c.last_event_seq LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
                // Not grouped: the read stops at the first `limit` events found (an event log
                // without its projection would otherwise be grouped whole), whose consents may
                // repeat.
                let mut missing: Vec<(uuid::Uuid, String, String, Option<i64>)> = sqlx::query_as(
                    "SELECT e.subject_id, e.purpose, e.channel, e.seq FROM consent_events e \
                     WHERE NOT EXISTS (SELECT 1 FROM consents c WHERE c.subject_id = e.subject_id \
                     AND c.purpose = e.purpose AND c.channel = e.channel) LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
                missing.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)).then(b.3.cmp(&a.3)));
                missing.dedup_by(|a, b| (&a.0, &a.1, &a.2) == (&b.0, &b.1, &b.2));
                Ok(wrong
                    .into_iter()
                    .map(|(subject, purpose, channel, seq)| (subject, purpose, channel, Some(seq)))
                    .chain(missing)
                    .map(|(subject, purpose, channel, seq)| app::domain::seal::Break::Projection {
                        subject,
                        purpose,
                        channel,
                        seq,
                    })
                    .collect())
            }

            async fn chain_extent(&self) -> app::store::StoreResult<(i64, i64)> {
                use crate::store::db_error;
                let extent: (i64, i64) = sqlx::query_as(crate::store::seals::CHAIN_EXTENT)
                .fetch_one(&self.pool)
                .await
                .map_err(db_error)?;
                Ok(extent)
            }
        }
    };
}

pub(crate) use sql_seals;

/// The chain's length and the highest sealed event: each maximum in a query of its own, which
/// reads one end of an index. (SQLite answers a query with two aggregates by reading every
/// link, and the sealer asks every second while a checkpoint is due.)
pub(crate) const CHAIN_EXTENT: &str = "SELECT COALESCE((SELECT MAX(position) FROM event_seals), 0), \
     COALESCE((SELECT MAX(event_seq) FROM event_seals), 0)";

/// A link of the chain as read: its tombstone (`purged_at`, `reason`, `signature`) counts when
/// all three are there.
pub(crate) fn link(
    (position, seq, seal): (i64, i64, Option<app::domain::seal::Seal>),
    tombstone: [Option<String>; 3],
    resealed: Option<app::domain::seal::Resealed>,
) -> app::domain::seal::ChainLink {
    let tombstone = match tombstone {
        [Some(purged_at), Some(reason), Some(signature)] => Some(app::domain::seal::Tombstone {
            purged_at,
            reason,
            signature,
        }),
        _ => None,
    };
    app::domain::seal::ChainLink {
        position,
        seq,
        seal,
        resealed,
        tombstone,
    }
}

/// A checkpoint row: length, head, origin, signed_at, key_id, signature.
pub(crate) type CheckpointRow = (i64, String, String, time::OffsetDateTime, String, String);

pub(crate) fn checkpoint(row: CheckpointRow) -> app::signing::Checkpoint {
    let (length, head, origin, at, key_id, signature) = row;
    app::signing::Checkpoint {
        origin,
        length,
        head,
        at,
        key_id,
        signature,
    }
}

#[cfg(test)]
mod tests {
    use app::store::Store;

    /// How SQLite would answer `sql`: its query plan's steps.
    async fn plan(store: &super::super::SqliteStore, sql: &str) -> Vec<String> {
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                .fetch_all(store.pool())
                .await
                .unwrap();
        rows.into_iter().map(|r| r.3).collect()
    }

    #[tokio::test]
    async fn the_chain_extent_reads_the_ends_of_indexes_not_every_link() {
        let dir = std::env::temp_dir().join(format!("doui-extent-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite:{}", dir.join("doui.db").display());
        let store = super::super::SqliteStore::open(&url).await.unwrap();
        store.migrate().await.unwrap();
        let steps = plan(&store, super::CHAIN_EXTENT).await;
        assert!(
            steps
                .iter()
                .filter(|s| s.starts_with("SEARCH event_seals"))
                .count()
                == 2
                && !steps.iter().any(|s| s.starts_with("SCAN event_seals")),
            "{steps:?}"
        );
        // What it replaced read every link.
        let both = "SELECT MAX(position), MAX(event_seq) FROM event_seals";
        assert!(
            plan(&store, both)
                .await
                .iter()
                .any(|s| s.starts_with("SCAN"))
        );
        drop(store);
        std::fs::remove_dir_all(dir).ok();
    }
}
