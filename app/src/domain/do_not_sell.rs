//! California's "Do Not Sell or Share My Personal Information" (CCPA §1798.120, §1798.135;
//! 11 CCR §7026; R57): an opt-out of the sale and sharing of a person's data (the purposes GPC
//! covers: third-party sharing, ad targeting), made without an account, and the twelve months
//! during which the business may not ask the person to opt back in.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{ConsentEvent, ConsentState, Invalid, Origin, Purpose, Source, SubjectId};

/// The `reason` every withdrawal a Do Not Sell request writes starts with (the marker that tells
/// it from other withdrawals in the event log, the receipt and the console).
pub const DO_NOT_SELL_REASON: &str = "Do Not Sell or Share request";

/// How the request arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoNotSellVia {
    /// A person signed in (a session from a mailed sign-in link).
    PreferenceCenter,
    /// A person with a link to their preference center.
    Link,
    /// A visitor without sign-in who gave an email address that matches the subject (not
    /// verified: an opt-out needs no verification, 11 CCR §7026(d)).
    Email,
    /// A visitor without sign-in: kept for the browser (a cookie), no subject known.
    Browser,
}

impl DoNotSellVia {
    pub const ALL: [DoNotSellVia; 4] = [
        DoNotSellVia::PreferenceCenter,
        DoNotSellVia::Link,
        DoNotSellVia::Email,
        DoNotSellVia::Browser,
    ];

    pub const fn key(self) -> &'static str {
        match self {
            DoNotSellVia::PreferenceCenter => "preference_center",
            DoNotSellVia::Link => "link",
            DoNotSellVia::Email => "email",
            DoNotSellVia::Browser => "browser",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        DoNotSellVia::ALL
            .into_iter()
            .find(|v| v.key() == raw)
            .ok_or(Invalid::new("via", "unknown_via"))
    }

    /// The source of the withdrawals it writes.
    pub const fn source(self) -> Source {
        match self {
            DoNotSellVia::Link => Source::Link,
            _ => Source::PreferenceCenter,
        }
    }

    /// The reason of the withdrawals it writes: the marker, and for an unverified address, so.
    pub fn reason(self) -> String {
        match self {
            DoNotSellVia::Email => format!("{DO_NOT_SELL_REASON}: email given without sign-in"),
            _ => DO_NOT_SELL_REASON.to_owned(),
        }
    }
}

/// One Do Not Sell request as kept (append-only), with or without a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoNotSellRequest {
    pub id: Uuid,
    pub subject: Option<SubjectId>,
    pub received_at: OffsetDateTime,
    pub via: DoNotSellVia,
    pub origin: Origin,
    /// How many consents it withdrew (0 when all were off already).
    pub withdrawn: i64,
}

/// Whether a withdrawal was made with the Do Not Sell marker.
pub fn is_do_not_sell(event: &ConsentEvent) -> bool {
    event.to == ConsentState::Withdrawn
        && event
            .provenance
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with(DO_NOT_SELL_REASON))
}

/// Whether `event` is an opt-out of the sale or sharing of the person's data: a withdrawal of a
/// purpose GPC covers, made on the person's behalf in any way (the Do Not Sell page, GPC, the
/// preference center, a link, a reply, an admin or a sender's system reporting the person's
/// request) — but not one Doui made itself when a consent's validity ended (R59): that is no
/// request of the person.
pub fn is_sale_opt_out(event: &ConsentEvent, purposes: &[Purpose]) -> bool {
    event.to == ConsentState::Withdrawn
        && event.provenance.source != Source::Expiry
        && purposes
            .iter()
            .any(|p| p.key == event.purpose && p.kind.gpc_applies())
}

