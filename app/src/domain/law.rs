//! The law in the product: which mode a purpose may have where, so a company using Doui cannot
//! configure an unlawful default by accident. Pure rules; the console refuses a purpose that
//! breaks one and names the rule.

use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, fmt, str::FromStr};

use super::{Channel, Invalid, Mode};

/// Where a subject's consents are governed from (their residence, as the sender records it).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Jurisdiction {
    /// Japan: 特定電子メール法, 個人情報保護法.
    Jp,
    /// The European Union (and EEA): GDPR, ePrivacy.
    Eu,
    /// California: CCPA/CPRA.
    UsCa,
    /// Anywhere else: the purpose's default mode.
    #[default]
    Default,
}

impl Jurisdiction {
    pub const ALL: [Jurisdiction; 4] = [
        Jurisdiction::Jp,
        Jurisdiction::Eu,
        Jurisdiction::UsCa,
        Jurisdiction::Default,
    ];

    pub const fn key(self) -> &'static str {
        match self {
            Jurisdiction::Jp => "jp",
            Jurisdiction::Eu => "eu",
            Jurisdiction::UsCa => "us_ca",
            Jurisdiction::Default => "default",
        }
    }

    /// The time zone a person's times are shown in when they set none: Japan's for `jp`,
    /// California's for `us_ca`; UTC where one jurisdiction spans several zones (`eu`) or none
    /// is known.
    pub const fn time_zone(self) -> &'static str {
        match self {
            Jurisdiction::Jp => "Asia/Tokyo",
            Jurisdiction::UsCa => "America/Los_Angeles",
            Jurisdiction::Eu | Jurisdiction::Default => "UTC",
        }
    }
}

impl FromStr for Jurisdiction {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Jurisdiction::ALL
            .into_iter()
            .find(|j| j.key() == s)
            .ok_or(Invalid::new("jurisdiction", "unknown_jurisdiction"))
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// What a purpose does, as far as the law cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PurposeKind {
    /// Advertising and promotional messages (特定電子メール: 広告宣伝メール; ePrivacy direct
    /// marketing).
    Advertising,
    /// Targeted or cross-context behavioural advertising (CCPA "sharing").
    AdTargeting,
    /// Providing personal data to third parties (APPI 第27条; CCPA "sale").
    ThirdPartySharing,
    /// Anything else (service messages, surveys…).
    #[default]
    Other,
}

impl PurposeKind {
    pub const ALL: [PurposeKind; 4] = [
        PurposeKind::Advertising,
        PurposeKind::AdTargeting,
        PurposeKind::ThirdPartySharing,
        PurposeKind::Other,
    ];

    pub const fn key(self) -> &'static str {
        match self {
            PurposeKind::Advertising => "advertising",
            PurposeKind::AdTargeting => "ad_targeting",
            PurposeKind::ThirdPartySharing => "third_party_sharing",
            PurposeKind::Other => "other",
        }
    }

    /// A Global Privacy Control signal opts out of it (sale, sharing, cross-context ads).
    pub const fn gpc_applies(self) -> bool {
        matches!(
            self,
            PurposeKind::AdTargeting | PurposeKind::ThirdPartySharing
        )
    }
}

impl FromStr for PurposeKind {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        PurposeKind::ALL
            .into_iter()
            .find(|k| k.key() == s)
            .ok_or(Invalid::new("kind", "unknown_kind"))
    }
}

/// A purpose's mode where it differs from its default: `jp=opt_in,eu=opt_in`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JurisdictionModes(pub BTreeMap<Jurisdiction, Mode>);

impl JurisdictionModes {
    /// The mode for `j`, or `default`.
    pub fn get(&self, j: Jurisdiction, default: Mode) -> Mode {
        self.0.get(&j).copied().unwrap_or(default)
    }

    /// As stored: `jp=opt_in,eu=opt_out` (empty when none).
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .filter(|(j, _)| **j != Jurisdiction::Default)
            .map(|(j, m)| format!("{}={}", j.key(), m.key()))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let mut map = BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (j, m) = part
                .split_once('=')
                .ok_or(Invalid::new("modes", "malformed_modes"))?;
            map.insert(j.parse()?, m.parse()?);
        }
        Ok(Self(map))
    }
}

/// The record of a 個人情報保護委員会 (PPC) filing for opt-out third-party provision (APPI 第27条
/// 第2項): when it was filed and its number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PpcFiling {
    /// The filing date, `YYYY-MM-DD`.
    pub filed_on: String,
    pub number: String,
}

