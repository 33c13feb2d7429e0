//! Ed25519 signatures for what leaves the database: chain checkpoints (a signed chain head that an
//! outsider keeps) and consent receipts (a JWS the person keeps). One key signs both; its public
//! half is published so anyone can check either without trusting the server.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use ed25519_dalek::Signer as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::domain::seal::Break;
use time::format_description::well_known::Rfc3339;

/// The private signing key. `Debug` never prints it.
#[derive(Clone)]
pub struct Signer {
    key: ed25519_dalek::SigningKey,
    id: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer {{ id: {}, key: *** }}", self.id)
    }
}

/// A public key that checks signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    key: ed25519_dalek::VerifyingKey,
    id: String,
}

/// The key id: the first 8 bytes of SHA-256 of the public key, hex.
fn key_id(public: &ed25519_dalek::VerifyingKey) -> String {
    Sha256::digest(public.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Signer {
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let id = key_id(&key.verifying_key());
        Self { key, id }
    }

    /// A seed written as base64url (32 bytes).
    pub fn from_text(text: &str) -> Result<Self, &'static str> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|_| "the signing key is not base64url")?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "the signing key must be 32 bytes")?;
        Ok(Self::from_seed(seed))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn verifier(&self) -> Verifier {
        Verifier {
            key: self.key.verifying_key(),
            id: self.id.clone(),
        }
    }

    pub fn sign(&self, message: &[u8]) -> String {
        B64.encode(self.key.sign(message).to_bytes())
    }
}

impl Verifier {
    /// A public key written as base64url (32 bytes).
    pub fn from_text(text: &str) -> Result<Self, &'static str> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|_| "the public key is not base64url")?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "the public key must be 32 bytes")?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| "the public key is not an Ed25519 key")?;
        Ok(Self {
            id: key_id(&key),
            key,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn to_text(&self) -> String {
        B64.encode(self.key.as_bytes())
    }

    pub fn verify(&self, message: &[u8], signature: &str) -> bool {
        let Ok(bytes) = B64.decode(signature) else {
            return false;
        };
        let Ok(sig) = ed25519_dalek::Signature::from_slice(&bytes) else {
            return false;
        };
        self.key.verify_strict(message, &sig).is_ok()
    }
}

/// A signed statement of the chain's head and length at a moment, as transparency logs publish:
/// whoever keeps one can later prove the chain was not rewritten below it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Who signs (the instance's public URL).
    pub origin: String,
    /// How many links the chain had.
    pub length: i64,
    /// The seal at that length (hex).
    pub head: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub key_id: String,
    /// base64url Ed25519 signature of `statement()`.
    pub signature: String,
}

impl Checkpoint {
    /// The signed text: a version line, then one value per line.
    pub fn statement(origin: &str, length: i64, head: &str, at: OffsetDateTime) -> String {
        let at = at.format(&Rfc3339).unwrap_or_default();
        format!("doui-checkpoint-v1\n{origin}\n{length}\n{head}\n{at}\n")
    }

    pub fn sign(
        signer: &Signer,
        origin: &str,
        length: i64,
        head: &str,
        at: OffsetDateTime,
    ) -> Self {
        // Whole microseconds, as stored by both databases.
        let at = at
            .replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
            .unwrap_or(at);
        let signature = signer.sign(Self::statement(origin, length, head, at).as_bytes());
        Self {
            origin: origin.to_owned(),
            length,
            head: head.to_owned(),
            at,
            key_id: signer.id().to_owned(),
            signature,
        }
    }

    /// Whether `verifier` signed exactly this.
    pub fn is_signed_by(&self, verifier: &Verifier) -> bool {
        self.key_id == verifier.id()
            && verifier.verify(
                Self::statement(&self.origin, self.length, &self.head, self.at).as_bytes(),
                &self.signature,
            )
    }
}

/// Checks one checkpoint against the seal the chain has now at its length (`None`: no such link).
pub fn check_checkpoint(
    checkpoint: &Checkpoint,
    seal_now: Option<&str>,
    verifier: &Verifier,
) -> Result<(), Break> {
    let length = checkpoint.length;
    if !checkpoint.is_signed_by(verifier) {
        return Err(Break::CheckpointSignature { length });
    }
    match seal_now {
        None => Err(Break::Truncated { length }),
        Some(s) if s != checkpoint.head => Err(Break::Rewritten { length }),
        Some(_) => Ok(()),
    }
}

/// A compact JWS (RFC 7515) with `alg` EdDSA (RFC 8037) over a JSON payload.
pub fn jws(signer: &Signer, payload: &serde_json::Value) -> String {
    let header = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": signer.id()});
    let signed = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(payload.to_string())
    );
    let signature = signer.sign(signed.as_bytes());
    format!("{signed}.{signature}")
}

/// Why a JWS did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    #[error("not a compact JWS (three base64url parts)")]
    Malformed,
    #[error("the JWS is not EdDSA")]
    Algorithm,
    #[error("signed with another key")]
    OtherKey,
    #[error("the signature does not match the content")]
    BadSignature,
}

