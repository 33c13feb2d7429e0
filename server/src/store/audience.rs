//! `AudienceStore` for both backends, written once (expanded in sqlite.rs and postgres.rs next to
//! `sql_store!`, whose row readers it uses): the send gate's batched and paged reads.

/// The subject columns, the choice, the objection and the frequency chosen for `purpose` (an SQL
/// expression: the page's purpose parameter, or `c.purpose`) of a gate row (`s`: subjects, `c`:
/// consents, which keep the notice version of their last event). The frequency is read by the
/// page's own statement, through the index on (subject, purpose, seq), rather than by statements
/// of its own per page.
pub(crate) fn gate_columns(purpose: &str) -> String {
    format!(
        "s.id, s.external_id, s.email, s.phone, s.lang, s.jurisdiction, s.erased_at, \
         c.purpose, c.channel, c.state, c.updated_at, c.source, c.notice_version, \
         (SELECT o.objecting FROM marketing_objections o WHERE o.subject_id = s.id ORDER BY o.seq DESC LIMIT 1) AS objecting, \
         (SELECT f.frequency FROM frequency_choices f WHERE f.subject_id = s.id AND f.purpose = {purpose} \
          ORDER BY f.seq DESC LIMIT 1) AS frequency"
    )
}

/// The numbered parameters (`$1`…) of a statement written once as SQLite's explicitly numbered
/// ones (`?1`…): a parameter used twice, or not in order of first appearance, binds right.
pub(crate) fn numbered_for_sqlite(sql: &str) -> String {
    sql.replace('$', "?")
}

/// Ids bound per statement (both backends take far more; pages stay small enough to plan fast).
pub(crate) const IDS_PER_QUERY: usize = 1000;

/// Statements of one batched read run at a time: on SQLite each on a read connection of its own
/// (it keeps eight), on PostgreSQL each on a connection of the pool, so that a permissions check
/// of ten thousand keeps both cores busy rather than one, without taking the whole pool.
pub(crate) const READS_AT_ONCE: usize = 4;

/// Runs `reads` (the statements of one batched read), [`READS_AT_ONCE`] at a time, and their
/// rows in order.
pub(crate) async fn at_once<T, F>(reads: impl Iterator<Item = F>) -> app::store::StoreResult<Vec<T>>
where
    F: std::future::Future<Output = app::store::StoreResult<Vec<T>>>,
{
    use futures_util::{StreamExt, TryStreamExt};
    let pieces: Vec<Vec<T>> = futures_util::stream::iter(reads)
        .buffered(READS_AT_ONCE)
        .try_collect()
        .await?;
    Ok(pieces.into_iter().flatten().collect())
}

/// Where an audience page of grants only (`c`, each with its subject `s`) is read from, after
/// its columns: the page's grants in the order of the index of grants on (purpose, channel,
/// subject), never every grant sorted again per page. PostgreSQL reads the page's grants first
/// and then looks each one's subject up by its key (a lateral subquery, kept whole by
/// `OFFSET 0`): joined plainly, its planner merged the grants with every subject in id order,
/// three subjects read for each grant listed where a third of them have one (a page took 1.4×
/// as long). SQLite looks each subject up by key in the plain join; the page read first was
/// materialized and sorted again there.
/// `upto` is the condition bounding the page's last subject id (`subject_id`), or empty.
pub(crate) fn grants_page_pg(upto: &str) -> String {
    format!(
        "FROM (SELECT subject_id, purpose, channel, state, updated_at, source, notice_version \
         FROM consents WHERE purpose = $1 AND channel = $2 AND state = 'granted' \
         AND subject_id > $3{upto} ORDER BY subject_id LIMIT $4) c \
         CROSS JOIN LATERAL (SELECT * FROM subjects WHERE id = c.subject_id OFFSET 0) s \
         ORDER BY c.subject_id"
    )
}
pub(crate) fn grants_page_sqlite(upto: &str) -> String {
    format!(
        "FROM subjects s JOIN consents c ON c.subject_id = s.id \
         AND c.purpose = $1 AND c.channel = $2 AND c.state = 'granted' \
         WHERE c.subject_id > $3{upto} ORDER BY c.subject_id LIMIT $4"
    )
}

