//! Bulk reads of events (chain walks, exports): the database packs a page of events into one text
//! value, each field length-prefixed (`<bytes>:<value>`, `~` for NULL), so the client decodes one
//! row per page instead of one per event. sqlx hands each SQLite row across threads; a page of
//! thousands of rows that way costs more than reading them.

use app::domain::{ConsentEvent, Origin, Provenance, SubjectId};
use app::store::StoreResult;

use super::corrupt;

/// How a backend spells the few things packing needs.
pub(crate) struct Dialect {
    /// Bytes of a text value: `{}` is the expression.
    pub text_len: &'static str,
    /// An id (UUID) as text.
    pub id: &'static str,
    /// A time as text (RFC 3339, or microseconds since the epoch).
    pub time: &'static str,
    /// An integer as text.
    pub int: &'static str,
    /// Concatenates the packed rows of a subquery, in `order`.
    pub agg: &'static str,
}

pub(crate) const SQLITE: Dialect = Dialect {
    text_len: "length(CAST({} AS BLOB))",
    id: "hex({})",
    time: "{}",
    int: "CAST({} AS TEXT)",
    agg: "group_concat(packed, '')",
};

pub(crate) const POSTGRES: Dialect = Dialect {
    text_len: "octet_length({})",
    id: "{}::text",
    time: "((extract(epoch from {}) * 1000000)::bigint)::text",
    int: "{}::text",
    agg: "string_agg(packed, '' ORDER BY ord)",
};

/// The event columns, in the order `event` reads them, and how each becomes text.
const EVENT_FIELDS: [(&str, Kind); 15] = [
    ("id", Kind::Id),
    ("subject_id", Kind::Id),
    ("purpose", Kind::Text),
    ("channel", Kind::Text),
    ("from_state", Kind::Text),
    ("to_state", Kind::Text),
    ("occurred_at", Kind::Time),
    ("source", Kind::Text),
    ("actor", Kind::Text),
    ("notice_version", Kind::Text),
    ("origin_ip", Kind::Text),
    ("user_agent", Kind::Text),
    ("idempotency_key", Kind::Text),
    ("reason", Kind::Text),
    ("campaign", Kind::Text),
];

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Id,
    Text,
    Time,
    Int,
}

impl Dialect {
    /// One field, length-prefixed: `CASE WHEN x IS NULL THEN '~' ELSE len || ':' || x END`.
    pub fn field(&self, column: &str, kind: Kind) -> String {
        let text = match kind {
            Kind::Id => self.id.replace("{}", column),
            Kind::Text => column.to_owned(),
            Kind::Time => self.time.replace("{}", column),
            Kind::Int => self.int.replace("{}", column),
        };
        let len = self.text_len.replace("{}", &text);
        format!(
            "CASE WHEN {column} IS NULL THEN '~' ELSE {} || ':' || {text} END",
            self.int.replace("{}", &len)
        )
    }

    /// `lead` fields, then every event column of table alias `e`, as one packed text.
    pub fn packed_row(&self, lead: &[(&str, Kind)]) -> String {
        lead.iter()
            .copied()
            .chain(EVENT_FIELDS.iter().map(|(c, k)| (*c, *k)))
            .map(|(c, k)| {
                let column = if c.contains('.') {
                    c.to_owned()
                } else {
                    format!("e.{c}")
                };
                self.field(&column, k)
            })
            .collect::<Vec<_>>()
            .join(" || ")
    }

    /// A query returning one text: the packed rows of `inner` (which selects `packed` and `ord`).
    pub fn aggregate(&self, inner: &str) -> String {
        format!("SELECT {} FROM ({inner}) AS page", self.agg)
    }
}

/// Reads packed fields one after another.
pub(crate) struct Fields<'a> {
    rest: &'a str,
}

