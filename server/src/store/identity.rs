//! `IdentityStore` for both backends, written once (expanded in sqlite.rs and postgres.rs).
//! Times are compared in Rust, never in SQL (SQLite keeps them as text).

macro_rules! sql_identity {
    ($store:ty, $db:ty) => {
        mod identity_rows {
            use app::auth::{Admin, AdminId, Principal, SessionKind, SessionRecord, SignInLink};
            use app::domain::SubjectId;
            use app::store::StoreResult;
            use sqlx::Row;

            use crate::store::corrupt;

            pub type DbRow = <$db as sqlx::Database>::Row;

            fn get<'r, T>(row: &'r DbRow, col: &str) -> StoreResult<T>
            where
                T: sqlx::Decode<'r, $db> + sqlx::Type<$db>,
            {
                row.try_get(col).map_err(|_| corrupt(col))
            }

            pub fn get_opt_i64(row: &DbRow, col: &str) -> StoreResult<Option<i64>> {
                get(row, col)
            }

            pub const ADMIN_COLUMNS: &str = "id, email, role, password_hash, totp_secret, totp_last_step, created_at, disabled_at";
            pub const SESSION_COLUMNS: &str = "id_hash, kind, principal, created_at, last_seen_at, revoked_at";
            pub const LINK_COLUMNS: &str = "token_hash, subject_id, created_at, expires_at, used_at";

            pub fn admin(row: &DbRow) -> StoreResult<Admin> {
                Ok(Admin {
                    id: AdminId(get(row, "id")?),
                    email: get(row, "email")?,
                    role: get::<String>(row, "role")?.parse().map_err(|_| corrupt("role"))?,
                    password_hash: get(row, "password_hash")?,
                    totp_secret: get(row, "totp_secret")?,
                    totp_last_step: get(row, "totp_last_step")?,
                    created_at: get(row, "created_at")?,
                    disabled_at: get(row, "disabled_at")?,
                })
            }

            pub fn session(row: &DbRow) -> StoreResult<SessionRecord> {
                let kind: SessionKind =
                    get::<String>(row, "kind")?.parse().map_err(|_| corrupt("session"))?;
                let id: uuid::Uuid = get(row, "principal")?;
                Ok(SessionRecord {
                    id_hash: get(row, "id_hash")?,
                    principal: match kind {
                        SessionKind::Customer => Principal::Subject(SubjectId(id)),
                        SessionKind::Admin => Principal::Admin(AdminId(id)),
                    },
                    created_at: get(row, "created_at")?,
                    last_seen_at: get(row, "last_seen_at")?,
                    revoked_at: get(row, "revoked_at")?,
                })
            }

            pub fn link(row: &DbRow) -> StoreResult<SignInLink> {
                Ok(SignInLink {
                    token_hash: get(row, "token_hash")?,
                    subject: SubjectId(get(row, "subject_id")?),
                    created_at: get(row, "created_at")?,
                    expires_at: get(row, "expires_at")?,
                    used_at: get(row, "used_at")?,
                })
            }
        }

        #[async_trait::async_trait]
        impl app::store::IdentityStore for $store {
            async fn create_session(&self, s: &app::auth::SessionRecord) -> app::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sessions (id_hash, kind, principal, created_at, last_seen_at, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&s.id_hash)
                .bind(s.principal.kind().key())
                .bind(s.principal.id())
                .bind(s.created_at)
                .bind(s.last_seen_at)
                .bind(s.revoked_at)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn session(&self, id_hash: &str) -> app::store::StoreResult<Option<app::auth::SessionRecord>> {
                let sql = format!("SELECT {} FROM sessions WHERE id_hash = $1", identity_rows::SESSION_COLUMNS);
                let row = sqlx::query(&sql)
                    .bind(id_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                row.as_ref().map(identity_rows::session).transpose()
            }

            async fn touch_session(&self, id_hash: &str, at: time::OffsetDateTime) -> app::store::StoreResult<()> {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                    .bind(at)
                    .bind(id_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn revoke_session(&self, id_hash: &str, at: time::OffsetDateTime) -> app::store::StoreResult<()> {
                sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL")
                    .bind(at)
                    .bind(id_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn revoke_sessions(
                &self,
                principal: app::auth::Principal,
                at: time::OffsetDateTime,
            ) -> app::store::StoreResult<u64> {
                let done = sqlx::query(
                    "UPDATE sessions SET revoked_at = $1 WHERE kind = $2 AND principal = $3 AND revoked_at IS NULL",
                )
                .bind(at)
                .bind(principal.kind().key())
                .bind(principal.id())
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(done.rows_affected())
            }

            async fn create_sign_in_link(&self, l: &app::auth::SignInLink) -> app::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sign_in_links (token_hash, subject_id, created_at, expires_at, used_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&l.token_hash)
                .bind(l.subject.0)
                .bind(l.created_at)
                .bind(l.expires_at)
                .bind(l.used_at)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn sign_in_link(&self, token_hash: &str) -> app::store::StoreResult<Option<app::auth::SignInLink>> {
                let sql = format!("SELECT {} FROM sign_in_links WHERE token_hash = $1", identity_rows::LINK_COLUMNS);
                let row = sqlx::query(&sql)
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                row.as_ref().map(identity_rows::link).transpose()
            }

            async fn use_sign_in_link(&self, token_hash: &str, at: time::OffsetDateTime) -> app::store::StoreResult<bool> {
                let done = sqlx::query("UPDATE sign_in_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
                    .bind(at)
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn create_opt_in_request(&self, r: &app::auth::OptInRequest) -> app::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO opt_in_requests (token_hash, email, purpose, lang, requested_at, expires_at, \
                     origin_ip, user_agent, url, notice_version, mail_ref, confirmed_at, \
                     collection_point, form_version, also_purposes) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                )
                .bind(&r.token_hash)
                .bind(&r.email)
                .bind(r.purpose.as_str())
                .bind(r.lang.key())
                .bind(r.requested_at)
                .bind(r.expires_at)
                .bind(&r.origin.ip)
                .bind(&r.origin.user_agent)
                .bind(&r.url)
                .bind(&r.notice_version)
                .bind(&r.mail_ref)
                .bind(r.confirmed_at)
                .bind(&r.collection_point)
                .bind(r.form_version)
                .bind(if r.also_purposes.is_empty() {
                    None
                } else {
                    Some(r.also_purposes.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" "))
                })
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn opt_in_request(&self, token_hash: &str) -> app::store::StoreResult<Option<app::auth::OptInRequest>> {
                use sqlx::Row;
                use crate::store::corrupt;
                let row = sqlx::query(
                    "SELECT token_hash, email, purpose, lang, requested_at, expires_at, origin_ip, user_agent, \
                     url, notice_version, mail_ref, confirmed_at, collection_point, form_version, also_purposes \
                     FROM opt_in_requests WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let Some(r) = row else { return Ok(None) };
                let bad = |_| corrupt("opt-in request");
                let text = |c: &str| r.try_get::<String, _>(c).map_err(bad);
                Ok(Some(app::auth::OptInRequest {
                    token_hash: text("token_hash")?,
                    email: text("email")?,
                    purpose: text("purpose")?.parse().map_err(|_| corrupt("purpose"))?,
                    lang: text("lang")?.parse().map_err(|_| corrupt("lang"))?,
                    requested_at: r.try_get("requested_at").map_err(bad)?,
                    expires_at: r.try_get("expires_at").map_err(bad)?,
                    origin: app::domain::Origin {
                        ip: r.try_get("origin_ip").map_err(bad)?,
                        user_agent: r.try_get("user_agent").map_err(bad)?,
                    },
                    url: r.try_get("url").map_err(bad)?,
                    notice_version: text("notice_version")?,
                    mail_ref: text("mail_ref")?,
                    confirmed_at: r.try_get("confirmed_at").map_err(bad)?,
                    collection_point: r.try_get("collection_point").map_err(bad)?,
                    form_version: r.try_get("form_version").map_err(bad)?,
                    also_purposes: r
                        .try_get::<Option<String>, _>("also_purposes")
                        .map_err(bad)?
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(|p| p.parse().map_err(|_| corrupt("purpose")))
                        .collect::<Result<_, _>>()?,
                }))
            }

            async fn confirm_opt_in_request(&self, token_hash: &str, at: time::OffsetDateTime) -> app::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE opt_in_requests SET confirmed_at = $1 WHERE token_hash = $2 \
                     AND confirmed_at IS NULL AND expires_at > $1",
                )
                .bind(at)
                .bind(token_hash)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn create_admin(&self, a: &app::auth::Admin) -> app::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO admins (id, email, role, password_hash, totp_secret, totp_last_step, created_at, disabled_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(a.id.0)
                .bind(&a.email)
                .bind(a.role.key())
                .bind(&a.password_hash)
                .bind(&a.totp_secret)
                .bind(a.totp_last_step)
                .bind(a.created_at)
                .bind(a.disabled_at)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn admin(&self, id: app::auth::AdminId) -> app::store::StoreResult<Option<app::auth::Admin>> {
                let sql = format!("SELECT {} FROM admins WHERE id = $1", identity_rows::ADMIN_COLUMNS);
                let row = sqlx::query(&sql)
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                row.as_ref().map(identity_rows::admin).transpose()
            }

            async fn admin_by_email(&self, email: &str) -> app::store::StoreResult<Option<app::auth::Admin>> {
                let sql = format!("SELECT {} FROM admins WHERE email = $1", identity_rows::ADMIN_COLUMNS);
                let row = sqlx::query(&sql)
                    .bind(email)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                row.as_ref().map(identity_rows::admin).transpose()
            }

            async fn admins(&self) -> app::store::StoreResult<Vec<app::auth::Admin>> {
                let sql = format!("SELECT {} FROM admins ORDER BY created_at, email", identity_rows::ADMIN_COLUMNS);
                let rows = sqlx::query(&sql)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                rows.iter().map(identity_rows::admin).collect()
            }

            async fn update_admin(&self, a: &app::auth::Admin) -> app::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE admins SET role = $1, password_hash = $2, totp_secret = $3, disabled_at = $4 WHERE id = $5",
                )
                .bind(a.role.key())
                .bind(&a.password_hash)
                .bind(&a.totp_secret)
                .bind(a.disabled_at)
                .bind(a.id.0)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn use_totp_step(&self, id: app::auth::AdminId, step: i64) -> app::store::StoreResult<bool> {
                let done = sqlx::query("UPDATE admins SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
                    .bind(step)
                    .bind(id.0)
                    .execute(&self.pool)
                    .await
                    .map_err(crate::store::db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_links(
                &self,
                subject: app::domain::SubjectId,
                at: time::OffsetDateTime,
                issued_upto: i64,
                revoked_by: &str,
                reason: &str,
            ) -> app::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO link_revocations (subject_id, revoked_at, issued_upto, revoked_by, reason) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(subject.0)
                .bind(at)
                .bind(issued_upto)
                .bind(revoked_by)
                .bind(reason)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn links_revoked_upto(
                &self,
                subject: app::domain::SubjectId,
            ) -> app::store::StoreResult<Option<i64>> {
                let row = sqlx::query(
                    "SELECT MAX(issued_upto) AS upto FROM link_revocations WHERE subject_id = $1",
                )
                .bind(subject.0)
                .fetch_one(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                identity_rows::get_opt_i64(&row, "upto")
            }
        }
    };
}

pub(crate) use sql_identity;
