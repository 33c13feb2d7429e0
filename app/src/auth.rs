//! Identity without I/O: admin roles, the password policy, TOTP (RFC 6238), sessions and their
//! expiry, single-use sign-in links, CSRF tokens. The services store and send; this decides.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::domain::{Invalid, SubjectId};

/// What an admin may do. Each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads subjects, histories and exports.
    Viewer,
    /// Also changes a consent on a subject's behalf, with a recorded reason.
    Operator,
    /// Also manages purposes, channels, admins and API keys.
    Owner,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Owner];

    pub fn key(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Owner => "owner",
        }
    }

    /// Whether this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl std::str::FromStr for Role {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Role::ALL
            .into_iter()
            .find(|r| r.key() == s)
            .ok_or(Invalid::new("role", "unknown_role"))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AdminId(pub Uuid);

impl fmt::Display for AdminId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An admin account. The password is kept only as an argon2id PHC string.
#[derive(Clone, PartialEq, Eq)]
pub struct Admin {
    pub id: AdminId,
    /// Lower-cased.
    pub email: String,
    pub role: Role,
    pub password_hash: String,
    /// Base32 TOTP secret, when the second factor is enrolled.
    pub totp_secret: Option<String>,
    /// The last TOTP time step accepted (a code is never accepted twice).
    pub totp_last_step: i64,
    pub created_at: OffsetDateTime,
    pub disabled_at: Option<OffsetDateTime>,
}

impl fmt::Debug for Admin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admin")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("totp", &self.totp_secret.is_some())
            .field("disabled_at", &self.disabled_at)
            .finish_non_exhaustive()
    }
}

/// A normalised admin email: trimmed, lower-cased, one `@` with text on both sides.
pub fn admin_email(raw: &str) -> Result<String, Invalid> {
    let email = raw.trim().to_lowercase();
    match email.split_once('@') {
        Some((l, d))
            if !l.is_empty() && d.contains('.') && !d.contains('@') && email.len() <= 254 =>
        {
            Ok(email)
        }
        _ => Err(Invalid::new("email", "malformed_email")),
    }
}

// ---------------------------------------------------------------------------------------------
// Passwords

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Passwords seen in breach corpora again and again (12 characters or longer, since shorter ones
/// are refused anyway), compared without case.
const COMMON_PASSWORDS: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456123456",
    "111111111111",
    "000000000000",
    "123123123123",
    "abc123abc123",
    "password1234",
    "password12345",
    "password123!",
    "passwordpassword",
    "password123456",
    "qwertyuiop12",
    "qwertyuiop123",
    "qwerty123456",
    "qwertyqwerty",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "asdfghjkl123",
    "iloveyou1234",
    "letmein12345",
    "welcome12345",
    "welcome123456",
    "administrator",
    "administrator1",
    "admin1234567",
    "adminadmin123",
    "changeme1234",
    "changeme12345",
    "trustno1trustno1",
    "football1234",
    "baseball1234",
    "sunshine1234",
    "princess1234",
    "monkey123456",
    "dragon123456",
    "superman1234",
    "starwars1234",
    "p@ssw0rd1234",
    "p@ssword1234",
    "passw0rd1234",
    "aaaaaaaaaaaa",
    "abcdefghijkl",
    "abcdefg12345",
    "correcthorsebatterystaple",
    "doui-password",
    "douidouidoui",
];

/// Checks a new password: long enough, not absurdly long, not a common one, not the email.
pub fn check_new_password(password: &str, email: &str) -> Result<(), Invalid> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Invalid::new("password", "password_too_short"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Invalid::new("password", "password_too_long"));
    }
    let lower = password.to_lowercase();
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    let one_char = lower.chars().all(|c| lower.starts_with(c));
    if one_char
        || COMMON_PASSWORDS.contains(&lower.as_str())
        || lower == email.to_lowercase()
        || (local.len() >= 4 && lower.starts_with(&local) && lower.len() - local.len() <= 6)
    {
        return Err(Invalid::new("password", "password_common"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits)

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

// ---------------------------------------------------------------------------------------------
// Random tokens, their stored hashes, CSRF tokens

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
}

// ---------------------------------------------------------------------------------------------
// Sessions and sign-in links

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Customer,
    Admin,
}

impl SessionKind {
    pub fn key(self) -> &'static str {
        match self {
            SessionKind::Customer => "customer",
            SessionKind::Admin => "admin",
        }
    }

    /// The cookie that carries this kind of session.
    pub fn cookie(self) -> &'static str {
        match self {
            SessionKind::Customer => "doui_session",
            SessionKind::Admin => "doui_admin",
        }
    }

    /// How long a session lives without use, and at most.
    pub fn policy(self) -> SessionPolicy {
        match self {
            SessionKind::Customer => SessionPolicy {
                idle: Duration::days(7),
                absolute: Duration::days(30),
            },
            SessionKind::Admin => SessionPolicy {
                idle: Duration::minutes(30),
                absolute: Duration::hours(12),
            },
        }
    }
}

