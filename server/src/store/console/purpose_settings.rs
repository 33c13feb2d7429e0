//! `PurposeSettingsStore` for both backends, written once (expanded in sqlite/mod.rs and
//! postgres/mod.rs next to `sql_store!`, whose row readers it uses): a purpose saved with the
//! version that records the change, in one transaction, and the versions read back.

macro_rules! sql_purpose_settings {
    ($store:ty, placeholder = $ph:path) => {
        #[async_trait::async_trait]
        impl app::store::PurposeSettingsStore for $store {
            async fn save_purpose(
                &self,
                p: &app::domain::Purpose,
                changed_by: &str,
            ) -> app::store::StoreResult<i64> {
                use crate::store::db_error;
                let channels: Vec<&str> = p.channels.iter().map(|c| c.key()).collect();
                let channels = channels.join(",");
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                sqlx::query(
                    "INSERT INTO purposes (key, position, name_ja, name_en, description_ja, description_en, mode, channels, \
                     marketing, kind, modes, legal) \
                     VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM purposes), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                     ON CONFLICT (key) DO UPDATE SET name_ja = excluded.name_ja, name_en = excluded.name_en, \
                     description_ja = excluded.description_ja, description_en = excluded.description_en, \
                     mode = excluded.mode, channels = excluded.channels, marketing = excluded.marketing, \
                     kind = excluded.kind, modes = excluded.modes, legal = excluded.legal",
                )
                .bind(p.key.as_str())
                .bind(&p.name_ja)
                .bind(&p.name_en)
                .bind(&p.description_ja)
                .bind(&p.description_en)
                .bind(p.mode.key())
                .bind(&channels)
                .bind(p.marketing)
                .bind(p.kind.key())
                .bind(p.modes.to_text())
                .bind(serde_json::to_string(&p.legal).map_err(|_| crate::store::corrupt("legal"))?)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                // The version copies the row as saved.
                let version: i64 = sqlx::query_scalar(
                    "INSERT INTO purpose_versions (purpose, version, changed_at, changed_by, name_ja, name_en, \
                     description_ja, description_en, mode, channels, marketing, kind, modes, legal) \
                     SELECT key, (SELECT COALESCE(MAX(version), 0) + 1 FROM purpose_versions WHERE purpose = $1), \
                     $2, $3, name_ja, name_en, description_ja, description_en, mode, channels, marketing, kind, modes, legal \
                     FROM purposes WHERE key = $1 RETURNING version",
                )
                .bind(p.key.as_str())
                .bind(app::services::now())
                .bind(changed_by)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
                tx.commit().await.map_err(db_error)?;
                Ok(version)
            }

            async fn purpose_versions(
                &self,
                key: &app::domain::PurposeKey,
            ) -> app::store::StoreResult<Vec<app::store::PurposeVersion>> {
                use sqlx::Row;
                let sql = format!(
                    "SELECT purpose AS key, version, changed_at, changed_by, name_ja, name_en, description_ja, \
                     description_en, mode, channels, marketing, kind, modes, legal FROM purpose_versions WHERE purpose = {} \
                     ORDER BY version DESC",
                    $ph(1)
                );
                let rows = sqlx::query(&sql)
                    .bind(key.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("purpose version");
                rows.iter()
                    .map(|row| {
                        Ok(app::store::PurposeVersion {
                            purpose: rows::purpose(row)?,
                            version: row.try_get("version").map_err(bad)?,
                            changed_at: row.try_get("changed_at").map_err(bad)?,
                            changed_by: row.try_get("changed_by").map_err(bad)?,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use sql_purpose_settings;
