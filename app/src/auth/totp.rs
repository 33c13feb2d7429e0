//! TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), its otpauth URIs and base32.

use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

use super::random_bytes;

pub const TOTP_STEP_SECONDS: i64 = 30;

/// The code of one time step (RFC 4226 dynamic truncation).
pub fn totp_code(secret: &[u8], step: u64, digits: u32) -> u32 {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[19] & 0x0f) as usize;
    let bin = (u32::from(h[offset]) & 0x7f) << 24
        | u32::from(h[offset + 1]) << 16
        | u32::from(h[offset + 2]) << 8
        | u32::from(h[offset + 3]);
    bin % 10u32.pow(digits)
}

/// The time step a code was accepted for, if `code` matches the current step or one next to it
/// (clock drift) and that step is later than `last_step` (no replay).
pub fn verify_totp(secret_b32: &str, code: &str, now_unix: i64, last_step: i64) -> Option<i64> {
    let secret = base32_decode(secret_b32)?;
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let given: u32 = code.parse().ok()?;
    let now_step = now_unix.div_euclid(TOTP_STEP_SECONDS);
    [now_step - 1, now_step, now_step + 1]
        .into_iter()
        .filter(|&s| s > last_step && s >= 0)
        .find(|&s| {
            let expected = totp_code(&secret, s as u64, 6);
            bool::from(expected.to_be_bytes().ct_eq(&given.to_be_bytes()))
        })
}

/// A new 160-bit TOTP secret, base32 (what authenticator apps take).
pub fn new_totp_secret() -> String {
    base32_encode(&random_bytes::<20>())
}

/// The `otpauth://` URI authenticator apps scan.
pub fn otpauth_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'@' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(BASE32[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(BASE32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !matches!(c, b' ' | b'=' | b'-')) {
        let v = BASE32.iter().position(|&x| x == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn totp_matches_the_rfc_6238_test_vectors() {
        // RFC 6238 appendix B, SHA-1, 8 digits.
        let secret = b"12345678901234567890";
        for (t, code) in [
            (59u64, 94287082),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(totp_code(secret, t / 30, 8), code, "t={t}");
        }
    }

    #[test]
    fn a_totp_code_is_accepted_once_within_the_drift_window() {
        let secret = new_totp_secret();
        let raw = base32_decode(&secret).unwrap();
        let now = 1_800_000_000i64;
        let code = format!("{:06}", totp_code(&raw, (now / 30) as u64, 6));
        let step = verify_totp(&secret, &code, now, 0).expect("current code");
        assert_eq!(step, now / 30);
        assert_eq!(verify_totp(&secret, &code, now, step), None, "replayed");
        assert!(
            verify_totp(&secret, &code, now + 30, 0).is_some(),
            "one step late"
        );
        assert_eq!(verify_totp(&secret, &code, now + 90, 0), None, "too late");
        assert_eq!(verify_totp(&secret, "12345", now, 0), None);
        assert_eq!(verify_totp(&secret, "abcdef", now, 0), None);
    }

    #[test]
    fn otpauth_uris_carry_issuer_and_secret() {
        let uri = otpauth_uri("Doui", "a@b.jp", "JBSWY3DP");
        assert!(uri.starts_with("otpauth://totp/Doui:a@b.jp?secret=JBSWY3DP&issuer=Doui"));
    }

    proptest! {
        #[test]
        fn base32_round_trips(bytes in proptest::collection::vec(any::<u8>(), 1..40)) {
            prop_assert_eq!(base32_decode(&base32_encode(&bytes)).unwrap(), bytes);
        }
    }
}
