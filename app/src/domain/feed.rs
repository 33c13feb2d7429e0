//! The event feed (issue 32): the consent log as downstream systems read it, in the order of the
//! hash chain. An item's `cursor` is its chain position: dense, only growing, and handed out in
//! commit order (one sealer at a time numbers events after they commit), so a consumer that pages
//! by it never lets a later commit slip in behind it. An event is in the feed once it is sealed.

use std::str::FromStr;

use super::{Channel, ConsentEvent, Invalid, PurposeKey, Source, Subject};

/// What kind of thing happened. Only consent changes are in the chain today; other kinds
/// (a subject created or erased, a notice published) are not numbered by the sealer, so they
/// could not be handed out in commit order and are not in the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedKind {
    /// A consent changed (granted, withdrawn, re-confirmed, expired).
    ConsentChanged,
}

impl FeedKind {
    pub const ALL: [FeedKind; 1] = [FeedKind::ConsentChanged];

    /// As the feed and webhooks name it: `consent.changed`.
    pub const fn key(self) -> &'static str {
        match self {
            FeedKind::ConsentChanged => "consent.changed",
        }
    }
}

impl FromStr for FeedKind {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        FeedKind::ALL
            .into_iter()
            .find(|k| k.key() == s)
            .ok_or(Invalid::new("type", "unknown_event_type"))
    }
}

/// One item of the feed: a sealed event, its chain position and whom it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    /// The event's chain position: pass the last one seen as the next cursor.
    pub cursor: i64,
    pub kind: FeedKind,
    /// The event (its `id` is stable: a consumer dedups by it).
    pub event: ConsentEvent,
    /// The subject as it is now: an erased subject has no email or phone.
    pub subject: Subject,
}

impl FeedItem {
    /// The subject's email, unless they were erased.
    pub fn email(&self) -> Option<&str> {
        match self.subject.erased_at {
            Some(_) => None,
            None => self.subject.email.as_ref().map(|e| e.as_str()),
        }
    }

    /// The subject's phone, unless they were erased.
    pub fn phone(&self) -> Option<&str> {
        match self.subject.erased_at {
            Some(_) => None,
            None => self.subject.phone.as_ref().map(|p| p.as_str()),
        }
    }
}

/// Which events a consumer wants: each list empty means any; otherwise one of those listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedFilter {
    pub purposes: Vec<PurposeKey>,
    pub channels: Vec<Channel>,
    pub sources: Vec<Source>,
}

/// At most this many values per filter (a longer list is a mistake, not a wish).
pub const MAX_FILTER_VALUES: usize = 64;

impl FeedFilter {
    /// Parses the filter's lists: each value may itself be a comma list (`purpose=a,b` or
    /// `purpose=a&purpose=b`). Duplicates are dropped; an unknown value is refused.
    pub fn parse<'a>(
        purposes: impl IntoIterator<Item = &'a str>,
        channels: impl IntoIterator<Item = &'a str>,
        sources: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, Invalid> {
        Ok(Self {
            purposes: list(purposes, "purpose")?,
            channels: list(channels, "channel")?,
            sources: list(sources, "source")?,
        })
    }

    /// Whether an event passes the filter.
    pub fn matches(&self, event: &ConsentEvent) -> bool {
        (self.purposes.is_empty() || self.purposes.contains(&event.purpose))
            && (self.channels.is_empty() || self.channels.contains(&event.channel))
            && (self.sources.is_empty() || self.sources.contains(&event.provenance.source))
    }
}

fn list<'a, T: FromStr + PartialEq>(
    values: impl IntoIterator<Item = &'a str>,
    field: &'static str,
) -> Result<Vec<T>, Invalid> {
    let mut out: Vec<T> = Vec::new();
    for value in values.into_iter().flat_map(|v| v.split(',')) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let parsed = value
            .parse::<T>()
            .map_err(|_| Invalid::new(field, "bad_request"))?;
        if !out.contains(&parsed) {
            out.push(parsed);
        }
        if out.len() > MAX_FILTER_VALUES {
            return Err(Invalid::new(field, "bad_request"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_takes_repeated_values_and_comma_lists() {
        let f = FeedFilter::parse(
            ["newsletter,offers", "newsletter"],
            ["email"],
            ["one_click", "api,import"],
        )
        .unwrap();
        assert_eq!(f.purposes.len(), 2);
        assert_eq!(f.channels, vec![Channel::Email]);
        assert_eq!(
            f.sources,
            vec![Source::OneClick, Source::Api, Source::Import]
        );
        assert_eq!(
            FeedFilter::parse([], [], []).unwrap(),
            FeedFilter::default()
        );
    }

    #[test]
    fn an_unknown_value_is_refused_with_its_field() {
        let e = FeedFilter::parse([], ["pigeon"], []).unwrap_err();
        assert_eq!((e.field, e.problem), ("channel", "bad_request"));
        let e = FeedFilter::parse(["Bad Key"], [], []).unwrap_err();
        assert_eq!(e.field, "purpose");
        let e = FeedFilter::parse([], [], ["telepathy"]).unwrap_err();
        assert_eq!(e.field, "source");
    }

    #[test]
    fn the_only_kind_is_consent_changed() {
        assert_eq!(
            "consent.changed".parse::<FeedKind>().unwrap(),
            FeedKind::ConsentChanged
        );
        assert!("subject.created".parse::<FeedKind>().is_err());
    }
}
