//! `DoNotSellStore` for both backends, written once (expanded in sqlite.rs and postgres.rs).

macro_rules! sql_do_not_sell {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl app::store::DoNotSellStore for $store {
            async fn record_do_not_sell(
                &self,
                r: &app::domain::DoNotSellRequest,
            ) -> app::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO do_not_sell_requests (id, subject_id, received_at, via, \
                     origin_ip, user_agent, withdrawn) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(r.id.to_string())
                .bind(r.subject.map(|s| s.0))
                .bind(r.received_at)
                .bind(r.via.key())
                .bind(r.origin.ip.as_deref())
                .bind(r.origin.user_agent.as_deref())
                .bind(r.withdrawn)
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn do_not_sell_requests_of(
                &self,
                subject: app::domain::SubjectId,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::domain::DoNotSellRequest>> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT id, subject_id, received_at, via, origin_ip, user_agent, withdrawn \
                     FROM do_not_sell_requests WHERE subject_id = $1 \
                     ORDER BY received_at DESC LIMIT $2",
                )
                .bind(subject.0)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("do not sell request");
                rows.iter()
                    .map(|r| {
                        let id: String = r.try_get("id").map_err(bad)?;
                        let via: String = r.try_get("via").map_err(bad)?;
                        let who: Option<uuid::Uuid> = r.try_get("subject_id").map_err(bad)?;
                        Ok(app::domain::DoNotSellRequest {
                            id: id
                                .parse()
                                .map_err(|_| crate::store::corrupt("do not sell request"))?,
                            subject: who.map(app::domain::SubjectId),
                            received_at: r.try_get("received_at").map_err(bad)?,
                            via: app::domain::DoNotSellVia::parse(&via)
                                .map_err(|_| crate::store::corrupt("do not sell request"))?,
                            origin: app::domain::Origin {
                                ip: r.try_get("origin_ip").map_err(bad)?,
                                user_agent: r.try_get("user_agent").map_err(bad)?,
                            },
                            withdrawn: r.try_get("withdrawn").map_err(bad)?,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use sql_do_not_sell;
