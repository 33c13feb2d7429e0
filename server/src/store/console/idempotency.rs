//! `IdempotencyStore` for both backends, written once (expanded in sqlite/mod.rs and
//! postgres/mod.rs): the answers kept for the senders' idempotency keys.

macro_rules! sql_idempotency {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl app::store::IdempotencyStore for $store {
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

pub(crate) use sql_idempotency;
