//! Keywords in text messages the person sends back (R55): STOP withdraws SMS marketing for the
//! number's subjects, START restores what a STOP withdrew, HELP is answered. Recorded like every
//! change: events with source `reply`, the message's id at the provider as their evidence and
//! idempotency key (a provider's retry writes nothing twice). See `domain::sms` for the keywords
//! and the reasoning behind START.

use std::net::IpAddr;

use crate::domain::{
    Actor, Change, Channel, ConsentState, Origin, Outcome, Phone, Provenance, Source, Subject,
    consent_idempotency_key,
    sms::{self, Keyword},
};

use super::{
    Refusal, Services,
    identity::{ip_key, limited},
    now,
};

/// The most subjects one number reaches (a family's shared phone, say).
const MAX_SUBJECTS_PER_NUMBER: u32 = 100;

/// One inbound message, as the provider posted it (its signature already checked).
#[derive(Debug, Clone, Copy)]
pub struct InboundSms<'a> {
    /// The provider, named in the evidence (`twilio`).
    pub provider: &'a str,
    /// The provider's id of the message (Twilio's `MessageSid`).
    pub message_id: &'a str,
    /// The number it came from (`From`, E.164).
    pub from: &'a str,
    /// The text (`Body`).
    pub body: &'a str,
}

/// What a message did and what it is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsAnswer {
    /// The keyword the message was, if any.
    pub keyword: Option<Keyword>,
    /// The text sent back, if any. It never depends on whether the number is a subject's or
    /// whether anything changed: the answer tells nobody who is a subject.
    pub reply: Option<String>,
    /// Events written.
    pub written: usize,
}

impl Services {
    /// Flood control for the inbound endpoint: counts one request from `ip` in this process's
    /// table (`rate_limited` with the wait past the limit).
    pub fn inbound_sms_flood(&self, ip: Option<IpAddr>) -> Result<(), Refusal> {
        self.limiter
            .hit(
                &format!("sms-ip:{}", ip_key(ip)),
                self.settings.limits.inbound_sms_per_ip,
                Self::unix_now(),
            )
            .map_err(limited)
    }

    /// Acts on one inbound message: a keyword changes the consents of the subjects whose phone
    /// sent it and is answered in their language; any other text changes nothing and is not
    /// answered. `malformed_message_id` when the provider's id cannot serve as evidence.
    pub async fn sms_received(&self, message: InboundSms<'_>) -> Result<SmsAnswer, Refusal> {
        let Some((keyword, word)) = sms::keyword(message.body) else {
            return Ok(SmsAnswer {
                keyword: None,
                reply: None,
                written: 0,
            });
        };
        if !sms::check_message_id(message.message_id) {
            return Err(Refusal::new("malformed_message_id"));
        }
        let subjects = match Phone::parse(message.from) {
            Ok(phone) => {
                self.console
                    .subject_records()
                    .subjects_by_phone(&phone, MAX_SUBJECTS_PER_NUMBER)
                    .await?
            }
            // A short code or an alphanumeric sender: nobody's phone.
            Err(_) => Vec::new(),
        };
        let lang = subjects
            .first()
            .map_or_else(|| sms::number_lang(message.from), |s| s.lang);
        let provenance = Provenance {
            occurred_at: now(),
            source: Source::Reply,
            actor: Actor::Subject,
            notice_version: None,
            origin: Origin::default(),
            idempotency_key: None,
            reason: Some(format!("SMS {word}")),
            campaign: None,
            collection_point: None,
            import_batch: None,
            form_url: None,
            proof_ref: Some(sms::proof_ref(message.provider, message.message_id)),
        };
        let mut written = 0;
        if keyword != Keyword::Help && !subjects.is_empty() {
            let mut provenance = provenance;
            provenance.notice_version = Some(self.notice_version().await?);
            for subject in &subjects {
                let to = match keyword {
                    Keyword::Stop => ConsentState::Withdrawn,
                    _ => ConsentState::Granted,
                };
                written += self.sms_change(subject, keyword, to, &provenance).await?;
            }
        }
        tracing::info!(
            keyword = keyword.key(),
            subjects = subjects.len(),
            written,
            "inbound sms"
        );
        Ok(SmsAnswer {
            keyword: Some(keyword),
            reply: Some(self.settings.sms_replies.text(keyword, lang).to_owned()),
            written,
        })
    }

    /// Withdraws every marketing purpose used on SMS (STOP), or grants again each one whose
    /// latest change was a keyword STOP (START), for one subject, in one transaction. Returns
    /// the events written.
    async fn sms_change(
        &self,
        subject: &Subject,
        keyword: Keyword,
        to: ConsentState,
        provenance: &Provenance,
    ) -> Result<usize, Refusal> {
        let purposes = self.store.purposes().await?;
        let keys: Vec<_> = match keyword {
            Keyword::Stop => purposes
                .iter()
                .filter(|p| p.marketing && p.applies_to(Channel::Sms))
                .map(|p| p.key.clone())
                .collect(),
            Keyword::Start => {
                // A standing objection to direct marketing (R34) is lifted on the person's page,
                // not by a keyword.
                let objecting = self.objection_in_force(subject.id).await?.is_some();
                self.store
                    .latest_events_on(subject.id, Channel::Sms)
                    .await?
                    .iter()
                    .filter_map(|e| {
                        let p = purposes.iter().find(|p| p.key == e.purpose)?;
                        sms::restorable(e, p.mode_for(subject.jurisdiction)).then_some(p)
                    })
                    .filter(|p| p.applies_to(Channel::Sms) && !(objecting && p.marketing))
                    .map(|p| p.key.clone())
                    .collect()
            }
            Keyword::Help => Vec::new(),
        };
        let request_key = provenance.proof_ref.clone().unwrap_or_default();
        let changes: Vec<Change> = keys
            .into_iter()
            .map(|purpose| {
                let mut provenance = provenance.clone();
                provenance.idempotency_key = Some(consent_idempotency_key(
                    &request_key,
                    &purpose,
                    Channel::Sms,
                ));
                Change {
                    subject: subject.id,
                    purpose,
                    channel: Channel::Sms,
                    to,
                    provenance,
                    reconfirm: false,
                }
            })
            .collect();
        if changes.is_empty() {
            return Ok(0);
        }
        let applied = match self.store.apply(changes).await {
            Ok(applied) => applied,
            // Erased since it was read: its phone is no longer its.
            Err(crate::store::StoreError::MissingReference(_)) => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        Ok(applied
            .iter()
            .filter(|a| !a.replayed && matches!(a.outcome, Outcome::Recorded(_)))
            .count())
    }
}
