//! Admins' accounts: passwords (argon2id, hashed within the process's bound), TOTP, roles, and
//! signing in with them.

use std::{net::IpAddr, sync::OnceLock};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::SaltString,
};
use uuid::Uuid;

use super::{
    Refusal, Services,
    identity::{NewSession, ip_key},
    now,
};
use crate::{
    auth::{
        Admin, AdminId, Principal, Role, SessionKind, admin_email, check_new_password,
        new_totp_secret, random_bytes, random_token, verify_totp,
    },
    rate::LimitOp,
};

/// argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane). They are written into each
/// PHC string, so raising them later re-hashes each password at its next sign-in.
pub const ARGON2_M_KIB: u32 = 19_456;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None).expect("valid parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_password_now(password: &str) -> Result<String, Refusal> {
    let salt =
        SaltString::encode_b64(&random_bytes::<16>()).map_err(|_| Refusal::new("internal"))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| Refusal::new("internal"))
}

/// Whether `password` matches `phc`, and whether the hash should be redone with today's
/// parameters.
fn verify_password_now(phc: &str, password: &str) -> (bool, bool) {
    let Ok(hash) = PasswordHash::new(phc) else {
        return (false, false);
    };
    let ok = argon2().verify_password(password.as_bytes(), &hash).is_ok();
    (ok, ok && is_outdated(&hash))
}

/// The refusal when too many passwords are being hashed already: try again in a moment.
fn hashing_busy(_: crate::rate::Busy) -> Refusal {
    Refusal {
        code: "unavailable",
        retry_after: Some(1),
    }
}

fn is_outdated(hash: &PasswordHash<'_>) -> bool {
    let weaker = Params::try_from(hash).map_or(true, |p| {
        p.m_cost() < ARGON2_M_KIB || p.t_cost() < ARGON2_T || p.p_cost() < ARGON2_P
    });
    hash.algorithm.as_str() != "argon2id" || weaker
}

/// A hash to verify against when the account does not exist, so both cost the same time.
fn decoy_hash() -> String {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY
        .get_or_init(|| {
            hash_password_now(&random_token()).unwrap_or_else(|_| {
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGg"
                    .into()
            })
        })
        .clone()
}

/// What an admin's stored TOTP secret is sealed as (the data key binds each secret to its use).
const TOTP_SECRET: &str = "totp";

impl Services {
    /// Hashes a password (argon2 takes tens of milliseconds and 19 MiB on purpose), off the
    /// async threads and within the process's bound on hashing at once.
    pub async fn hash_password(&self, password: String) -> Result<String, Refusal> {
        self.limiter
            .hashing
            .run(move || hash_password_now(&password))
            .await
            .map_err(hashing_busy)?
    }

    /// Whether `password` matches `phc` (and whether to re-hash it), within the same bound.
    async fn verify_password(
        &self,
        phc: String,
        password: String,
    ) -> Result<(bool, bool), Refusal> {
        self.limiter
            .hashing
            .run(move || verify_password_now(&phc, &password))
            .await
            .map_err(hashing_busy)
    }

    pub async fn create_admin(
        &self,
        email: &str,
        role: Role,
        password: &str,
    ) -> Result<Admin, Refusal> {
        let email = admin_email(email)?;
        check_new_password(password, &email)?;
        let admin = Admin {
            id: AdminId(Uuid::now_v7()),
            email,
            role,
            password_hash: self.hash_password(password.to_owned()).await?,
            totp_secret: None,
            totp_last_step: 0,
            created_at: now(),
            disabled_at: None,
        };
        self.identity.create_admin(&admin).await?;
        Ok(admin)
    }

    pub async fn admin_named(&self, email: &str) -> Result<Admin, Refusal> {
        let email = admin_email(email)?;
        self.identity
            .admin_by_email(&email)
            .await?
            .ok_or(Refusal::new("unknown_admin"))
    }

