//! Reply codes: what fits in the local part of a `mailto:` unsubscribe address (RFC 2369), at
//! most 64 characters and case-insensitive: `u-` and 50 base32 characters carrying the subject,
//! the scope (a purpose by a 4-byte hash of its key) and a 64-bit MAC. No expiry and no campaign
//! (a reply unsubscribes whenever it comes).

use super::*;

const LEN: usize = 31;
const CONTEXT: &[u8] = b"doui-reply\0";

fn purpose_hash(key: &PurposeKey) -> [u8; 4] {
    let digest = <Sha256 as sha2::Digest>::digest(key.as_str().as_bytes());
    [digest[0], digest[1], digest[2], digest[3]]
}

fn key_tag(key: &SigningKey) -> u8 {
    <Sha256 as sha2::Digest>::digest(key.id.as_bytes())[0]
}

fn mac(key: &SigningKey, body: &[u8]) -> [u8; 8] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.secret()).expect("HMAC takes any key length");
    mac.update(CONTEXT);
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    tag[..8].try_into().expect("8 bytes")
}

/// The local part for `subject` and `scope`, signed with the keyring's signing key.
pub fn code(ring: &Keyring, subject: SubjectId, scope: &Scope) -> String {
    let key = ring.signing_key();
    let mut body = Vec::with_capacity(LEN);
    body.extend_from_slice(subject.0.as_bytes());
    let (tag, hash, channel) = match scope {
        Scope::Everything | Scope::AllMarketing => (1u8, [0; 4], 0u8),
        Scope::Purpose(p) => (2, purpose_hash(p), 0),
        Scope::PurposeChannel(p, c) => (
            3,
            purpose_hash(p),
            Channel::ALL.iter().position(|x| x == c).unwrap_or(0) as u8,
        ),
    };
    body.push(tag);
    body.extend_from_slice(&hash);
    body.push(channel);
    body.push(key_tag(key));
    let tag = mac(key, &body);
    body.extend_from_slice(&tag);
    format!("u-{}", base32(&body))
}

/// Reads a local part back; `purposes` resolves the purpose hash. Constant-time MAC check.
pub fn verify(
    ring: &Keyring,
    local_part: &str,
    purposes: &[PurposeKey],
) -> Result<(SubjectId, Scope), TokenError> {
    let encoded = local_part
        .strip_prefix("u-")
        .or_else(|| local_part.strip_prefix("U-"))
        .ok_or(TokenError::Malformed)?;
    let bytes = unbase32(encoded).ok_or(TokenError::Malformed)?;
    if bytes.len() != LEN {
        return Err(TokenError::Malformed);
    }
    let (body, tag) = bytes.split_at(LEN - 8);
    let candidates: Vec<&SigningKey> = ring
        .keys
        .iter()
        .filter(|k| key_tag(k) == body[22])
        .collect();
    if candidates.is_empty() {
        return Err(TokenError::UnknownKey);
    }
    let genuine = candidates.iter().any(|k| {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(k.secret()).expect("HMAC takes any key length");
        mac.update(CONTEXT);
        mac.update(body);
        mac.verify_truncated_left(tag).is_ok()
    });
    if !genuine {
        return Err(TokenError::BadSignature);
    }
    let subject = SubjectId(Uuid::from_slice(&body[..16]).map_err(|_| TokenError::Malformed)?);
    let hash: [u8; 4] = body[17..21].try_into().expect("4 bytes");
    let purpose = || {
        purposes
            .iter()
            .find(|p| purpose_hash(p) == hash)
            .cloned()
            .ok_or(TokenError::Malformed)
    };
    let scope = match body[16] {
        1 => Scope::AllMarketing,
        2 => Scope::Purpose(purpose()?),
        3 => Scope::PurposeChannel(
            purpose()?,
            *Channel::ALL
                .get(body[21] as usize)
                .ok_or(TokenError::Malformed)?,
        ),
        _ => return Err(TokenError::Malformed),
    };
    Ok((subject, scope))
}

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn unbase32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c.to_ascii_lowercase())? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(id: &str, byte: u8) -> Keyring {
        Keyring::new(vec![SigningKey::new(id, vec![byte; 32]).unwrap()]).unwrap()
    }

    #[test]
    fn a_reply_code_fits_a_local_part_and_round_trips_in_any_case() {
        let r = ring("k1", 1);
        let newsletter = PurposeKey::parse("newsletter").unwrap();
        let purposes = vec![
            PurposeKey::parse("ad_targeting").unwrap(),
            newsletter.clone(),
        ];
        let scope = Scope::PurposeChannel(newsletter, Channel::Sms);
        let code = code(&r, SubjectId(Uuid::from_u128(5)), &scope);
        assert!(code.len() <= 64, "{}", code.len());
        assert!(
            code.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        );
        assert_eq!(
            verify(&r, &code, &purposes),
            Ok((SubjectId(Uuid::from_u128(5)), scope.clone()))
        );
        assert_eq!(
            verify(&r, &code.to_uppercase(), &purposes),
            Ok((SubjectId(Uuid::from_u128(5)), scope))
        );
    }

    #[test]
    fn forged_or_foreign_reply_codes_are_refused() {
        let r = ring("k1", 1);
        let code = code(&r, SubjectId(Uuid::from_u128(5)), &Scope::AllMarketing);
        let mut forged = code.clone().into_bytes();
        let i = 10;
        forged[i] = if forged[i] == b'a' { b'b' } else { b'a' };
        assert!(verify(&r, std::str::from_utf8(&forged).unwrap(), &[]).is_err());
        assert!(
            verify(&ring("k1", 2), &code, &[]).is_err(),
            "another installation's key"
        );
        assert!(verify(&r, "u-", &[]).is_err());
        assert!(verify(&r, "hello", &[]).is_err());
    }
}
