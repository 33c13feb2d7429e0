//! `LeaveStore` for both backends, written once (expanded in sqlite.rs and postgres.rs).

macro_rules! sql_leaving {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl app::store::LeaveStore for $store {
            async fn keep_leave_reasons(
                &self,
                answers: &[app::store::LeaveAnswer],
            ) -> app::store::StoreResult<u64> {
                use crate::store::db_error;
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                let mut kept = 0;
                for a in answers {
                    kept += sqlx::query(
                        "INSERT INTO leave_reasons (event_id, subject_id, purpose, channel, \
                         campaign, reason, text, answered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT (event_id) DO NOTHING",
                    )
                    .bind(a.event_id.to_string())
                    .bind(a.subject.0)
                    .bind(a.purpose.as_str())
                    .bind(a.channel.key())
                    .bind(a.campaign.as_deref())
                    .bind(a.reason.key())
                    .bind(a.text.as_deref())
                    .bind(a.answered_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?
                    .rows_affected();
                }
                tx.commit().await.map_err(db_error)?;
                Ok(kept)
            }

            async fn leave_reason_counts(
                &self,
                since: time::OffsetDateTime,
            ) -> app::store::StoreResult<Vec<app::store::LeaveCount>> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT purpose, campaign, reason, COUNT(*) AS n FROM leave_reasons \
                     WHERE answered_at >= $1 GROUP BY purpose, campaign, reason",
                )
                .bind(since)
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("leave reason");
                rows.iter()
                    .map(|r| {
                        let reason: String = r.try_get("reason").map_err(bad)?;
                        Ok(app::store::LeaveCount {
                            purpose: r.try_get("purpose").map_err(bad)?,
                            campaign: r.try_get("campaign").map_err(bad)?,
                            reason: app::domain::LeaveReason::parse(&reason)
                                .map_err(|_| crate::store::corrupt("leave reason"))?,
                            count: r.try_get("n").map_err(bad)?,
                        })
                    })
                    .collect()
            }

            async fn leave_reasons_of(
                &self,
                subject: app::domain::SubjectId,
            ) -> app::store::StoreResult<Vec<(String, app::domain::LeaveReason, Option<String>)>>
            {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT event_id, reason, text FROM leave_reasons WHERE subject_id = $1",
                )
                .bind(subject.0)
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("leave reason");
                rows.iter()
                    .map(|r| {
                        let reason: String = r.try_get("reason").map_err(bad)?;
                        Ok((
                            r.try_get("event_id").map_err(bad)?,
                            app::domain::LeaveReason::parse(&reason)
                                .map_err(|_| crate::store::corrupt("leave reason"))?,
                            r.try_get("text").map_err(bad)?,
                        ))
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use sql_leaving;
