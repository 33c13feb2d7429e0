//! Bulk import (issue 31): how the columns of a file exported from another tool map to subjects
//! and consents, and the check of one row. Pure: the caller reads the file, passes the clock and
//! the purposes, and writes what a row becomes.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::{
    Date, OffsetDateTime, format_description::well_known::Rfc3339, macros::format_description,
};

use super::{
    Channel, ConsentState, Email, ExternalId, Jurisdiction, Lang, Phone, Purpose, PurposeKey,
};

/// Rows checked and written per transaction.
pub const IMPORT_BATCH: usize = 5_000;

/// The fields a `--map field=Column` may name.
pub const MAP_FIELDS: [&str; 5] = ["external_id", "email", "phone", "lang", "jurisdiction"];

/// One consent column: `--consent purpose:channel=Column`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentColumn {
    pub purpose: PurposeKey,
    pub channel: Channel,
    pub column: String,
}

/// Which column of the file holds what. Column names are the file's own (a CSV header, or a JSON
/// Lines object's keys), compared exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub external_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lang: Option<String>,
    pub jurisdiction: Option<String>,
    pub consents: Vec<ConsentColumn>,
    /// The column holding when the person acted (RFC 3339 or a plain date): kept as `occurred_at`.
    pub time_column: Option<String>,
    /// Where the consents were collected (a collection point's key).
    pub collection_point: Option<String>,
    /// The notice version the person was shown.
    pub notice_version: Option<String>,
}

/// A mapping that cannot be used, with a stable code and the flag or column at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct MappingError {
    pub code: &'static str,
    pub detail: String,
}

impl MappingError {
    fn new(code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }
}

/// A column name as a flag gives it: 1 to 200 characters, no control characters.
fn column_name(s: &str, flag: &str) -> Result<String, MappingError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 200 || s.chars().any(char::is_control) {
        return Err(MappingError::new("malformed_mapping", flag));
    }
    Ok(s.to_owned())
}

impl Mapping {
    /// Builds a mapping from `field=Column` texts (`--map`) and `purpose:channel=Column` texts
    /// (`--consent`). `external_id` must be mapped; no field or consent twice.
    pub fn parse(
        maps: &[String],
        consents: &[String],
        time_column: Option<&str>,
        collection_point: Option<&str>,
        notice_version: Option<&str>,
    ) -> Result<Self, MappingError> {
        let mut fields: [Option<String>; 5] = Default::default();
        for m in maps {
            let (field, column) = m
                .split_once('=')
                .ok_or_else(|| MappingError::new("malformed_mapping", m.clone()))?;
            let i = MAP_FIELDS
                .iter()
                .position(|f| *f == field.trim())
                .ok_or_else(|| MappingError::new("unknown_mapping_field", field.trim()))?;
            if fields[i].is_some() {
                return Err(MappingError::new("duplicate_mapping", field.trim()));
            }
            fields[i] = Some(column_name(column, m)?);
        }
        let mut seen = BTreeSet::new();
        let mut consent_columns = Vec::with_capacity(consents.len());
        for c in consents {
            let (target, column) = c
                .split_once('=')
                .ok_or_else(|| MappingError::new("malformed_consent_mapping", c.clone()))?;
            let (purpose, channel) = target
                .split_once(':')
                .ok_or_else(|| MappingError::new("malformed_consent_mapping", c.clone()))?;
            let purpose = PurposeKey::parse(purpose.trim())
                .map_err(|_| MappingError::new("unknown_purpose", purpose.trim()))?;
            let channel: Channel = channel
                .trim()
                .parse()
                .map_err(|_| MappingError::new("unknown_channel", channel.trim()))?;
            if !seen.insert((purpose.clone(), channel)) {
                return Err(MappingError::new("duplicate_mapping", target.trim()));
            }
            consent_columns.push(ConsentColumn {
                purpose,
                channel,
                column: column_name(column, c)?,
            });
        }
        let [external_id, email, phone, lang, jurisdiction] = fields;
        let external_id =
            external_id.ok_or_else(|| MappingError::new("external_id_unmapped", "external_id"))?;
        let optional = |v: Option<&str>, flag: &str| v.map(|v| column_name(v, flag)).transpose();
        Ok(Self {
            external_id,
            email,
            phone,
            lang,
            jurisdiction,
            consents: consent_columns,
            time_column: optional(time_column, "--time-column")?,
            collection_point: optional(collection_point, "--collection-point")?,
            notice_version: optional(notice_version, "--notice-version")?,
        })
    }

