//! The password policy: length, common passwords, passwords made of the address.

use crate::domain::Invalid;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