/// What the law needs to know about a purpose besides its mode.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LegalBasis {
    /// EU soft opt-in (ePrivacy Art. 13(2)): the recorded basis for mailing existing customers
    /// about the sender's own similar products, e.g. "customers who bought, own similar goods".
    pub soft_opt_in: Option<String>,
    /// The PPC filing that allows opt-out provision to third parties in Japan.
    pub ppc_filing: Option<PpcFiling>,
    /// The data includes 要配慮個人情報 (special care-required personal information).
    pub sensitive: bool,
    /// The data was acquired improperly (偽りその他不正の手段, APPI 第20条).
    pub improperly_acquired: bool,
    /// The data was itself received from another business by opt-out provision.
    pub received_by_opt_out: bool,
    /// APPI 27(2) items published for opt-out provision: the personal data items provided…
    #[serde(default)]
    pub data_items: String,
    /// …how they are acquired…
    #[serde(default)]
    pub acquired_by: String,
    /// …how they are provided (e.g. "electronic file by secure transfer")…
    #[serde(default)]
    pub provided_by: String,
    /// How long a consent lasts before it must be renewed, in days (R59): CASL's implied
    /// consent lasts 730 days after a purchase and 180 after an inquiry (R56); a sender may
    /// also refresh consents at its own interval. None: until withdrawn.
    #[serde(default)]
    pub validity_days: Option<u32>,
}

/// The longest validity a consent may be given, in days (10 years).
pub const MAX_VALIDITY_DAYS: u32 = 3650;

impl LegalBasis {
    /// The purpose's share of the APPI 27(2) items is filled in (the rest are the sender's
    /// name, address and representative, and Doui's own stop-request page).
    pub fn appi_items_complete(&self) -> bool {
        [&self.data_items, &self.acquired_by, &self.provided_by]
            .iter()
            .all(|s| !s.trim().is_empty())
    }
}

/// What a purpose's configuration must satisfy; each rule names its law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// 特定電子メール法 第3条: advertising mail and SMS in Japan only by opt-in.
    JpAdvertisingMailOptIn,
    /// ePrivacy Directive Art. 13: advertising mail and SMS in the EU only by opt-in, except a
    /// recorded soft opt-in basis (own similar products).
    EuAdvertisingMailOptIn,
    /// APPI 第27条第2項: opt-out provision to third parties needs a recorded PPC filing.
    JpThirdPartyOptOutNeedsFiling,
    /// APPI 第27条第2項: the opt-out items (the eight of 規則11条) must be published first.
    JpThirdPartyOptOutNeedsNotice,
    /// APPI 第27条第2項ただし書: never by opt-out for 要配慮個人情報, improperly acquired data,
    /// or data itself received by opt-out.
    JpThirdPartyOptOutForbidden,
    /// GDPR Art. 6/7 and Planet49: in the EU, third-party provision and targeted ads need consent.
    EuConsentRequired,
}

impl Rule {
    /// The stable code a refusal carries (messages per language are keyed by it).
    pub const fn code(self) -> &'static str {
        match self {
            Rule::JpAdvertisingMailOptIn => "rule_jp_advertising_mail_opt_in",
            Rule::EuAdvertisingMailOptIn => "rule_eu_advertising_mail_opt_in",
            Rule::JpThirdPartyOptOutNeedsFiling => "rule_jp_third_party_needs_filing",
            Rule::JpThirdPartyOptOutNeedsNotice => "rule_jp_third_party_needs_notice",
            Rule::JpThirdPartyOptOutForbidden => "rule_jp_third_party_forbidden",
            Rule::EuConsentRequired => "rule_eu_consent_required",
        }
    }
}

/// A purpose's configuration as the rules see it.
pub struct Configured<'a> {
    pub kind: PurposeKind,
    /// Marketing (what "Stop all marketing" covers): on email or SMS it is advertising mail
    /// whatever kind was chosen.
    pub marketing: bool,
    pub default_mode: Mode,
    pub modes: &'a JurisdictionModes,
    pub channels: &'a [Channel],
    pub legal: &'a LegalBasis,
    /// The sender's own APPI 27(2) items (name, address, representative) are configured; the
    /// privacy policy page publishes them with the purpose's.
    pub sender_items_published: bool,
}

