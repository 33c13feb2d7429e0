//! Signed link tokens: `<version>.<key id>.<payload>.<mac>`, URL-safe, HMAC-SHA256.
//!
//! The payload carries the subject, a scope (everything, all marketing, one purpose, or one purpose
//! on one channel), issue time, optional expiry and optional campaign id, so later features
//! (scoped unsubscribe links, expiry, campaigns) read tokens already sent. The key id lets several
//! keys verify while one signs, so keys rotate without breaking links in people's inboxes.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::domain::{Channel, PurposeKey, SubjectId};

const VERSION: &str = "1";
const MAC_CONTEXT: &[u8] = b"doui-token\0";

/// What a token lets its holder see and change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole preference center of the subject.
    Everything,
    /// Every marketing purpose on every channel.
    AllMarketing,
    /// One purpose on every channel.
    Purpose(PurposeKey),
    /// One purpose on one channel.
    PurposeChannel(PurposeKey, Channel),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub subject: SubjectId,
    pub scope: Scope,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds; `None` never expires.
    pub expires_at: Option<i64>,
    pub campaign: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("token signed with an unknown key")]
    UnknownKey,
    #[error("token signature does not match")]
    BadSignature,
    #[error("token expired")]
    Expired,
}

/// One HMAC key. The secret is never printed by `Debug`.
#[derive(Clone)]
pub struct SigningKey {
    pub id: String,
    secret: Vec<u8>,
    /// The HMAC keyed with `secret` and fed the context: each token's MAC starts from a copy
    /// (keying hashes two blocks; every sign and verify would repeat it).
    keyed: Hmac<Sha256>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A key id is 1 to 16 ASCII letters or digits; a secret at least 32 bytes.
    pub fn new(id: &str, secret: Vec<u8>) -> Result<Self, &'static str> {
        if id.is_empty() || id.len() > 16 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err("a key id is 1 to 16 ASCII letters or digits");
        }
        if secret.len() < 32 {
            return Err("a token secret has at least 32 bytes");
        }
        let mut keyed = Hmac::<Sha256>::new_from_slice(&secret).expect("HMAC takes any key length");
        keyed.update(MAC_CONTEXT);
        Ok(Self {
            id: id.to_owned(),
            secret,
            keyed,
        })
    }

    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    fn mac(&self, signed: &str) -> Hmac<Sha256> {
        let mut mac = self.keyed.clone();
        mac.update(signed.as_bytes());
        mac
    }
}

/// The keys that verify tokens; the first one signs.
#[derive(Debug, Clone)]
pub struct Keyring {
    keys: Vec<SigningKey>,
}

impl Keyring {
    /// `keys[0]` is the signing key; all verify. Key ids must be distinct.
    pub fn new(keys: Vec<SigningKey>) -> Result<Self, &'static str> {
        if keys.is_empty() {
            return Err("a keyring needs at least one key");
        }
        let mut ids: Vec<_> = keys.iter().map(|k| &k.id).collect();
        ids.sort();
        ids.dedup();
        if ids.len() != keys.len() {
            return Err("key ids must be distinct");
        }
        Ok(Self { keys })
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.keys[0]
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let key = self.signing_key();
        let signed = format!(
            "{VERSION}.{}.{}",
            key.id,
            B64.encode(encode_payload(claims))
        );
        let tag = key.mac(&signed).finalize().into_bytes();
        format!("{signed}.{}", B64.encode(tag))
    }

    /// Checks the signature (in constant time), then the expiry against `now` (unix seconds).
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        if token.len() > 1024 {
            return Err(TokenError::Malformed);
        }
        let (signed, tag) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let mut parts = signed.splitn(3, '.');
        let (Some(version), Some(kid), Some(payload)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        if version != VERSION {
            return Err(TokenError::Malformed);
        }
        let key = self
            .keys
            .iter()
            .find(|k| k.id == kid)
            .ok_or(TokenError::UnknownKey)?;
        let tag = B64.decode(tag).map_err(|_| TokenError::Malformed)?;
        key.mac(signed)
            .verify_slice(&tag)
            .map_err(|_| TokenError::BadSignature)?;
        let payload = B64.decode(payload).map_err(|_| TokenError::Malformed)?;
        let claims = decode_payload(&payload).ok_or(TokenError::Malformed)?;
        if claims.expires_at.is_some_and(|exp| now >= exp) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

fn encode_payload(c: &Claims) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(c.subject.0.as_bytes());
    out.extend_from_slice(&c.issued_at.to_be_bytes());
    out.extend_from_slice(&c.expires_at.unwrap_or(0).to_be_bytes());
    let push_str = |out: &mut Vec<u8>, s: &str| {
        let s = &s.as_bytes()[..s.len().min(255)];
        out.push(s.len() as u8);
        out.extend_from_slice(s);
    };
    match &c.scope {
        Scope::Everything => out.push(0),
        Scope::AllMarketing => out.push(1),
        Scope::Purpose(p) => {
            out.push(2);
            push_str(&mut out, p.as_str());
        }
        Scope::PurposeChannel(p, ch) => {
            out.push(3);
            push_str(&mut out, p.as_str());
            push_str(&mut out, ch.key());
        }
    }
    push_str(&mut out, c.campaign.as_deref().unwrap_or(""));
    out
}

