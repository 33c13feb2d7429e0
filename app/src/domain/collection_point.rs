//! Where a consent was given: a named collection point (a signup form, the checkout box, a call
//! center script, a paper form), with the wording the person saw and the notice it presented
//! (ISO/IEC TS 27560 "collection method"; Kantara `collectionMethod`). A retired point stays as
//! evidence for the events that name it, but names no new event.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{fmt, str::FromStr};
use time::OffsetDateTime;

use super::{Invalid, Lang};

/// What kind of place a collection point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectionPointKind {
    WebForm,
    Checkout,
    App,
    Store,
    CallCenter,
    Paper,
    Import,
    Api,
}

impl CollectionPointKind {
    pub const ALL: [CollectionPointKind; 8] = [
        CollectionPointKind::WebForm,
        CollectionPointKind::Checkout,
        CollectionPointKind::App,
        CollectionPointKind::Store,
        CollectionPointKind::CallCenter,
        CollectionPointKind::Paper,
        CollectionPointKind::Import,
        CollectionPointKind::Api,
    ];

    pub const fn key(self) -> &'static str {
        match self {
            CollectionPointKind::WebForm => "web_form",
            CollectionPointKind::Checkout => "checkout",
            CollectionPointKind::App => "app",
            CollectionPointKind::Store => "store",
            CollectionPointKind::CallCenter => "call_center",
            CollectionPointKind::Paper => "paper",
            CollectionPointKind::Import => "import",
            CollectionPointKind::Api => "api",
        }
    }

    /// The kind's name for people.
    pub const fn name(self, lang: Lang) -> &'static str {
        match (lang, self) {
            (Lang::Ja, CollectionPointKind::WebForm) => "ウェブフォーム",
            (Lang::Ja, CollectionPointKind::Checkout) => "購入手続き",
            (Lang::Ja, CollectionPointKind::App) => "アプリ",
            (Lang::Ja, CollectionPointKind::Store) => "店舗",
            (Lang::Ja, CollectionPointKind::CallCenter) => "コールセンター",
            (Lang::Ja, CollectionPointKind::Paper) => "紙の申込書",
            (Lang::Ja, CollectionPointKind::Import) => "一括取り込み",
            (Lang::Ja, CollectionPointKind::Api) => "API",
            (Lang::En, CollectionPointKind::WebForm) => "Web form",
            (Lang::En, CollectionPointKind::Checkout) => "Checkout",
            (Lang::En, CollectionPointKind::App) => "App",
            (Lang::En, CollectionPointKind::Store) => "Store",
            (Lang::En, CollectionPointKind::CallCenter) => "Call center",
            (Lang::En, CollectionPointKind::Paper) => "Paper form",
            (Lang::En, CollectionPointKind::Import) => "Import",
            (Lang::En, CollectionPointKind::Api) => "API",
        }
    }
}

impl fmt::Display for CollectionPointKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for CollectionPointKind {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|k| k.key() == s)
            .ok_or(Invalid::new("kind", "unknown_collection_point_kind"))
    }
}

/// Checks a collection point's key: the rules of a purpose key, with `-` allowed too (lower-case
/// ASCII letters, digits, `_` and `-`, starting with a letter, 2 to 48 characters).
pub fn check_collection_point_key(key: &str) -> Result<(), Invalid> {
    let mut chars = key.chars();
    let ok = (2..=48).contains(&key.len())
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(
            "collection_point",
            "malformed_collection_point",
        ))
    }
}

/// The SHA-256 of a text, as 64 lower-case hex digits.
pub fn sha256_hex(text: &str) -> String {
    super::seal::to_hex(&Sha256::digest(text.as_bytes()).into())
}

/// A collection point as its owner describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCollectionPoint {
    pub key: String,
    pub name_ja: String,
    pub name_en: String,
    pub kind: CollectionPointKind,
    /// The form's URL, or the place (a store's address, a call center's name).
    pub location: String,
    /// The text shown to the person when they gave their consent, as they saw it.
    pub wording: String,
    /// The version of the notice the point presents, if it presents one.
    pub notice_version: Option<String>,
}

/// A registered collection point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionPoint {
    pub key: String,
    pub name_ja: String,
    pub name_en: String,
    pub kind: CollectionPointKind,
    pub location: String,
    pub wording: String,
    /// The SHA-256 of `wording` (hex): what a receipt or an auditor compares.
    pub wording_sha256: String,
    pub notice_version: Option<String>,
    pub created_at: OffsetDateTime,
    pub created_by: String,
    pub retired_at: Option<OffsetDateTime>,
    pub retired_by: Option<String>,
}