/// The same day twelve months later (29 February → 1 March), at the same time: when a business
/// may first ask again (§1798.135(c)(4): "wait for at least 12 months").
pub fn twelve_months_after(at: OffsetDateTime) -> OffsetDateTime {
    let year = at.year() + 1;
    at.replace_year(year).unwrap_or_else(|_| {
        // Only 29 February has no day a year later.
        at.replace_day(28)
            .and_then(|t| t.replace_year(year))
            .map(|t| t + time::Duration::days(1))
            .unwrap_or(at + time::Duration::days(366))
    })
}

/// Until when the person may not be asked to opt back in to the sale or sharing of their data:
/// twelve months after their latest opt-out (`latest_opt_out`), unless they granted one of those
/// purposes themselves since (`latest_own_grant`: then they chose, and nobody asks). `None`
/// when asking is allowed at `now`.
pub fn ask_again_refused_until(
    latest_opt_out: Option<OffsetDateTime>,
    latest_own_grant: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    let out = latest_opt_out?;
    if latest_own_grant.is_some_and(|g| g > out) {
        return None;
    }
    let until = twelve_months_after(out);
    (now < until).then_some(until)
}

/// From a subject's events (any order) and Do Not Sell requests: the latest opt-out of sale or
/// sharing and the latest grant of such a purpose by the person themself, each when the person
/// acted (the law counts from "the date of the consumer's request").
pub fn sale_opt_out_times(
    events: &[ConsentEvent],
    requests: &[DoNotSellRequest],
    purposes: &[Purpose],
) -> (Option<OffsetDateTime>, Option<OffsetDateTime>) {
    let opt_out = events
        .iter()
        .filter(|e| is_sale_opt_out(e, purposes))
        .map(|e| e.provenance.occurred_at)
        .chain(requests.iter().map(|r| r.received_at))
        .max();
    let own_grant = events
        .iter()
        .filter(|e| {
            e.to == ConsentState::Granted
                && e.provenance.actor == super::Actor::Subject
                && purposes
                    .iter()
                    .any(|p| p.key == e.purpose && p.kind.gpc_applies())
        })
        .map(|e| e.provenance.occurred_at)
        .max();
    (opt_out, own_grant)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn twelve_months_is_the_same_day_a_year_later() {
        assert_eq!(
            twelve_months_after(datetime!(2026-03-15 10:00 UTC)),
            datetime!(2027-03-15 10:00 UTC)
        );
        assert_eq!(
            twelve_months_after(datetime!(2028-02-29 09:30 UTC)),
            datetime!(2029-03-01 09:30 UTC)
        );
    }

    #[test]
    fn r57_asking_again_waits_twelve_months_after_the_latest_opt_out() {
        let out = datetime!(2026-01-10 12:00 UTC);
        let until = datetime!(2027-01-10 12:00 UTC);
        assert_eq!(ask_again_refused_until(None, None, out), None);
        assert_eq!(
            ask_again_refused_until(Some(out), None, out + time::Duration::days(200)),
            Some(until)
        );
        assert_eq!(
            ask_again_refused_until(Some(out), None, until - time::Duration::seconds(1)),
            Some(until)
        );
        assert_eq!(ask_again_refused_until(Some(out), None, until), None);
        // The person opted back in themself after it: asking (to renew, say) is no longer barred.
        assert_eq!(
            ask_again_refused_until(Some(out), Some(out + time::Duration::days(3)), out),
            None
        );
        // A grant before the opt-out changes nothing.
        assert_eq!(
            ask_again_refused_until(Some(out), Some(out - time::Duration::days(3)), out),
            Some(until)
        );
    }

    #[test]
    fn the_ways_a_request_arrives_have_stable_keys() {
        for v in DoNotSellVia::ALL {
            assert_eq!(DoNotSellVia::parse(v.key()), Ok(v));
        }
        assert!(DoNotSellVia::parse("phone").is_err());
        assert_eq!(DoNotSellVia::Link.source(), Source::Link);
        assert_eq!(DoNotSellVia::Email.source(), Source::PreferenceCenter);
        assert!(DoNotSellVia::Email.reason().starts_with(DO_NOT_SELL_REASON));
    }
}
