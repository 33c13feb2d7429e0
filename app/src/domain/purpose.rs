use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

use super::{
    Channel, Invalid, Jurisdiction, JurisdictionModes, Lang, LegalBasis, Mode, PurposeKind,
};

/// A purpose's stable key: lower-case ASCII letters, digits and `_`, starting with a letter,
/// at most 48 characters (`newsletter`, `ad_targeting`, ...).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PurposeKey(String);

impl PurposeKey {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let ok_len = (2..=48).contains(&s.len());
        let mut chars = s.chars();
        let ok_first = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let ok_rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok_len && ok_first && ok_rest {
            Ok(Self(s.to_owned()))
        } else {
            Err(Invalid::new("purpose", "malformed_purpose"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PurposeKey {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Self::parse(s)
    }
}

impl TryFrom<String> for PurposeKey {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Self::parse(&s)
    }
}

impl From<PurposeKey> for String {
    fn from(k: PurposeKey) -> String {
        k.0
    }
}

impl fmt::Display for PurposeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why data or contact is used, with its texts in both languages, its mode (a default, and where
/// a jurisdiction differs, its own) and the channels it applies to. `marketing` purposes are the
/// ones "stop all marketing" withdraws; `kind` and `legal` are what the law's rules look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purpose {
    pub key: PurposeKey,
    pub name_ja: String,
    pub name_en: String,
    pub description_ja: String,
    pub description_en: String,
    /// The mode where no jurisdiction's own applies.
    pub mode: Mode,
    #[serde(default)]
    pub modes: JurisdictionModes,
    pub channels: Vec<Channel>,
    pub marketing: bool,
    #[serde(default)]
    pub kind: PurposeKind,
    #[serde(default)]
    pub legal: LegalBasis,
}

impl Purpose {
    pub fn name(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.name_ja,
            Lang::En => &self.name_en,
        }
    }

    pub fn description(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.description_ja,
            Lang::En => &self.description_en,
        }
    }

    /// The mode for a subject of `jurisdiction`.
    pub fn mode_for(&self, jurisdiction: Jurisdiction) -> Mode {
        self.modes.get(jurisdiction, self.mode)
    }

    pub fn applies_to(&self, channel: Channel) -> bool {
        self.channels.contains(&channel)
    }

    /// The purposes every new installation starts with. All opt-in: in Japan advertising mail and
    /// SMS need prior consent (特定電子メール法 第3条), and so does third-party provision unless a
    /// PPC filing exists (個人情報保護法 第27条).
    pub fn seeds() -> Vec<Purpose> {
        use Channel::*;
        let p = |key: &str,
                 name_ja: &str,
                 name_en: &str,
                 d_ja: &str,
                 d_en: &str,
                 ch: &[Channel],
                 mk,
                 kind| Purpose {
            key: PurposeKey::parse(key).expect("seed keys are valid"),
            name_ja: name_ja.into(),
            name_en: name_en.into(),
            description_ja: d_ja.into(),
            description_en: d_en.into(),
            mode: Mode::OptIn,
            modes: JurisdictionModes::default(),
            channels: ch.to_vec(),
            marketing: mk,
            kind,
            legal: LegalBasis::default(),
        };
        vec![
            p(
                "newsletter",
                "ニュースレター・お知らせ",
                "Newsletter and marketing messages",
                "新商品・キャンペーン・イベントなどの広告宣伝を含むお知らせをお送りします。",
                "News, offers and event announcements, including advertising.",
                &[Email, Sms, Push, Postal, Phone],
                true,
                PurposeKind::Advertising,
            ),
            p(
                "ad_targeting",
                "広告のパーソナライズ",
                "Personalised advertising",
                "閲覧・購入の情報をもとに、あなたに合わせた広告を表示・配信します。",
                "Ads tailored to you, based on what you browse and buy.",
                &[Web, Email, Sms],
                true,
                PurposeKind::AdTargeting,
            ),
            p(
                "third_party_sharing",
                "第三者への情報提供",
                "Sharing with third parties",
                "あなたの個人データを提携先（第三者）に提供します。提供先は一覧で確認できます。",
                "Your personal data is provided to partner companies (third parties), listed in our notice.",
                &[Email, Phone, Postal],
                false,
                PurposeKind::ThirdPartySharing,
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purpose_keys_are_validated() {
        assert!(PurposeKey::parse("newsletter").is_ok());
        assert!(PurposeKey::parse("ad_targeting2").is_ok());
        for bad in [
            "",
            "a",
            "Newsletter",
            "1abc",
            "news-letter",
            "ニュース",
            &"a".repeat(49),
        ] {
            assert!(
                PurposeKey::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn seeds_are_opt_in_with_the_documented_channels() {
        let seeds = Purpose::seeds();
        let keys: Vec<_> = seeds.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["newsletter", "ad_targeting", "third_party_sharing"]);
        assert!(seeds.iter().all(|p| p.mode == Mode::OptIn));
        assert_eq!(seeds[0].channels.len(), 5);
        assert!(seeds[1].applies_to(Channel::Web) && !seeds[1].applies_to(Channel::Postal));
        assert!(!seeds[2].marketing);
    }
}
