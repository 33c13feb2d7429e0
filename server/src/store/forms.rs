//! `FormStore` for both backends, written once (expanded in sqlite.rs and postgres.rs).

macro_rules! sql_forms {
    ($store:ty) => {
        /// A row of `collection_point_forms`.
        fn signup_form_row(
            row: &rows::DbRow,
        ) -> app::store::StoreResult<app::domain::SignupForm> {
            use crate::store::corrupt;
            use sqlx::Row;
            let bad = |_| corrupt("signup form");
            let purposes: String = row.try_get("purposes").map_err(bad)?;
            let origins: String = row.try_get("origins").map_err(bad)?;
            Ok(app::domain::SignupForm {
                point: row.try_get("point").map_err(bad)?,
                version: row.try_get("version").map_err(bad)?,
                purposes: purposes
                    .split_whitespace()
                    .map(|p| p.parse().map_err(|_| corrupt("purpose")))
                    .collect::<Result<_, _>>()?,
                origins: origins.split_whitespace().map(str::to_owned).collect(),
                created_at: row.try_get("created_at").map_err(bad)?,
                created_by: row.try_get("created_by").map_err(bad)?,
            })
        }

        #[async_trait::async_trait]
        impl app::store::FormStore for $store {
            async fn add_signup_form(
                &self,
                f: &app::domain::SignupForm,
            ) -> app::store::StoreResult<()> {
                let purposes: Vec<&str> = f.purposes.iter().map(|p| p.as_str()).collect();
                sqlx::query(
                    "INSERT INTO collection_point_forms (point, version, purposes, origins, \
                     created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&f.point)
                .bind(f.version)
                .bind(purposes.join(" "))
                .bind(f.origins.join(" "))
                .bind(f.created_at)
                .bind(&f.created_by)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn signup_form(
                &self,
                point: &str,
            ) -> app::store::StoreResult<Option<app::domain::SignupForm>> {
                let row = sqlx::query(
                    "SELECT point, version, purposes, origins, created_at, created_by \
                     FROM collection_point_forms WHERE point = $1 ORDER BY version DESC LIMIT 1",
                )
                .bind(point)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                row.as_ref().map(signup_form_row).transpose()
            }

            async fn signup_forms(
                &self,
            ) -> app::store::StoreResult<Vec<app::domain::SignupForm>> {
                let rows = sqlx::query(
                    "SELECT f.point, f.version, f.purposes, f.origins, f.created_at, f.created_by \
                     FROM collection_point_forms f WHERE f.version = \
                     (SELECT MAX(g.version) FROM collection_point_forms g WHERE g.point = f.point) \
                     ORDER BY f.point",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                rows.iter().map(signup_form_row).collect()
            }
        }
    };
}
pub(crate) use sql_forms;
