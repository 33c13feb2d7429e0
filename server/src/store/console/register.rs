//! `RegisterStore` for both backends, written once (expanded in sqlite/mod.rs and postgres/mod.rs):
//! the APPI register's recipients, provisions (each with its recipient as provided) and
//! acquisitions.

macro_rules! sql_register {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl app::store::RegisterStore for $store {
            async fn save_recipient(&self, r: &app::store::Recipient) -> app::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO recipients (id, name, address, representative, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, address = excluded.address, \
                     representative = excluded.representative",
                )
                .bind(&r.id)
                .bind(&r.name)
                .bind(&r.address)
                .bind(&r.representative)
                .bind(app::services::now())
                .execute(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(())
            }

            async fn recipients(&self) -> app::store::StoreResult<Vec<app::store::Recipient>> {
                let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                    "SELECT id, name, address, representative FROM recipients ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(rows
                    .into_iter()
                    .map(|(id, name, address, representative)| app::store::Recipient { id, name, address, representative })
                    .collect())
            }

            async fn add_provision(&self, p: &app::store::Provision) -> app::store::StoreResult<app::store::Provision> {
                // The recipient's identity is copied from its row in the same statement: the
                // record keeps it as it was when the data was provided (R51).
                let row: Option<(i64, String, String, String)> = sqlx::query_as(
                    "INSERT INTO provisions (subject_id, recipient, purpose, provided_at, identified_by, data_items, \
                     recorded_by, recipient_name, recipient_address, recipient_representative) \
                     SELECT $1, r.id, $3, $4, $5, $6, $7, r.name, r.address, r.representative FROM recipients r \
                     WHERE r.id = $2 RETURNING seq, recipient_name, recipient_address, recipient_representative",
                )
                .bind(p.subject.0)
                .bind(&p.recipient)
                .bind(p.purpose.as_str())
                .bind(p.provided_at)
                .bind(&p.identified_by)
                .bind(&p.data_items)
                .bind(&p.recorded_by)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let (seq, name, address, representative) =
                    row.ok_or(app::store::StoreError::MissingReference("recipient"))?;
                Ok(app::store::Provision {
                    seq,
                    recipient_as_provided: Some(app::store::Recipient {
                        id: p.recipient.clone(),
                        name,
                        address,
                        representative,
                    }),
                    ..p.clone()
                })
            }

            async fn provisions(
                &self,
                subject: app::domain::SubjectId,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::store::Provision>> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT seq, subject_id, recipient, purpose, provided_at, identified_by, data_items, recorded_by, \
                     recipient_name, recipient_address, recipient_representative \
                     FROM provisions WHERE subject_id = $1 ORDER BY seq DESC LIMIT $2",
                )
                .bind(subject.0)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("provision");
                rows.iter()
                    .map(|r| {
                        let purpose: String = r.try_get("purpose").map_err(bad)?;
                        let recipient: String = r.try_get("recipient").map_err(bad)?;
                        let name: Option<String> = r.try_get("recipient_name").map_err(bad)?;
                        let address: Option<String> = r.try_get("recipient_address").map_err(bad)?;
                        let representative: Option<String> =
                            r.try_get("recipient_representative").map_err(bad)?;
                        let recipient_as_provided = match (name, address, representative) {
                            (Some(name), Some(address), Some(representative)) => Some(app::store::Recipient {
                                id: recipient.clone(),
                                name,
                                address,
                                representative,
                            }),
                            _ => None,
                        };
                        Ok(app::store::Provision {
                            seq: r.try_get("seq").map_err(bad)?,
                            subject: app::domain::SubjectId(r.try_get("subject_id").map_err(bad)?),
                            recipient,
                            purpose: purpose.parse().map_err(|_| crate::store::corrupt("purpose"))?,
                            provided_at: r.try_get("provided_at").map_err(bad)?,
                            identified_by: r.try_get("identified_by").map_err(bad)?,
                            data_items: r.try_get("data_items").map_err(bad)?,
                            recorded_by: r.try_get("recorded_by").map_err(bad)?,
                            recipient_as_provided,
                        })
                    })
                    .collect()
            }

            async fn add_acquisition(&self, a: &app::store::Acquisition) -> app::store::StoreResult<i64> {
                let seq: i64 = sqlx::query_scalar(
                    "INSERT INTO acquisitions (subject_id, provider_name, provider_address, provider_representative, \
                     acquired_by, data_items, received_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq",
                )
                .bind(a.subject.0)
                .bind(&a.provider_name)
                .bind(&a.provider_address)
                .bind(&a.provider_representative)
                .bind(&a.acquired_by)
                .bind(&a.data_items)
                .bind(a.received_at)
                .bind(&a.recorded_by)
                .fetch_one(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                Ok(seq)
            }

            async fn acquisitions(
                &self,
                subject: app::domain::SubjectId,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::store::Acquisition>> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT seq, subject_id, provider_name, provider_address, provider_representative, acquired_by, \
                     data_items, received_at, recorded_by FROM acquisitions WHERE subject_id = $1 ORDER BY seq DESC LIMIT $2",
                )
                .bind(subject.0)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("acquisition");
                rows.iter()
                    .map(|r| {
                        Ok(app::store::Acquisition {
                            seq: r.try_get("seq").map_err(bad)?,
                            subject: app::domain::SubjectId(r.try_get("subject_id").map_err(bad)?),
                            provider_name: r.try_get("provider_name").map_err(bad)?,
                            provider_address: r.try_get("provider_address").map_err(bad)?,
                            provider_representative: r.try_get("provider_representative").map_err(bad)?,
                            acquired_by: r.try_get("acquired_by").map_err(bad)?,
                            data_items: r.try_get("data_items").map_err(bad)?,
                            received_at: r.try_get("received_at").map_err(bad)?,
                            recorded_by: r.try_get("recorded_by").map_err(bad)?,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use sql_register;