    /// The mapping as one canonical text (what, with the file's digest, names an import batch).
    pub fn fingerprint(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Checks every purpose and channel against the purposes configured.
    pub fn check_purposes(&self, purposes: &[Purpose]) -> Result<(), MappingError> {
        for c in &self.consents {
            let purpose = purposes
                .iter()
                .find(|p| p.key == c.purpose)
                .ok_or_else(|| MappingError::new("unknown_purpose", c.purpose.as_str()))?;
            if !purpose.applies_to(c.channel) {
                return Err(MappingError::new(
                    "channel_not_offered",
                    format!("{}:{}", c.purpose, c.channel),
                ));
            }
        }
        Ok(())
    }

    /// Where each mapped column is in a file whose columns are `header`; a column the mapping
    /// names that the file lacks is an error (nothing is imported).
    pub fn resolve(&self, header: &[String]) -> Result<Columns, MappingError> {
        let find = |name: &str| {
            header
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}') == name)
                .ok_or_else(|| MappingError::new("missing_column", name))
        };
        let optional = |name: &Option<String>| name.as_deref().map(find).transpose();
        Ok(Columns {
            names: header.to_vec(),
            external_id: find(&self.external_id)?,
            email: optional(&self.email)?,
            phone: optional(&self.phone)?,
            lang: optional(&self.lang)?,
            jurisdiction: optional(&self.jurisdiction)?,
            time: optional(&self.time_column)?,
            consents: self
                .consents
                .iter()
                .map(|c| Ok((c.purpose.clone(), c.channel, find(&c.column)?)))
                .collect::<Result<_, MappingError>>()?,
        })
    }
}

/// A mapping resolved against a file's columns: the index of each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    pub names: Vec<String>,
    pub external_id: usize,
    pub email: Option<usize>,
    pub phone: Option<usize>,
    pub lang: Option<usize>,
    pub jurisdiction: Option<usize>,
    pub time: Option<usize>,
    pub consents: Vec<(PurposeKey, Channel, usize)>,
}

/// What one row of a file says, checked. A field that is absent or empty changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// The line of the file the row starts on (1 is a CSV's header).
    pub line: u64,
    pub external_id: ExternalId,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub lang: Option<Lang>,
    pub jurisdiction: Option<Jurisdiction>,
    /// When the person acted, as the file says (None: the time of the import).
    pub occurred_at: Option<OffsetDateTime>,
    pub consents: Vec<(PurposeKey, Channel, ConsentState)>,
}

/// A row refused: where, and why (a stable code and a message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    /// The file's column at fault (empty when the row as a whole is).
    pub column: String,
    pub code: &'static str,
}

/// What a consent cell says: a state, or nothing (empty: no change). Case and surrounding
/// spaces do not matter.
pub fn cell_state(cell: &str) -> Result<Option<ConsentState>, &'static str> {
    let cell = cell.trim().to_ascii_lowercase();
    Ok(match cell.as_str() {
        "" => None,
        "granted" | "grant" | "yes" | "y" | "1" | "true" | "opt-in" | "opt_in" | "optin" | "on" => {
            Some(ConsentState::Granted)
        }
        "withdrawn" | "withdraw" | "no" | "n" | "0" | "false" | "opt-out" | "opt_out"
        | "optout" | "off" => Some(ConsentState::Withdrawn),
        _ => return Err("unknown_consent_value"),
    })
}

/// A time cell: RFC 3339 (`2024-04-01T09:30:00+09:00`), or a plain date (`2024-04-01`, taken
/// as midnight UTC).
pub fn cell_time(cell: &str) -> Result<OffsetDateTime, &'static str> {
    let cell = cell.trim();
    if let Ok(t) = OffsetDateTime::parse(cell, &Rfc3339) {
        return Ok(t);
    }
    Date::parse(cell, format_description!("[year]-[month]-[day]"))
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| "malformed_time")
}

