//! The rule for a consent collected elsewhere (written through the API or an import): what it
//! must carry, and when it arrives too late or too early to be recorded.
//!
//! - A grant of an opt-in purpose needs the evidence of how it was collected: a collection point
//!   and the notice version the person was shown (特定電子メール法第3条 requires the sender to keep
//!   a record of the opt-in; GDPR Art. 7(1) requires the controller to be able to demonstrate it).
//! - A named collection point must be registered and not retired (a retired point stays as
//!   evidence for the events that name it, but names no new one).
//! - `occurred_at` may lie in the past, but not in the future (beyond a small clock skew).
//! - `occurred_at` earlier than the consent's latest recorded change is refused: history is not
//!   rewritten by a late arrival. The change the person made later stands; the sender learns
//!   that its news is older than what Doui already holds.

use time::{Duration, OffsetDateTime};

use super::{CollectionPoint, ConsentState, Mode};

/// How far in the future an `occurred_at` may lie (the sender's clock may run ahead of ours).
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// One change collected elsewhere, as its writer describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collected<'a> {
    /// The purpose's mode for the subject's jurisdiction.
    pub mode: Mode,
    pub to: ConsentState,
    pub occurred_at: OffsetDateTime,
    /// The collection point's key, if the writer named one.
    pub collection_point: Option<&'a str>,
    pub notice_version: Option<&'a str>,
}

/// Why a change collected elsewhere is refused; `code()` is the stable error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotCollected {
    /// An opt-in grant without a collection point or a notice version.
    #[error("evidence_required")]
    EvidenceRequired,
    #[error("unknown_collection_point")]
    UnknownCollectionPoint,
    #[error("collection_point_retired")]
    CollectionPointRetired,
    #[error("occurred_in_future")]
    OccurredInFuture,
    #[error("older_than_latest_change")]
    OlderThanLatestChange,
}

impl NotCollected {
    pub const fn code(self) -> &'static str {
        match self {
            NotCollected::EvidenceRequired => "evidence_required",
            NotCollected::UnknownCollectionPoint => "unknown_collection_point",
            NotCollected::CollectionPointRetired => "collection_point_retired",
            NotCollected::OccurredInFuture => "occurred_in_future",
            NotCollected::OlderThanLatestChange => "older_than_latest_change",
        }
    }
}