    /// Sets a new password (the policy applies) and signs the admin out everywhere.
    pub async fn set_admin_password(&self, email: &str, password: &str) -> Result<(), Refusal> {
        let mut admin = self.admin_named(email).await?;
        check_new_password(password, &admin.email)?;
        admin.password_hash = self.hash_password(password.to_owned()).await?;
        self.identity.update_admin(&admin).await?;
        self.identity
            .revoke_sessions(Principal::Admin(admin.id), now())
            .await?;
        Ok(())
    }

    /// Enrolls a new TOTP secret (replacing any) and returns it, base32. It is stored encrypted
    /// with the data key.
    pub async fn enroll_totp(&self, email: &str) -> Result<String, Refusal> {
        let mut admin = self.admin_named(email).await?;
        let secret = new_totp_secret();
        admin.totp_secret = Some(self.data_key.seal(TOTP_SECRET, &secret));
        self.identity.update_admin(&admin).await?;
        Ok(secret)
    }

    /// Encrypts the TOTP secrets stored before they were encrypted (once, at start); how many.
    pub async fn seal_stored_totp_secrets(&self) -> Result<usize, Refusal> {
        let mut sealed = 0;
        for mut admin in self.identity.admins().await? {
            let Some(plain) = admin
                .totp_secret
                .as_deref()
                .filter(|s| !crate::auth::DataKey::is_sealed(s))
                .map(str::to_owned)
            else {
                continue;
            };
            admin.totp_secret = Some(self.data_key.seal(TOTP_SECRET, &plain));
            self.identity.update_admin(&admin).await?;
            sealed += 1;
        }
        Ok(sealed)
    }

    /// Changes a role; the last owner cannot be demoted or disabled (someone must manage).
    pub async fn set_admin_role(
        &self,
        email: &str,
        role: Role,
        disabled: bool,
    ) -> Result<Admin, Refusal> {
        let mut admin = self.admin_named(email).await?;
        let losing_owner = admin.role == Role::Owner
            && admin.disabled_at.is_none()
            && (role != Role::Owner || disabled);
        if losing_owner {
            let owners = self
                .identity
                .admins()
                .await?
                .into_iter()
                .filter(|a| a.role == Role::Owner && a.disabled_at.is_none())
                .count();
            if owners <= 1 {
                return Err(Refusal::new("last_owner"));
            }
        }
        admin.role = role;
        admin.disabled_at = match (disabled, admin.disabled_at) {
            (true, None) => Some(now()),
            (true, at) => at,
            (false, _) => None,
        };
        self.identity.update_admin(&admin).await?;
        if disabled {
            self.identity
                .revoke_sessions(Principal::Admin(admin.id), now())
                .await?;
        }
        Ok(admin)
    }

