//! California's "Do Not Sell or Share My Personal Information" (R57; CCPA §1798.120,
//! §1798.135; 11 CCR §7026): the opt-out of the sale and sharing of a person's data, made by a
//! person with a link or a session, or by a visitor without any sign-in (for the browser, and for
//! an email address they give); and the twelve months during which nobody may ask the person to
//! opt back in (the console's "ask to allow again" refuses with `do_not_sell_recent`).

use std::net::IpAddr;

use time::OffsetDateTime;

use super::{Refusal, Services, Visitor, identity::ip_key, now};
use crate::{
    domain::{
        Actor, Change, ConsentState, DoNotSellRequest, DoNotSellVia, Email, Origin, Outcome,
        Provenance, SubjectId,
        do_not_sell::{ask_again_refused_until, sale_opt_out_times},
    },
    rate::LimitOp,
    token::Scope,
};

/// How many of a subject's requests the console and the receipt show.
pub const DO_NOT_SELL_SHOWN: u32 = 50;

/// What a person's Do Not Sell status is, for the pages and the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DoNotSellStatus {
    /// The subject's requests, newest first.
    pub requests: Vec<DoNotSellRequest>,
    /// Until when nobody may ask them to allow sale or sharing again (`None`: asking is allowed).
    pub ask_again_refused_until: Option<OffsetDateTime>,
}

impl Services {
    /// The Do Not Sell request of a person with a link to their whole preference center or a
    /// session: withdraws every purpose of sale or sharing (third-party sharing, ad targeting) on
    /// every channel where it is not withdrawn already (an explicit "no" also for an opt-in
    /// purpose never chosen: a later change of its mode or of the person's jurisdiction cannot
    /// turn it on), with the request's provenance and the marker [`DO_NOT_SELL_REASON`]; keeps the
    /// request. Returns how many consents it withdrew.
    ///
    /// [`DO_NOT_SELL_REASON`]: crate::domain::DO_NOT_SELL_REASON
    pub async fn do_not_sell(&self, visitor: &Visitor, origin: Origin) -> Result<i64, Refusal> {
        // A narrow link (one purpose's unsubscribe) reaches no other purpose.
        if visitor.scope != Scope::Everything {
            return Err(Refusal::new("narrow_link"));
        }
        let via = if visitor.by_link {
            DoNotSellVia::Link
        } else {
            DoNotSellVia::PreferenceCenter
        };
        self.opt_out_of_sale(visitor.subject.id, via, origin).await
    }

    /// The Do Not Sell request of a visitor without sign-in (11 CCR §7026(d): no account, no
    /// verification). Kept for their browser by the caller (a cookie); `email`, when given, is
    /// looked up and, if it is a subject's, their sale and sharing are withdrawn as by
    /// [`Services::do_not_sell`] (via `email`). The answer is the same whether the address is
    /// known or not; the address itself is kept nowhere. Limited per client address and per
    /// email address (shared across instances).
    pub async fn do_not_sell_as_visitor(
        &self,
        email: Option<&str>,
        ip: Option<IpAddr>,
        origin: Origin,
    ) -> Result<(), Refusal> {
        let email = email
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(Email::parse)
            .transpose()?;
        let limits = self.settings.limits;
        self.protect(
            &format!("dns-ip:{}", ip_key(ip)),
            LimitOp::Hit(limits.sign_in_per_ip),
        )
        .await?;
        if let Some(email) = email {
            self.protect(
                &format!("dns-addr:{}", email.as_str().to_lowercase()),
                LimitOp::Hit(limits.sign_in_per_address),
            )
            .await?;
            if let Some(subject) = self.store.find_subject(email.as_str()).await?
                && subject.erased_at.is_none()
                && subject
                    .email
                    .as_ref()
                    .is_some_and(|e| e.as_str().eq_ignore_ascii_case(email.as_str()))
            {
                self.opt_out_of_sale(subject.id, DoNotSellVia::Email, origin)
                    .await?;
                return Ok(());
            }
            tracing::info!("do not sell: an address with no subject");
        }
        self.console
            .record_do_not_sell(&DoNotSellRequest {
                id: uuid::Uuid::now_v7(),
                subject: None,
                received_at: now(),
                via: DoNotSellVia::Browser,
                origin,
                withdrawn: 0,
            })
            .await?;
        tracing::info!("do not sell: a visitor's browser opted out");
        Ok(())
    }

