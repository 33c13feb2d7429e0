//! Times as RFC 3339 text, written and read without the general formatter: a chain walk writes
//! one time per event into the bytes its seal covers, an export one per line, and a SQLite walk
//! reads one per event. The text is exactly `time`'s RFC 3339 (its tests hold the two against
//! each other), so seals and exports do not depend on which of the two wrote them.

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// The longest text: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+HH:MM`.
const MAX: usize = 35;

/// A time as RFC 3339 text on the stack, as `time` writes it: a fraction of a second only when
/// there is one, without trailing zeros, and `Z` for UTC. Empty for a time RFC 3339 cannot write
/// (a year outside 0–9999, an offset with seconds).
#[derive(Clone, Copy)]
pub struct Rfc3339Text {
    buf: [u8; MAX],
    len: u8,
}

impl Rfc3339Text {
    pub fn new(t: OffsetDateTime) -> Self {
        let mut text = Self {
            buf: [0; MAX],
            len: 0,
        };
        let year = t.year();
        if !t.offset().is_utc() || !(0..=9999).contains(&year) {
            // Rare (stored times are UTC): the general formatter, which also refuses what RFC
            // 3339 cannot write.
            let mut rest: &mut [u8] = &mut text.buf;
            if t.format_into(&mut rest, &Rfc3339).is_ok() {
                text.len = (MAX - rest.len()) as u8;
            }
            return text;
        }
        let (_, month, day) = t.to_calendar_date();
        let (hour, minute, second, nanos) = t.to_hms_nano();
        let b = &mut text.buf;
        digits(&mut b[0..4], year as u32);
        b[4] = b'-';
        digits(&mut b[5..7], u32::from(u8::from(month)));
        b[7] = b'-';
        digits(&mut b[8..10], u32::from(day));
        b[10] = b'T';
        digits(&mut b[11..13], u32::from(hour));
        b[13] = b':';
        digits(&mut b[14..16], u32::from(minute));
        b[16] = b':';
        digits(&mut b[17..19], u32::from(second));
        let mut len = 19;
        if nanos != 0 {
            b[19] = b'.';
            digits(&mut b[20..29], nanos);
            len = 29;
            while b[len - 1] == b'0' {
                len -= 1;
            }
        }
        b[len] = b'Z';
        text.len = len as u8 + 1;
        text
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever written.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

/// `n` in decimal, filling `out` (zero-padded on the left; `n` fits).
fn digits(out: &mut [u8], mut n: u32) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// A time read from RFC 3339 text, as `time` reads it. The form stored times have
/// (`YYYY-MM-DDTHH:MM:SS`, a fraction of up to nine digits, `Z`) is read here; any other goes to
/// the general parser.
pub fn parse(text: &[u8]) -> Option<OffsetDateTime> {
    fast(text).or_else(|| {
        let text = std::str::from_utf8(text).ok()?;
        OffsetDateTime::parse(text, &Rfc3339).ok()
    })
}

fn fast(t: &[u8]) -> Option<OffsetDateTime> {
    if t.len() < 20 || t.len() > 30 || t[t.len() - 1] != b'Z' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        t[range].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| t[i] != c) {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    // A leap second (60) is left to the general parser.
    if second > 59 {
        return None;
    }
    let nanos = match t.len() - 1 {
        19 => 0,
        end if t[19] == b'.' && end > 20 => number(20..end)? * 10u32.pow((29 - end) as u32),
        _ => return None,
    };
    let date = Date::from_calendar_date(year as i32, Month::try_from(month as u8).ok()?, day as u8)
        .ok()?;
    let time = Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanos).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::UtcOffset;

    fn general(t: OffsetDateTime) -> String {
        t.format(&Rfc3339).unwrap_or_default()
    }

    #[test]
    fn writes_what_time_writes() {
        for t in [
            time::macros::datetime!(2025-01-01 00:00:00 UTC),
            time::macros::datetime!(2026-12-31 23:59:59.5 UTC),
            time::macros::datetime!(0000-01-01 00:00:00.000000001 UTC),
            time::macros::datetime!(9999-12-31 23:59:59.999999999 UTC),
            time::macros::datetime!(2025-06-01 12:30:00.120 +09:00),
        ] {
            assert_eq!(Rfc3339Text::new(t).as_str(), general(t));
        }
        assert_eq!(
            Rfc3339Text::new(time::macros::datetime!(2025-06-01 12:30:00.000120 UTC)).as_str(),
            "2025-06-01T12:30:00.00012Z"
        );
        // What RFC 3339 cannot write is empty, as before.
        let far = time::macros::datetime!(2025-01-01 00:00:00 UTC).replace_year(10_000);
        assert!(far.is_err() || Rfc3339Text::new(far.unwrap()).as_str().is_empty());
        let odd = time::macros::datetime!(2025-01-01 00:00:00 UTC)
            .to_offset(UtcOffset::from_hms(1, 0, 30).unwrap());
        assert_eq!(Rfc3339Text::new(odd).as_str(), "");
    }

    #[test]
    fn reads_what_time_reads() {
        for text in [
            "2025-01-01T00:00:00Z",
            "2025-01-01T00:00:00.1Z",
            "2025-01-01T00:00:00.123456789Z",
            "2025-01-01t00:00:00z",
            "2025-01-01T00:00:00+09:00",
            "2016-12-31T23:59:60Z",
            "2025-01-01 00:00:00Z",
        ] {
            let general = OffsetDateTime::parse(text, &Rfc3339).ok();
            assert_eq!(parse(text.as_bytes()), general, "{text}");
        }
        for bad in [
            "",
            "2025-02-30T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01T00:60:00Z",
            "2025-01-01T00:00:00.Z",
            "+025-01-01T00:00:00Z",
            "2025-01-01T00:00:00",
            "２０２５-01-01T00:00:00Z",
        ] {
            assert_eq!(parse(bad.as_bytes()), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_time_is_written_and_read_back_as_time_does(
            secs in -62_167_219_200i64..253_402_300_800,
            nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000, (0u32..1_000_000).prop_map(|m| m * 1_000)],
            offset in prop_oneof![Just(0i32), -86_399i32..86_400],
        ) {
            let utc = OffsetDateTime::from_unix_timestamp(secs).unwrap()
                .replace_nanosecond(nanos).unwrap();
            let t = utc.to_offset(UtcOffset::from_whole_seconds(offset).unwrap());
            let text = Rfc3339Text::new(t);
            prop_assert_eq!(text.as_str(), general(t));
            let read = parse(text.as_bytes());
            prop_assert_eq!(read, OffsetDateTime::parse(text.as_str(), &Rfc3339).ok());
        }

        #[test]
        fn any_text_reads_as_time_reads_it(text in "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,10})?[Zz]") {
            prop_assert_eq!(parse(text.as_bytes()), OffsetDateTime::parse(&text, &Rfc3339).ok());
        }
    }
}