    /// Password (and TOTP code) sign-in. Every failure looks the same from outside. Each try
    /// is counted before its password is checked (parallel tries see each other), and given
    /// back when the password was right: a client address that fails too often is stopped for
    /// a while, and failures against one account from one network make the next try from
    /// there wait longer and longer. Failures from elsewhere never make the owner wait, so
    /// nobody can lock an admin out.
    pub async fn admin_sign_in(
        &self,
        email: &str,
        password: &str,
        code: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<(NewSession, Admin), Refusal> {
        let limits = self.settings.limits;
        let t = Self::unix_now();
        let email = admin_email(email).unwrap_or_else(|_| email.trim().to_lowercase());
        let network = ip_key(ip);
        let ip_counter = format!("password-ip:{network}");
        let account = format!("password-account:{network}:{email}");
        let per_ip = LimitOp::Hit(limits.password_failures_per_ip);
        let refund = LimitOp::Refund(limits.password_failures_per_ip);
        let reserve = LimitOp::Reserve {
            free: limits.password_free_failures,
            max_delay: limits.password_max_delay_secs,
        };
        // Counted by every instance sharing the database, before the password is checked (a
        // success gives the try back): parallel tries on several instances see each other.
        self.protect(&ip_counter, per_ip).await?;
        if let Err(r) = self.protect(&account, reserve).await {
            self.unprotect(&ip_counter, refund).await;
            return Err(r);
        }
        // The password was right (or never checked): the try does not count.
        let not_a_failure = || async {
            self.unprotect(&ip_counter, refund).await;
            self.unprotect(&account, LimitOp::Reset).await;
        };
        if password.len() > crate::auth::MAX_PASSWORD_CHARS * 4 {
            return Err(Refusal::new("sign_in_failed"));
        }
        let admin = self.identity.admin_by_email(&email).await?;
        let phc = admin
            .as_ref()
            .map_or_else(decoy_hash, |a| a.password_hash.clone());
        let (ok, outdated) = match self.verify_password(phc, password.to_owned()).await {
            Ok(v) => v,
            Err(busy) => {
                self.unprotect(&ip_counter, refund).await;
                self.unprotect(&account, LimitOp::Undo).await;
                return Err(busy);
            }
        };
        let mut admin = match admin {
            Some(a) if ok && a.disabled_at.is_none() => a,
            _ => return Err(Refusal::new("sign_in_failed")),
        };
        match (
            &admin.totp_secret,
            code.map(str::trim).filter(|c| !c.is_empty()),
        ) {
            (Some(_), None) => {
                not_a_failure().await;
                return Err(Refusal::new("totp_required"));
            }
            (Some(stored), Some(code)) => {
                let Some(secret) = self.data_key.open(TOTP_SECRET, stored) else {
                    tracing::error!(admin = %admin.id, "the TOTP secret does not open with this data key");
                    return Err(Refusal::new("internal"));
                };
                let step = verify_totp(&secret, code, t, admin.totp_last_step)
                    .ok_or(Refusal::new("totp_invalid"))?;
                if !self.identity.use_totp_step(admin.id, step).await? {
                    return Err(Refusal::new("totp_invalid"));
                }
            }
            (None, _) if self.settings.require_totp => {
                not_a_failure().await;
                return Err(Refusal::new("totp_enrollment_required"));
            }
            (None, _) => {}
        }
        not_a_failure().await;
        if outdated {
            match self.hash_password(password.to_owned()).await {
                Ok(phc) => {
                    admin.password_hash = phc;
                    self.identity.update_admin(&admin).await?;
                    tracing::info!(admin = %admin.id, "password re-hashed with current parameters");
                }
                // Busy: the next sign-in re-hashes it.
                Err(_) => tracing::info!(admin = %admin.id, "re-hash put off: hashing is busy"),
            }
        }
        let session = self.start_session(Principal::Admin(admin.id)).await?;
        Ok((session, admin))
    }

    /// The signed-in admin, if their role allows `needed` (401 when not signed in, 403 when
    /// the role is too low).
    pub async fn admin(&self, cookie: &str, needed: Role) -> Result<Admin, Refusal> {
        let session = self
            .session(SessionKind::Admin, cookie)
            .await?
            .ok_or(Refusal::new("sign_in_required"))?;
        let Principal::Admin(id) = session.principal else {
            return Err(Refusal::new("sign_in_required"));
        };
        let admin = self
            .identity
            .admin(id)
            .await?
            .filter(|a| a.disabled_at.is_none())
            .ok_or(Refusal::new("sign_in_required"))?;
        if !admin.role.allows(needed) {
            return Err(Refusal::new("forbidden_role"));
        }
        Ok(admin)
    }

    pub async fn has_admins(&self) -> Result<bool, Refusal> {
        Ok(!self.identity.admins().await?.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_use_argon2id_with_owasp_parameters_and_weaker_ones_are_outdated() {
        let phc = hash_password_now("kumo-no-ue-de-odoru").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        let hash = PasswordHash::new(&phc).unwrap();
        assert!(!is_outdated(&hash));
        assert!(
            argon2()
                .verify_password(b"kumo-no-ue-de-odoru", &hash)
                .is_ok()
        );
        assert!(argon2().verify_password(b"wrong", &hash).is_err());

        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(&[1; 16]).unwrap();
        let old = weak.hash_password(b"pw", &salt).unwrap().to_string();
        assert!(is_outdated(&PasswordHash::new(&old).unwrap()));
    }
}
