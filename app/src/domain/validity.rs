//! How long a consent lasts (R59; CASL's implied consent, R56): a granted consent to a purpose
//! with a validity ends that many days after it was last given or renewed. The person is asked
//! to renew it during the last [`RENEWAL_WINDOW_DAYS`]; once it has ended it no longer applies,
//! and Doui records its end as an event (source `expiry`).

use time::{Duration, OffsetDateTime};

use super::ConsentState;

/// How long before its end a consent is offered for renewal.
pub const RENEWAL_WINDOW_DAYS: i64 = 30;

/// When a consent given (or renewed) at `given_at` ends, if the purpose sets a validity.
pub fn expires_at(validity_days: Option<u32>, given_at: OffsetDateTime) -> Option<OffsetDateTime> {
    validity_days.map(|d| given_at + Duration::days(i64::from(d)))
}

/// A granted consent that has reached its end at `now`.
pub fn expired(
    validity_days: Option<u32>,
    state: Option<ConsentState>,
    given_at: OffsetDateTime,
    now: OffsetDateTime,
) -> bool {
    state == Some(ConsentState::Granted)
        && expires_at(validity_days, given_at).is_some_and(|end| end <= now)
}

/// A granted consent the person should be asked to renew at `now` (in its last days, or ended).
pub fn renewal_due(
    validity_days: Option<u32>,
    state: Option<ConsentState>,
    given_at: OffsetDateTime,
    now: OffsetDateTime,
) -> bool {
    state == Some(ConsentState::Granted)
        && expires_at(validity_days, given_at)
            .is_some_and(|end| end - Duration::days(RENEWAL_WINDOW_DAYS) <= now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_consent_ends_after_its_validity_and_is_offered_for_renewal_before() {
        let given = datetime!(2026-01-01 0:00 UTC);
        let g = Some(ConsentState::Granted);
        // CASL's inquiry: 180 days.
        assert_eq!(
            expires_at(Some(180), given),
            Some(datetime!(2026-06-30 0:00 UTC))
        );
        assert!(!expired(
            Some(180),
            g,
            given,
            datetime!(2026-06-29 23:59 UTC)
        ));
        assert!(expired(Some(180), g, given, datetime!(2026-06-30 0:00 UTC)));
        assert!(!renewal_due(
            Some(180),
            g,
            given,
            datetime!(2026-05-30 0:00 UTC)
        ));
        assert!(renewal_due(
            Some(180),
            g,
            given,
            datetime!(2026-05-31 0:00 UTC)
        ));
        // No validity, a withdrawal, or nothing chosen: nothing ends.
        let late = datetime!(2036-01-01 0:00 UTC);
        assert!(!expired(None, g, given, late));
        assert!(!expired(
            Some(1),
            Some(ConsentState::Withdrawn),
            given,
            late
        ));
        assert!(!renewal_due(Some(1), None, given, late));
    }
}
