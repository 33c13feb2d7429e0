//! `CollectionPointStore` for both backends, written once (expanded in sqlite/mod.rs and
//! postgres/mod.rs next to `sql_store!`, whose row readers it uses).

macro_rules! sql_collection_points {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl app::store::CollectionPointStore for $store {
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
        }
    };
}

pub(crate) use sql_collection_points;
