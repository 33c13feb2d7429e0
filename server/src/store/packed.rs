//! Bulk reads of events (chain walks, exports): the database packs each row into one text with
//! one C function per row (SQLite: a JSON array; PostgreSQL: a row value's text form) and a page
//! of rows into one text, so the client decodes one value per page instead of one row per
//! event. sqlx hands each SQLite row across threads; a page of thousands of rows that way costs
//! more than reading them, and building a row with `||` copies it once per field.

use std::borrow::Cow;

use app::domain::{ConsentEvent, Origin, Provenance, SubjectId};
use app::store::StoreResult;

use super::corrupt;

/// How a backend spells the few things packing needs.
pub(crate) struct Dialect {
    /// One row as one text: `{}` is the list of fields.
    pub row: &'static str,
    /// How that text is read back.
    pub format: Format,
    /// An id (UUID) as text.
    pub id: &'static str,
    /// A time as text (RFC 3339, or microseconds since the epoch).
    pub time: &'static str,
    /// An integer as text.
    pub int: &'static str,
    /// Concatenates the packed rows of a subquery (in any order: readers sort).
    pub agg: &'static str,
}

/// The text form of a packed row.
#[derive(Clone, Copy)]
pub(crate) enum Format {
    /// A JSON array of strings and nulls, one per line.
    JsonLines,
    /// PostgreSQL's row-value output, `(a,,"b c")`: NULL is nothing, a value with a quote,
    /// backslash, comma, parenthesis or space (or empty) is quoted, quotes and backslashes doubled.
    Records,
}

pub(crate) const SQLITE: Dialect = Dialect {
    row: "json_array({})",
    format: Format::JsonLines,
    id: "hex({})",
    time: "{}",
    int: "CAST({} AS TEXT)",
    agg: "group_concat(packed, char(10))",
};

// `date_part` is double precision: microseconds since 1970 stay exact (below 2^53) and cost no
// numeric arithmetic, unlike `extract`.
pub(crate) const POSTGRES: Dialect = Dialect {
    row: "ROW({})::text",
    format: Format::Records,
    id: "{}",
    time: "round(date_part('epoch', {}) * 1000000)::bigint",
    int: "{}",
    agg: "string_agg(packed, '')",
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
    /// One field as text (NULL stays NULL: JSON `null`).
    pub fn field(&self, column: &str, kind: Kind) -> String {
        match kind {
            Kind::Id => self.id.replace("{}", column),
            Kind::Text => column.to_owned(),
            Kind::Time => self.time.replace("{}", column),
            Kind::Int => self.int.replace("{}", column),
        }
    }

    /// `lead` fields, then every event column of table alias `e`, as one packed row.
    pub fn packed_row(&self, lead: &[(&str, Kind)]) -> String {
        let fields = lead
            .iter()
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
            .join(", ");
        self.row.replace("{}", &fields)
    }

    /// A query returning one text: the packed rows of `inner` (which selects `packed` and `ord`).
    pub fn aggregate(&self, inner: &str) -> String {
        format!("SELECT {} FROM ({inner}) AS page", self.agg)
    }
}

/// A JSON string, borrowed from the page when it has no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// One packed row: its fields, read one after another.
pub(crate) struct Row<'a> {
    values: Vec<Option<Text<'a>>>,
    at: usize,
}

/// The rows of a page.
pub(crate) fn rows(
    page: &str,
    format: Format,
) -> Box<dyn Iterator<Item = StoreResult<Row<'_>>> + '_> {
    match format {
        Format::JsonLines => Box::new(page.split('\n').filter(|l| !l.is_empty()).map(|line| {
            let values: Vec<Option<Text<'_>>> =
                serde_json::from_str(line).map_err(|_| corrupt("packed row"))?;
            Ok(Row { values, at: 0 })
        })),
        Format::Records => {
            let mut rest = page;
            Box::new(std::iter::from_fn(move || {
                if rest.is_empty() {
                    return None;
                }
                Some(record(&mut rest).map(|values| Row { values, at: 0 }))
            }))
        }
    }
}

