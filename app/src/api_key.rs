//! API keys for senders' systems: `doui.<id>.<secret>`. Only a SHA-256 of the secret is stored
//! (the secret is 256 random bits, so a slow hash adds nothing); it is shown once, at creation,
//! and compared in constant time.

use std::{fmt, str::FromStr};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::domain::Invalid;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiScope {
    /// Make links and mail headers for subjects.
    Links,
    /// Read suppression lists.
    Suppressions,
    /// Record provisions of personal data to third parties (APPI 第29条).
    Provisions,
    /// Read subjects and the consents in effect.
    SubjectsRead,
    /// Create subjects, change their contact details, erase them.
    SubjectsWrite,
    /// Record consents collected elsewhere (API batches and imports).
    ConsentsWrite,
    /// Ask who may be contacted (the audience and permission checks).
    AudienceRead,
    /// Add, change, rotate and remove webhook endpoints, and read their delivery log.
    WebhooksWrite,
    /// Read the event feed (every consent change, in commit order).
    EventsRead,
}

impl ApiScope {
    pub const ALL: [ApiScope; 9] = [
        ApiScope::Links,
        ApiScope::Suppressions,
        ApiScope::Provisions,
        ApiScope::SubjectsRead,
        ApiScope::SubjectsWrite,
        ApiScope::ConsentsWrite,
        ApiScope::AudienceRead,
        ApiScope::WebhooksWrite,
        ApiScope::EventsRead,
    ];

    pub const fn key(self) -> &'static str {
        match self {
            ApiScope::Links => "links",
            ApiScope::Suppressions => "suppressions",
            ApiScope::Provisions => "provisions",
            ApiScope::SubjectsRead => "subjects:read",
            ApiScope::SubjectsWrite => "subjects:write",
            ApiScope::ConsentsWrite => "consents:write",
            ApiScope::AudienceRead => "audience:read",
            ApiScope::WebhooksWrite => "webhooks:write",
            ApiScope::EventsRead => "events:read",
        }
    }
}

impl FromStr for ApiScope {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        ApiScope::ALL
            .into_iter()
            .find(|x| x.key() == s)
            .ok_or(Invalid::new("scope", "unknown_scope"))
    }
}

impl fmt::Display for ApiScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A stored key (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    pub scopes: Vec<ApiScope>,
    pub secret_sha256: String,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

impl ApiKeyRecord {
    /// Builds a new key from 38 random bytes (6 for the id, 32 for the secret); returns the
    /// record to store and the key to show once.
    pub fn generate(
        name: &str,
        scopes: Vec<ApiScope>,
        random: [u8; 38],
        now: OffsetDateTime,
    ) -> (Self, String) {
        let id: String = random[..6].iter().map(|b| format!("{b:02x}")).collect();
        let secret = B64.encode(&random[6..]);
        let record = Self {
            id: id.clone(),
            name: name.to_owned(),
            scopes,
            secret_sha256: sha256_hex(&secret),
            created_at: now,
            revoked_at: None,
        };
        (record, format!("doui.{id}.{secret}"))
    }

    /// Whether `secret` is this key's, compared in constant time.
    pub fn matches(&self, secret: &str) -> bool {
        sha256_hex(secret)
            .as_bytes()
            .ct_eq(self.secret_sha256.as_bytes())
            .into()
    }

    pub fn allows(&self, scope: ApiScope) -> bool {
        self.revoked_at.is_none() && self.scopes.contains(&scope)
    }
}

/// Splits a presented key into (id, secret); `None` when it is not of Doui's form.
pub fn parse_presented(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("doui.")?;
    let (id, secret) = rest.split_once('.')?;
    let ok = id.len() == 12
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && (40..=64).contains(&secret.len());
    ok.then_some((id, secret))
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_matches_only_its_secret() {
        let (record, key) = ApiKeyRecord::generate(
            "crm",
            vec![ApiScope::Links],
            [7; 38],
            OffsetDateTime::UNIX_EPOCH,
        );
        let (id, secret) = parse_presented(&key).unwrap();
        assert_eq!(id, record.id);
        assert!(record.matches(secret));
        assert!(!record.matches(&format!("{secret}x")));
        assert!(
            !record.secret_sha256.contains(secret),
            "the secret is not stored"
        );
        assert!(record.allows(ApiScope::Links) && !record.allows(ApiScope::Suppressions));
        let revoked = ApiKeyRecord {
            revoked_at: Some(OffsetDateTime::UNIX_EPOCH),
            ..record
        };
        assert!(!revoked.allows(ApiScope::Links));
    }

    #[test]
    fn malformed_keys_are_not_parsed() {
        for bad in [
            "",
            "doui.",
            "doui.abc.def",
            "Bearer x",
            "doui.0123456789ab.short",
        ] {
            assert!(parse_presented(bad).is_none(), "{bad}");
        }
    }
}
