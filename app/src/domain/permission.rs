//! The send gate: may this subject be contacted for this purpose on this channel now, and if
//! not, why. One pure decision that the permissions check, the audience, the links and the
//! suppression list all ask, so their answers cannot disagree.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};
use time::OffsetDateTime;

use super::{
    ConsentState, Invalid, Jurisdiction, Notice, Purpose,
    notice::{effective_after_notice, reconfirmation_due},
    validity,
};

/// Why a subject may not be contacted for a purpose on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refused {
    /// No subject has that external id or email.
    UnknownSubject,
    /// The subject was erased (GDPR Art. 17): never contacted again.
    Erased,
    /// The subject's lasting objection to all direct marketing stands (GDPR Art. 21(3)); the
    /// purpose is a marketing one.
    Objected,
    /// The subject withdrew this consent.
    Withdrawn,
    /// The consent was granted, but its validity ended (R59).
    Expired,
    /// The consent was granted under an earlier notice, and a material change of the notice
    /// awaits the person's re-confirmation (R31, R43).
    AwaitingReconfirmation,
    /// The purpose is opt-in and the subject never granted it.
    NoConsent,
}

impl Refused {
    pub const ALL: [Refused; 7] = [
        Refused::UnknownSubject,
        Refused::Erased,
        Refused::Objected,
        Refused::Withdrawn,
        Refused::Expired,
        Refused::AwaitingReconfirmation,
        Refused::NoConsent,
    ];

    pub const fn key(self) -> &'static str {
        match self {
            Refused::UnknownSubject => "unknown_subject",
            Refused::Erased => "erased",
            Refused::Objected => "objected",
            Refused::Withdrawn => "withdrawn",
            Refused::Expired => "expired",
            Refused::AwaitingReconfirmation => "awaiting_reconfirmation",
            Refused::NoConsent => "no_consent",
        }
    }

    /// A granted opt-in that no longer applies (the suppression list's "lapsed" entries).
    pub const fn lapsed(self) -> bool {
        matches!(self, Refused::Expired | Refused::AwaitingReconfirmation)
    }
}

impl FromStr for Refused {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Refused::ALL
            .into_iter()
            .find(|r| r.key() == s)
            .ok_or(Invalid::new("reason", "unknown_reason"))
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A subject's current choice for one (purpose, channel), as the projection holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice<'a> {
    pub state: ConsentState,
    /// When it was last given (or withdrawn): a validity counts from here.
    pub at: OffsetDateTime,
    /// The notice version on the event that made it.
    pub notice_version: Option<&'a str>,
}

/// What is known of a subject for the decision (`None` in [`permission`]: no such subject).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub jurisdiction: Jurisdiction,
    pub erased: bool,
    /// A lasting objection to direct marketing is in force.
    pub objecting: bool,
}

