//! Identity without I/O: admin roles, the password policy, TOTP (RFC 6238), sessions and their
//! expiry, single-use sign-in links, CSRF tokens. The services store and send; this decides.

mod data_key;
mod password;
mod secrets;
mod sessions;
mod totp;

pub use data_key::DataKey;
pub use password::*;
pub use secrets::*;
pub use sessions::*;
pub use totp::*;

use std::fmt;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::Invalid;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
