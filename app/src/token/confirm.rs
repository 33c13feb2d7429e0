//! Confirmation links: a grant asked for through a link (issue 30, item 9) is applied only from
//! the link mailed to the person's own address. `g1.<key id>.<payload>.<mac>`, with the payload
//! of a link token (the subject, the purpose and channel, issue time and expiry) under a MAC of
//! its own context, so no link of one kind is ever accepted as the other.

use super::*;

const VERSION: &str = "g1";
const CONTEXT: &[u8] = b"doui-grant\0";

fn mac(key: &SigningKey, signed: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.secret()).expect("HMAC takes any key length");
    mac.update(CONTEXT);
    mac.update(signed.as_bytes());
    mac
}

/// Signs `claims` (scope: the purpose on the channel to grant) with the signing key.
pub fn sign(ring: &Keyring, claims: &Claims) -> String {
    let key = ring.signing_key();
    let signed = format!(
        "{VERSION}.{}.{}",
        key.id,
        B64.encode(encode_payload(claims))
    );
    let tag = mac(key, &signed).finalize().into_bytes();
    format!("{signed}.{}", B64.encode(tag))
}

/// Checks the MAC (constant time) and the expiry against `now`.
pub fn verify(ring: &Keyring, token: &str, now: i64) -> Result<Claims, TokenError> {
    if token.len() > 1024 {
        return Err(TokenError::Malformed);
    }
    let (signed, tag) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let mut parts = signed.splitn(3, '.');
    let (Some(VERSION), Some(kid), Some(payload)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let key = ring
        .keys
        .iter()
        .find(|k| k.id == kid)
        .ok_or(TokenError::UnknownKey)?;
    let tag = B64.decode(tag).map_err(|_| TokenError::Malformed)?;
    mac(key, signed)
        .verify_slice(&tag)
        .map_err(|_| TokenError::BadSignature)?;
    let payload = B64.decode(payload).map_err(|_| TokenError::Malformed)?;
    let claims = decode_payload(&payload).ok_or(TokenError::Malformed)?;
    if !matches!(claims.scope, Scope::PurposeChannel(..)) {
        return Err(TokenError::Malformed);
    }
    if claims.expires_at.is_none_or(|exp| now >= exp) {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmation_link_and_a_preference_link_are_never_taken_for_each_other() {
        let ring = Keyring::new(vec![SigningKey::new("k1", vec![3; 32]).unwrap()]).unwrap();
        let claims = Claims {
            subject: SubjectId(Uuid::from_u128(9)),
            scope: Scope::PurposeChannel(PurposeKey::parse("ad_targeting").unwrap(), Channel::Web),
            issued_at: 1_000,
            expires_at: Some(2_000),
            campaign: None,
        };
        let grant = sign(&ring, &claims);
        assert_eq!(verify(&ring, &grant, 1_500), Ok(claims.clone()));
        assert_eq!(verify(&ring, &grant, 2_000), Err(TokenError::Expired));
        assert!(ring.verify(&grant, 1_500).is_err(), "not a preference link");
        let link = ring.sign(&claims);
        assert!(verify(&ring, &link, 1_500).is_err(), "not a confirmation");
        // The same payload and key id under the link's MAC: refused.
        let forged = format!("g1{}", &link[1..]);
        assert_eq!(verify(&ring, &forged, 1_500), Err(TokenError::BadSignature));
    }
}
