//! Who is there: customers signing in by emailed link, the server-side sessions of customers
//! and admins, and the rate limits on every way in (admins' passwords and TOTP are in
//! admin_accounts.rs).

use std::net::IpAddr;

use super::{Refusal, Services, Visitor, now};
use crate::{
    auth::{
        Principal, SIGN_IN_LINK_MINUTES, SessionKind, SessionRecord, SignInLink, random_token,
        token_hash,
    },
    domain::Email,
    mail::sign_in_mail,
    rate::{LimitOp, RetryAfter},
    token::Scope,
};

pub(super) fn limited(r: RetryAfter) -> Refusal {
    Refusal::rate_limited(r.0)
}

/// What limits count a client by: its IPv4 address, or its IPv6 /64 (one subscriber's
/// network: a host picks any address in it at will).
pub(super) fn ip_key(ip: Option<IpAddr>) -> String {
    match ip {
        None => "unknown".to_owned(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// A new session: the secret for the cookie (only its hash is stored).
pub struct NewSession {
    pub cookie: String,
    pub principal: Principal,
}

impl Services {
    pub(super) fn unix_now() -> i64 {
        now().unix_timestamp()
    }

    /// A token was refused: counted against this client, and once it has had too many refused
    /// lately the answer is "wait" instead. Only refusals are counted and only after the token
    /// was checked, so a valid token is never refused here.
    /// Counted by every instance sharing the database.
    pub async fn token_refused(&self, ip: Option<IpAddr>, refusal: Refusal) -> Refusal {
        let limit = self.settings.limits.token_failures_per_ip;
        let key = format!("token-ip:{}", ip_key(ip));
        match self.protect(&key, LimitOp::Hit(limit)).await {
            Ok(()) => refusal,
            Err(r) => r,
        }
    }

    /// The limits on mail sent to an address on request (sign-in links, double opt-in
    /// confirmations): per client address and per address mailed, each checked and counted in
    /// one step, so parallel requests cannot all pass a check before any is counted.
    /// Counted by every instance sharing the database.
    pub(super) async fn hit_mail_limits(
        &self,
        ip: Option<IpAddr>,
        email: &Email,
    ) -> Result<(), Refusal> {
        let limits = self.settings.limits;
        self.protect(
            &format!("signin-ip:{}", ip_key(ip)),
            LimitOp::Hit(limits.sign_in_per_ip),
        )
        .await?;
        self.protect(
            &format!("signin-addr:{}", email.as_str().to_lowercase()),
            LimitOp::Hit(limits.sign_in_per_address),
        )
        .await
    }

    // -----------------------------------------------------------------------------------------
    // Customers

    /// Mails a sign-in link if `email` belongs to a subject. Known and unknown addresses get the
    /// same answer after the same work (the limits and one read): the link is stored and
    /// mailed after answering, so timing tells nothing either.
    pub async fn request_sign_in(&self, email: &str, ip: Option<IpAddr>) -> Result<(), Refusal> {
        let email = Email::parse(email)?;
        self.hit_mail_limits(ip, &email).await?;
        let Some(subject) = self.store.find_subject(email.as_str()).await? else {
            tracing::info!("sign-in asked for an address with no subject");
            return Ok(());
        };
        if subject.email.as_ref() != Some(&email) {
            return Ok(());
        }
        let services = self.clone();
        // Stored and mailed after answering: a registered address is answered after the same
        // work as an unknown one (the stored link's insert would tell them apart).
        tokio::spawn(async move {
            if let Err(e) = services.mail_sign_in_link(&subject, &email).await {
                tracing::error!(error = %e, "sign-in link could not be stored");
            }
        });
        Ok(())
    }

    /// Stores a new single-use sign-in link for `subject` and mails it to `email`.
    async fn mail_sign_in_link(
        &self,
        subject: &crate::domain::Subject,
        email: &Email,
    ) -> Result<(), Refusal> {
        let token = random_token();
        self.identity
            .create_sign_in_link(&SignInLink::new(token_hash(&token), subject.id, now()))
            .await?;
        let link = format!("{}/signin/{token}", self.settings.public_url);
        // In the person's own language.
        let mail = sign_in_mail(
            subject.lang,
            email.as_str(),
            &link,
            SIGN_IN_LINK_MINUTES,
            &self.settings.sender,
        );
        self.mail_in_background(mail, "sign-in link");
        Ok(())
    }

    /// Whether a sign-in link still works (read only: opening the link changes nothing).
    pub async fn check_sign_in_link(&self, token: &str, ip: Option<IpAddr>) -> Result<(), Refusal> {
        match self.identity.sign_in_link(&token_hash(token)).await? {
            Some(link) if link.is_usable(now()) => Ok(()),
            _ => Err(self
                .token_refused(ip, Refusal::new("sign_in_link_invalid"))
                .await),
        }
    }

    /// Uses a sign-in link (once) and starts a customer session.
    pub async fn complete_sign_in(
        &self,
        token: &str,
        ip: Option<IpAddr>,
    ) -> Result<NewSession, Refusal> {
        let hash = token_hash(token);
        let at = now();
        let link = match self.identity.sign_in_link(&hash).await? {
            Some(l) if l.is_usable(at) => l,
            _ => {
                return Err(self
                    .token_refused(ip, Refusal::new("sign_in_link_invalid"))
                    .await);
            }
        };
        if !self.identity.use_sign_in_link(&hash, at).await? {
            return Err(Refusal::new("sign_in_link_invalid"));
        }
        self.start_session(Principal::Subject(link.subject)).await
    }

    /// A link to the whole preference center may lead to a session for its subject (only that
    /// subject; narrower links cannot), but never by itself: a forwarded mail must not become
    /// someone else's month-long session. The person's own address gets a sign-in link, as
    /// `/signin` sends, and only that link, used, starts the session.
    pub async fn sign_in_with_link(&self, token: &str, ip: Option<IpAddr>) -> Result<(), Refusal> {
        let visitor = self.visitor_from_token(token, ip).await?;
        if visitor.scope != Scope::Everything {
            return Err(Refusal::new("forbidden_scope"));
        }
        let email = visitor
            .subject
            .email
            .clone()
            .ok_or(Refusal::new("no_email_to_confirm"))?;
        self.protect(
            &format!("signin-addr:{}", email.as_str().to_lowercase()),
            LimitOp::Hit(self.settings.limits.sign_in_per_address),
        )
        .await?;
        self.mail_sign_in_link(&visitor.subject, &email).await
    }

    /// A fresh session (a new secret every sign-in: no session fixation).
    pub async fn start_session(&self, principal: Principal) -> Result<NewSession, Refusal> {
        let cookie = random_token();
        self.identity
            .create_session(&SessionRecord::new(token_hash(&cookie), principal, now()))
            .await?;
        Ok(NewSession { cookie, principal })
    }

    /// The live session a cookie names, if any; records its use (at most once a minute).
    pub async fn session(
        &self,
        kind: SessionKind,
        cookie: &str,
    ) -> Result<Option<SessionRecord>, Refusal> {
        if cookie.is_empty() || cookie.len() > 128 {
            return Ok(None);
        }
        let hash = token_hash(cookie);
        let Some(session) = self.identity.session(&hash).await? else {
            return Ok(None);
        };
        let at = now();
        if session.principal.kind() != kind || !session.is_live(at) {
            return Ok(None);
        }
        if session.needs_touch(at) {
            self.identity.touch_session(&hash, at).await?;
        }
        Ok(Some(session))
    }

    /// Ends this session, or every session of its owner.
    pub async fn sign_out(
        &self,
        kind: SessionKind,
        cookie: &str,
        everywhere: bool,
    ) -> Result<u64, Refusal> {
        let Some(session) = self.session(kind, cookie).await? else {
            return Ok(0);
        };
        if everywhere {
            Ok(self
                .identity
                .revoke_sessions(session.principal, now())
                .await?)
        } else {
            self.identity
                .revoke_session(&session.id_hash, now())
                .await?;
            Ok(1)
        }
    }

    /// The signed-in customer: their whole preference center, nobody else's.
    pub async fn customer(&self, cookie: &str) -> Result<Visitor, Refusal> {
        let session = self
            .session(SessionKind::Customer, cookie)
            .await?
            .ok_or(Refusal::new("sign_in_required"))?;
        let Principal::Subject(id) = session.principal else {
            return Err(Refusal::new("sign_in_required"));
        };
        let subject = self
            .store
            .subject(id)
            .await?
            .filter(|s| s.erased_at.is_none())
            .ok_or(Refusal::new("sign_in_required"))?;
        Ok(Visitor {
            subject,
            scope: Scope::Everything,
            campaign: None,
            by_link: false,
        })
    }
}
