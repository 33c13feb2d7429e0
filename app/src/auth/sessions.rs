//! Sessions and their expiry, single-use sign-in links, double opt-in requests.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::AdminId;
use crate::domain::{Invalid, SubjectId};

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
    /// The collection point whose signup form made the request, and the form's version.
    pub collection_point: Option<String>,
    pub form_version: Option<i64>,
    /// Purposes asked for besides `purpose` (a form may offer several); one click grants all.
    pub also_purposes: Vec<crate::domain::PurposeKey>,
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
    use crate::auth::{random_token, token_hash};
    use time::macros::datetime;

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