/// The longest name, location or notice version (characters); the wording may be longer.
const MAX_TEXT: usize = 500;
/// The longest wording (characters).
const MAX_WORDING: usize = 20_000;

impl CollectionPoint {
    /// A new point from its owner's description, checked: a well-formed key, names, a location
    /// and a wording that are not blank (one line each but the wording), at most 500 characters
    /// (the wording 20,000). The wording's SHA-256 is computed here.
    pub fn new(
        input: NewCollectionPoint,
        created_at: OffsetDateTime,
        created_by: &str,
    ) -> Result<Self, Invalid> {
        check_collection_point_key(&input.key)?;
        let line = |s: &str, field: &'static str| {
            let s = s.trim();
            if s.is_empty() || s.chars().count() > MAX_TEXT || s.chars().any(char::is_control) {
                Err(Invalid::new(field, "collection_point_invalid"))
            } else {
                Ok(s.to_owned())
            }
        };
        let wording = input.wording.trim();
        let wording_ok = !wording.is_empty()
            && wording.chars().count() <= MAX_WORDING
            && !wording
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t');
        if !wording_ok {
            return Err(Invalid::new("wording", "collection_point_invalid"));
        }
        let notice_version = match input.notice_version.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) => Some(line(v, "notice_version")?),
        };
        Ok(Self {
            name_ja: line(&input.name_ja, "name_ja")?,
            name_en: line(&input.name_en, "name_en")?,
            location: line(&input.location, "location")?,
            wording_sha256: sha256_hex(wording),
            wording: wording.to_owned(),
            key: input.key,
            kind: input.kind,
            notice_version,
            created_at: super::to_micros(created_at),
            created_by: created_by.to_owned(),
            retired_at: None,
            retired_by: None,
        })
    }

    /// The point's name in `lang`.
    pub fn name(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.name_ja,
            Lang::En => &self.name_en,
        }
    }

    pub fn is_retired(&self) -> bool {
        self.retired_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NewCollectionPoint {
        NewCollectionPoint {
            key: "checkout-2026".into(),
            name_ja: "購入画面".into(),
            name_en: "Checkout".into(),
            kind: CollectionPointKind::Checkout,
            location: "https://shop.example/checkout".into(),
            wording: "お知らせメールを受け取る".into(),
            notice_version: Some("2026-01".into()),
        }
    }

    #[test]
    fn keys_follow_the_purpose_rules_with_a_dash() {
        for good in ["checkout-2026", "web_form", "ab", "store-tokyo-1"] {
            assert!(check_collection_point_key(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a",
            "-x",
            "1x",
            "Checkout",
            "x y",
            "x.y",
            &"k".repeat(49),
        ] {
            assert!(check_collection_point_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kinds_round_trip() {
        for k in CollectionPointKind::ALL {
            assert_eq!(k.key().parse::<CollectionPointKind>(), Ok(k));
        }
        assert!("email".parse::<CollectionPointKind>().is_err());
    }

    #[test]
    fn a_new_point_hashes_its_wording() {
        let p = CollectionPoint::new(input(), OffsetDateTime::UNIX_EPOCH, "admin:1").unwrap();
        assert_eq!(p.wording_sha256, sha256_hex("お知らせメールを受け取る"));
        assert_eq!(p.wording_sha256.len(), 64);
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(!p.is_retired());
        assert_eq!(p.name(Lang::En), "Checkout");
    }

    #[test]
    fn blank_or_bad_fields_are_refused() {
        let mut i = input();
        i.name_en = "  ".into();
        assert!(CollectionPoint::new(i, OffsetDateTime::UNIX_EPOCH, "a").is_err());
        let mut i = input();
        i.wording = "".into();
        assert!(CollectionPoint::new(i, OffsetDateTime::UNIX_EPOCH, "a").is_err());
        let mut i = input();
        i.location = "a\nb".into();
        assert!(CollectionPoint::new(i, OffsetDateTime::UNIX_EPOCH, "a").is_err());
        let mut i = input();
        i.key = "Bad Key".into();
        assert!(CollectionPoint::new(i, OffsetDateTime::UNIX_EPOCH, "a").is_err());
        let mut i = input();
        i.notice_version = Some(" ".into());
        let p = CollectionPoint::new(i, OffsetDateTime::UNIX_EPOCH, "a").unwrap();
        assert_eq!(p.notice_version, None);
    }
}