/// May `subject` be contacted for `purpose` (on a channel it applies to) at `now`, given their
/// `choice` on that channel and the published `notices`?
///
/// In order: an unknown or erased subject never; a standing objection refuses every marketing
/// purpose; a withdrawal refuses; a granted consent whose validity ended counts as not given
/// (R59) and an opt-in one awaiting re-confirmation of a material notice change does not apply
/// (R31). What is left follows the purpose's mode for the subject's jurisdiction: opt-in needs
/// a grant, opt-out applies until withdrawn.
pub fn permission(
    notices: &[Notice],
    purpose: &Purpose,
    subject: Option<Standing>,
    choice: Option<Choice<'_>>,
    now: OffsetDateTime,
) -> Result<(), Refused> {
    let Some(subject) = subject else {
        return Err(Refused::UnknownSubject);
    };
    if subject.erased {
        return Err(Refused::Erased);
    }
    if subject.objecting && purpose.marketing {
        return Err(Refused::Objected);
    }
    let state = choice.map(|c| c.state);
    if state == Some(ConsentState::Withdrawn) {
        return Err(Refused::Withdrawn);
    }
    let mode = purpose.mode_for(subject.jurisdiction);
    let ended =
        choice.is_some_and(|c| validity::expired(purpose.legal.validity_days, state, c.at, now));
    let due = reconfirmation_due(
        notices,
        &purpose.key,
        state,
        choice.and_then(|c| c.notice_version),
        now,
    )
    .is_some();
    if effective_after_notice(mode, if ended { None } else { state }, due) {
        return Ok(());
    }
    Err(if ended {
        Refused::Expired
    } else if due {
        Refused::AwaitingReconfirmation
    } else {
        Refused::NoConsent
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Channel, JurisdictionModes, LegalBasis, Mode, PurposeKey, PurposeKind};
    use proptest::prelude::*;
    use time::{Duration, macros::datetime};

    fn purpose(mode: Mode, marketing: bool, validity_days: Option<u32>) -> Purpose {
        Purpose {
            key: PurposeKey::parse("newsletter").unwrap(),
            name_ja: "n".into(),
            name_en: "n".into(),
            description_ja: String::new(),
            description_en: String::new(),
            mode,
            modes: JurisdictionModes::default(),
            channels: vec![Channel::Email],
            marketing,
            kind: PurposeKind::Advertising,
            legal: LegalBasis {
                validity_days,
                ..LegalBasis::default()
            },
        }
    }

    fn notice(version: &str, at: OffsetDateTime, material: bool) -> Notice {
        Notice {
            version: version.into(),
            effective_at: at,
            material,
            purposes: Vec::new(),
            summary_ja: "変更".into(),
            summary_en: "changed".into(),
            text_ja: "本文".into(),
            text_en: "text".into(),
            published_at: at,
            published_by: "owner".into(),
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-07-01 0:00 UTC);

    fn someone() -> Option<Standing> {
        Some(Standing {
            jurisdiction: Jurisdiction::Jp,
            erased: false,
            objecting: false,
        })
    }

    fn granted(at: OffsetDateTime, version: Option<&str>) -> Option<Choice<'_>> {
        Some(Choice {
            state: ConsentState::Granted,
            at,
            notice_version: version,
        })
    }

    #[test]
    fn each_reason_is_given_where_it_applies() {
        let opt_in = purpose(Mode::OptIn, true, Some(180));
        let notices = [
            notice("1", datetime!(2026-01-01 0:00 UTC), false),
            notice("2", datetime!(2026-06-01 0:00 UTC), true),
        ];
        let recent = datetime!(2026-06-15 0:00 UTC);
        let ok = |subject, choice| permission(&notices, &opt_in, subject, choice, NOW);
        assert_eq!(ok(someone(), granted(recent, Some("2"))), Ok(()));
        assert_eq!(
            ok(None, granted(recent, Some("2"))),
            Err(Refused::UnknownSubject)
        );
        let erased = Some(Standing {
            erased: true,
            ..someone().unwrap()
        });
        assert_eq!(ok(erased, granted(recent, Some("2"))), Err(Refused::Erased));
        let objecting = Some(Standing {
            objecting: true,
            ..someone().unwrap()
        });
        assert_eq!(
            ok(objecting, granted(recent, Some("2"))),
            Err(Refused::Objected)
        );
        let withdrawn = Some(Choice {
            state: ConsentState::Withdrawn,
            at: recent,
            notice_version: Some("2"),
        });
        assert_eq!(ok(someone(), withdrawn), Err(Refused::Withdrawn));
        // Granted under version 1, before the material version 2.
        assert_eq!(
            ok(
                someone(),
                granted(datetime!(2026-05-01 0:00 UTC), Some("1"))
            ),
            Err(Refused::AwaitingReconfirmation)
        );
        // Given 180 days or more ago: ended, whatever notice it was given under.
        assert_eq!(
            ok(someone(), granted(NOW - Duration::days(180), Some("2"))),
            Err(Refused::Expired)
        );
        assert_eq!(ok(someone(), None), Err(Refused::NoConsent));
    }

    #[test]
    fn opt_out_applies_until_withdrawn_or_objected() {
        let opt_out = purpose(Mode::OptOut, true, Some(30));
        let notices = [
            notice("1", datetime!(2026-01-01 0:00 UTC), false),
            notice("2", datetime!(2026-06-01 0:00 UTC), true),
        ];
        let ok = |subject, choice| permission(&notices, &opt_out, subject, choice, NOW);
        assert_eq!(ok(someone(), None), Ok(()));
        // A lapsed grant falls back to the mode: an opt-out purpose still applies.
        assert_eq!(
            ok(
                someone(),
                granted(datetime!(2026-01-02 0:00 UTC), Some("1"))
            ),
            Ok(())
        );
        let objecting = Some(Standing {
            objecting: true,
            ..someone().unwrap()
        });
        assert_eq!(ok(objecting, None), Err(Refused::Objected));
        // The objection concerns marketing only.
        let service = purpose(Mode::OptOut, false, None);
        assert_eq!(permission(&notices, &service, objecting, None, NOW), Ok(()));
    }

    #[test]
    fn the_jurisdiction_picks_the_mode() {
        let mut p = purpose(Mode::OptIn, true, None);
        p.modes.0.insert(Jurisdiction::UsCa, Mode::OptOut);
        let ca = Some(Standing {
            jurisdiction: Jurisdiction::UsCa,
            erased: false,
            objecting: false,
        });
        assert_eq!(permission(&[], &p, ca, None, NOW), Ok(()));
        assert_eq!(
            permission(&[], &p, someone(), None, NOW),
            Err(Refused::NoConsent)
        );
    }

    #[test]
    fn reasons_round_trip() {
        for r in Refused::ALL {
            assert_eq!(r.key().parse::<Refused>(), Ok(r));
        }
        assert!("maybe".parse::<Refused>().is_err());
    }

    fn any_state() -> impl Strategy<Value = Option<ConsentState>> {
        prop_oneof![
            Just(None),
            Just(Some(ConsentState::Granted)),
            Just(Some(ConsentState::Withdrawn)),
        ]
    }

    proptest! {
        /// Allowed exactly when the value the preference center shows is on and nothing else
        /// (erasure, objection) stands in the way; and a refusal always names a reason that
        /// holds.
        #[test]
        fn the_gate_agrees_with_the_effective_value(
            opt_in in any::<bool>(),
            marketing in any::<bool>(),
            validity in proptest::option::of(1u32..400),
            state in any_state(),
            days_ago in 0i64..500,
            pinned in prop_oneof![Just(None), Just(Some("1")), Just(Some("2"))],
            erased in any::<bool>(),
            objecting in any::<bool>(),
            material in any::<bool>(),
        ) {
            let mode = if opt_in { Mode::OptIn } else { Mode::OptOut };
            let p = purpose(mode, marketing, validity);
            let notices = [
                notice("1", datetime!(2025-01-01 0:00 UTC), false),
                notice("2", datetime!(2026-03-01 0:00 UTC), material),
            ];
            let at = NOW - Duration::days(days_ago);
            let choice = state.map(|state| Choice { state, at, notice_version: pinned });
            let standing = Standing { jurisdiction: Jurisdiction::Jp, erased, objecting };
            let got = permission(&notices, &p, Some(standing), choice, NOW);
            let ended = validity::expired(validity, state, at, NOW);
            let due = reconfirmation_due(&notices, &p.key, state, pinned, NOW).is_some();
            let on = effective_after_notice(mode, if ended { None } else { state }, due);
            let blocked = erased || (objecting && marketing);
            prop_assert_eq!(got.is_ok(), on && !blocked);
            match got {
                Ok(()) => {}
                Err(Refused::Erased) => prop_assert!(erased),
                Err(Refused::Objected) => prop_assert!(objecting && marketing && !erased),
                Err(Refused::Withdrawn) => prop_assert_eq!(state, Some(ConsentState::Withdrawn)),
                Err(Refused::Expired) => prop_assert!(ended),
                Err(Refused::AwaitingReconfirmation) => prop_assert!(due && opt_in && !ended),
                Err(Refused::NoConsent) => prop_assert!(opt_in && state.is_none()),
                Err(Refused::UnknownSubject) => prop_assert!(false, "the subject is known"),
            }
        }
    }
}