/// The first rule the configuration breaks, if any.
pub fn check_purpose(c: &Configured<'_>) -> Result<(), Rule> {
    let mode = |j| c.modes.get(j, c.default_mode);
    let mails = c
        .channels
        .iter()
        .any(|ch| matches!(ch, Channel::Email | Channel::Sms));
    // Guarded by what the purpose does, not only by the kind's name: marketing on email or SMS
    // is advertising mail (特定電子メール法 第2条, ePrivacy Art. 13).
    let advertising = c.kind == PurposeKind::Advertising || c.marketing;
    if advertising && mails {
        if mode(Jurisdiction::Jp) == Mode::OptOut {
            return Err(Rule::JpAdvertisingMailOptIn);
        }
        let soft = c
            .legal
            .soft_opt_in
            .as_deref()
            .is_some_and(|b| !b.trim().is_empty());
        if mode(Jurisdiction::Eu) == Mode::OptOut && !soft {
            return Err(Rule::EuAdvertisingMailOptIn);
        }
    }
    if c.kind == PurposeKind::ThirdPartySharing && mode(Jurisdiction::Jp) == Mode::OptOut {
        let l = c.legal;
        if l.sensitive || l.improperly_acquired || l.received_by_opt_out {
            return Err(Rule::JpThirdPartyOptOutForbidden);
        }
        if l.ppc_filing.is_none() {
            return Err(Rule::JpThirdPartyOptOutNeedsFiling);
        }
        if !(c.sender_items_published && l.appi_items_complete()) {
            return Err(Rule::JpThirdPartyOptOutNeedsNotice);
        }
    }
    if matches!(
        c.kind,
        PurposeKind::ThirdPartySharing | PurposeKind::AdTargeting
    ) && mode(Jurisdiction::Eu) == Mode::OptOut
    {
        return Err(Rule::EuConsentRequired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Channel::*;

    fn configured<'a>(
        kind: PurposeKind,
        default_mode: Mode,
        modes: &'a JurisdictionModes,
        channels: &'a [Channel],
        legal: &'a LegalBasis,
    ) -> Configured<'a> {
        Configured {
            kind,
            default_mode,
            modes,
            channels,
            legal,
            marketing: false,
            sender_items_published: true,
        }
    }

    #[test]
    fn hardening_21_marketing_mail_is_guarded_whatever_kind_was_chosen() {
        let none = JurisdictionModes::default();
        let legal = LegalBasis::default();
        let mut c = configured(PurposeKind::Other, Mode::OptOut, &none, &[Email], &legal);
        assert_eq!(check_purpose(&c), Ok(()), "not marketing: no mail rule");
        c.marketing = true;
        assert_eq!(check_purpose(&c), Err(Rule::JpAdvertisingMailOptIn));
        let jp_in = JurisdictionModes::parse("jp=opt_in").unwrap();
        c.modes = &jp_in;
        assert_eq!(check_purpose(&c), Err(Rule::EuAdvertisingMailOptIn));
        c.channels = &[Postal];
        assert_eq!(check_purpose(&c), Ok(()), "post is outside both mail laws");
    }

    #[test]
    fn r42_r39_advertising_mail_is_opt_in_in_japan_and_the_eu() {
        let none = JurisdictionModes::default();
        let legal = LegalBasis::default();
        let c = configured(
            PurposeKind::Advertising,
            Mode::OptOut,
            &none,
            &[Email],
            &legal,
        );
        assert_eq!(check_purpose(&c), Err(Rule::JpAdvertisingMailOptIn));
        let jp_in = JurisdictionModes::parse("jp=opt_in").unwrap();
        let c = configured(
            PurposeKind::Advertising,
            Mode::OptOut,
            &jp_in,
            &[Sms],
            &legal,
        );
        assert_eq!(check_purpose(&c), Err(Rule::EuAdvertisingMailOptIn));
        // Soft opt-in for own similar products, recorded: opt-out allowed in the EU.
        let soft = LegalBasis {
            soft_opt_in: Some("existing customers, own similar products".into()),
            ..LegalBasis::default()
        };
        let c = configured(
            PurposeKind::Advertising,
            Mode::OptOut,
            &jp_in,
            &[Email],
            &soft,
        );
        assert_eq!(check_purpose(&c), Ok(()));
        // Post and phone are outside both laws' mail rules; US default opt-out is fine.
        let c = configured(
            PurposeKind::Advertising,
            Mode::OptOut,
            &none,
            &[Postal],
            &legal,
        );
        assert_eq!(check_purpose(&c), Ok(()));
    }

    #[test]
    fn r48_r49_third_party_opt_out_in_japan_needs_a_filing_and_never_for_sensitive_data() {
        let jp_out = JurisdictionModes::parse("jp=opt_out,eu=opt_in").unwrap();
        let mut legal = LegalBasis::default();
        let c = configured(
            PurposeKind::ThirdPartySharing,
            Mode::OptIn,
            &jp_out,
            &[Email],
            &legal,
        );
        assert_eq!(check_purpose(&c), Err(Rule::JpThirdPartyOptOutNeedsFiling));
        legal.ppc_filing = Some(PpcFiling {
            filed_on: "2026-04-01".into(),
            number: "PPC-2026-0001".into(),
        });
        let c = configured(
            PurposeKind::ThirdPartySharing,
            Mode::OptIn,
            &jp_out,
            &[Email],
            &legal,
        );
        assert_eq!(check_purpose(&c), Err(Rule::JpThirdPartyOptOutNeedsNotice));
        legal.data_items = "氏名、住所、購入履歴".into();
        legal.acquired_by = "会員登録フォーム".into();
        legal.provided_by = "暗号化した電子ファイルの送付".into();
        let mut c = configured(
            PurposeKind::ThirdPartySharing,
            Mode::OptIn,
            &jp_out,
            &[Email],
            &legal,
        );
        c.sender_items_published = false;
        assert_eq!(check_purpose(&c), Err(Rule::JpThirdPartyOptOutNeedsNotice));
        c.sender_items_published = true;
        assert_eq!(check_purpose(&c), Ok(()));
        for flag in 0..3 {
            let mut l = legal.clone();
            match flag {
                0 => l.sensitive = true,
                1 => l.improperly_acquired = true,
                _ => l.received_by_opt_out = true,
            }
            let c = configured(
                PurposeKind::ThirdPartySharing,
                Mode::OptIn,
                &jp_out,
                &[Email],
                &l,
            );
            assert_eq!(check_purpose(&c), Err(Rule::JpThirdPartyOptOutForbidden));
        }
        // Opt-in provision needs none of it.
        let none = JurisdictionModes::default();
        let sensitive = LegalBasis {
            sensitive: true,
            ..LegalBasis::default()
        };
        let c = configured(
            PurposeKind::ThirdPartySharing,
            Mode::OptIn,
            &none,
            &[Email],
            &sensitive,
        );
        assert_eq!(check_purpose(&c), Ok(()));
    }

    #[test]
    fn r29_eu_sharing_and_targeting_need_consent() {
        let jp_in = JurisdictionModes::parse("jp=opt_in").unwrap();
        let legal = LegalBasis::default();
        let c = configured(
            PurposeKind::AdTargeting,
            Mode::OptOut,
            &jp_in,
            &[Web],
            &legal,
        );
        assert_eq!(check_purpose(&c), Err(Rule::EuConsentRequired));
        let eu_in = JurisdictionModes::parse("eu=opt_in").unwrap();
        let c = configured(
            PurposeKind::AdTargeting,
            Mode::OptOut,
            &eu_in,
            &[Web],
            &legal,
        );
        assert_eq!(check_purpose(&c), Ok(()));
    }

    #[test]
    fn modes_round_trip_and_fall_back_to_the_default() {
        let m = JurisdictionModes::parse("eu=opt_in, jp=opt_out").unwrap();
        assert_eq!(m.to_text(), "jp=opt_out,eu=opt_in");
        assert_eq!(m.get(Jurisdiction::Jp, Mode::OptIn), Mode::OptOut);
        assert_eq!(m.get(Jurisdiction::UsCa, Mode::OptOut), Mode::OptOut);
        assert!(JurisdictionModes::parse("mars=opt_in").is_err());
        assert!(JurisdictionModes::parse("jp").is_err());
        assert_eq!(
            JurisdictionModes::parse("").unwrap(),
            JurisdictionModes::default()
        );
        for j in Jurisdiction::ALL {
            assert_eq!(j.key().parse::<Jurisdiction>(), Ok(j));
        }
        for k in PurposeKind::ALL {
            assert_eq!(k.key().parse::<PurposeKind>(), Ok(k));
        }
    }
}