/// Checks one row. `cell(i)` is the text of column `i` (None when the row has no such column);
/// `now` is the clock (a time after it, beyond the clock skew `check_collected` allows, is
/// refused).
pub fn check_row<'a>(
    line: u64,
    columns: &Columns,
    cell: impl Fn(usize) -> Option<&'a str>,
    now: OffsetDateTime,
) -> Result<ImportRow, RowError> {
    let refuse = |i: usize, code: &'static str| RowError {
        line,
        column: columns.names.get(i).cloned().unwrap_or_default(),
        code,
    };
    let value = |i: Option<usize>| {
        i.and_then(|i| {
            cell(i)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| (i, v))
        })
    };
    let (i, external_id) = value(Some(columns.external_id))
        .ok_or_else(|| refuse(columns.external_id, "external_id_missing"))?;
    let external_id = ExternalId::parse(external_id).map_err(|e| refuse(i, e.problem))?;
    let email = value(columns.email)
        .map(|(i, v)| Email::parse(v).map_err(|e| refuse(i, e.problem)))
        .transpose()?;
    let phone = value(columns.phone)
        .map(|(i, v)| Phone::parse(v).map_err(|e| refuse(i, e.problem)))
        .transpose()?;
    let lang = value(columns.lang)
        .map(|(i, v)| {
            v.to_ascii_lowercase()
                .parse::<Lang>()
                .map_err(|_| refuse(i, "unknown_lang"))
        })
        .transpose()?;
    let jurisdiction = value(columns.jurisdiction)
        .map(|(i, v)| {
            v.to_ascii_lowercase()
                .parse::<Jurisdiction>()
                .map_err(|_| refuse(i, "unknown_jurisdiction"))
        })
        .transpose()?;
    let occurred_at = value(columns.time)
        .map(|(i, v)| {
            let t = cell_time(v).map_err(|code| refuse(i, code))?;
            if t > now + super::collected::CLOCK_SKEW {
                return Err(refuse(i, "occurred_in_future"));
            }
            Ok(t)
        })
        .transpose()?;
    let mut consents = Vec::with_capacity(columns.consents.len());
    for (purpose, channel, i) in &columns.consents {
        if let Some(state) = cell_state(cell(*i).unwrap_or("")).map_err(|code| refuse(*i, code))? {
            consents.push((purpose.clone(), *channel, state));
        }
    }
    Ok(ImportRow {
        line,
        external_id,
        email,
        phone,
        lang,
        jurisdiction,
        occurred_at,
        consents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn mapping() -> Mapping {
        Mapping::parse(
            &strings(&["external_id=CustomerNo", "email=Email", "lang=Lang"]),
            &strings(&["newsletter:email=NL_Optin"]),
            Some("SignupDate"),
            None,
            None,
        )
        .unwrap()
    }

    #[test]
    fn a_mapping_is_read_from_flags_and_checked() {
        let m = mapping();
        assert_eq!(m.external_id, "CustomerNo");
        assert_eq!(m.consents[0].column, "NL_Optin");
        assert_eq!(m.consents[0].channel, Channel::Email);
        let bad = |maps: &[&str], consents: &[&str]| {
            Mapping::parse(&strings(maps), &strings(consents), None, None, None)
                .unwrap_err()
                .code
        };
        assert_eq!(bad(&["email=Email"], &[]), "external_id_unmapped");
        assert_eq!(bad(&["external_id"], &[]), "malformed_mapping");
        assert_eq!(bad(&["name=Name"], &[]), "unknown_mapping_field");
        assert_eq!(
            bad(&["external_id=A", "external_id=B"], &[]),
            "duplicate_mapping"
        );
        assert_eq!(
            bad(&["external_id=A"], &["newsletter=X"]),
            "malformed_consent_mapping"
        );
        assert_eq!(
            bad(&["external_id=A"], &["newsletter:fax=X"]),
            "unknown_channel"
        );
        assert_eq!(
            bad(
                &["external_id=A"],
                &["newsletter:email=X", "newsletter:email=Y"]
            ),
            "duplicate_mapping"
        );
        assert_eq!(bad(&["external_id= "], &[]), "malformed_mapping");
    }

    #[test]
    fn the_mapping_names_the_batch_and_changes_with_it() {
        let a = mapping();
        let mut b = mapping();
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.notice_version = Some("2".into());
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn a_column_the_file_lacks_is_named() {
        let header = strings(&["CustomerNo", "Email", "Lang", "SignupDate"]);
        let e = mapping().resolve(&header).unwrap_err();
        assert_eq!((e.code, e.detail.as_str()), ("missing_column", "NL_Optin"));
        let header = strings(&[
            "\u{feff}CustomerNo",
            "Email",
            "Lang",
            "SignupDate",
            "NL_Optin",
        ]);
        let c = mapping().resolve(&header).unwrap();
        assert_eq!((c.external_id, c.email, c.time), (0, Some(1), Some(3)));
    }

    #[test]
    fn consent_cells_are_read_in_every_usual_spelling() {
        for yes in ["granted", "YES", " 1 ", "true", "opt-in", "Opt_In", "y"] {
            assert_eq!(cell_state(yes), Ok(Some(ConsentState::Granted)), "{yes}");
        }
        for no in ["withdrawn", "no", "0", "FALSE", "opt-out", "n"] {
            assert_eq!(cell_state(no), Ok(Some(ConsentState::Withdrawn)), "{no}");
        }
        assert_eq!(cell_state(" "), Ok(None));
        assert_eq!(cell_state("maybe"), Err("unknown_consent_value"));
    }

    #[test]
    fn times_are_rfc3339_or_a_plain_date() {
        assert_eq!(
            cell_time("2024-04-01").unwrap(),
            time::macros::datetime!(2024-04-01 0:00 UTC)
        );
        assert_eq!(
            cell_time("2024-04-01T09:30:00+09:00").unwrap(),
            time::macros::datetime!(2024-04-01 0:30 UTC)
        );
        assert_eq!(cell_time("01/04/2024"), Err("malformed_time"));
    }

    fn check(cells: &[&str]) -> Result<ImportRow, RowError> {
        let header = strings(&["CustomerNo", "Email", "Lang", "SignupDate", "NL_Optin"]);
        let columns = mapping().resolve(&header).unwrap();
        let cells: Vec<String> = strings(cells);
        let now = time::macros::datetime!(2025-01-01 0:00 UTC);
        check_row(7, &columns, |i| cells.get(i).map(String::as_str), now)
    }

    #[test]
    fn a_row_is_checked_field_by_field() {
        let row = check(&["C-1", "Hanako@Example.JP", "EN", "2024-04-01", "yes"]).unwrap();
        assert_eq!(row.external_id.as_str(), "C-1");
        assert_eq!(row.email.unwrap().as_str(), "Hanako@example.jp");
        assert_eq!(row.lang, Some(Lang::En));
        assert_eq!(
            row.consents,
            vec![(
                PurposeKey::parse("newsletter").unwrap(),
                Channel::Email,
                ConsentState::Granted
            )]
        );
        let row = check(&["C-2", "", "", "", ""]).unwrap();
        assert_eq!((row.email, row.lang, row.occurred_at), (None, None, None));
        assert!(row.consents.is_empty());
        // A short row: the missing cells are empty.
        assert!(check(&["C-3"]).unwrap().consents.is_empty());
    }

    #[test]
    fn a_bad_cell_is_named_by_line_column_and_code() {
        let e = check(&["C-1", "not-an-address", "", "", "yes"]).unwrap_err();
        assert_eq!((e.line, e.column.as_str()), (7, "Email"));
        assert_eq!(
            check(&["", "", "", "", ""]).unwrap_err().code,
            "external_id_missing"
        );
        assert_eq!(
            check(&["C-1", "", "fr", "", ""]).unwrap_err().code,
            "unknown_lang"
        );
        let e = check(&["C-1", "", "", "", "perhaps"]).unwrap_err();
        assert_eq!(
            (e.column.as_str(), e.code),
            ("NL_Optin", "unknown_consent_value")
        );
        assert_eq!(
            check(&["C-1", "", "", "2030-01-01", "1"]).unwrap_err().code,
            "occurred_in_future"
        );
        assert_eq!(
            check(&["C-1", "", "", "yesterday", "1"]).unwrap_err().code,
            "malformed_time"
        );
    }
}
