//! How long evidence of a consent must be kept after it stopped being in force (R44, R60). A
//! purge deletes an event only when every minimum that applies to it has passed, counted from
//! when a later event of the same consent superseded it; the evidence of a consent in force is
//! never purged.

use super::{Channel, Jurisdiction, PurposeKind};

/// One law's minimum: how many days, and which law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minimum {
    pub days: i64,
    pub law: &'static str,
}

const TOKUTEI_DENSHI_MAIL: Minimum = Minimum {
    days: 31,
    law: "特定電子メール法 第3条第2項 (1 month after the last send)",
};
const TOKUSHOHO: Minimum = Minimum {
    days: 3 * 365,
    law: "特定商取引法 (3 years)",
};
const APPI_RECORDS: Minimum = Minimum {
    days: 3 * 365,
    law: "個人情報保護法 第29条・第30条 (provision records, 3 years)",
};
const CCPA_REQUESTS: Minimum = Minimum {
    days: 730,
    law: "CCPA 11 CCR 7101 (requests, 24 months)",
};
const TCPA: Minimum = Minimum {
    days: 4 * 365 + 1,
    law: "TCPA (4-year limitation period)",
};
const CASL: Minimum = Minimum {
    days: 3 * 365,
    law: "CASL (3 years)",
};

/// Every minimum that applies to evidence of `kind` on `channel` for a subject of
/// `jurisdiction`. An unknown jurisdiction (`default`) takes every jurisdiction's.
pub fn minimums(jurisdiction: Jurisdiction, channel: Channel, kind: PurposeKind) -> Vec<Minimum> {
    let mails = matches!(channel, Channel::Email | Channel::Sms);
    let calls = matches!(channel, Channel::Sms | Channel::Phone);
    let mut all = Vec::new();
    let jp = |all: &mut Vec<Minimum>| {
        if kind == PurposeKind::Advertising {
            if mails {
                all.push(TOKUTEI_DENSHI_MAIL);
            }
            all.push(TOKUSHOHO);
        }
        if kind == PurposeKind::ThirdPartySharing {
            all.push(APPI_RECORDS);
        }
    };
    let us_ca = |all: &mut Vec<Minimum>| {
        all.push(CCPA_REQUESTS);
        if calls {
            all.push(TCPA);
        }
    };
    match jurisdiction {
        Jurisdiction::Jp => jp(&mut all),
        Jurisdiction::UsCa => us_ca(&mut all),
        // GDPR sets no minimum; the configured one applies.
        Jurisdiction::Eu => {}
        Jurisdiction::Default => {
            jp(&mut all);
            us_ca(&mut all);
            if mails {
                all.push(CASL);
            }
        }
    }
    all
}

/// The largest applicable minimum, never below `configured_days` (the operator's own policy).
pub fn retention_days(
    jurisdiction: Jurisdiction,
    channel: Channel,
    kind: PurposeKind,
    configured_days: i64,
) -> i64 {
    minimums(jurisdiction, channel, kind)
        .iter()
        .map(|m| m.days)
        .fold(configured_days, i64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Channel::*;
    use Jurisdiction::*;
    use PurposeKind::*;

    #[test]
    fn r44_r60_the_largest_applicable_minimum_wins() {
        // Japan, advertising mail: 特電法's month is exceeded by 特商法's three years.
        assert_eq!(retention_days(Jp, Email, Advertising, 0), 1095);
        assert!(
            minimums(Jp, Email, Advertising)
                .iter()
                .any(|m| m.days == 31)
        );
        // APPI provision records: three years.
        assert_eq!(retention_days(Jp, Postal, ThirdPartySharing, 0), 1095);
        // California: CCPA's 24 months; by SMS, the TCPA's four years.
        assert_eq!(retention_days(UsCa, Web, AdTargeting, 0), 730);
        assert_eq!(retention_days(UsCa, Sms, Advertising, 0), 1461);
        // Unknown jurisdiction: every one's, so the largest of all.
        assert_eq!(retention_days(Default, Sms, Advertising, 0), 1461);
        assert_eq!(retention_days(Default, Email, Other, 0), 1095);
        // The operator's policy may only lengthen it.
        assert_eq!(retention_days(Eu, Email, Advertising, 0), 0);
        assert_eq!(retention_days(Eu, Email, Advertising, 400), 400);
        assert_eq!(retention_days(UsCa, Web, AdTargeting, 100), 730);
    }
}
