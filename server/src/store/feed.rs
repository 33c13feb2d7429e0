//! Commit-ordered reads, written once for both backends: the event feed (`FeedStore`, expanded in
//! sqlite.rs and postgres.rs next to `sql_store!`, whose row readers it uses) and the lower bound
//! that lets the suppression lists page by chain position through their seq indexes.
//!
//! A cursor is a chain position. Positions are given by one sealer at a time, after the events
//! commit, in transactions that commit in order: a reader sees positions 1…head and never a gap
//! that a later commit fills. Sequence numbers are taken before commit, so with several instances
//! on one PostgreSQL a lower seq can commit (and be sealed) after a higher one.

use super::seals::LOOK_BELOW;

/// The lowest seq an event sealed after the position bound to `param` can have, as SQL: the
/// sealer only seals events whose seq is above its highest sealed seq minus [`LOOK_BELOW`], and
/// within a round in seq order, so every event sealed after position `P` has a seq above
/// `seq(P) − LOOK_BELOW`. A cursor past the head takes the head's seq; cursor 0 bounds nothing.
/// With it, a page after a recent cursor reads the seq index from just below the cursor's event
/// rather than every withdrawal there ever was.
pub(crate) fn seq_floor(param: &str) -> String {
    format!(
        "(COALESCE((SELECT b.event_seq FROM event_seals b WHERE b.position <= {param} \
         ORDER BY b.position DESC LIMIT 1), 0) - {LOOK_BELOW})"
    )
}

/// The select list of a feed page (`p`: seals, `e`: events, `s`: subjects): the position, the
/// event's columns (its id as `id`), the subject's columns (its id is the event's `subject_id`).
pub(crate) fn feed_columns() -> String {
    format!(
        "p.position, {}, s.external_id, s.email, s.phone, s.lang, s.jurisdiction, s.erased_at",
        super::columns::event_columns()
    )
}

macro_rules! sql_feed {
    ($store:ty, $db:ty, placeholder = $ph:path) => {
        impl $store {
            /// The chain's last position in the database `pool` reaches.
            async fn head_in(pool: &sqlx::Pool<$db>) -> app::store::StoreResult<i64> {
                let head: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM event_seals")
                    .fetch_one(pool)
                    .await
                    .map_err(crate::store::db_error)?;
                Ok(head.unwrap_or(0))
            }
        }

        #[async_trait::async_trait]
        impl app::store::FeedStore for $store {
            async fn feed_head(&self) -> app::store::StoreResult<i64> {
                Self::head_in(self.reads()).await
            }

            async fn feed_page(
                &self,
                after: i64,
                upto: i64,
                filter: &app::domain::FeedFilter,
                limit: u32,
            ) -> app::store::StoreResult<Vec<app::domain::FeedItem>> {
                use crate::store::Bind;
                let mut binds = vec![Bind::Int(after), Bind::Int(upto)];
                let mut conditions = String::new();
                let mut any_of = |column: &str, values: Vec<String>, binds: &mut Vec<Bind>| {
                    if values.is_empty() {
                        return;
                    }
                    let list: Vec<String> = values
                        .into_iter()
                        .map(|v| {
                            binds.push(Bind::Text(v));
                            $ph(binds.len())
                        })
                        .collect();
                    conditions.push_str(&format!(" AND e.{column} IN ({})", list.join(", ")));
                };
                any_of(
                    "purpose",
                    filter.purposes.iter().map(|p| p.to_string()).collect(),
                    &mut binds,
                );
                any_of(
                    "channel",
                    filter.channels.iter().map(|c| c.key().to_owned()).collect(),
                    &mut binds,
                );
                any_of(
                    "source",
                    filter.sources.iter().map(|s| s.key().to_owned()).collect(),
                    &mut binds,
                );
                binds.push(Bind::Int(i64::from(limit)));
                let sql = format!(
                    "SELECT {} FROM event_seals p JOIN consent_events e ON e.seq = p.event_seq \
                     JOIN subjects s ON s.id = e.subject_id \
                     WHERE p.position > {} AND p.position <= {}{conditions} \
                     ORDER BY p.position LIMIT {}",
                    crate::store::feed::feed_columns(),
                    $ph(1),
                    $ph(2),
                    $ph(binds.len()),
                );
                // The head may have come from the primary (the replica fell behind meanwhile):
                // a page read from the replica must reach it, or its short page would move the
                // cursor past positions the replica has not replayed yet.
                let reads = self.reads();
                let primary =
                    !std::ptr::eq(reads, &self.pool) && Self::head_in(reads).await? < upto;
                self.read_feed(sql, binds, primary).await
            }

            fn feed_reads_at_once(&self) -> usize {
                Self::FEED_READS_AT_ONCE
            }
        }
    };
}

pub(crate) use sql_feed;
