//! What a person's links may do beyond a page view: an operator revokes every link of one
//! person (issue 30, item 9) without rotating the keys everyone's links are signed with.

use std::net::IpAddr;

use super::{Refusal, Services, Visitor, admin::MAX_REASON_CHARS, now};
use crate::{
    auth::Principal,
    domain::{Change, Channel, ConsentState, Lang, Provenance, Purpose, Subject},
    i18n::channel_name,
    store::Applied,
    token::{Claims, Scope, TokenError, confirm},
};

/// How long the link of a grant's confirmation mail works.
pub const GRANT_CONFIRM_HOURS: i64 = 48;

/// Whether a grant waits for the person's mailbox: third-party sharing and ad targeting (the
/// purposes Global Privacy Control covers too) asked for through a link, which anyone the mail
/// was forwarded to may hold. A signed-in session (itself begun from the mailbox) grants at once.
pub(super) fn grant_needs_confirmation(visitor: &Visitor, purpose: &Purpose) -> bool {
    visitor.by_link && purpose.kind.gpc_applies()
}

/// What a grant's confirmation link would allow (its page shows this and one button).
#[derive(Debug, Clone)]
pub struct GrantPreview {
    pub subject: Subject,
    pub purpose: Purpose,
    pub channel: Channel,
    /// When it was asked for (unix seconds).
    pub asked_at: i64,
}

impl GrantPreview {
    /// "Sharing with third parties · Email" in the given language.
    pub fn describe(&self, lang: Lang) -> String {
        format!(
            "{} · {}",
            self.purpose.name(lang),
            channel_name(lang, self.channel)
        )
    }
}

/// What a revocation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub subject: Subject,
    /// Links issued at or before this time (unix seconds) open nothing any more.
    pub issued_upto: i64,
    /// Customer sessions ended with them (a link may have become a session).
    pub sessions_ended: u64,
}

impl Services {
    /// Revokes every link of the subject (by id, external id or email) issued up to now, and
    /// ends the person's sessions; recorded with who did it and why. Links made from now on
    /// work; a one-click unsubscribe POST still withdraws (it can only withdraw).
    pub async fn revoke_links(
        &self,
        key: &str,
        revoked_by: &str,
        reason: &str,
    ) -> Result<Revocation, Refusal> {
        let reason = reason.trim();
        if reason.chars().count() < 3 || reason.chars().count() > MAX_REASON_CHARS {
            return Err(Refusal::new("reason_required"));
        }
        let subject = self.subject_by_any_key(key).await?;
        let at = now();
        let issued_upto = at.unix_timestamp();
        self.identity
            .revoke_links(subject.id, at, issued_upto, revoked_by, reason)
            .await?;
        let sessions_ended = self
            .identity
            .revoke_sessions(Principal::Subject(subject.id), at)
            .await?;
        tracing::info!(subject = %subject.id, revoked_by, "links revoked");
        Ok(Revocation {
            subject,
            issued_upto,
            sessions_ended,
        })
    }
}

impl Services {
    /// Mails the person a link that grants `purpose` on `channel` when they press its button.
    pub(super) async fn mail_grant_confirmation(
        &self,
        visitor: &Visitor,
        purpose: &Purpose,
        channel: Channel,
    ) -> Result<(), Refusal> {
        let subject = &visitor.subject;
        let email = subject
            .email
            .clone()
            .ok_or(Refusal::new("no_email_to_confirm"))?;
        let at = now().unix_timestamp();
        self.protect(
            &format!("grant-addr:{}", email.as_str().to_lowercase()),
            crate::rate::LimitOp::Hit(self.settings.limits.sign_in_per_address),
        )
        .await?;
        let token = confirm::sign(
            &self.keyring,
            &Claims {
                subject: subject.id,
                scope: Scope::PurposeChannel(purpose.key.clone(), channel),
                issued_at: at,
                expires_at: Some(at + GRANT_CONFIRM_HOURS * 3600),
                campaign: None,
            },
        );
        let link = format!("{}/grant/{token}", self.settings.public_url);
        let lang = subject.lang;
        let what = format!("{} · {}", purpose.name(lang), channel_name(lang, channel));
        let mail = crate::mail::grant_mail(
            lang,
            email.as_str(),
            &link,
            &what,
            GRANT_CONFIRM_HOURS,
            &self.settings.sender,
        );
        self.mail_in_background(mail, "grant confirmation");
        Ok(())
    }

