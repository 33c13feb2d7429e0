//! Reading rows into domain values, shared by both backends (expanded inside `sql_store!`).

macro_rules! sql_rows {
    ($db:ty) => {
        mod rows {
            use app::domain::{
                Actor, Channel, ConsentEvent, ConsentState, Email, ExternalId, Lang, Mode, Origin,
                Phone, Provenance, Purpose, PurposeKey, Source, Subject, SubjectId,
            };
            use app::store::{ConsentRecord, StoreResult};
            use sqlx::Row;
            use time::OffsetDateTime;
            use uuid::Uuid;

            use crate::store::corrupt;

            pub type DbRow = <$db as sqlx::Database>::Row;

            fn parse<T: std::str::FromStr>(s: &str, what: &str) -> StoreResult<T> {
                s.parse().map_err(|_| corrupt(what))
            }

            fn get<'r, T>(row: &'r DbRow, col: &str) -> StoreResult<T>
            where
                T: sqlx::Decode<'r, $db> + sqlx::Type<$db>,
            {
                row.try_get(col).map_err(|_| corrupt(col))
            }

            pub fn subject(row: &DbRow) -> StoreResult<Subject> {
                subject_as(row, "id")
            }

            /// A subject whose id is in column `id` (a row that also holds an event's id).
            pub fn subject_as(row: &DbRow, id: &str) -> StoreResult<Subject> {
                let email: Option<String> = get(row, "email")?;
                let phone: Option<String> = get(row, "phone")?;
                Ok(Subject {
                    id: SubjectId(get(row, id)?),
                    external_id: ExternalId::parse(&get::<String>(row, "external_id")?)
                        .map_err(|_| corrupt("subject"))?,
                    email: email
                        .map(|e| Email::parse(&e))
                        .transpose()
                        .map_err(|_| corrupt("email"))?,
                    phone: phone
                        .map(|p| Phone::parse(&p))
                        .transpose()
                        .map_err(|_| corrupt("phone"))?,
                    lang: parse::<Lang>(&get::<String>(row, "lang")?, "lang")?,
                    jurisdiction: parse(&get::<String>(row, "jurisdiction")?, "jurisdiction")?,
                    erased_at: get(row, "erased_at")?,
                    // Selected with the subject's own columns; the gate and the feed leave it
                    // out (they show the person no times).
                    time_zone: match row.try_get::<Option<String>, _>("time_zone") {
                        Ok(z) => z
                            .map(|z| app::domain::TimeZoneName::parse(&z))
                            .transpose()
                            .map_err(|_| corrupt("time_zone"))?,
                        Err(sqlx::Error::ColumnNotFound(_)) => None,
                        Err(_) => return Err(corrupt("time_zone")),
                    },
                })
            }

            pub fn purpose(row: &DbRow) -> StoreResult<Purpose> {
                let channels: String = get(row, "channels")?;
                Ok(Purpose {
                    key: parse::<PurposeKey>(&get::<String>(row, "key")?, "purpose")?,
                    name_ja: get(row, "name_ja")?,
                    name_en: get(row, "name_en")?,
                    description_ja: get(row, "description_ja")?,
                    description_en: get(row, "description_en")?,
                    mode: parse::<Mode>(&get::<String>(row, "mode")?, "mode")?,
                    channels: channels
                        .split(',')
                        .filter(|c| !c.is_empty())
                        .map(|c| parse::<Channel>(c, "channel"))
                        .collect::<StoreResult<_>>()?,
                    marketing: get(row, "marketing")?,
                    kind: parse(&get::<String>(row, "kind")?, "kind")?,
                    modes: app::domain::JurisdictionModes::parse(&get::<String>(row, "modes")?)
                        .map_err(|_| corrupt("modes"))?,
                    legal: serde_json::from_str(&get::<String>(row, "legal")?)
                        .map_err(|_| corrupt("legal"))?,
                })
            }

            pub fn api_key(row: &DbRow) -> StoreResult<app::api_key::ApiKeyRecord> {
                let scopes: String = get(row, "scopes")?;
                Ok(app::api_key::ApiKeyRecord {
                    id: get(row, "id")?,
                    name: get(row, "name")?,
                    scopes: scopes
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(|s| parse(s, "scope"))
                        .collect::<StoreResult<_>>()?,
                    secret_sha256: get(row, "secret_sha256")?,
                    created_at: get(row, "created_at")?,
                    revoked_at: get(row, "revoked_at")?,
                })
            }

            pub fn consent(row: &DbRow) -> StoreResult<ConsentRecord> {
                Ok(ConsentRecord {
                    purpose: parse(&get::<String>(row, "purpose")?, "purpose")?,
                    channel: parse(&get::<String>(row, "channel")?, "channel")?,
                    state: parse(&get::<String>(row, "state")?, "state")?,
                    updated_at: get::<OffsetDateTime>(row, "updated_at")?,
                    source: parse(&get::<String>(row, "source")?, "source")?,
                    notice_version: get(row, "notice_version")?,
                })
            }

            pub fn notice(row: &DbRow) -> StoreResult<app::domain::Notice> {
                let purposes: String = get(row, "purposes")?;
                Ok(app::domain::Notice {
                    version: get(row, "version")?,
                    effective_at: get(row, "effective_at")?,
                    material: get(row, "material")?,
                    purposes: purposes
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(|s| parse(s, "purpose"))
                        .collect::<StoreResult<_>>()?,
                    summary_ja: get(row, "summary_ja")?,
                    summary_en: get(row, "summary_en")?,
                    text_ja: get(row, "text_ja")?,
                    text_en: get(row, "text_en")?,
                    published_at: get(row, "published_at")?,
                    published_by: get(row, "published_by")?,
                })
            }

            pub fn collection_point(row: &DbRow) -> StoreResult<app::domain::CollectionPoint> {
                Ok(app::domain::CollectionPoint {
                    key: get(row, "key")?,
                    name_ja: get(row, "name_ja")?,
                    name_en: get(row, "name_en")?,
                    kind: parse(&get::<String>(row, "kind")?, "kind")?,
                    location: get(row, "location")?,
                    wording: get(row, "wording")?,
                    wording_sha256: get(row, "wording_sha256")?,
                    notice_version: get(row, "notice_version")?,
                    created_at: get(row, "created_at")?,
                    created_by: get(row, "created_by")?,
                    retired_at: get(row, "retired_at")?,
                    retired_by: get(row, "retired_by")?,
                })
            }

            pub fn event(row: &DbRow) -> StoreResult<ConsentEvent> {
                let from: Option<String> = get(row, "from_state")?;
                Ok(ConsentEvent {
                    id: get::<Uuid>(row, "id")?,
                    subject: SubjectId(get(row, "subject_id")?),
                    purpose: parse(&get::<String>(row, "purpose")?, "purpose")?,
                    channel: parse(&get::<String>(row, "channel")?, "channel")?,
                    from: from
                        .map(|f| parse::<ConsentState>(&f, "state"))
                        .transpose()?,
                    to: parse(&get::<String>(row, "to_state")?, "state")?,
                    provenance: Provenance {
                        occurred_at: get(row, "occurred_at")?,
                        source: parse::<Source>(&get::<String>(row, "source")?, "source")?,
                        actor: parse::<Actor>(&get::<String>(row, "actor")?, "actor")?,
                        notice_version: get(row, "notice_version")?,
                        origin: Origin {
                            ip: get(row, "origin_ip")?,
                            user_agent: get(row, "user_agent")?,
                        },
                        idempotency_key: get(row, "idempotency_key")?,
                        reason: get(row, "reason")?,
                        campaign: get(row, "campaign")?,
                        collection_point: get(row, "collection_point")?,
                        import_batch: get(row, "import_batch")?,
                        form_url: get(row, "form_url")?,
                        proof_ref: get(row, "proof_ref")?,
                    },
                    recorded_at: get(row, "recorded_at")?,
                })
            }
        }
    };
}

pub(crate) use sql_rows;