macro_rules! sql_audience {
    ($store:ty, $db:ty, placeholder = $ph:path, grants_page = $grants_page:path) => {
        impl $store {
            /// A gate row: the subject, its choice if the joined consent is there, its objection.
            #[allow(dead_code)]
            fn gate_row(
                row: &rows::DbRow,
                purpose: Option<&app::domain::PurposeKey>,
            ) -> app::store::StoreResult<app::store::GateRow> {
                use sqlx::Row;
                let bad = |_| crate::store::corrupt("gate row");
                let state: Option<String> = row.try_get("state").map_err(bad)?;
                let choice = match state {
                    Some(_) => Some(rows::consent(row)?),
                    None => None,
                };
                let purpose = match (&choice, purpose) {
                    (Some(c), _) => c.purpose.clone(),
                    (None, Some(p)) => p.clone(),
                    (None, None) => return Err(crate::store::corrupt("gate row")),
                };
                let objecting: Option<bool> = row.try_get("objecting").map_err(bad)?;
                let frequency: Option<String> = row.try_get("frequency").map_err(bad)?;
                Ok(app::store::GateRow {
                    subject: rows::subject(row)?,
                    purpose,
                    choice,
                    objecting: objecting.unwrap_or(false),
                    frequency: frequency
                        .map(|f| app::domain::Frequency::parse(&f))
                        .transpose()
                        .map_err(|_| crate::store::corrupt("frequency"))?,
                })
            }
        }

        #[async_trait::async_trait]
        impl app::store::AudienceStore for $store {
            async fn choices_of(
                &self,
                subjects: &[app::domain::SubjectId],
            ) -> app::store::StoreResult<Vec<(app::domain::SubjectId, app::store::ConsentRecord)>> {
                let read = |chunk: &[app::domain::SubjectId]| {
                    let ids = (1..=chunk.len()).map($ph).collect::<Vec<_>>().join(", ");
                    let sql = format!(
                        "SELECT c.subject_id, c.purpose, c.channel, c.state, c.updated_at, c.source, c.notice_version \
                         FROM consents c WHERE c.subject_id IN ({ids})"
                    );
                    let binds = chunk.iter().map(|s| crate::store::Bind::Id(s.0)).collect();
                    self.read_choices(sql, binds)
                };
                crate::store::audience::at_once(
                    subjects.chunks(crate::store::audience::IDS_PER_QUERY).map(read),
                )
                .await
            }

            async fn objecting_among(
                &self,
                subjects: &[app::domain::SubjectId],
            ) -> app::store::StoreResult<Vec<app::domain::SubjectId>> {
                let read = |chunk: &[app::domain::SubjectId]| {
                    let ids = (1..=chunk.len()).map($ph).collect::<Vec<_>>().join(", ");
                    let sql = format!(
                        "SELECT o.subject_id FROM marketing_objections o \
                         WHERE o.subject_id IN ({ids}) AND o.objecting AND o.seq = \
                           (SELECT MAX(m.seq) FROM marketing_objections m WHERE m.subject_id = o.subject_id)"
                    );
                    let binds = chunk.iter().map(|s| crate::store::Bind::Id(s.0)).collect();
                    self.read_subject_ids(sql, binds)
                };
                crate::store::audience::at_once(
                    subjects.chunks(crate::store::audience::IDS_PER_QUERY).map(read),
                )
                .await
            }

            async fn audience_page(
                &self,
                purpose: &app::domain::PurposeKey,
                channel: app::domain::Channel,
                after: app::domain::SubjectId,
                upto: Option<app::domain::SubjectId>,
                granted_only: bool,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::store::GateRow>> {
                // Only grants: see `grants_page_pg`. Everyone: subjects in id order, each with
                // its choice if any.
                let columns = crate::store::audience::gate_columns("$1");
                let sql = if granted_only {
                    let upto = if upto.is_some() { " AND subject_id <= $5" } else { "" };
                    format!("SELECT {columns} {}", $grants_page(upto))
                } else {
                    let upto = if upto.is_some() { " AND s.id <= $5" } else { "" };
                    format!(
                        "SELECT {columns} FROM subjects s \
                         LEFT JOIN consents c ON c.subject_id = s.id AND c.purpose = $1 AND c.channel = $2 \
                         WHERE s.id > $3{upto} ORDER BY s.id LIMIT $4"
                    )
                };
                use crate::store::Bind;
                let mut binds = vec![
                    Bind::Text(purpose.as_str().to_owned()),
                    Bind::Text(channel.key().to_owned()),
                    Bind::Id(after.0),
                    Bind::Int(i64::from(limit)),
                ];
                binds.extend(upto.map(|u| Bind::Id(u.0)));
                self.read_gate(sql, binds, Some(purpose.clone())).await
            }

            async fn audience_bound(
                &self,
                purpose: &app::domain::PurposeKey,
                channel: app::domain::Channel,
                after: app::domain::SubjectId,
                granted_only: bool,
                rows: u32,
            ) -> app::store::StoreResult<Option<app::domain::SubjectId>> {
                // From the index of grants (purpose, channel, subject) or the subjects' key
                // alone: no row is read.
                use crate::store::Bind;
                let skip = Bind::Int(i64::from(rows.max(1)) - 1);
                let (sql, binds) = if granted_only {
                    (
                        format!(
                            "SELECT subject_id FROM consents WHERE purpose = {} AND channel = {} \
                             AND state = 'granted' AND subject_id > {} \
                             ORDER BY subject_id LIMIT 1 OFFSET {}",
                            $ph(1), $ph(2), $ph(3), $ph(4)
                        ),
                        vec![
                            Bind::Text(purpose.as_str().to_owned()),
                            Bind::Text(channel.key().to_owned()),
                            Bind::Id(after.0),
                            skip,
                        ],
                    )
                } else {
                    (
                        format!(
                            "SELECT id FROM subjects WHERE id > {} ORDER BY id LIMIT 1 OFFSET {}",
                            $ph(1), $ph(2)
                        ),
                        vec![Bind::Id(after.0), skip],
                    )
                };
                Ok(self.read_subject_ids(sql, binds).await?.into_iter().next())
            }

            async fn withdrawn_on(
                &self,
                channel: app::domain::Channel,
                cursor: i64,
                limit: u32,
            ) -> app::store::StoreResult<Vec<(app::domain::PurposeKey, app::store::Suppression)>> {
                use sqlx::Row;
                // By chain position (commit order), as `Store::suppressions`.
                let sql = format!(
                    "SELECT c.purpose, p.position, c.updated_at, s.id, s.external_id, s.email, s.phone, s.lang, \
                     s.jurisdiction, s.erased_at \
                     FROM consents c JOIN event_seals p ON p.event_seq = c.last_event_seq \
                     JOIN subjects s ON s.id = c.subject_id \
                     WHERE c.channel = $1 AND c.state = 'withdrawn' \
                     AND c.last_event_seq > {} AND p.position > $2 \
                     ORDER BY p.position LIMIT $3",
                    crate::store::feed::seq_floor("$2")
                );
                let rows = sqlx::query(&sql)
                .bind(channel.key())
                .bind(cursor)
                .bind(i64::from(limit))
                .fetch_all(self.reads())
                .await
                .map_err(crate::store::db_error)?;
                rows.iter()
                    .map(|r| {
                        let purpose: String = r.try_get("purpose").map_err(|_| crate::store::corrupt("purpose"))?;
                        Ok((
                            purpose.parse().map_err(|_| crate::store::corrupt("purpose"))?,
                            app::store::Suppression {
                                cursor: r.try_get("position").map_err(|_| crate::store::corrupt("cursor"))?,
                                since: r.try_get("updated_at").map_err(|_| crate::store::corrupt("time"))?,
                                subject: rows::subject(r)?,
                            },
                        ))
                    })
                    .collect()
            }

            async fn granted_page(
                &self,
                purpose: Option<&app::domain::PurposeKey>,
                channel: app::domain::Channel,
                after: (app::domain::SubjectId, &str),
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::store::GateRow>> {
                // Every purpose key is above the empty string.
                let only = if purpose.is_some() { " AND c.purpose = $5" } else { "" };
                let sql = format!(
                    "SELECT {} FROM consents c JOIN subjects s ON s.id = c.subject_id \
                     WHERE c.channel = $1 AND c.state = 'granted' \
                     AND (c.subject_id, c.purpose) > ($2, $3){only} \
                     ORDER BY c.subject_id, c.purpose LIMIT $4",
                    crate::store::audience::gate_columns("c.purpose")
                );
                use crate::store::Bind;
                let mut binds = vec![
                    Bind::Text(channel.key().to_owned()),
                    Bind::Id(after.0.0),
                    Bind::Text(after.1.to_owned()),
                    Bind::Int(i64::from(limit)),
                ];
                if let Some(p) = purpose {
                    binds.push(Bind::Text(p.as_str().to_owned()));
                }
                self.read_gate(sql, binds, purpose.cloned()).await
            }
        }
    };
}

pub(crate) use sql_audience;
