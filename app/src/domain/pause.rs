//! Pause instead of leave, and how often (issue 34 items 2 and 3).
//!
//! A **pause** is a withdrawal with an end the person chose (30, 60 or 90 days). The withdrawal is
//! written at once with the person's own source, its reason naming the end (so the sealed event
//! carries the instruction); when the end comes Doui writes the grant again (source `pause`,
//! actor `system`) — unless anything changed that consent in between: a later choice wins.
//!
//! A **frequency** is how often the person wants messages of one purpose: every message, a
//! weekly digest or a monthly one. It is a preference about consents already given, not a
//! consent: recorded append-only with who, how and when (like a subject's field changes), not in
//! the sealed chain.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::Invalid;

/// How long a pause lasts: one of the lengths offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PauseLength(u16);

impl PauseLength {
    /// The lengths offered, in days.
    pub const DAYS: [u16; 3] = [30, 60, 90];

    /// `unknown_pause_length` unless `days` is one of [`PauseLength::DAYS`].
    pub fn parse(days: &str) -> Result<Self, Invalid> {
        days.trim()
            .parse::<u16>()
            .ok()
            .filter(|d| Self::DAYS.contains(d))
            .map(PauseLength)
            .ok_or(Invalid::new("days", "unknown_pause_length"))
    }

    pub const fn days(self) -> u16 {
        self.0
    }

    /// When a pause asked for at `at` ends (to the second).
    pub fn end(self, at: OffsetDateTime) -> OffsetDateTime {
        let end = at + Duration::days(i64::from(self.0));
        end.replace_nanosecond(0).unwrap_or(end)
    }
}

/// How the withdrawal of a pause begins its reason: `pause until <RFC 3339 end>`.
pub const PAUSE_REASON: &str = "pause until ";

/// The reason a pause's withdrawal carries (sealed with it): the end the person chose.
pub fn pause_reason(until: OffsetDateTime) -> String {
    format!(
        "{PAUSE_REASON}{}",
        super::rfc3339::Rfc3339Text::new(until).as_str()
    )
}

/// The reason of the grant that ends a pause.
pub fn resume_reason(length_days: u16, asked_at: OffsetDateTime) -> String {
    format!(
        "end of a pause of {length_days} days asked at {}",
        super::rfc3339::Rfc3339Text::new(asked_at).as_str()
    )
}

/// How a pause ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseOutcome {
    /// Doui granted the consent again at the end.
    Resumed,
    /// The person resumed it before the end.
    ResumedEarly,
    /// Something else changed the consent in between (a later choice, an erasure, an
    /// objection): nothing was granted.
    Superseded,
    /// A new pause of the same consent took its place.
    Replaced,
}

impl PauseOutcome {
    pub const ALL: [PauseOutcome; 4] = [
        PauseOutcome::Resumed,
        PauseOutcome::ResumedEarly,
        PauseOutcome::Superseded,
        PauseOutcome::Replaced,
    ];

    pub const fn key(self) -> &'static str {
        match self {
            PauseOutcome::Resumed => "resumed",
            PauseOutcome::ResumedEarly => "resumed_early",
            PauseOutcome::Superseded => "superseded",
            PauseOutcome::Replaced => "replaced",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|o| o.key() == raw)
            .ok_or(Invalid::new("outcome", "unknown_pause_outcome"))
    }
}

/// How often a person wants the messages of a purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// Every message (the default).
    Every,
    /// One digest a week.
    Weekly,
    /// One digest a month.
    Monthly,
}

impl Frequency {
    pub const ALL: [Frequency; 3] = [Frequency::Every, Frequency::Weekly, Frequency::Monthly];

    pub const fn key(self) -> &'static str {
        match self {
            Frequency::Every => "every",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|f| f.key() == raw.trim())
            .ok_or(Invalid::new("frequency", "unknown_frequency"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_offered_lengths_parse() {
        for d in PauseLength::DAYS {
            assert_eq!(PauseLength::parse(&d.to_string()).unwrap().days(), d);
        }
        for bad in ["0", "31", "-30", "ninety", "", "365"] {
            assert_eq!(
                PauseLength::parse(bad).unwrap_err().problem,
                "unknown_pause_length"
            );
        }
    }

    #[test]
    fn a_pause_ends_its_length_later_and_says_so() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let end = PauseLength::parse("30").unwrap().end(at);
        assert_eq!(end - at, Duration::days(30));
        assert_eq!(pause_reason(end), "pause until 1970-01-31T00:00:00Z");
        assert!(resume_reason(30, at).contains("30 days"));
    }

    #[test]
    fn keys_round_trip() {
        for f in Frequency::ALL {
            assert_eq!(Frequency::parse(f.key()), Ok(f));
        }
        for o in PauseOutcome::ALL {
            assert_eq!(PauseOutcome::parse(o.key()), Ok(o));
        }
        assert!(Frequency::parse("daily").is_err());
    }
}
