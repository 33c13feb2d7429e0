//! Accounts, sessions, sign-in links and the shared account-protection limits.

use super::*;

/// The account-protection limits every instance sharing the database counts together (sign-in
/// mails, admin passwords, refused link tokens).
#[async_trait]
pub trait LimitStore: Send + Sync + 'static {
    /// Whether other instances may share this database (PostgreSQL). A SQLite database belongs
    /// to one process, whose table in memory is then the whole count: nothing is written.
    fn limits_shared(&self) -> bool;
    /// Applies `op` at `now` (unix seconds) to the record kept under `key`, in one transaction
    /// (a concurrent instance waits for it), and answers whether the action is allowed.
    async fn apply_limit(
        &self,
        key: &str,
        op: crate::rate::LimitOp,
        now: i64,
    ) -> StoreResult<Result<(), crate::rate::RetryAfter>>;
    /// Forgets the records not changed since `before` (unix seconds); returns how many.
    async fn prune_limits(&self, before: i64) -> StoreResult<u64>;
}

/// Accounts and sessions: admins, customer and admin sessions, single-use sign-in links, and the
/// shared limits that protect them.
#[async_trait]
pub trait IdentityStore: LimitStore + Send + Sync + 'static {
    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()>;
    async fn session(&self, id_hash: &str) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, id_hash: &str, at: OffsetDateTime) -> StoreResult<()>;
    async fn revoke_session(&self, id_hash: &str, at: OffsetDateTime) -> StoreResult<()>;
    /// Revokes every live session of a principal; returns how many.
    async fn revoke_sessions(&self, principal: Principal, at: OffsetDateTime) -> StoreResult<u64>;

    async fn create_sign_in_link(&self, link: &SignInLink) -> StoreResult<()>;
    async fn sign_in_link(&self, token_hash: &str) -> StoreResult<Option<SignInLink>>;
    /// Marks a link used; false when it was used already (only one caller can win).
    async fn use_sign_in_link(&self, token_hash: &str, at: OffsetDateTime) -> StoreResult<bool>;

    async fn create_opt_in_request(&self, request: &crate::auth::OptInRequest) -> StoreResult<()>;
    async fn opt_in_request(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<crate::auth::OptInRequest>>;
    /// Marks a request confirmed if it is unconfirmed and unexpired at `at`; false otherwise
    /// (only one caller can win).
    async fn confirm_opt_in_request(
        &self,
        token_hash: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;

    async fn create_admin(&self, admin: &Admin) -> StoreResult<()>;
    async fn admin(&self, id: AdminId) -> StoreResult<Option<Admin>>;
    async fn admin_by_email(&self, email: &str) -> StoreResult<Option<Admin>>;
    /// Every admin, oldest first.
    async fn admins(&self) -> StoreResult<Vec<Admin>>;
    /// Saves role, password hash, TOTP secret and disabled time.
    async fn update_admin(&self, admin: &Admin) -> StoreResult<()>;
    /// Records a TOTP step as used; false when that step or a later one was used already.
    async fn use_totp_step(&self, id: AdminId, step: i64) -> StoreResult<bool>;

    /// Records that every link of `subject` issued at or before `issued_upto` (unix seconds) is
    /// revoked: who did it and why (append-only).
    async fn revoke_links(
        &self,
        subject: SubjectId,
        at: OffsetDateTime,
        issued_upto: i64,
        revoked_by: &str,
        reason: &str,
    ) -> StoreResult<()>;
    /// The latest issue time up to which the subject's links are revoked, if ever.
    async fn links_revoked_upto(&self, subject: SubjectId) -> StoreResult<Option<i64>>;
}
