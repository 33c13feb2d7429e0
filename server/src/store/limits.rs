//! `LimitStore` for both backends, written once (expanded in sqlite.rs and postgres.rs): each
//! operation reads the counter's record, decides with `app::rate::LimitOp::apply` (the rules the
//! table in memory follows) and writes the record back, in one transaction that holds the row
//! (PostgreSQL: the row's lock, after an insert that makes sure it exists; SQLite: the write
//! lock), so instances sharing the database never both pass a check before either counts.

macro_rules! sql_limits {
    ($store:ty, $db:ty, begin = $begin:literal, for_update = $for_update:literal, shared = $shared:literal) => {
        #[async_trait::async_trait]
        impl app::store::LimitStore for $store {
            fn limits_shared(&self) -> bool {
                $shared
            }

            async fn apply_limit(
                &self,
                key: &str,
                op: app::rate::LimitOp,
                now: i64,
            ) -> app::store::StoreResult<Result<(), app::rate::RetryAfter>> {
                use crate::store::db_error;
                let key = app::rate::bounded_key(key);
                let _turn = self.write_turn().await;
                let mut tx = self.pool.begin_with($begin).await.map_err(db_error)?;
                // The row exists before it is locked: two instances inserting it at once would
                // otherwise both read nothing.
                sqlx::query(
                    "INSERT INTO limit_records (key, at, count, changed_at) VALUES ($1, 0, 0, $2) \
                     ON CONFLICT (key) DO NOTHING",
                )
                .bind(key.as_ref())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                let (at, count): (i64, i64) = sqlx::query_as(concat!(
                    "SELECT at, count FROM limit_records WHERE key = $1",
                    $for_update
                ))
                .bind(key.as_ref())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
                // A row of count 0 is one just made: no record yet.
                let kept = (count > 0).then(|| app::rate::Kept {
                    at,
                    count: u32::try_from(count).unwrap_or(u32::MAX),
                });
                let (after, decision) = op.apply(kept, now);
                let written = match after {
                    Some(k) => sqlx::query(
                        "UPDATE limit_records SET at = $2, count = $3, changed_at = $4 WHERE key = $1",
                    )
                    .bind(key.as_ref())
                    .bind(k.at)
                    .bind(i64::from(k.count))
                    .bind(now),
                    None => sqlx::query("DELETE FROM limit_records WHERE key = $1").bind(key.as_ref()),
                };
                written.execute(&mut *tx).await.map_err(db_error)?;
                tx.commit().await.map_err(db_error)?;
                Ok(decision)
            }

            async fn prune_limits(&self, before: i64) -> app::store::StoreResult<u64> {
                let _turn = self.write_turn().await;
                let done = sqlx::query("DELETE FROM limit_records WHERE changed_at < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                Ok(done.rows_affected())
            }
        }
    };
}

pub(crate) use sql_limits;
