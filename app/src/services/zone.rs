//! Times as the person reads them: in their own time zone (R: "times in the person's zone"),
//! else their jurisdiction's. The console and the API keep UTC.

use time::OffsetDateTime;

use super::Refusal;
use crate::{domain::TimeZoneName, view::Moment};

/// `name` if the time zone database knows it (`unknown_time_zone` otherwise).
pub fn known_time_zone(name: &str) -> Result<TimeZoneName, Refusal> {
    let parsed = TimeZoneName::parse(name)?;
    match jiff::tz::db().get(parsed.as_str()) {
        Ok(_) => Ok(parsed),
        Err(_) => Err(Refusal::new("unknown_time_zone")),
    }
}

/// `t` in `zone` as `2026-12-06 21:21 JST` (the zone's abbreviation, or its offset where it has
/// none), with the instant itself for `<time datetime>` and for the browser to show in its own
/// zone. An unknown zone (none is stored unchecked) falls back to UTC.
pub(crate) fn moment(t: OffsetDateTime, zone: &str) -> Moment {
    let at = t
        .to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let (tz, zone) = match jiff::tz::db().get(zone) {
        Ok(tz) => (tz, zone),
        Err(_) => (jiff::tz::TimeZone::UTC, "UTC"),
    };
    let micros = (t.unix_timestamp_nanos() / 1_000) as i64;
    let text = match jiff::Timestamp::from_microsecond(micros) {
        Ok(ts) => ts
            .to_zoned_datetime(tz)
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string(),
        Err(_) => super::format_when(t),
    };
    Moment {
        at,
        text,
        zone: zone.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_moment_reads_in_the_zone_with_its_abbreviation() {
        let t = datetime!(2026-12-06 12:21:30 UTC);
        let m = moment(t, "Asia/Tokyo");
        assert_eq!(m.text, "2026-12-06 21:21 JST");
        assert_eq!(m.at, "2026-12-06T12:21:30Z");
        assert_eq!(m.zone, "Asia/Tokyo");
        assert_eq!(moment(t, "UTC").text, "2026-12-06 12:21 UTC");
        // Summer and winter in California.
        assert_eq!(
            moment(t, "America/Los_Angeles").text,
            "2026-12-06 04:21 PST"
        );
        let july = datetime!(2026-07-01 12:00 UTC);
        assert_eq!(
            moment(july, "America/Los_Angeles").text,
            "2026-07-01 05:00 PDT"
        );
    }

    #[test]
    fn an_unknown_zone_is_refused_when_set_and_read_as_utc_if_ever_stored() {
        assert!(known_time_zone("Asia/Tokyo").is_ok());
        assert_eq!(
            known_time_zone("Mars/Olympus").unwrap_err().code,
            "unknown_time_zone"
        );
        assert_eq!(
            known_time_zone("../x").unwrap_err().code,
            "unknown_time_zone"
        );
        let m = moment(datetime!(2026-12-06 12:21 UTC), "Mars/Olympus");
        assert_eq!(
            (m.text.as_str(), m.zone.as_str()),
            ("2026-12-06 12:21 UTC", "UTC")
        );
    }
}