impl<'a> Fields<'a> {
    pub fn new(text: &'a str) -> Self {
        Self { rest: text }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next field (`None` for NULL).
    pub fn next(&mut self) -> StoreResult<Option<&'a str>> {
        if let Some(rest) = self.rest.strip_prefix('~') {
            self.rest = rest;
            return Ok(None);
        }
        let colon = self.rest.find(':').ok_or_else(|| corrupt("packed row"))?;
        let len: usize = self.rest[..colon]
            .parse()
            .map_err(|_| corrupt("packed row"))?;
        let start = colon + 1;
        let value = self
            .rest
            .get(start..start + len)
            .ok_or_else(|| corrupt("packed row"))?;
        self.rest = &self.rest[start + len..];
        Ok(Some(value))
    }

    pub fn required(&mut self, what: &str) -> StoreResult<&'a str> {
        self.next()?.ok_or_else(|| corrupt(what))
    }

    pub fn int(&mut self, what: &str) -> StoreResult<i64> {
        self.required(what)?.parse().map_err(|_| corrupt(what))
    }

    /// The fifteen event fields as stored (all `None` when a LEFT JOIN found no event).
    pub fn event_fields(&mut self) -> StoreResult<[Option<&'a str>; 15]> {
        let mut f = [None; 15];
        for slot in &mut f {
            *slot = self.next()?;
        }
        Ok(f)
    }
}

/// The event the fields hold (`None` when every field is NULL: no event).
pub(crate) fn event(f: [Option<&str>; 15]) -> StoreResult<Option<ConsentEvent>> {
    if f.iter().all(Option::is_none) {
        return Ok(None);
    }
    let parse = |i: usize, what: &str| -> StoreResult<&str> { f[i].ok_or_else(|| corrupt(what)) };
    let id = |s: &str| uuid::Uuid::parse_str(s).map_err(|_| corrupt("id"));
    let owned = |i: usize| f[i].map(str::to_owned);
    let bad = |what: &'static str| move |_| corrupt(what);
    Ok(Some(ConsentEvent {
        id: id(parse(0, "id")?)?,
        subject: SubjectId(id(parse(1, "subject_id")?)?),
        purpose: parse(2, "purpose")?.parse().map_err(bad("purpose"))?,
        channel: parse(3, "channel")?.parse().map_err(bad("channel"))?,
        from: f[4].map(str::parse).transpose().map_err(bad("state"))?,
        to: parse(5, "to_state")?.parse().map_err(bad("state"))?,
        provenance: Provenance {
            occurred_at: time_of(parse(6, "occurred_at")?)?,
            source: parse(7, "source")?.parse().map_err(bad("source"))?,
            actor: parse(8, "actor")?.parse().map_err(bad("actor"))?,
            notice_version: owned(9),
            origin: Origin {
                ip: owned(10),
                user_agent: owned(11),
            },
            idempotency_key: owned(12),
            reason: owned(13),
            campaign: owned(14),
        },
    }))
}

/// A stored time: microseconds since the epoch (PostgreSQL) or RFC 3339 text (SQLite).
fn time_of(text: &str) -> StoreResult<time::OffsetDateTime> {
    if let Ok(micros) = text.parse::<i64>() {
        return time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
            .map_err(|_| corrupt("occurred_at"));
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| corrupt("occurred_at"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_back_whatever_they_hold() {
        let text = "3:a:b~5:x\n~\u{1f}y0:";
        let mut f = Fields::new(text);
        assert_eq!(f.next().unwrap(), Some("a:b"));
        assert_eq!(f.next().unwrap(), None);
        assert_eq!(f.next().unwrap(), Some("x\n~\u{1f}y"));
        assert_eq!(f.next().unwrap(), Some(""));
        assert!(f.is_empty());
        assert!(Fields::new("9:short").next().is_err());
        assert_eq!(
            time_of("1735689600000001").unwrap(),
            time::macros::datetime!(2025-01-01 0:00:00.000001 UTC)
        );
        assert_eq!(
            time_of("2025-01-01T00:00:00.000001Z").unwrap(),
            time::macros::datetime!(2025-01-01 0:00:00.000001 UTC)
        );
    }
}
