//! Random tokens and their stored hashes, cookies, CSRF tokens (double submit, signed).

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system's random source");
    b
}

/// A 256-bit random secret for a cookie or a link, URL-safe.
pub fn random_token() -> String {
    B64.encode(random_bytes::<32>())
}

/// What is stored in place of a secret token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The cookie that carries the CSRF token forms must echo.
pub const CSRF_COOKIE: &str = "doui_csrf";

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie_value<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, `Secure` over TLS; `max_age` in
/// seconds (0 deletes), or a browser-session cookie when `None`.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// The server's secret for CSRF tokens. Never printed.
#[derive(Clone)]
pub struct CsrfKey(Vec<u8>);

impl fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfKey(***)")
    }
}

impl CsrfKey {
    pub fn new(secret: Vec<u8>) -> Self {
        Self(secret)
    }

    fn mac(&self, nonce: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"doui-csrf\0");
        mac.update(nonce.as_bytes());
        B64.encode(&mac.finalize().into_bytes()[..18])
    }

    /// A new token: a random part and its MAC (so only this server can have made it).
    pub fn issue(&self) -> String {
        let nonce = B64.encode(random_bytes::<18>());
        let mac = self.mac(&nonce);
        format!("{nonce}.{mac}")
    }

    /// Whether this server made `token`.
    pub fn is_valid(&self, token: &str) -> bool {
        match token.split_once('.') {
            Some((nonce, mac)) if nonce.len() == 24 => {
                bool::from(self.mac(nonce).as_bytes().ct_eq(mac.as_bytes()))
            }
            _ => false,
        }
    }

    /// A form's token matches the cookie's (both made here, and equal: double submit).
    pub fn matches(&self, cookie: &str, field: &str) -> bool {
        self.is_valid(cookie) && bool::from(cookie.as_bytes().ct_eq(field.as_bytes()))
    }

    fn form_mac(&self, form: &str, issued: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"doui-signup-form\0");
        mac.update(form.as_bytes());
        mac.update(b"\0");
        mac.update(issued.to_string().as_bytes());
        B64.encode(&mac.finalize().into_bytes()[..18])
    }

    /// The hidden token of an embeddable signup form, bound to the form and the time it was
    /// shown (`issued`, Unix seconds): a framed form works with third-party cookies blocked.
    pub fn signup_form_token(&self, form: &str, issued: i64) -> String {
        format!("{issued}.{}", self.form_mac(form, issued))
    }

    /// Whether `token` was made here for `form`, at most `max_age` seconds before `now` (and
    /// not after it, but for a minute of clock skew between instances).
    pub fn signup_form_token_valid(&self, token: &str, form: &str, now: i64, max_age: i64) -> bool {
        let Some((issued, mac)) = token.split_once('.') else {
            return false;
        };
        let Ok(issued) = issued.parse::<i64>() else {
            return false;
        };
        issued <= now + 60
            && now - issued <= max_age
            && bool::from(self.form_mac(form, issued).as_bytes().ct_eq(mac.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signup_form_tokens_are_bound_to_their_form_and_time() {
        let k = CsrfKey::new(vec![7; 32]);
        let t = k.signup_form_token("web-signup", 1_000);
        assert!(k.signup_form_token_valid(&t, "web-signup", 1_010, 3600));
        assert!(!k.signup_form_token_valid(&t, "other-form", 1_010, 3600));
        assert!(!k.signup_form_token_valid(&t, "web-signup", 1_000 + 3601, 3600));
        assert!(
            !k.signup_form_token_valid(&t, "web-signup", 800, 3600),
            "from the future"
        );
        assert!(!k.signup_form_token_valid(
            &t.replace("1000.", "1001."),
            "web-signup",
            1_010,
            3600
        ));
        assert!(!CsrfKey::new(vec![8; 32]).signup_form_token_valid(&t, "web-signup", 1_010, 3600));
        assert!(!k.signup_form_token_valid("", "web-signup", 1_010, 3600));
    }

    #[test]
    fn cookies_are_read_and_written_safely() {
        let mut h = http::HeaderMap::new();
        h.append(
            http::header::COOKIE,
            "a=1; doui_session=abc".parse().unwrap(),
        );
        h.append(http::header::COOKIE, "doui_csrf=x.y".parse().unwrap());
        assert_eq!(cookie_value(&h, "doui_session"), Some("abc"));
        assert_eq!(cookie_value(&h, "doui_csrf"), Some("x.y"));
        assert_eq!(cookie_value(&h, "missing"), None);
        let c = set_cookie("doui_session", "v", true, Some(60));
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("Secure"));
        assert!(!set_cookie("doui_session", "v", false, None).contains("Secure"));
    }

    #[test]
    fn csrf_tokens_are_made_here_and_must_match_the_cookie() {
        let key = CsrfKey::new(vec![7; 32]);
        let other = CsrfKey::new(vec![8; 32]);
        let t = key.issue();
        assert!(key.is_valid(&t));
        assert!(!other.is_valid(&t));
        assert!(key.matches(&t, &t));
        assert!(!key.matches(&t, &key.issue()));
        assert!(!key.is_valid("forged.token"));
        assert!(!key.matches("", ""));
        assert!(!format!("{key:?}").contains('7'));
    }
}