    /// What a grant's confirmation link allows, if it still may: genuine, unexpired, its person
    /// not erased and their links not revoked since, and nothing changed that consent since it
    /// was asked for (so the link works once, and a later withdrawal is never undone by it).
    /// Reads only: opening the link changes nothing.
    pub async fn grant_preview(
        &self,
        token: &str,
        ip: Option<IpAddr>,
    ) -> Result<GrantPreview, Refusal> {
        // Verified first; only a refused link counts against the client address.
        match self.grant_link(token).await {
            Err(r)
                if matches!(
                    r.code,
                    "expired_token" | "grant_link_invalid" | "link_revoked"
                ) =>
            {
                Err(self.token_refused(ip, r).await)
            }
            other => other,
        }
    }

    /// What a grant's confirmation link allows (see `grant_preview`, which counts its refusals).
    async fn grant_link(&self, token: &str) -> Result<GrantPreview, Refusal> {
        let refused = Refusal::new;
        let claims =
            confirm::verify(&self.keyring, token, now().unix_timestamp()).map_err(|e| match e {
                TokenError::Expired => refused("expired_token"),
                _ => refused("grant_link_invalid"),
            })?;
        let Scope::PurposeChannel(key, channel) = &claims.scope else {
            return Err(refused("grant_link_invalid"));
        };
        let (subject, revoked_upto, consents) = tokio::try_join!(
            self.store.subject(claims.subject),
            self.identity.links_revoked_upto(claims.subject),
            self.store.consents(claims.subject),
        )?;
        let subject = subject
            .filter(|s| s.erased_at.is_none())
            .ok_or_else(|| refused("grant_link_invalid"))?;
        if revoked_upto.is_some_and(|upto| claims.issued_at <= upto) {
            return Err(refused("link_revoked"));
        }
        let (purpose, channel) = self.purpose_on(key.as_str(), channel.key()).await?;
        // Issue times are whole seconds: a change in the second the link was made counts as
        // after it (at worst the person asks again).
        let changed_since = consents.iter().any(|r| {
            r.purpose == purpose.key
                && r.channel == channel
                && r.updated_at.unix_timestamp() >= claims.issued_at
        });
        if changed_since {
            return Err(Refusal::new("grant_link_used"));
        }
        Ok(GrantPreview {
            subject,
            purpose,
            channel,
            asked_at: claims.issued_at,
        })
    }

    /// The person pressed the button of a grant's confirmation mail: grants it, recorded with
    /// the click's origin and, in its reason, that it was confirmed by email.
    pub async fn confirm_grant(
        &self,
        token: &str,
        ip: Option<IpAddr>,
        mut provenance: Provenance,
    ) -> Result<(GrantPreview, Applied), Refusal> {
        let preview = self.grant_preview(token, ip).await?;
        self.check_objection(preview.subject.id, &preview.purpose, ConsentState::Granted)
            .await?;
        provenance.occurred_at = now();
        provenance.notice_version = Some(self.notice_version().await?);
        let asked = time::OffsetDateTime::from_unix_timestamp(preview.asked_at)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        provenance.reason = Some(format!(
            "asked for through a link at {asked}, confirmed from the mail sent to the person"
        ));
        let applied = self
            .apply_one(Change {
                subject: preview.subject.id,
                purpose: preview.purpose.key.clone(),
                channel: preview.channel,
                to: ConsentState::Granted,
                provenance,
                reconfirm: false,
            })
            .await?;
        Ok((preview, applied))
    }
}