impl std::str::FromStr for SessionKind {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "customer" => Ok(SessionKind::Customer),
            "admin" => Ok(SessionKind::Admin),
            _ => Err(Invalid::new("session", "bad_request")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

/// Who a session is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    Subject(SubjectId),
    Admin(AdminId),
}

impl Principal {
    pub fn kind(self) -> SessionKind {
        match self {
            Principal::Subject(_) => SessionKind::Customer,
            Principal::Admin(_) => SessionKind::Admin,
        }
    }

    pub fn id(self) -> Uuid {
        match self {
            Principal::Subject(s) => s.0,
            Principal::Admin(a) => a.0,
        }
    }
}

/// A server-side session; the cookie holds a random secret, the database its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub principal: Principal,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

impl SessionRecord {
    pub fn new(id_hash: String, principal: Principal, now: OffsetDateTime) -> Self {
        Self {
            id_hash,
            principal,
            created_at: now,
            last_seen_at: now,
            revoked_at: None,
        }
    }

    /// Not revoked, used recently enough, and not older than the absolute limit.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        let p = self.principal.kind().policy();
        self.revoked_at.is_none()
            && now - self.last_seen_at < p.idle
            && now - self.created_at < p.absolute
    }

    /// Whether to record a use (at most once a minute, so reads stay reads).
    pub fn needs_touch(&self, now: OffsetDateTime) -> bool {
        now - self.last_seen_at >= Duration::minutes(1)
    }
}

/// How long an emailed sign-in link works.
pub const SIGN_IN_LINK_MINUTES: i64 = 15;

/// A double opt-in request (R58): who asked for what, from where, under which notice, and the
/// reference of the confirmation mail; confirmed once, before it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptInRequest {
    pub token_hash: String,
    pub email: String,
    pub purpose: crate::domain::PurposeKey,
    pub lang: crate::domain::Lang,
    pub requested_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub origin: crate::domain::Origin,
    pub url: Option<String>,
    pub notice_version: String,
    pub mail_ref: String,
    pub confirmed_at: Option<OffsetDateTime>,
}

impl OptInRequest {
    pub fn is_usable(&self, now: OffsetDateTime) -> bool {
        self.confirmed_at.is_none() && now < self.expires_at
    }
}

/// A single-use sign-in link; only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInLink {
    pub token_hash: String,
    pub subject: SubjectId,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

impl SignInLink {
    pub fn new(token_hash: String, subject: SubjectId, now: OffsetDateTime) -> Self {
        Self {
            token_hash,
            subject,
            created_at: now,
            expires_at: now + Duration::minutes(SIGN_IN_LINK_MINUTES),
            used_at: None,
        }
    }

    pub fn is_usable(&self, now: OffsetDateTime) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    #[test]
    fn roles_include_the_ones_before_them() {
        assert!(Role::Owner.allows(Role::Operator));
        assert!(Role::Operator.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Operator));
        assert!(!Role::Operator.allows(Role::Owner));
        for r in Role::ALL {
            assert_eq!(r.key().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn short_common_or_obvious_passwords_are_refused() {
        let email = "hanako@example.jp";
        assert_eq!(
            check_new_password("short", email).unwrap_err().problem,
            "password_too_short"
        );
        for p in [
            "Password1234",
            "QWERTYUIOP12",
            "aaaaaaaaaaaaaaa",
            "hanako@example.jp",
            "hanako-2026!",
        ] {
            assert_eq!(
                check_new_password(p, email).unwrap_err().problem,
                "password_common",
                "{p}"
            );
        }
        assert!(check_new_password("kumo-no-ue-de-odoru", email).is_ok());
        assert!(check_new_password("雲の上で踊る猫たちの夜の歌", email).is_ok());
    }

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

    #[test]
    fn sessions_expire_when_idle_revoked_or_too_old() {
        let t0 = datetime!(2026-11-01 00:00 UTC);
        let admin = SessionRecord::new("h".into(), Principal::Admin(AdminId(Uuid::nil())), t0);
        assert!(admin.is_live(t0 + Duration::minutes(29)));
        assert!(!admin.is_live(t0 + Duration::minutes(31)), "idle");
        let mut used = admin.clone();
        used.last_seen_at = t0 + Duration::hours(11) + Duration::minutes(50);
        assert!(used.is_live(t0 + Duration::hours(11) + Duration::minutes(55)));
        assert!(
            !used.is_live(t0 + Duration::hours(12) + Duration::minutes(1)),
            "absolute"
        );
        let mut revoked = admin.clone();
        revoked.revoked_at = Some(t0);
        assert!(!revoked.is_live(t0));
        let customer =
            SessionRecord::new("h".into(), Principal::Subject(SubjectId(Uuid::nil())), t0);
        assert!(customer.is_live(t0 + Duration::days(6)));
        assert!(!customer.is_live(t0 + Duration::days(8)));
    }

    #[test]
    fn sign_in_links_work_once_for_fifteen_minutes() {
        let t0 = datetime!(2026-11-01 00:00 UTC);
        let mut link = SignInLink::new(token_hash("x"), SubjectId(Uuid::nil()), t0);
        assert!(link.is_usable(t0 + Duration::minutes(14)));
        assert!(!link.is_usable(t0 + Duration::minutes(15)));
        link.used_at = Some(t0);
        assert!(!link.is_usable(t0));
        assert_eq!(token_hash("x").len(), 64);
        assert_ne!(random_token(), random_token());
    }
}