/// Reads one row value, `(…)`, from the start of `rest`, and moves past it.
fn record<'a>(rest: &mut &'a str) -> StoreResult<Vec<Option<Text<'a>>>> {
    let bad = || corrupt("packed row");
    let text: &'a str = rest.strip_prefix('(').ok_or_else(bad)?;
    let bytes = text.as_bytes();
    let mut values = Vec::with_capacity(18);
    let mut i = 0;
    loop {
        if bytes.get(i) == Some(&b'"') {
            // Quoted: up to the quote that is not doubled.
            let start = i + 1;
            let mut j = start;
            let mut plain = true;
            loop {
                match bytes.get(j) {
                    Some(b'"') if bytes.get(j + 1) == Some(&b'"') => {
                        plain = false;
                        j += 2;
                    }
                    Some(b'\\') if bytes.get(j + 1) == Some(&b'\\') => {
                        plain = false;
                        j += 2;
                    }
                    Some(b'"') => break,
                    Some(_) => j += 1,
                    None => return Err(bad()),
                }
            }
            let raw = &text[start..j];
            values.push(Some(Text(if plain {
                Cow::Borrowed(raw)
            } else {
                Cow::Owned(raw.replace("\"\"", "\"").replace("\\\\", "\\"))
            })));
            i = j + 1;
        } else {
            let end = bytes[i..]
                .iter()
                .position(|b| *b == b',' || *b == b')')
                .ok_or_else(bad)?;
            let raw = &text[i..i + end];
            values.push((!raw.is_empty()).then_some(Text(Cow::Borrowed(raw))));
            i += end;
        }
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b')') => {
                *rest = &text[i + 1..];
                return Ok(values);
            }
            _ => return Err(bad()),
        }
    }
}

impl Row<'_> {
    /// The next field (`None` for NULL).
    pub fn next(&mut self) -> StoreResult<Option<&str>> {
        let value = self
            .values
            .get(self.at)
            .ok_or_else(|| corrupt("packed row"))?;
        self.at += 1;
        Ok(value.as_ref().map(|t| t.0.as_ref()))
    }

    pub fn required(&mut self, what: &str) -> StoreResult<&str> {
        self.next()?.ok_or_else(|| corrupt(what))
    }

    pub fn int(&mut self, what: &str) -> StoreResult<i64> {
        self.required(what)?.parse().map_err(|_| corrupt(what))
    }

    /// The fifteen event fields that come next (all `None` when a LEFT JOIN found no event).
    pub fn event_fields(&self) -> StoreResult<[Option<&str>; 15]> {
        let rest = self
            .values
            .get(self.at..self.at + 15)
            .ok_or_else(|| corrupt("packed row"))?;
        let mut f = [None; 15];
        for (slot, v) in f.iter_mut().zip(rest) {
            *slot = v.as_ref().map(|t| t.0.as_ref());
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
    fn rows_are_read_back_whatever_they_hold() {
        let page = "[\"3\",null,\"a\\\"b\\n~\",\"\"]\n[\"4\"]";
        let mut rows = rows(page, Format::JsonLines);
        let mut row = rows.next().unwrap().unwrap();
        assert_eq!(row.int("n").unwrap(), 3);
        assert_eq!(row.next().unwrap(), None);
        assert_eq!(row.next().unwrap(), Some("a\"b\n~"));
        assert_eq!(row.next().unwrap(), Some(""));
        assert!(row.next().is_err());
        assert_eq!(rows.next().unwrap().unwrap().int("n").unwrap(), 4);
        assert!(rows.next().is_none());
        assert!(
            super::rows("[1, 2]", Format::JsonLines)
                .next()
                .unwrap()
                .is_err()
        );
        // PostgreSQL's row values, back to back.
        let page = "(3,,\"a \"\"b\"\" \\\\ (x)\",\"\",plain)(4,\"\n\")";
        let mut rows = super::rows(page, Format::Records);
        let mut row = rows.next().unwrap().unwrap();
        assert_eq!(row.int("n").unwrap(), 3);
        assert_eq!(row.next().unwrap(), None);
        assert_eq!(row.next().unwrap(), Some("a \"b\" \\ (x)"));
        assert_eq!(row.next().unwrap(), Some(""));
        assert_eq!(row.next().unwrap(), Some("plain"));
        assert!(row.next().is_err());
        let mut row = rows.next().unwrap().unwrap();
        assert_eq!(row.int("n").unwrap(), 4);
        assert_eq!(row.next().unwrap(), Some("\n"));
        assert!(rows.next().is_none());
        for broken in ["(1,\"open", "(1,2", "1,2)", "(\"a\"b)"] {
            assert!(
                super::rows(broken, Format::Records).any(|r| r.is_err()),
                "{broken}"
            );
        }
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