    async fn opt_out_of_sale(
        &self,
        subject: SubjectId,
        via: DoNotSellVia,
        origin: Origin,
    ) -> Result<i64, Refusal> {
        let purposes = self.store.purposes().await?;
        let consents = self.store.consents(subject).await?;
        let provenance = Provenance {
            occurred_at: now(),
            source: via.source(),
            actor: Actor::Subject,
            notice_version: Some(self.notice_version().await?),
            origin,
            idempotency_key: None,
            reason: Some(via.reason()),
            campaign: None,
            collection_point: None,
            import_batch: None,
            form_url: None,
            proof_ref: None,
        };
        let changes: Vec<Change> = purposes
            .iter()
            .filter(|p| p.kind.gpc_applies())
            .flat_map(|p| p.channels.iter().map(move |&c| (p, c)))
            .filter(|(p, c)| {
                !consents.iter().any(|r| {
                    r.purpose == p.key && r.channel == *c && r.state == ConsentState::Withdrawn
                })
            })
            .map(|(p, channel)| Change {
                subject,
                purpose: p.key.clone(),
                channel,
                to: ConsentState::Withdrawn,
                provenance: provenance.clone(),
                reconfirm: false,
            })
            .collect();
        let applied = if changes.is_empty() {
            Vec::new()
        } else {
            self.store.apply(changes).await?
        };
        let withdrawn = applied
            .iter()
            .filter(|a| matches!(a.outcome, Outcome::Recorded(_)))
            .count() as i64;
        self.console
            .record_do_not_sell(&DoNotSellRequest {
                id: uuid::Uuid::now_v7(),
                subject: Some(subject),
                received_at: provenance.occurred_at,
                via,
                origin: provenance.origin,
                withdrawn,
            })
            .await?;
        tracing::info!(%subject, via = via.key(), withdrawn, "do not sell or share request honoured");
        Ok(withdrawn)
    }

    /// A subject's Do Not Sell requests and until when asking them to allow sale or sharing
    /// again is refused, as at `at`.
    pub async fn do_not_sell_status_at(
        &self,
        subject: SubjectId,
        at: OffsetDateTime,
    ) -> Result<DoNotSellStatus, Refusal> {
        let (purposes, events, requests) = tokio::try_join!(
            async { Ok::<_, Refusal>(self.store.purposes().await?) },
            async { Ok(self.store.events_for_subject(subject, 1000).await?) },
            async {
                Ok(self
                    .console
                    .do_not_sell_requests_of(subject, DO_NOT_SELL_SHOWN)
                    .await?)
            },
        )?;
        let (opt_out, own_grant) = sale_opt_out_times(&events, &requests, &purposes);
        Ok(DoNotSellStatus {
            ask_again_refused_until: ask_again_refused_until(opt_out, own_grant, at),
            requests,
        })
    }

    /// The console's "ask to allow again" (owners and operators): mails the person a link to
    /// their preference center asking whether they would allow `purpose`, which is off for them
    /// now. Nothing changes unless they choose. Refused with `do_not_sell_recent` for a purpose of
    /// sale or sharing within twelve months of the person's latest opt-out of sale or sharing
    /// (§1798.135(c)(4)), as at `at`; `already_allowed` when it is on; `no_email` without an
    /// address.
    pub async fn ask_to_allow_again_at(
        &self,
        subject: SubjectId,
        purpose: &str,
        by: &str,
        at: OffsetDateTime,
    ) -> Result<(), Refusal> {
        let purpose = self.purpose(purpose).await?;
        let subject = self
            .store
            .subject(subject)
            .await?
            .ok_or(Refusal::new("unknown_subject_id"))?;
        let email = subject
            .email
            .clone()
            .filter(|_| subject.erased_at.is_none())
            .ok_or(Refusal::new("no_email"))?;
        if purpose.kind.gpc_applies()
            && self
                .do_not_sell_status_at(subject.id, at)
                .await?
                .ask_again_refused_until
                .is_some()
        {
            return Err(Refusal::new("do_not_sell_recent"));
        }
        let consents = self.store.consents(subject.id).await?;
        let notices = self.store.notices().await?;
        let on = purpose.channels.iter().any(|&c| {
            let record = consents
                .iter()
                .find(|r| r.purpose == purpose.key && r.channel == c);
            super::consent_effect(&notices, &purpose, subject.jurisdiction, record, at).on
        });
        if on {
            return Err(Refusal::new("already_allowed"));
        }
        let link = self.preference_link(subject.id);
        let mail = crate::i18n::do_not_sell::ask_again_mail(
            subject.lang,
            email.as_str(),
            purpose.name(subject.lang),
            &link,
            &self.settings.sender,
        );
        self.mail_in_background(mail, "ask to allow again");
        tracing::info!(subject = %subject.id, purpose = %purpose.key, by, "asked to allow again");
        Ok(())
    }
}

/// `t` as the person reads it in `zone` (`2026-12-06 21:21 JST`).
pub fn moment_text(t: OffsetDateTime, zone: &str) -> String {
    super::zone::moment(t, zone).text
}
