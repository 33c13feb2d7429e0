//! `EventLogStore` for both backends, written once (expanded in sqlite/mod.rs and postgres/mod.rs
//! next to `sql_store!`): filtered event pages, their count, and daily counts.

use app::store::{EventCursor, EventFilter};
use time::OffsetDateTime;

use crate::store::Bind;

/// The WHERE clause (with its leading ` WHERE `, or empty) and ORDER/LIMIT of an event page.
/// SQLite keeps times as RFC 3339 text: bounds bind as text without an offset, which orders
/// correctly against every stored value (`…T00:00:00` < `…T00:00:00Z` < `…T00:00:00.5Z`).
pub(crate) fn event_query(
    filter: &EventFilter,
    cursor: Option<EventCursor>,
    limit: Option<u32>,
    ph: fn(usize) -> String,
    text_times: bool,
) -> (String, Vec<Bind>) {
    let mut binds = Vec::new();
    let mut conditions: Vec<String> = Vec::new();
    let mut add = |sql: &str, b: Bind| {
        binds.push(b);
        conditions.push(sql.replace('?', &ph(binds.len())));
    };
    let time = |t: OffsetDateTime| {
        if text_times {
            Bind::Text(
                t.to_offset(time::UtcOffset::UTC)
                    .format(time::macros::format_description!(
                        "[year]-[month]-[day]T[hour]:[minute]:[second]"
                    ))
                    .unwrap_or_default(),
            )
        } else {
            Bind::Time(t)
        }
    };
    if let Some(s) = filter.subject {
        add("subject_id = ?", Bind::Id(s.0));
    }
    if let Some(p) = &filter.purpose {
        add("purpose = ?", Bind::Text(p.to_string()));
    }
    if let Some(c) = filter.channel {
        add("channel = ?", Bind::Text(c.key().to_owned()));
    }
    if let Some(s) = filter.source {
        add("source = ?", Bind::Text(s.key().to_owned()));
    }
    if let Some(t) = filter.from {
        add("occurred_at >= ?", time(t));
    }
    if let Some(t) = filter.until {
        add("occurred_at < ?", time(t));
    }
    let order = match cursor {
        Some(EventCursor::NewestBelow(seq)) => {
            add("seq < ?", Bind::Int(seq));
            " ORDER BY seq DESC"
        }
        Some(EventCursor::OldestAbove(seq)) => {
            add("seq > ?", Bind::Int(seq));
            " ORDER BY seq"
        }
        None => "",
    };
    let mut sql = String::new();
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(order);
    if let Some(limit) = limit {
        binds.push(Bind::Int(i64::from(limit)));
        sql.push_str(&format!(" LIMIT {}", ph(binds.len())));
    }
    (sql, binds)
}

macro_rules! sql_event_log {
    ($store:ty, placeholder = $ph:path, text_times = $text_times:literal, day = $day:literal) => {
        #[async_trait::async_trait]
        impl app::store::EventLogStore for $store {
            async fn events(
                &self,
                filter: &app::store::EventFilter,
                cursor: app::store::EventCursor,
                limit: u32,
            ) -> app::store::StoreResult<Vec<(i64, app::domain::ConsentEvent)>> {
                let (tail, binds) = crate::store::console::event_log::event_query(
                    filter,
                    Some(cursor),
                    Some(limit),
                    $ph,
                    $text_times,
                );
                // Each backend reads pages of exports its fastest way.
                let mut events = self
                    .read_events(&tail, binds, limit, crate::store::ReadFrom::Replica)
                    .await?;
                match cursor {
                    app::store::EventCursor::NewestBelow(_) => {
                        events.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq))
                    }
                    app::store::EventCursor::OldestAbove(_) => events.sort_by_key(|(seq, _)| *seq),
                }
                Ok(events)
            }

            async fn count_events(
                &self,
                filter: &app::store::EventFilter,
            ) -> app::store::StoreResult<i64> {
                let (tail, binds) = crate::store::console::event_log::event_query(
                    filter,
                    None,
                    None,
                    $ph,
                    $text_times,
                );
                let sql = format!("SELECT COUNT(*) FROM consent_events{tail}");
                let q = crate::store::bind_all(sqlx::query(&sql), binds);
                let row = q
                    .fetch_one(self.reads())
                    .await
                    .map_err(crate::store::db_error)?;
                sqlx::Row::try_get::<i64, _>(&row, 0).map_err(|_| crate::store::corrupt("count"))
            }

            async fn event_counts(
                &self,
                filter: &app::store::EventFilter,
            ) -> app::store::StoreResult<Vec<app::store::EventCount>> {
                use sqlx::Row;
                let (tail, binds) = crate::store::console::event_log::event_query(
                    filter,
                    None,
                    None,
                    $ph,
                    $text_times,
                );
                let sql = format!(
                    "SELECT {day} AS day, purpose, channel, to_state, source, COUNT(*) AS n \
                     FROM consent_events{tail} GROUP BY 1, 2, 3, 4, 5 ORDER BY 1",
                    day = $day
                );
                let rows = crate::store::bind_all(sqlx::query(&sql), binds)
                    .fetch_all(self.reads())
                    .await
                    .map_err(crate::store::db_error)?;
                let bad = |_| crate::store::corrupt("count");
                rows.iter()
                    .map(|row| {
                        let to: String = row.try_get("to_state").map_err(bad)?;
                        Ok(app::store::EventCount {
                            day: row.try_get("day").map_err(bad)?,
                            purpose: row.try_get("purpose").map_err(bad)?,
                            channel: row.try_get("channel").map_err(bad)?,
                            to: to.parse().map_err(|_| crate::store::corrupt("state"))?,
                            source: row.try_get("source").map_err(bad)?,
                            count: row.try_get("n").map_err(bad)?,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use sql_event_log;

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::{Channel, PurposeKey};

    #[test]
    fn filters_become_numbered_conditions_in_order() {
        let filter = EventFilter {
            purpose: Some(PurposeKey::parse("newsletter").unwrap()),
            channel: Some(Channel::Email),
            from: Some(time::macros::datetime!(2026-11-01 0:00 UTC)),
            ..EventFilter::default()
        };
        let (sql, binds) = event_query(
            &filter,
            Some(EventCursor::NewestBelow(99)),
            Some(50),
            crate::store::numbered,
            true,
        );
        assert_eq!(
            sql,
            " WHERE purpose = $1 AND channel = $2 AND occurred_at >= $3 AND seq < $4 ORDER BY seq DESC LIMIT $5"
        );
        assert_eq!(binds.len(), 5);
        assert!(matches!(&binds[2], Bind::Text(t) if t == "2026-11-01T00:00:00"));
        let (none, _) = event_query(
            &EventFilter::default(),
            None,
            None,
            crate::store::numbered,
            false,
        );
        assert_eq!(none, "");
    }
}