fn decode_payload(mut b: &[u8]) -> Option<Claims> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if b.len() < n {
            return None;
        }
        let (head, tail) = b.split_at(n);
        *b = tail;
        Some(head)
    }
    fn take_str(b: &mut &[u8]) -> Option<String> {
        let n = *take(b, 1)?.first()? as usize;
        String::from_utf8(take(b, n)?.to_vec()).ok()
    }
    let subject = SubjectId(Uuid::from_slice(take(&mut b, 16)?).ok()?);
    let issued_at = i64::from_be_bytes(take(&mut b, 8)?.try_into().ok()?);
    let expires = i64::from_be_bytes(take(&mut b, 8)?.try_into().ok()?);
    let scope = match take(&mut b, 1)?[0] {
        0 => Scope::Everything,
        1 => Scope::AllMarketing,
        2 => Scope::Purpose(PurposeKey::parse(&take_str(&mut b)?).ok()?),
        3 => {
            let p = PurposeKey::parse(&take_str(&mut b)?).ok()?;
            let ch = take_str(&mut b)?.parse().ok()?;
            Scope::PurposeChannel(p, ch)
        }
        _ => return None,
    };
    let campaign = take_str(&mut b)?;
    if !b.is_empty() {
        return None;
    }
    Some(Claims {
        subject,
        scope,
        issued_at,
        expires_at: (expires != 0).then_some(expires),
        campaign: (!campaign.is_empty()).then_some(campaign),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(id: &str, byte: u8) -> SigningKey {
        SigningKey::new(id, vec![byte; 32]).unwrap()
    }

    fn claims() -> Claims {
        Claims {
            subject: SubjectId(Uuid::from_u128(42)),
            scope: Scope::Everything,
            issued_at: 1_700_000_000,
            expires_at: None,
            campaign: None,
        }
    }

    #[test]
    fn a_signed_token_verifies_and_is_url_safe() {
        let ring = Keyring::new(vec![key("k1", 1)]).unwrap();
        let t = ring.sign(&claims());
        assert!(t.starts_with("1.k1."));
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "{t}"
        );
        assert_eq!(ring.verify(&t, 1_800_000_000), Ok(claims()));
    }

    #[test]
    fn tampered_tokens_are_refused() {
        let ring = Keyring::new(vec![key("k1", 1)]).unwrap();
        let t = ring.sign(&claims());
        let other = Keyring::new(vec![key("k1", 2)]).unwrap().sign(&Claims {
            subject: SubjectId(Uuid::from_u128(43)),
            ..claims()
        });
        // The payload of another subject under this token's signature.
        let (head, _) = t.rsplit_once('.').unwrap();
        let (_, other_sig) = other.rsplit_once('.').unwrap();
        assert_eq!(
            ring.verify(&format!("{head}.{other_sig}"), 0),
            Err(TokenError::BadSignature)
        );
        let forged_payload =
            other.rsplit_once('.').unwrap().0.to_string() + "." + t.rsplit_once('.').unwrap().1;
        assert_eq!(
            ring.verify(&forged_payload, 0),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            ring.verify(&other, 0),
            Err(TokenError::BadSignature),
            "signed by a foreign key with the same id"
        );
        assert_eq!(ring.verify("garbage", 0), Err(TokenError::Malformed));
        assert_eq!(ring.verify("2.k1.AA.AA", 0), Err(TokenError::Malformed));
        assert_eq!(
            ring.verify(&t.replacen("k1", "k9", 1), 0),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn old_keys_still_verify_after_rotation() {
        let old = Keyring::new(vec![key("k1", 1)]).unwrap();
        let sent = old.sign(&claims());
        let rotated = Keyring::new(vec![key("k2", 2), key("k1", 1)]).unwrap();
        assert!(rotated.sign(&claims()).starts_with("1.k2."));
        assert_eq!(rotated.verify(&sent, 0), Ok(claims()));
        let retired = Keyring::new(vec![key("k2", 2)]).unwrap();
        assert_eq!(retired.verify(&sent, 0), Err(TokenError::UnknownKey));
    }

    #[test]
    fn expiry_is_enforced() {
        let ring = Keyring::new(vec![key("k1", 1)]).unwrap();
        let t = ring.sign(&Claims {
            expires_at: Some(100),
            ..claims()
        });
        assert!(ring.verify(&t, 99).is_ok());
        assert_eq!(ring.verify(&t, 100), Err(TokenError::Expired));
    }

    #[test]
    fn keys_are_validated_and_secrets_not_printed() {
        assert!(SigningKey::new("k1", vec![0; 31]).is_err());
        assert!(SigningKey::new("k-1", vec![0; 32]).is_err());
        assert!(Keyring::new(vec![key("a", 1), key("a", 2)]).is_err());
        assert!(!format!("{:?}", key("k1", 0xab)).contains("171"));
    }

    fn scope() -> impl Strategy<Value = Scope> {
        prop_oneof![
            Just(Scope::Everything),
            Just(Scope::AllMarketing),
            "[a-z][a-z0-9_]{1,20}".prop_map(|p| Scope::Purpose(PurposeKey::parse(&p).unwrap())),
            ("[a-z][a-z0-9_]{1,20}", 0usize..6).prop_map(|(p, c)| Scope::PurposeChannel(
                PurposeKey::parse(&p).unwrap(),
                Channel::ALL[c]
            )),
        ]
    }

    proptest! {
        #[test]
        fn every_claim_round_trips(subject: u128, iat in 0i64..4_000_000_000, exp in proptest::option::of(1i64..i64::MAX),
                                   scope in scope(), campaign in proptest::option::of("[a-zA-Z0-9_-]{1,40}")) {
            let ring = Keyring::new(vec![key("k1", 7)]).unwrap();
            let c = Claims { subject: SubjectId(Uuid::from_u128(subject)), scope, issued_at: iat, expires_at: exp, campaign };
            let t = ring.sign(&c);
            prop_assert!(t.len() < 200);
            prop_assert_eq!(ring.verify(&t, 0), Ok(c));
        }

        #[test]
        fn flipping_any_character_is_detected(pos in 0usize..90) {
            let ring = Keyring::new(vec![key("k1", 7)]).unwrap();
            let t = ring.sign(&claims());
            let pos = pos % t.len();
            let mut bytes = t.clone().into_bytes();
            bytes[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            prop_assume!(changed != t);
            prop_assert!(ring.verify(&changed, 0).is_err());
        }
    }
}

/// Confirmation links of grants asked for through a link (confirm.rs).
pub mod confirm;

/// Reply codes in the local part of `mailto:` unsubscribe addresses (reply.rs).
pub mod reply;
