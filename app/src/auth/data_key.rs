//! The data key: the server's secret for what it keeps about people and admins at rest. From it
//! come the keyed digests of erased identifiers (so a stored digest cannot be confirmed by
//! guessing addresses) and the key that encrypts TOTP secrets. It must stay the same for the
//! life of the database, and every instance sharing the database must have it.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use hmac::{Hmac, Mac};
use ring::aead::{self, Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sha2::Sha256;

use super::random_bytes;

/// What an encrypted secret starts with (its format's version).
const SEALED_PREFIX: &str = "v1:";

pub struct DataKey {
    digest: Vec<u8>,
    aead: LessSafeKey,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(***)")
    }
}

/// HMAC-SHA256 of `label` under `secret`: one independent key per use.
fn derive(secret: &[u8], label: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

impl DataKey {
    pub fn new(secret: &[u8]) -> Self {
        let enc = derive(secret, b"doui data key: secrets at rest v1");
        Self {
            digest: derive(secret, b"doui data key: erased identifiers v1").to_vec(),
            aead: LessSafeKey::new(
                UnboundKey::new(&CHACHA20_POLY1305, &enc).expect("a 32-byte key"),
            ),
        }
    }

    /// The keyed digest (hex HMAC-SHA256) of `message`.
    pub fn digest(&self, message: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.digest).expect("any key length");
        mac.update(message.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// `secret` encrypted (ChaCha20-Poly1305, a random nonce), bound to `what` it is.
    pub fn seal(&self, what: &str, secret: &str) -> String {
        let nonce = random_bytes::<NONCE_LEN>();
        let mut data = secret.as_bytes().to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(what.as_bytes()),
                &mut data,
            )
            .expect("a short secret always seals");
        let mut out = nonce.to_vec();
        out.extend(data);
        format!("{SEALED_PREFIX}{}", B64.encode(out))
    }

    /// Whether `stored` is already encrypted (secrets stored before encryption are not).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED_PREFIX)
    }

    /// The secret `stored` holds: decrypted, or as it is when it was stored before encryption.
    /// `None` when it does not open with this key (another key, or changed in the database).
    pub fn open(&self, what: &str, stored: &str) -> Option<String> {
        let Some(text) = stored.strip_prefix(SEALED_PREFIX) else {
            return Some(stored.to_owned());
        };
        let bytes = B64.decode(text).ok()?;
        if bytes.len() < NONCE_LEN + aead::MAX_TAG_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let mut data = sealed.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(what.as_bytes()), &mut data)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_sealed_and_open_only_with_the_same_key_and_use() {
        let key = DataKey::new(&[1; 32]);
        let sealed = key.seal("totp", "JBSWY3DPEHPK3PXP");
        assert!(DataKey::is_sealed(&sealed) && !sealed.contains("JBSWY3DP"));
        assert_ne!(
            sealed,
            key.seal("totp", "JBSWY3DPEHPK3PXP"),
            "a fresh nonce"
        );
        assert_eq!(
            key.open("totp", &sealed).as_deref(),
            Some("JBSWY3DPEHPK3PXP")
        );
        assert_eq!(key.open("other", &sealed), None, "bound to its use");
        assert_eq!(DataKey::new(&[2; 32]).open("totp", &sealed), None);
        // One bit of the ciphertext changed (after the 12-byte nonce).
        let mut bytes = B64
            .decode(sealed.strip_prefix(SEALED_PREFIX).unwrap())
            .unwrap();
        bytes[NONCE_LEN] ^= 1;
        let tampered = format!("{SEALED_PREFIX}{}", B64.encode(&bytes));
        assert_eq!(key.open("totp", &tampered), None);
        assert_eq!(key.open("totp", "PLAINTEXT").as_deref(), Some("PLAINTEXT"));
    }

    #[test]
    fn digests_are_keyed() {
        let a = DataKey::new(&[1; 32]);
        assert_eq!(
            a.digest("email:a@example.jp"),
            a.digest("email:a@example.jp")
        );
        assert_ne!(
            a.digest("email:a@example.jp"),
            DataKey::new(&[2; 32]).digest("email:a@example.jp")
        );
        assert_eq!(a.digest("x").len(), 64);
    }
}
