use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

use super::{Invalid, Jurisdiction, Lang};

/// Doui's own id for a subject (UUIDv7: time-ordered, never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SubjectId(pub Uuid);

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The id the sender's own systems use for the subject (a customer number, a CRM id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExternalId(String);

impl ExternalId {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        if s.is_empty() || s.len() > 200 || s.chars().any(char::is_control) {
            return Err(Invalid::new("external_id", "malformed_external_id"));
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address in the form mail systems accept (RFC 5321 lengths, one `@`, a dotted domain).
/// The domain is lower-cased; the local part is kept as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new("email", "malformed_email");
        let s = s.trim();
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        let domain_ok = domain.contains('.')
            && domain.len() <= 253
            && domain.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(bad());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 form (`+` then 8 to 15 digits). Spaces, dashes and brackets are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Phone(String);

impl Phone {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let cleaned: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        let digits = cleaned.strip_prefix('+').unwrap_or("");
        if (8..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0')
        {
            Ok(Self(cleaned))
        } else {
            Err(Invalid::new("phone", "malformed_phone"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The person whose consents these are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub id: SubjectId,
    pub external_id: ExternalId,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub lang: Lang,
    /// Whose rules apply to their consents (the purpose's mode for it).
    pub jurisdiction: Jurisdiction,
    /// When the person's identifiers were erased on request (R35): their links no longer open
    /// anything, and their events remain as evidence under the random id alone.
    #[serde(skip)]
    pub erased_at: Option<time::OffsetDateTime>,
    /// The zone the person's times are shown in, when one was set; otherwise their
    /// jurisdiction's ([`Subject::time_zone_name`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<TimeZoneName>,
}

impl Subject {
    /// The zone the person's times are shown in: their own, or their jurisdiction's.
    pub fn time_zone_name(&self) -> &str {
        match &self.time_zone {
            Some(z) => z.as_str(),
            None => self.jurisdiction.time_zone(),
        }
    }
}

/// An IANA time zone name (`Asia/Tokyo`, `Europe/Paris`, `UTC`), checked for its shape here and
/// against the time zone database where it is set (the server holds the database).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = raw.trim();
        let part_ok = |p: &str| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '.'))
        };
        if (1..=64).contains(&name.len()) && name.split('/').all(part_ok) {
            Ok(Self(name.to_owned()))
        } else {
            Err(Invalid::new("time_zone", "unknown_time_zone"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Self::parse(&s)
    }
}

impl From<TimeZoneName> for String {
    fn from(z: TimeZoneName) -> String {
        z.0
    }
}

/// What is digested of an erased identifier: `email:<address, lower-cased>` or
/// `phone:<E.164>`. The digest kept is keyed (HMAC with the server's data key), so it recognises
/// the address if it is imported again and cannot be confirmed by guessing addresses.
pub fn erased_identifier(kind: &str, value: &str) -> String {
    let normalised = if kind == "email" {
        value.trim().to_lowercase()
    } else {
        value.trim().to_owned()
    };
    format!("{kind}:{normalised}")
}

/// The unkeyed digest (hex SHA-256) that erasures made before digests were keyed kept: still
/// recognised, never written again.
pub fn legacy_erased_digest(identifier: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(identifier.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Subject {
    /// This subject's identifiers as erasure digests them, as (kind, `erased_identifier`).
    pub fn erased_identifiers(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(e) = &self.email {
            out.push(("email", erased_identifier("email", e.as_str())));
        }
        if let Some(p) = &self.phone {
            out.push(("phone", erased_identifier("phone", p.as_str())));
        }
        out
    }
}

/// A subject about to be created (the store gives it its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubject {
    pub external_id: ExternalId,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub lang: Lang,
    pub jurisdiction: Jurisdiction,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zone_names_are_checked_for_their_shape() {
        for ok in [
            "Asia/Tokyo",
            "UTC",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+9",
        ] {
            assert_eq!(TimeZoneName::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "/Asia",
            "Asia//Tokyo",
            "../etc/passwd",
            "Asia/Tōkyō",
            "a b",
        ] {
            assert!(TimeZoneName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_are_shown_in_the_persons_zone_or_their_jurisdictions() {
        let mut s = Subject {
            id: SubjectId(uuid::Uuid::nil()),
            external_id: ExternalId::parse("c1").unwrap(),
            email: None,
            phone: None,
            lang: Lang::Ja,
            jurisdiction: Jurisdiction::Jp,
            erased_at: None,
            time_zone: None,
        };
        assert_eq!(s.time_zone_name(), "Asia/Tokyo");
        s.jurisdiction = Jurisdiction::UsCa;
        assert_eq!(s.time_zone_name(), "America/Los_Angeles");
        s.time_zone = Some(TimeZoneName::parse("Europe/Paris").unwrap());
        assert_eq!(s.time_zone_name(), "Europe/Paris");
    }

    #[test]
    fn emails_are_validated_and_domain_lowercased() {
        assert_eq!(
            Email::parse(" Hanako@Example.JP ").unwrap().as_str(),
            "Hanako@example.jp"
        );
        for bad in [
            "",
            "a",
            "a@b",
            "@example.com",
            "a b@example.com",
            "a@-x.com",
            "a@x..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert!(Email::parse("山田@例え.jp").is_ok());
    }

    #[test]
    fn phones_are_e164() {
        assert_eq!(
            Phone::parse("+81 90-1234-5678").unwrap().as_str(),
            "+819012345678"
        );
        for bad in ["09012345678", "+0123456789", "+12", "+81abc45678"] {
            assert!(Phone::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn external_ids_are_trimmed_and_bounded() {
        assert_eq!(ExternalId::parse(" c-1 ").unwrap().as_str(), "c-1");
        assert!(ExternalId::parse("  ").is_err());
        assert!(ExternalId::parse(&"x".repeat(201)).is_err());
        assert!(ExternalId::parse("a\nb").is_err());
    }
}