/// Checks one change collected elsewhere against the registered collection points, the time of
/// the consent's latest recorded change (`occurred_at` of its last event; `None`: never chosen)
/// and the current time. The checks run in a fixed order, so the same input always gets the same
/// code: the collection point, the evidence, then the times.
pub fn check_collected(
    change: &Collected<'_>,
    points: &[CollectionPoint],
    latest_change: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(), NotCollected> {
    if let Some(key) = change.collection_point {
        let point = points
            .iter()
            .find(|p| p.key == key)
            .ok_or(NotCollected::UnknownCollectionPoint)?;
        if point.is_retired() {
            return Err(NotCollected::CollectionPointRetired);
        }
    }
    let has = |v: Option<&str>| v.is_some_and(|v| !v.trim().is_empty());
    if change.mode == Mode::OptIn
        && change.to == ConsentState::Granted
        && !(has(change.collection_point) && has(change.notice_version))
    {
        return Err(NotCollected::EvidenceRequired);
    }
    if change.occurred_at > now + CLOCK_SKEW {
        return Err(NotCollected::OccurredInFuture);
    }
    if latest_change.is_some_and(|latest| change.occurred_at < latest) {
        return Err(NotCollected::OlderThanLatestChange);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CollectionPointKind, NewCollectionPoint};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 12:00:00 UTC);

    fn points() -> Vec<CollectionPoint> {
        let point = |key: &str| {
            CollectionPoint::new(
                NewCollectionPoint {
                    key: key.into(),
                    name_ja: "購入画面".into(),
                    name_en: "Checkout".into(),
                    kind: CollectionPointKind::Checkout,
                    location: "https://shop.example/checkout".into(),
                    wording: "メールを受け取る".into(),
                    notice_version: Some("1".into()),
                },
                NOW - Duration::days(30),
                "admin:1",
            )
            .unwrap()
        };
        let mut retired = point("old-form");
        retired.retired_at = Some(NOW - Duration::days(1));
        retired.retired_by = Some("admin:1".into());
        vec![point("checkout"), retired]
    }

    fn grant() -> Collected<'static> {
        Collected {
            mode: Mode::OptIn,
            to: ConsentState::Granted,
            occurred_at: NOW - Duration::days(3),
            collection_point: Some("checkout"),
            notice_version: Some("1"),
        }
    }

    fn check(c: Collected<'_>, latest: Option<OffsetDateTime>) -> Result<(), NotCollected> {
        check_collected(&c, &points(), latest, NOW)
    }

    #[test]
    fn an_opt_in_grant_with_its_evidence_is_accepted() {
        assert_eq!(check(grant(), None), Ok(()));
        assert_eq!(check(grant(), Some(NOW - Duration::days(4))), Ok(()));
        // The same instant as the latest change is not earlier than it.
        assert_eq!(check(grant(), Some(grant().occurred_at)), Ok(()));
    }

    #[test]
    fn an_opt_in_grant_without_a_point_or_a_notice_version_is_refused() {
        let no_point = Collected {
            collection_point: None,
            ..grant()
        };
        assert_eq!(check(no_point, None), Err(NotCollected::EvidenceRequired));
        let no_notice = Collected {
            notice_version: None,
            ..grant()
        };
        assert_eq!(check(no_notice, None), Err(NotCollected::EvidenceRequired));
        let blank_notice = Collected {
            notice_version: Some(" "),
            ..grant()
        };
        assert_eq!(
            check(blank_notice, None),
            Err(NotCollected::EvidenceRequired)
        );
        assert_eq!(NotCollected::EvidenceRequired.code(), "evidence_required");
    }

    #[test]
    fn withdrawals_and_opt_out_grants_need_no_evidence() {
        let withdrawal = Collected {
            to: ConsentState::Withdrawn,
            collection_point: None,
            notice_version: None,
            ..grant()
        };
        assert_eq!(check(withdrawal, None), Ok(()));
        let opt_out = Collected {
            mode: Mode::OptOut,
            collection_point: None,
            notice_version: None,
            ..grant()
        };
        assert_eq!(check(opt_out, None), Ok(()));
    }

    #[test]
    fn unknown_and_retired_points_are_refused() {
        let unknown = Collected {
            collection_point: Some("nowhere"),
            ..grant()
        };
        assert_eq!(
            check(unknown, None),
            Err(NotCollected::UnknownCollectionPoint)
        );
        let retired = Collected {
            collection_point: Some("old-form"),
            ..grant()
        };
        assert_eq!(
            check(retired, None),
            Err(NotCollected::CollectionPointRetired)
        );
        // Even for a withdrawal, which needs no point: a named point must be usable.
        let retired_withdrawal = Collected {
            to: ConsentState::Withdrawn,
            ..retired
        };
        assert_eq!(
            check(retired_withdrawal, None),
            Err(NotCollected::CollectionPointRetired)
        );
    }

    #[test]
    fn the_future_is_refused_beyond_the_clock_skew() {
        let soon = Collected {
            occurred_at: NOW + CLOCK_SKEW,
            ..grant()
        };
        assert_eq!(check(soon, None), Ok(()));
        let later = Collected {
            occurred_at: NOW + CLOCK_SKEW + Duration::seconds(1),
            ..grant()
        };
        assert_eq!(check(later, None), Err(NotCollected::OccurredInFuture));
    }

    #[test]
    fn a_late_arrival_does_not_rewrite_history() {
        let latest = grant().occurred_at + Duration::microseconds(1);
        assert_eq!(
            check(grant(), Some(latest)),
            Err(NotCollected::OlderThanLatestChange)
        );
    }
}