/// The payload of a JWS `verifier` signed.
pub fn verify_jws(token: &str, verifier: &Verifier) -> Result<serde_json::Value, JwsError> {
    let token = token.trim();
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed);
    };
    let decode = |part: &str| -> Result<serde_json::Value, JwsError> {
        let bytes = B64.decode(part).map_err(|_| JwsError::Malformed)?;
        serde_json::from_slice(&bytes).map_err(|_| JwsError::Malformed)
    };
    let header = decode(h)?;
    if header["alg"] != "EdDSA" {
        return Err(JwsError::Algorithm);
    }
    if header["kid"]
        .as_str()
        .is_some_and(|kid| kid != verifier.id())
    {
        return Err(JwsError::OtherKey);
    }
    if !verifier.verify(format!("{h}.{p}").as_bytes(), s) {
        return Err(JwsError::BadSignature);
    }
    decode(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn signer(n: u8) -> Signer {
        Signer::from_seed([n; 32])
    }

    #[test]
    fn rfc8032_test_vector_1() {
        // RFC 8032 §7.1, TEST 1: the empty message.
        let seed: [u8; 32] = (0..32)
            .map(|i| {
                u8::from_str_radix(
                    &"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
                        [2 * i..2 * i + 2],
                    16,
                )
                .unwrap()
            })
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        let s = Signer::from_seed(seed);
        let hex = |b: Vec<u8>| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(B64.decode(s.verifier().to_text()).unwrap()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(
            hex(B64.decode(s.sign(b"")).unwrap()),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }

    #[test]
    fn a_checkpoint_verifies_only_unchanged_and_with_its_key() {
        let at = datetime!(2026-11-24 01:02:03.456789 UTC);
        let cp = Checkpoint::sign(&signer(1), "https://p.example", 42, &"ab".repeat(32), at);
        let v = signer(1).verifier();
        assert!(cp.is_signed_by(&v));
        assert_eq!(check_checkpoint(&cp, Some(&cp.head), &v), Ok(()));
        assert_eq!(
            check_checkpoint(&cp, Some(&"cd".repeat(32)), &v),
            Err(Break::Rewritten { length: 42 })
        );
        assert_eq!(
            check_checkpoint(&cp, None, &v),
            Err(Break::Truncated { length: 42 })
        );
        let mut longer = cp.clone();
        longer.length = 43;
        assert_eq!(
            check_checkpoint(&longer, Some(&cp.head), &v),
            Err(Break::CheckpointSignature { length: 43 })
        );
        assert!(!cp.is_signed_by(&signer(2).verifier()));
        let json = serde_json::to_string(&cp).unwrap();
        let back: Checkpoint = serde_json::from_str(&json).unwrap();
        assert!(back.is_signed_by(&v), "survives JSON: {json}");
    }

    #[test]
    fn a_jws_round_trips_and_refuses_changes() {
        let s = signer(3);
        let token = jws(&s, &serde_json::json!({"a": 1}));
        assert_eq!(
            verify_jws(&token, &s.verifier()).unwrap(),
            serde_json::json!({"a": 1})
        );
        let (head, _) = token.rsplit_once('.').unwrap();
        let (h, _) = head.split_once('.').unwrap();
        let forged = format!(
            "{h}.{}.{}",
            B64.encode(r#"{"a":2}"#),
            token.rsplit_once('.').unwrap().1
        );
        assert_eq!(
            verify_jws(&forged, &s.verifier()),
            Err(JwsError::BadSignature)
        );
        assert_eq!(
            verify_jws(&token, &signer(4).verifier()),
            Err(JwsError::OtherKey)
        );
        assert_eq!(verify_jws("a.b", &s.verifier()), Err(JwsError::Malformed));
        let v = Verifier::from_text(&s.verifier().to_text()).unwrap();
        assert_eq!(v, s.verifier());
        assert!(Signer::from_text("short").is_err());
    }
}
