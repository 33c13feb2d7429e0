//! `ObjectionStore` for both backends, written once (expanded in sqlite/mod.rs and
//! postgres/mod.rs): objections to direct marketing, appended, the latest of each in force.

macro_rules! sql_objections {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl app::store::ObjectionStore for $store {
            async fn add_objection(&self, o: &app::store::Objection) -> app::store::StoreResult<()> {
                let p = &o.provenance;
                sqlx::query(
                    "INSERT INTO marketing_objections (subject_id, objecting, occurred_at, source, actor, notice_version, origin_ip, user_agent, reason) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(o.subject.0)
                .bind(o.objecting)
                .bind(p.occurred_at)
                .bind(p.source.key())
                .bind(p.actor.to_string())
                .bind(p.notice_version.as_deref())
                .bind(p.origin.ip.as_deref())
                .bind(p.origin.user_agent.as_deref())
                .bind(p.reason.as_deref())
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn objection(
                &self,
                subject: app::domain::SubjectId,
            ) -> app::store::StoreResult<Option<app::store::Objection>> {
                use sqlx::Row;
                let row = sqlx::query(
                    "SELECT objecting, occurred_at, source, actor, notice_version, origin_ip, user_agent, reason \
                     FROM marketing_objections WHERE subject_id = $1 ORDER BY seq DESC LIMIT 1",
                )
                .bind(subject.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let Some(r) = row else { return Ok(None) };
                let bad = |_| crate::store::corrupt("objection");
                let source: String = r.try_get("source").map_err(bad)?;
                let actor: String = r.try_get("actor").map_err(bad)?;
                Ok(Some(app::store::Objection {
                    subject,
                    objecting: r.try_get("objecting").map_err(bad)?,
                    provenance: app::domain::Provenance {
                        occurred_at: r.try_get("occurred_at").map_err(bad)?,
                        source: source.parse().map_err(|_| crate::store::corrupt("source"))?,
                        actor: actor.parse().map_err(|_| crate::store::corrupt("actor"))?,
                        notice_version: r.try_get("notice_version").map_err(bad)?,
                        origin: app::domain::Origin {
                            ip: r.try_get("origin_ip").map_err(bad)?,
                            user_agent: r.try_get("user_agent").map_err(bad)?,
                        },
                        idempotency_key: None,
                        reason: r.try_get("reason").map_err(bad)?,
                        campaign: None,
                        collection_point: None,
                        import_batch: None,
                        form_url: None,
                        proof_ref: None,
                    },
                }))
            }

            async fn objecting_subjects(&self) -> app::store::StoreResult<Vec<app::domain::SubjectId>> {
                let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
                    "SELECT o.subject_id FROM marketing_objections o \
                     WHERE o.objecting = $1 AND o.seq = \
                       (SELECT MAX(m.seq) FROM marketing_objections m WHERE m.subject_id = o.subject_id) \
                     ORDER BY o.seq",
                )
                .bind(true)
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(ids.into_iter().map(app::domain::SubjectId).collect())
            }
        }
    };
}

pub(crate) use sql_objections;
